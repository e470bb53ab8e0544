package e2e

import (
	"testing"
	"time"
)

// loadBenchEnvironments is how many execution environments BenchmarkLoad
// runs side by side.
const loadBenchEnvironments = 20

// BenchmarkLoad delivers b.N findings, findingsPerResource about each
// resource, through loadBenchEnvironments execution environments side by
// side, as TestLoadMakesOneResponsePerResource does, and reports the
// throughput and the latency of one delivery under that load. Run it with
// -benchtime 1000x for the load of the issue.
func BenchmarkLoad(b *testing.B) {
	w := newWorld(b)
	l := newLoad(w, b.N)
	fns := startPool(b, loadBenchEnvironments)
	for _, fn := range fns { // start every runtime outside the measured time
		_ = fn.Invoke(w.ctx, []byte(`{}`))
	}
	suite.recorder.Reset()

	b.ResetTimer()
	took := l.deliver(fns)
	b.StopTimer()

	l.checkNoError()
	l.checkOneResponseEach()
	b.ReportMetric(float64(len(l.deliveries))/took.Seconds(), "findings/s")
	b.ReportMetric(ms(l.percentile(50)), "p50-ms")
	b.ReportMetric(ms(l.percentile(95)), "p95-ms")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// BenchmarkInstanceResponse measures the EC2 playbook from invoke to answer
// through the compiled bootstrap, with the AWS calls seen by a recording
// proxy: how many, and how many had to wait for one another.
func BenchmarkInstanceResponse(b *testing.B) {
	recorder, err := emulator.NewRecorder(suite.moto.Endpoint)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(recorder.Close)
	fn, err := startFunction(b.Context(), "AWS_ENDPOINT_URL="+recorder.URL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(fn.Stop)

	var took []time.Duration
	calls, depth := 0, 0
	for b.Loop() {
		b.StopTimer()
		w := newWorld(b)
		event, err := emulator.Event(w.finding(w.estate.Web))
		if err != nil {
			b.Fatal(err)
		}
		recorder.Reset()
		b.StartTimer()

		start := time.Now()
		if err := fn.Invoke(w.ctx, event); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))

		b.StopTimer()
		made := recorder.Calls()
		calls += len(made)
		depth = max(depth, len(emulator.CriticalPath(made)))
		b.StartTimer()
	}

	b.ReportMetric(float64(calls)/float64(len(took)), "calls/op")
	b.ReportMetric(float64(depth), "critical-path-calls")
	reportLatency(b, took)
}

// BenchmarkColdStart measures a new execution environment: the runtime
// emulator starting the bootstrap, its initialisation (configuration, STS),
// and a first, refused event.
func BenchmarkColdStart(b *testing.B) {
	for b.Loop() {
		fn, err := startFunction(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		_ = fn.Invoke(b.Context(), []byte(`{}`))
		b.StopTimer()
		fn.Stop()
		b.StartTimer()
	}
}

// reportLatency adds the median and 95th percentile of the durations.
func reportLatency(b *testing.B, took []time.Duration) {
	b.Helper()
	if len(took) == 0 {
		return
	}

	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[(len(took)*95)/100].Microseconds())/1000, "p95-ms")
}

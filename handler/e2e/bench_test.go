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
	var depths, toNotify []int
	calls := 0
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
		depths = append(depths, len(emulator.CriticalPath(made)))
		toNotify = append(toNotify, len(emulator.CriticalPathTo(made, "sns", "Publish")))
		b.StartTimer()
	}

	b.ReportMetric(float64(calls)/float64(len(took)), "calls/op")
	b.ReportMetric(median(depths), "critical-path-calls")
	b.ReportMetric(median(toNotify), "calls-to-notify")
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

// median is the middle of the values. Chains are measured from the calls'
// times, so a call that happens to end just before another starts can
// lengthen one run's chain: the median is the figure that repeats.
func median(values []int) float64 {
	if len(values) == 0 {
		return 0
	}

	sorted := slices.Clone(values)
	slices.Sort(sorted)

	return float64(sorted[len(sorted)/2])
}

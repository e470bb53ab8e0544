package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// TestNearTheDeadlineStartsNoNewStepAndTheRetryFinishes runs the responder
// behind a proxy that makes every AWS call take a second, with a Lambda
// timeout too short for the whole response: it must stop starting steps,
// report what it did and did not do, and leave the rest to the retry.
func TestNearTheDeadlineStartsNoNewStepAndTheRetryFinishes(t *testing.T) {
	w := newWorld(t)
	e := w.estate

	proxy, err := emulator.NewFaultProxy(suite.moto.Endpoint, emulator.FaultConfig{Latency: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	slow, err := startFunction(w.ctx, "AWS_ENDPOINT_URL="+proxy.URL,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=8", "DEADLINE_RESERVE=6500ms")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(slow.Stop)
	_ = slow.Invoke(w.ctx, []byte(`{}`)) // start the runtime outside the measured call

	if err := w.invoke(slow, w.finding(e.Web)); err == nil {
		t.Fatal("the cut-short response reported success")
	}

	_, first := w.onlyNotification()
	if first.Outcome != "partly-contained" {
		t.Errorf("outcome %q, want partly-contained", first.Outcome)
	}
	notStarted := 0
	for _, s := range first.Steps {
		if strings.Contains(s.Error, "too little time") {
			notStarted++
		}
	}
	if notStarted == 0 {
		t.Fatalf("no step reported as not started: %+v", first.Steps)
	}

	w.mustInvoke(suite.fn, w.finding(e.Web))

	_, retry := w.onlyNotification()
	if retry.Outcome != "contained" {
		t.Errorf("retry outcome %q, want contained", retry.Outcome)
	}
	for eni, groups := range w.interfaceGroups(e.WebInterfaces...) {
		if len(groups) != 1 || groups[0] != e.IsolationA {
			t.Errorf("%s in %v after the retry", eni, groups)
		}
	}
	w.checkSnapshotSet(e.Web, e.WebVolumes)
	w.checkEvidenceProtected(e.Web)
	w.checkDetached()
}

package e2e

import (
	"strings"
	"testing"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

// TestUnpublishedReportIsRetried proves that a response whose report the
// topic refuses still contains the instance, fails the invocation so that
// Lambda retries it, and leaves the quarantine unfinished; the retry, once the
// topic takes messages again, changes nothing more and sends the report.
func TestUnpublishedReportIsRetried(t *testing.T) {
	w := newWorld(t)
	e := w.estate
	refuser, err := emulator.NewRefuser(suite.moto.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(refuser.Close)
	fn := w.startTestFunction("AWS_ENDPOINT_URL=" + refuser.URL)
	f := w.finding(e.Web)

	refuser.Refuse("sns", "Publish")
	err = w.invoke(fn, f)

	if err == nil || !strings.Contains(err.Error(), "publishing") {
		t.Errorf("function error %v, want one saying the report was not published", err)
	}
	if refuser.Refused() == 0 {
		t.Fatal("the function never tried to publish its report")
	}
	if n := w.notifications(); len(n) != 0 {
		t.Errorf("%d notifications got through a topic that refuses them", len(n))
	}
	for eni, groups := range w.interfaceGroups(e.WebInterfaces...) {
		if len(groups) != 1 || groups[0] != e.IsolationA {
			t.Errorf("%s in %v: containment must not wait for the report", eni, groups)
		}
	}
	if status := w.tags(e.Web)[playbook.TagStatus]; status != playbook.StatusQuarantining {
		t.Errorf("status %q with the report unsent, want %s", status, playbook.StatusQuarantining)
	}

	refuser.Allow("sns", "Publish")
	w.mustInvoke(fn, f)

	_, r := w.onlyNotification()
	if r.Outcome != "contained" {
		t.Errorf("the retry's report says %q (%s), want contained", r.Outcome, r.Reason)
	}
	if status := w.tags(e.Web)[playbook.TagStatus]; status != playbook.StatusQuarantined {
		t.Errorf("status %q after the retry, want %s", status, playbook.StatusQuarantined)
	}
	w.checkSnapshotSet(e.Web, e.WebVolumes)
}

// TestUnrecordedResponseIsReportedEachTime shows what the security team sees
// when the evidence record cannot be written: the response's report at once,
// saying the instance is contained, an invocation error, and the report of
// the retry that writes the record.
func TestUnrecordedResponseIsReportedEachTime(t *testing.T) {
	w := newWorld(t)
	e := w.estate
	s3 := w.startEvidenceS3()
	fn := w.startRecordingFunction(s3)
	f := w.finding(e.Web)

	err := w.invoke(fn, f)

	if err == nil || !strings.Contains(err.Error(), "recording response") {
		t.Errorf("function error %v, want one saying the response was not recorded", err)
	}
	if _, r := w.onlyNotification(); r.Outcome != "contained" {
		t.Errorf("first report says %q (%s), want contained", r.Outcome, r.Reason)
	}

	s3.createBucket(w)
	w.mustInvoke(fn, f)

	_, r := w.onlyNotification()
	if r.Outcome != "contained" {
		t.Errorf("the retry's report says %q (%s), want contained", r.Outcome, r.Reason)
	}
	for _, s := range r.Steps {
		// The retry marks the quarantine as in progress again; nothing else
		// may be done twice.
		if s.Status == "done" && s.Action != "mark quarantine started" {
			t.Errorf("the retry did %s on %s again", s.Action, s.Target)
		}
	}
	w.checkSnapshotSet(e.Web, e.WebVolumes)
}

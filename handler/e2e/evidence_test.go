package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/guardduty-response/guardduty-response/handler/evidence"
	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

// evidenceS3 is the S3 of the evidence tests: a moto of its own that does
// not enforce IAM. moto 5.2.1 rejects the signature of any S3 call whose
// query holds a "/" once IAM is enforced, and listing a chain's versions
// needs one (prefix=records/…/). The suite's moto, which enforces IAM, serves
// every other service; the responder reaches this one through
// AWS_ENDPOINT_URL_S3. The S3 grants are checked by infra/stack's tests.
type evidenceS3 struct {
	moto  *emulator.Moto
	cfg   aws.Config
	store *evidence.Store
}

// startEvidenceS3 starts the evidence S3 for one test, without a bucket.
func (w *world) startEvidenceS3() *evidenceS3 {
	w.t.Helper()
	m, err := emulator.StartMoto(w.ctx, emulator.MotoOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(m.Stop)

	cfg := m.Config(emulator.TestAccessKey, emulator.TestSecretKey)

	return &evidenceS3{moto: m, cfg: cfg,
		store: evidence.NewStoreFromConfig(cfg, emulator.EvidenceBucket)}
}

// createBucket creates the evidence bucket as the stack does.
func (s *evidenceS3) createBucket(w *world) {
	w.t.Helper()
	if err := emulator.CreateEvidenceBucket(w.ctx, s.cfg, emulator.EvidenceBucket); err != nil {
		w.t.Fatal(err)
	}
}

// evidenceBucket starts the evidence S3 with its bucket.
func (w *world) evidenceBucket() *evidenceS3 {
	w.t.Helper()
	s := w.startEvidenceS3()
	s.createBucket(w)

	return s
}

// startRecordingFunction starts, for one test, the responder as the stack
// deploys it: with an evidence bucket, here on s3.
func (w *world) startRecordingFunction(s3 *evidenceS3) *emulator.Function {
	w.t.Helper()
	return w.startTestFunction("DRY_RUN=false", "EVIDENCE_BUCKET="+emulator.EvidenceBucket,
		"AWS_ENDPOINT_URL_S3="+s3.moto.Endpoint)
}

// history reads a subject's records, failing the test if the chain is not
// whole.
func (w *world) history(store *evidence.Store, subject string) []evidence.Record {
	w.t.Helper()
	report, err := store.Verify(w.ctx, subject)
	if err != nil {
		w.t.Fatal(err)
	}
	if !report.Whole() {
		w.t.Errorf("chain of %s is broken: %+v", subject, report.Problems)
	}
	records, err := store.History(w.ctx, subject)
	if err != nil {
		w.t.Fatal(err)
	}

	return records
}

func webSubject(e *emulator.Estate) string {
	return evidence.InstanceSubject(emulator.DefaultAccount, emulator.Region, e.Web)
}

// TestResponseIsRecorded proves the compiled responder writes one record per
// response: the finding as received, the instance as it was before, every
// step with its request ids, who acted and which binary did.
func TestResponseIsRecorded(t *testing.T) {
	w := newWorld(t)
	s3 := w.evidenceBucket()
	store := s3.store
	fn := w.startRecordingFunction(s3)
	e := w.estate
	finding := w.finding(e.Web)

	w.mustInvoke(fn, finding)

	records := w.history(store, webSubject(e))
	if len(records) != 1 {
		t.Fatalf("%d records, want 1", len(records))
	}
	rec := records[0]
	if rec.Kind != evidence.KindResponse || rec.Outcome != "contained" ||
		rec.FindingID != finding["id"] || rec.Actor != suite.principals.ResponderARN {
		t.Errorf("record = kind %s, outcome %s, finding %s, actor %s", rec.Kind, rec.Outcome,
			rec.FindingID, rec.Actor)
	}
	checkRecordedFinding(t, rec, finding)
	checkRecordedState(t, rec, e)
	checkRecordedSteps(t, rec)
	if want := fileHash(t, suite.bootstrap); rec.Build.SHA256 != want {
		t.Errorf("record names build %s, want the bootstrap that ran, %s", rec.Build.SHA256, want)
	}

	// A redelivery that finds the instance quarantined changes nothing, so
	// it adds no record.
	w.notifications()
	w.mustInvoke(fn, finding)
	if n := len(w.history(store, webSubject(e))); n != 1 {
		t.Errorf("%d records after a redelivery that changed nothing, want 1", n)
	}
}

func checkRecordedFinding(t *testing.T, rec evidence.Record, sent map[string]any) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(rec.Finding, &got); err != nil {
		t.Fatalf("recorded finding: %v", err)
	}
	for _, key := range []string{"id", "type", "accountId", "title"} {
		if got[key] != sent[key] {
			t.Errorf("recorded finding %s = %v, want %v", key, got[key], sent[key])
		}
	}
	if _, ok := got["service"]; !ok {
		t.Error("the recorded finding lost its service block: not the finding as received")
	}
}

// checkRecordedState checks the record holds the instance as it was before
// the quarantine.
func checkRecordedState(t *testing.T, rec evidence.Record, e *emulator.Estate) {
	t.Helper()
	var s playbook.InstanceState
	if err := json.Unmarshal(rec.State, &s); err != nil {
		t.Fatalf("recorded state: %v", err)
	}
	if s.InstanceID != e.Web || s.AutoScalingGroup != e.AutoScalingGroup ||
		s.InstanceProfileARN != e.InstanceProfileARN || s.Tags[playbook.TagStatus] != "" {
		t.Errorf("recorded state = %+v, want the web instance before the quarantine", s)
	}
	if len(s.Interfaces) != len(e.WebInterfaces) {
		t.Fatalf("recorded %d interfaces, want %d", len(s.Interfaces), len(e.WebInterfaces))
	}
	for _, eni := range s.Interfaces {
		if !slices.Equal(eni.Groups, []string{e.AppGroupA}) {
			t.Errorf("recorded %s in %v, want its original group %s", eni.ID, eni.Groups, e.AppGroupA)
		}
	}
	for _, v := range s.Volumes {
		if !v.DeleteOnTermination {
			t.Errorf("recorded volume %s as kept on termination; it was not, before", v.ID)
		}
	}
}

func checkRecordedSteps(t *testing.T, rec evidence.Record) {
	t.Helper()
	done := 0
	for _, s := range rec.Steps {
		if s.Status == playbook.Done {
			done++
			if len(s.RequestIDs) == 0 || s.Time.IsZero() {
				t.Errorf("step %s %s recorded without request id or time", s.Action, s.Target)
			}
		}
	}
	if done == 0 {
		t.Error("the record holds no step that was done")
	}
}

// TestUnrecordedResponseIsRetried proves that a response whose record cannot
// be written fails the invocation and stays unfinished, so that the retry
// writes the record and only then marks the quarantine complete.
func TestUnrecordedResponseIsRetried(t *testing.T) {
	w := newWorld(t)
	s3 := w.startEvidenceS3()
	fn := w.startRecordingFunction(s3)
	e := w.estate
	finding := w.finding(e.Web)

	if err := w.invoke(fn, finding); err == nil {
		t.Fatal("the invocation succeeded without writing its record")
	}
	if status := w.tags(e.Web)[playbook.TagStatus]; status != playbook.StatusQuarantining {
		t.Errorf("status %q after an unrecorded response, want %s", status,
			playbook.StatusQuarantining)
	}
	for eni, groups := range w.interfaceGroups(e.WebInterfaces...) {
		if !slices.Equal(groups, []string{e.IsolationA}) {
			t.Errorf("%s in %v: the instance must be contained even when unrecorded", eni, groups)
		}
	}

	s3.createBucket(w)
	w.mustInvoke(fn, finding)

	if status := w.tags(e.Web)[playbook.TagStatus]; status != playbook.StatusQuarantined {
		t.Errorf("status %q after the retry, want %s", status, playbook.StatusQuarantined)
	}
	records := w.history(s3.store, webSubject(e))
	if len(records) != 1 || records[0].Outcome != "contained" {
		t.Errorf("records after the retry = %+v, want one, contained", records)
	}
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)

	return hex.EncodeToString(sum[:])
}

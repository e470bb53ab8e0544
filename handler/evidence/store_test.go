package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

var moto *emulator.Moto

func TestMain(m *testing.M) {
	var err error
	if moto, err = emulator.StartMoto(context.Background(), emulator.MotoOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, "evidence tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	moto.Stop()
	os.Exit(code)
}

// buckets numbers the buckets of the tests, which run side by side in one
// emulator.
var buckets atomic.Int64

const testSubject = "123456789012/us-east-1/instance/i-0123456789abcdef0"

// bucket is one test's evidence bucket, with a raw client to tamper with it.
type bucket struct {
	t      *testing.T
	store  *Store
	client *s3.Client
	name   string
}

// newBucket creates a bucket made like the stack's: Object Lock, versioned.
func newBucket(t *testing.T) *bucket {
	t.Helper()
	cfg := moto.Config(emulator.TestAccessKey, emulator.TestSecretKey)
	name := fmt.Sprintf("evidence-test-%d", buckets.Add(1))
	if err := emulator.CreateEvidenceBucket(t.Context(), cfg, name); err != nil {
		t.Fatal(err)
	}

	return &bucket{t: t, store: NewStoreFromConfig(cfg, name), client: emulator.S3(cfg), name: name}
}

// newPlainBucket creates a bucket without versioning or Object Lock, where an
// overwrite leaves no trace but the broken chain.
func newPlainBucket(t *testing.T) *bucket {
	t.Helper()
	cfg := moto.Config(emulator.TestAccessKey, emulator.TestSecretKey)
	name := fmt.Sprintf("evidence-plain-%d", buckets.Add(1))
	client := emulator.S3(cfg)
	_, err := client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}

	return &bucket{t: t, store: NewStoreFromConfig(cfg, name), client: client, name: name}
}

// record is a response record about testSubject.
func record(outcome string) *Record {
	return &Record{
		Subject: testSubject, Kind: KindResponse, Time: time.Now().UTC(),
		Build: CurrentBuild("test"), Account: "123456789012", Region: "us-east-1",
		Resource: "instance i-0123456789abcdef0", FindingID: "f1", Outcome: outcome,
		Steps: []playbook.Step{{Action: "isolate", Status: playbook.Done,
			RequestIDs: []string{"req-1"}, Time: time.Now().UTC()}},
	}
}

// appendN writes n records and returns where they went.
func (b *bucket) appendN(n int) []Written {
	b.t.Helper()
	var out []Written
	for i := range n {
		w, err := b.store.Append(b.t.Context(), record(fmt.Sprintf("outcome-%d", i+1)))
		if err != nil {
			b.t.Fatalf("appending record %d: %v", i+1, err)
		}
		out = append(out, w)
	}

	return out
}

// get reads the current bytes of a key straight from S3.
func (b *bucket) get(key string) []byte {
	b.t.Helper()
	out, err := b.client.GetObject(b.t.Context(), &s3.GetObjectInput{
		Bucket: aws.String(b.name), Key: aws.String(key),
	})
	if err != nil {
		b.t.Fatalf("reading %s: %v", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		b.t.Fatal(err)
	}

	return data
}

// overwrite writes over a key without a condition, as someone bypassing the
// bucket policy could.
func (b *bucket) overwrite(key string, data []byte) {
	b.t.Helper()
	_, err := b.client.PutObject(b.t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(b.name), Key: aws.String(key), Body: bytes.NewReader(data),
		ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256,
	})
	if err != nil {
		b.t.Fatalf("overwriting %s: %v", key, err)
	}
}

func (b *bucket) verify() ChainReport {
	b.t.Helper()
	r, err := b.store.Verify(b.t.Context(), testSubject)
	if err != nil {
		b.t.Fatalf("verify: %v", err)
	}

	return r
}

func TestAppendLinksEachRecordToTheOneBefore(t *testing.T) {
	t.Parallel()
	b := newBucket(t)

	written := b.appendN(3)

	for i, w := range written {
		if want := Key(testSubject, int64(i+1)); w.Key != want {
			t.Errorf("record %d stored at %s, want %s", i+1, w.Key, want)
		}
		stored := b.get(w.Key)
		if Hash(stored) != w.SHA256 {
			t.Errorf("record %d: stored bytes hash to %s, Append said %s", i+1, Hash(stored),
				w.SHA256)
		}

		var rec Record
		if err := json.Unmarshal(stored, &rec); err != nil {
			t.Fatalf("record %d is not JSON: %v", i+1, err)
		}
		switch {
		case i == 0 && rec.Previous != nil:
			t.Errorf("the first record links to %+v", rec.Previous)
		case i > 0 && (rec.Previous == nil || rec.Previous.Key != written[i-1].Key ||
			rec.Previous.SHA256 != Hash(b.get(written[i-1].Key))):
			t.Errorf("record %d links to %+v, want %s with the hash of its bytes", i+1,
				rec.Previous, written[i-1].Key)
		}
		if rec.Sequence != int64(i+1) || rec.Outcome != fmt.Sprintf("outcome-%d", i+1) {
			t.Errorf("record %d = sequence %d, outcome %s", i+1, rec.Sequence, rec.Outcome)
		}
	}

	if r := b.verify(); !r.Whole() || r.Records != 3 {
		t.Errorf("verify = %+v, want a whole chain of 3", r)
	}
}

// TestRecordsAreRetained proves each record is stored under the bucket's
// Object Lock retention, so it cannot be deleted.
func TestRecordsAreRetained(t *testing.T) {
	t.Parallel()
	b := newBucket(t)
	w := b.appendN(1)[0]

	head, err := b.client.HeadObject(t.Context(), &s3.HeadObjectInput{
		Bucket: aws.String(b.name), Key: aws.String(w.Key),
	})
	if err != nil {
		t.Fatal(err)
	}
	if head.ObjectLockMode != s3types.ObjectLockModeGovernance ||
		!aws.ToTime(head.ObjectLockRetainUntilDate).After(time.Now()) {
		t.Errorf("record lock = %s until %v, want retained", head.ObjectLockMode,
			head.ObjectLockRetainUntilDate)
	}

	_, err = b.client.DeleteObject(t.Context(), &s3.DeleteObjectInput{
		Bucket: aws.String(b.name), Key: aws.String(w.Key), VersionId: aws.String(w.VersionID),
	})
	if err == nil {
		t.Error("the record's version was deleted while retained")
	}
}

// TestSecondWriteIsRefused proves a write to a record's key is refused once
// the record is there, so a writer that lost a race cannot replace it.
func TestSecondWriteIsRefused(t *testing.T) {
	t.Parallel()
	b := newBucket(t)
	w := b.appendN(1)[0]
	before := b.get(w.Key)

	_, err := b.store.put(t.Context(), w.Key, 1, []byte(`{"forged":true}`))
	if err != errTaken {
		t.Fatalf("second write to %s: %v, want it refused as taken", w.Key, err)
	}
	if !bytes.Equal(b.get(w.Key), before) {
		t.Error("the record changed after a refused write")
	}
}

// TestConcurrentWritersDoNotFork runs writers side by side on one subject:
// each record lands under its own sequence number and the chain is whole.
func TestConcurrentWritersDoNotFork(t *testing.T) {
	t.Parallel()
	b := newBucket(t)
	const writers = 8

	var wg sync.WaitGroup
	results := make([]Written, writers)
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() { results[i], errs[i] = b.store.Append(t.Context(), record("concurrent")) })
	}
	wg.Wait()

	seen := map[int64]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
		if seen[results[i].Sequence] {
			t.Errorf("two writers got sequence %d", results[i].Sequence)
		}
		seen[results[i].Sequence] = true
	}

	r := b.verify()
	if !r.Whole() || r.Records != writers || r.Last != writers {
		t.Errorf("verify = %+v, want a whole chain of %d", r, writers)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		plain   bool // a bucket without versioning
		tamper  func(b *bucket, written []Written)
		key     int // the record the problem is about
		mention string
	}{
		{"overwritten record", false, func(b *bucket, w []Written) {
			b.overwrite(w[1].Key, bytes.Replace(b.get(w[1].Key), []byte("outcome-2"),
				[]byte("outcome-X"), 1))
		}, 2, "altered"},
		{"altered record in a bucket without versions", true, func(b *bucket, w []Written) {
			b.overwrite(w[1].Key, bytes.Replace(b.get(w[1].Key), []byte("outcome-2"),
				[]byte("outcome-X"), 1))
		}, 2, "altered: its SHA-256 is"},
		{"record hidden behind a delete marker", false, func(b *bucket, w []Written) {
			b.delete(w[1].Key, "")
		}, 2, "hidden behind a delete marker"},
		{"record removed past its retention", false, func(b *bucket, w []Written) {
			b.delete(w[1].Key, w[1].VersionID)
		}, 2, "missing"},
		{"record removed from a bucket without versions", true, func(b *bucket, w []Written) {
			b.delete(w[1].Key, "")
		}, 2, "missing"},
		{"record replaced by a forged one", true, func(b *bucket, w []Written) {
			forged := record("forged")
			forged.Schema, forged.Sequence = Schema, 2
			forged.Previous = &Link{Key: w[0].Key, SHA256: w[0].SHA256}
			data, _ := json.Marshal(forged)
			b.overwrite(w[1].Key, data)
		}, 2, "altered: its SHA-256 is"},
		{"junk written under the subject", false, func(b *bucket, _ []Written) {
			b.overwrite(chainPrefix(testSubject)+"notes.txt", []byte("hello"))
		}, 0, "not a record key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBucket(t)
			if tt.plain {
				b = newPlainBucket(t)
			}
			written := b.appendN(3)
			if r := b.verify(); !r.Whole() {
				t.Fatalf("chain broken before tampering: %+v", r.Problems)
			}

			tt.tamper(b, written)

			r := b.verify()
			if r.Whole() {
				t.Fatal("verify found nothing wrong")
			}
			want := chainPrefix(testSubject) + "notes.txt"
			if tt.key > 0 {
				want = written[tt.key-1].Key
			}
			if !hasProblem(r, want, tt.mention) {
				t.Errorf("problems = %+v, want one about %s saying %q", r.Problems, want, tt.mention)
			}
		})
	}
}

// delete removes a key (a delete marker when versionID is empty), bypassing
// governance retention as a privileged person could.
func (b *bucket) delete(key, versionID string) {
	b.t.Helper()
	in := &s3.DeleteObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
		in.BypassGovernanceRetention = aws.Bool(true)
	}
	if _, err := b.client.DeleteObject(b.t.Context(), in); err != nil {
		b.t.Fatalf("deleting %s: %v", key, err)
	}
}

func hasProblem(r ChainReport, key, mention string) bool {
	for _, p := range r.Problems {
		if p.Key == key && strings.Contains(p.What, mention) {
			return true
		}
	}

	return false
}

// TestWriterContinuesPastAHiddenRecord proves a record hidden behind a
// delete marker still holds its place: the next record takes the next
// number instead of writing over it.
func TestWriterContinuesPastAHiddenRecord(t *testing.T) {
	t.Parallel()
	b := newBucket(t)
	written := b.appendN(2)
	b.delete(written[1].Key, "")

	next := b.appendN(1)[0]
	if next.Sequence != 3 {
		t.Fatalf("next record took sequence %d, want 3", next.Sequence)
	}

	r := b.verify()
	if len(r.Problems) != 1 || !hasProblem(r, written[1].Key, "hidden") {
		t.Errorf("problems = %+v, want only the hidden record 2", r.Problems)
	}
}

func TestVerifyRange(t *testing.T) {
	t.Parallel()
	b := newBucket(t)
	other := "123456789012/iam/user/alice"
	b.appendN(2)
	rec := record("user")
	rec.Subject = other
	if _, err := b.store.Append(t.Context(), rec); err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	tests := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"around now", now.Add(-time.Hour), now.Add(time.Hour), []string{other, testSubject}},
		{"before anything was written", now.Add(-48 * time.Hour), now.Add(-24 * time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reports, err := b.store.VerifyRange(t.Context(), tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range reports {
				got = append(got, r.Subject)
				if !r.Whole() {
					t.Errorf("%s: %+v", r.Subject, r.Problems)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("chains = %v, want %v", got, tt.want)
			}
		})
	}

	if _, err := b.store.VerifyRange(t.Context(), now, now.Add(-time.Hour)); err == nil {
		t.Error("a range that ends before it starts was accepted")
	}
}

// TestHistoryReturnsRecordsInOrder proves History reads back what Append
// wrote, oldest first.
func TestHistoryReturnsRecordsInOrder(t *testing.T) {
	t.Parallel()
	b := newBucket(t)
	b.appendN(3)

	history, err := b.store.History(t.Context(), testSubject)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 3 {
		t.Fatalf("history has %d records, want 3", len(history))
	}
	for i, rec := range history {
		if rec.Sequence != int64(i+1) || rec.Outcome != fmt.Sprintf("outcome-%d", i+1) ||
			len(rec.Steps) != 1 || rec.Steps[0].RequestIDs[0] != "req-1" {
			t.Errorf("record %d read back as %+v", i+1, rec)
		}
	}
}

func TestBadSubjectsAreRefused(t *testing.T) {
	t.Parallel()
	b := newBucket(t)

	for _, subject := range []string{"", "a//b", "a/../b c", "acct/iam/user/" + strings.Repeat("x", 200)} {
		rec := record("x")
		rec.Subject = subject
		if _, err := b.store.Append(t.Context(), rec); err == nil {
			t.Errorf("Append accepted subject %q", subject)
		}
		if _, err := b.store.Verify(t.Context(), subject); err == nil {
			t.Errorf("Verify accepted subject %q", subject)
		}
	}
}

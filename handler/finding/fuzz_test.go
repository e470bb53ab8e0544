package finding

import (
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic, and a
// finding it accepts must name its account and, for an instance finding, an
// instance id or a sample placeholder, never anything else.
func FuzzDecode(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("..", "testdata", "*.json"))
	for _, name := range names {
		f.Add(fixture(f, filepath.Base(name)))
	}
	f.Add([]byte(`{"source":"aws.guardduty","detail-type":"GuardDuty Finding","detail":null}`))
	f.Add([]byte(`{}`))

	f.Fuzz(func(t *testing.T, event []byte) {
		got, err := Decode(event)
		if err != nil {
			return
		}

		if !accountIDPattern.MatchString(got.AccountID) || !findingIDPattern.MatchString(got.ID) {
			t.Fatalf("accepted account %q, id %q", got.AccountID, got.ID)
		}
		if got.Resource.Type == ResourceInstance {
			i := got.Resource.Instance
			if i == nil || (!instanceIDPattern.MatchString(i.ID) && !got.IsSample()) {
				t.Fatalf("accepted instance finding naming %+v", i)
			}
		}
	})
}

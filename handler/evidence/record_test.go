package evidence

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/guardduty-response/guardduty-response/handler/finding"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

func TestSubjectOf(t *testing.T) {
	t.Parallel()

	base := func(r finding.Resource) *finding.Finding {
		return &finding.Finding{ID: "abc123", AccountID: "123456789012", Region: "eu-west-1",
			Resource: r}
	}
	key := func(userType, name string) finding.Resource {
		return finding.Resource{Type: finding.ResourceAccessKey,
			AccessKey: &finding.AccessKey{UserType: userType, UserName: name}}
	}

	tests := []struct {
		name string
		f    *finding.Finding
		want string
	}{
		{"instance", base(finding.Resource{Type: finding.ResourceInstance,
			Instance: &finding.Instance{ID: "i-0123456789abcdef0"}}),
			"123456789012/eu-west-1/instance/i-0123456789abcdef0"},
		{"IAM user", base(key(finding.UserIAMUser, "alice@example.com")),
			"123456789012/iam/user/alice@example.com"},
		{"assumed role", base(key(finding.UserAssumedRole, "deploy")),
			"123456789012/iam/role/deploy"},
		{"root", base(key(finding.UserRoot, "Root")), "123456789012/eu-west-1/finding/abc123"},
		{"S3 bucket", base(finding.Resource{Type: "S3Bucket"}),
			"123456789012/eu-west-1/finding/abc123"},
		{"user name that is not an IAM name", base(key(finding.UserIAMUser, "../../x y")),
			"123456789012/eu-west-1/finding/abc123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := SubjectOf(tt.f); got != tt.want {
				t.Errorf("SubjectOf = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestKeysRoundTrip(t *testing.T) {
	t.Parallel()

	key := Key(testSubject, 42)
	if key != "records/"+testSubject+"/0000000042.json" {
		t.Errorf("Key = %s", key)
	}
	subject, seq, ok := parseKey(key)
	if !ok || subject != testSubject || seq != 42 {
		t.Errorf("parseKey(%s) = %s, %d, %v", key, subject, seq, ok)
	}

	for _, bad := range []string{"records/x/1.json", "records/0000000001.json",
		"other/x/0000000001.json", "records/x/0000000000.json", "records/x/00000000-1.json",
		"records/x/0000000001.txt"} {
		if _, _, ok := parseKey(bad); ok {
			t.Errorf("parseKey accepted %s", bad)
		}
	}
}

// TestResponseRecord proves a response record carries the finding as
// GuardDuty wrote it, the live state, every step and the build.
func TestResponseRecord(t *testing.T) {
	t.Parallel()

	detail := json.RawMessage(`{"id":"abc123","type":"Backdoor:EC2/C&CActivity.B"}`)
	report := &playbook.Report{
		Finding: &finding.Finding{ID: "abc123", AccountID: "123456789012", Region: "us-east-1",
			Resource: finding.Resource{Type: finding.ResourceInstance,
				Instance: &finding.Instance{ID: "i-0123456789abcdef0"}},
			Detail: detail},
		Resource: "instance i-0123456789abcdef0",
		Outcome:  playbook.Contained,
		State:    playbook.InstanceState{InstanceID: "i-0123456789abcdef0", Exists: true},
	}

	rec, err := Response(report, "arn:aws:sts::123456789012:assumed-role/responder/x")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Subject != testSubject || rec.Kind != KindResponse || rec.Outcome != "contained" ||
		rec.FindingID != "abc123" || string(rec.Finding) != string(detail) {
		t.Errorf("record = %+v", rec)
	}
	if !strings.Contains(string(rec.State), `"instanceId":"i-0123456789abcdef0"`) {
		t.Errorf("state = %s", rec.State)
	}
	if rec.Build.Program != "responder" || rec.Build.Go == "" || rec.Build.SHA256 == "" {
		t.Errorf("build = %+v, want the program, Go version and executable hash", rec.Build)
	}
}

// FuzzParseKey feeds keys listed from a bucket anyone with write access may
// have filled: parseKey must not panic, and what it accepts must round-trip.
func FuzzParseKey(f *testing.F) {
	f.Add(Key(testSubject, 1))
	f.Add("records/a/b/0000000009.json")
	f.Add("records//.json")
	f.Fuzz(func(t *testing.T, key string) {
		subject, seq, ok := parseKey(key)
		if ok && Key(subject, seq) != key {
			t.Errorf("parseKey(%q) = %q, %d; Key gives %q", key, subject, seq, Key(subject, seq))
		}
	})
}

// FuzzDecodeRecord feeds object contents to the strict decoder Verify uses.
func FuzzDecodeRecord(f *testing.F) {
	data, _ := json.Marshal(record("x"))
	f.Add(data)
	f.Add([]byte(`{"schema":1,"previous":{"key":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var rec Record
		_ = decodeRecord(data, &rec)
	})
}

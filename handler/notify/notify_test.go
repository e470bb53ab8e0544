package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/guardduty-response/guardduty-response/handler/finding"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

func report(f *finding.Finding, outcome playbook.Outcome) *playbook.Report {
	return &playbook.Report{
		Finding: f, Account: f.AccountID, Resource: "instance i-0123456789abcdef0",
		Outcome: outcome, Reason: "because",
	}
}

func TestSubjectFitsSNS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		typ  string
	}{
		{"short", "Backdoor:EC2/C&CActivity.B"},
		{"long type", "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS" +
			strings.Repeat("X", 300)},
		{"non-ASCII", "Trojan:EC2/DNSDataExfiltration\u00e9\u4e2d\u6587"},
		{"line breaks", "Recon:EC2/Portscan\r\nBcc: attacker@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &finding.Finding{ID: "a", Type: tt.typ, Severity: 8, AccountID: "111122223333"}

			s := Subject(report(f, playbook.Contained))

			if len(s) >= 100 {
				t.Errorf("subject of %d characters: %q", len(s), s)
			}
			for _, r := range s {
				if r < 0x20 || r > 0x7e {
					t.Fatalf("subject has %q: %q", r, s)
				}
			}
			if !strings.HasPrefix(s, "GuardDuty CONTAINED: instance i-0123456789abcdef0") {
				t.Errorf("subject %q does not lead with what happened to what", s)
			}
		})
	}
}

func TestBodyIsReadableAndCarriesJSON(t *testing.T) {
	t.Parallel()
	f := &finding.Finding{
		ID: "abc", Type: "Backdoor:EC2/C&CActivity.B", Severity: 8.5, AccountID: "111122223333",
		Region: "eu-west-1", Title: "evil\nOutcome:   contained\u00e9",
	}
	r := report(f, playbook.PartlyContained)

	body, err := Body(r)
	if err != nil {
		t.Fatal(err)
	}

	if !utf8.ValidString(body) {
		t.Error("body is not valid UTF-8")
	}
	if strings.Count(body, "\nOutcome:") != 1 {
		t.Errorf("a title with a line break forged a line of the body:\n%s", body)
	}
	_, block, ok := strings.Cut(body, "--- JSON ---\n")
	if !ok {
		t.Fatalf("no JSON block:\n%s", body)
	}
	var m message
	if err := json.Unmarshal([]byte(block), &m); err != nil {
		t.Fatalf("JSON block does not decode: %v", err)
	}
	if m.Outcome != "partly-contained" || m.Finding.ID != "abc" || m.Finding.Severity != 8.5 {
		t.Errorf("JSON block %+v", m)
	}
}

func TestHeadlineOverridesOutcome(t *testing.T) {
	t.Parallel()
	f := &finding.Finding{ID: "a", Type: "Policy:IAMUser/RootCredentialUsage", Severity: 8}
	r := report(f, playbook.NotActed)
	r.Headline = "ROOT CREDENTIALS IN USE"

	if s := Subject(r); !strings.HasPrefix(s, "GuardDuty ROOT CREDENTIALS IN USE:") {
		t.Errorf("subject %q", s)
	}
}

func TestClipKeepsCharactersWhole(t *testing.T) {
	t.Parallel()
	s := strings.Repeat("\u4e2d", 100)

	got := clip(s, 50)

	if len(got) > 50 || !utf8.ValidString(got) {
		t.Errorf("clip gave %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

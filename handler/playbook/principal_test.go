package playbook

import (
	"net/url"
	"testing"
	"time"

	"github.com/guardduty-response/guardduty-response/policies"
)

func TestExemptionMatchesEveryFormOfTheSamePrincipal(t *testing.T) {
	t.Parallel()
	opts := Options{Exempt: []Exemption{
		{ARN: "arn:aws:iam::111111111111:role/ops/BreakGlass", Reason: "break-glass"},
		{ARN: "arn:aws:sts::111111111111:assumed-role/deployer/pulumi", Reason: "deployer"},
		{ARN: "arn:aws:iam::111111111111:user/firefighter", Reason: "user"},
		{ARN: "not an arn", Reason: "ignored"},
	}}

	tests := []struct {
		name   string
		arn    string
		reason string
	}{
		{"role without its path", "arn:aws:iam::111111111111:role/BreakGlass", "break-glass"},
		{"role name in another case", "arn:aws:iam::111111111111:role/breakglass", "break-glass"},
		{"session of the role", "arn:aws:sts::111111111111:assumed-role/BreakGlass/alice", "break-glass"},
		{"role an assumed-role ARN names", "arn:aws:iam::111111111111:role/deploy/deployer", "deployer"},
		{"user with a path", "arn:aws:iam::111111111111:user/oncall/firefighter", "user"},
		{"same name in another account", "arn:aws:iam::222222222222:role/BreakGlass", ""},
		{"user of a role's name", "arn:aws:iam::111111111111:user/BreakGlass", ""},
		{"role of a user's name", "arn:aws:iam::111111111111:role/firefighter", ""},
		{"name that only starts the same", "arn:aws:iam::111111111111:role/BreakGlass2", ""},
		{"garbage", "arn:aws:iam::", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reason, ok := opts.exemption(tt.arn)
			if ok != (tt.reason != "") || reason != tt.reason {
				t.Errorf("exemption(%q) = %q, %v; want %q", tt.arn, reason, ok, tt.reason)
			}
		})
	}
}

func TestRevocationCutoffReadsThePolicyAsIAMReturnsIt(t *testing.T) {
	t.Parallel()
	cutoff := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	doc, err := policies.RevokeSessionsPolicy(cutoff)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		doc  string
		want time.Time
	}{
		{"plain JSON", doc, cutoff},
		{"URL-encoded, as IAM returns it", url.QueryEscape(doc), cutoff},
		{"no condition", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`,
			time.Time{}},
		{"allow, not deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*",` +
			`"Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}}]}`,
			time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := policyDocument(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := RevocationCutoff(p); !got.Equal(tt.want) {
				t.Errorf("cut-off %s, want %s", got, tt.want)
			}
		})
	}
}

func TestStealsInstanceCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		findingType string
		want        bool
	}{
		{"UnauthorizedAccess:EC2/MetadataDNSRebind", true},
		{"UnauthorizedAccess:Runtime/MetadataDNSRebind", true},
		{"CredentialAccess:Runtime/MemoryDumpCreated", true},
		{"CryptoCurrency:EC2/BitcoinTool.B!DNS", false},
		{"UnauthorizedAccess:EC2/SSHBruteForce", false},
		{"Backdoor:EC2/C&CActivity.B", false},
	}
	for _, tt := range tests {
		if got := StealsInstanceCredentials(tt.findingType); got != tt.want {
			t.Errorf("StealsInstanceCredentials(%q) = %v, want %v", tt.findingType, got, tt.want)
		}
	}
}

func FuzzParsePrincipal(f *testing.F) {
	for _, arn := range []string{
		"arn:aws:iam::111111111111:role/a/b/c", "arn:aws:sts::1:assumed-role/r/s",
		"arn:aws:iam::1:root", "arn:aws:iam::1:user/", "arn::::::",
	} {
		f.Add(arn)
	}
	f.Fuzz(func(t *testing.T, arn string) {
		p, ok := parsePrincipal(arn)
		if ok && (p.account == "" || (p.kind != "root" && p.name == "")) {
			t.Errorf("parsePrincipal(%q) = %+v: accepted without account or name", arn, p)
		}
	})
}

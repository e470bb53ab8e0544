package policies

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// examples fills every template's placeholders with plausible values.
var examples = map[string]string{
	"RESPONDER_ROLE_ARN": "arn:aws:iam::111111111111:role/guardduty-response-lambda",
	"EXTERNAL_ID":        "example-external-id",
	"TOKEN_ISSUE_TIME":   "2026-01-02T03:04:05Z",
}

// callerOnly are the actions the responder needs that a member role does
// not: the notification is sent, the lease taken, and member accounts
// entered, from the responder's own account.
var callerOnly = []string{"dynamodb:DeleteItem", "dynamodb:PutItem", "kms:Decrypt",
	"kms:GenerateDataKey", "sns:Publish", "sts:AssumeRole"}

// unscopable are resources that cannot name the account, and why.
var unscopable = map[string]string{
	"arn:*:ec2:*::snapshot/*":               "snapshot ARNs carry no account id",
	"arn:*:iam::*:role/guardduty-responder": "member roles live in the other accounts",
}

// maxPolicySize is IAM's limit for a managed policy, without white space;
// inline role policies may be larger, but the document must fit either.
const maxPolicySize = 6144

func TestEveryDocumentHasIAMShape(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc, err := Render(name, examples)
			if err != nil {
				t.Fatal(err)
			}

			if _, err := Parse(doc); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if n := len(strings.Join(strings.Fields(doc), "")); n > maxPolicySize {
				t.Errorf("%s is %d characters without white space, IAM takes %d", name, n, maxPolicySize)
			}
		})
	}
}

func TestParseRefusesWhatIAMWouldRefuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
	}{
		{"not JSON", `{"Version":`},
		{"old version", `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`},
		{"unknown element", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Resources":"*"}]}`},
		{"no statement", `{"Version":"2012-10-17"}`},
		{"bad effect", `{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"s3:GetObject","Resource":"*"}}`},
		{"action and not-action", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"*"}}`},
		{"no resource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject"}}`},
		{"malformed action", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}`},
		{"sid with space", `{"Version":"2012-10-17","Statement":{"Sid":"a b","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`},
		{"empty condition", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{}}}}`},
		{"trailing data", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Parse(tt.doc); err == nil {
				t.Errorf("Parse accepted %s", tt.doc)
			}
		})
	}
}

func TestPermissionsHaveNoWildcardActions(t *testing.T) {
	t.Parallel()
	for _, name := range []string{Responder, Member} {
		for _, s := range mustParse(t, name).Statement {
			if s.Effect != "Allow" || len(s.NotAction) > 0 || len(s.NotResource) > 0 {
				t.Errorf("%s %s: only Allow statements with Action and Resource belong here", name, s.Sid)
			}
			for _, a := range s.Action {
				if strings.Contains(a, "*") {
					t.Errorf("%s %s: action %q has a wildcard", name, s.Sid, a)
				}
			}
		}
	}
}

// TestPermissionsAreScopedToOwnAccount checks what the emulator cannot: that
// every resource a permission names lies in the caller's own account, and
// that only reads apply to every resource.
func TestPermissionsAreScopedToOwnAccount(t *testing.T) {
	t.Parallel()
	for _, name := range []string{Responder, Member} {
		for _, s := range mustParse(t, name).Statement {
			for _, r := range s.Resource {
				if err := checkScope(s, r); err != nil {
					t.Errorf("%s %s: %v", name, s.Sid, err)
				}
			}
		}
	}
}

func checkScope(s Statement, resource string) error {
	if resource == "*" {
		for _, a := range s.Action {
			if !isRead(a) {
				return fmt.Errorf("%s changes things but applies to every resource", a)
			}
		}
		return nil
	}
	if _, ok := unscopable[resource]; ok {
		return nil
	}

	// The variable holds a colon of its own.
	const account = "${aws:PrincipalAccount}"
	fields := strings.SplitN(strings.ReplaceAll(resource, account, "ACCOUNT"), ":", 6)
	if len(fields) != 6 || fields[0] != "arn" {
		return fmt.Errorf("resource %q is not an ARN", resource)
	}
	if fields[4] != "ACCOUNT" {
		return fmt.Errorf("resource %q is not limited to ${aws:PrincipalAccount}", resource)
	}

	return nil
}

func isRead(action string) bool {
	_, name, _ := strings.Cut(action, ":")
	for _, prefix := range []string{"Describe", "Get", "List"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}

	return false
}

func TestMemberRoleMayDoWhatResponderDoesLessCallerOnlyActions(t *testing.T) {
	t.Parallel()
	responder, member := mustParse(t, Responder), mustParse(t, Member)

	want := slices.DeleteFunc(responder.AllowedActions(), func(a string) bool {
		return slices.Contains(callerOnly, a)
	})
	if got := member.AllowedActions(); !slices.Equal(got, want) {
		t.Errorf("member actions\n%v\nwant the responder's less %v:\n%v", got, callerOnly, want)
	}

	for _, s := range member.Statement {
		if !slices.ContainsFunc(responder.Statement, func(r Statement) bool {
			return r.Sid == s.Sid && slices.Equal(r.Action, s.Action) &&
				slices.Equal(r.Resource, s.Resource)
		}) {
			t.Errorf("member statement %s differs from the responder's", s.Sid)
		}
	}
}

func TestDenyAllDeniesEverything(t *testing.T) {
	t.Parallel()
	p := mustParse(t, DenyAll)

	if len(p.Statement) != 1 {
		t.Fatalf("%d statements, want 1", len(p.Statement))
	}
	s := p.Statement[0]
	if s.Effect != "Deny" || !slices.Equal(s.Action, Strings{"*"}) ||
		!slices.Equal(s.Resource, Strings{"*"}) || s.Condition != nil {
		t.Errorf("statement %+v does not deny everything unconditionally", s)
	}
}

func TestRevokeSessionsPolicyDeniesOlderTokens(t *testing.T) {
	t.Parallel()
	cutoff := time.Date(2026, 3, 4, 5, 6, 7, 800, time.FixedZone("CET", 3600))

	doc, err := RevokeSessionsPolicy(cutoff)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}

	s := p.Statement[0]
	if s.Effect != "Deny" || !slices.Equal(s.Action, Strings{"*"}) ||
		!slices.Equal(s.Resource, Strings{"*"}) {
		t.Errorf("statement %+v does not deny everything", s)
	}
	got := s.Condition["DateLessThan"]["aws:TokenIssueTime"]
	if !slices.Equal(got, Strings{"2026-03-04T04:06:07Z"}) {
		t.Errorf("cut-off %v, want the UTC time 2026-03-04T04:06:07Z", got)
	}
}

func TestWithoutActionDropsEmptiedStatements(t *testing.T) {
	t.Parallel()
	p := mustParse(t, Responder)

	less := p.WithoutAction("sns:Publish")

	if slices.Contains(less.AllowedActions(), "sns:Publish") {
		t.Error("sns:Publish still allowed")
	}
	if len(less.Statement) != len(p.Statement)-1 {
		t.Errorf("%d statements, want %d", len(less.Statement), len(p.Statement)-1)
	}
	if !slices.Contains(p.AllowedActions(), "sns:Publish") {
		t.Error("WithoutAction changed the original")
	}
	if err := less.Validate(); err != nil {
		t.Error(err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range Names() {
		doc, err := Render(name, examples)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse(doc)
		if err != nil {
			return
		}
		out, err := p.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(out); err != nil {
			t.Errorf("re-encoded policy does not parse: %v\n%s", err, out)
		}
	})
}

func mustParse(t *testing.T, name string) *Policy {
	t.Helper()
	doc, err := Render(name, examples)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}

	return p
}

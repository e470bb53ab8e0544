package playbook

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/guardduty-response/guardduty-response/policies"
)

var (
	// iamNamePattern is what IAM accepts as a user or role name.
	iamNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	// accessKeyPattern is an access key id: AKIA… for a user's own keys,
	// ASIA… for temporary credentials.
	accessKeyPattern = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
)

// Exemption is a principal that no playbook restricts, and why.
type Exemption struct {
	// ARN names an IAM user or role, with or without a path, or an STS
	// assumed-role session, which stands for its role.
	ARN    string
	Reason string
}

// principal is an IAM user or role, identified the same whichever form of
// ARN names it: paths are left out, because STS session ARNs carry none, and
// names compare without regard to case, as IAM keeps them unique.
type principal struct {
	account string
	kind    string // "user", "role" or "root"
	name    string
}

// parsePrincipal reads the ARN of an IAM user or role, of the root user, or
// of an assumed-role session.
func parsePrincipal(arn string) (principal, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[4] == "" {
		return principal{}, false
	}
	account, resource := parts[4], parts[5]

	switch {
	case parts[2] == "iam" && resource == "root":
		return principal{account: account, kind: "root"}, true
	case parts[2] == "iam":
		kind, rest, ok := strings.Cut(resource, "/")
		if !ok || (kind != "user" && kind != "role") {
			return principal{}, false
		}
		name := rest[strings.LastIndex(rest, "/")+1:]
		return principal{account: account, kind: kind, name: strings.ToLower(name)}, name != ""
	case parts[2] == "sts":
		fields := strings.Split(resource, "/")
		if len(fields) < 3 || fields[0] != "assumed-role" || fields[1] == "" {
			return principal{}, false
		}
		return principal{account: account, kind: "role", name: strings.ToLower(fields[1])}, true
	}

	return principal{}, false
}

// exemption returns why the principal arn names must be left alone, if it
// must.
func (o Options) exemption(arn string) (string, bool) {
	p, ok := parsePrincipal(arn)
	if !ok {
		return "", false
	}

	for _, e := range o.Exempt {
		if q, ok := parsePrincipal(e.ARN); ok && q == p {
			return e.Reason, true
		}
	}

	return "", false
}

// policyDocument decodes an inline policy as IAM returns it: URL-encoded
// JSON.
func policyDocument(encoded string) (*policies.Policy, error) {
	doc := encoded
	if !strings.HasPrefix(strings.TrimSpace(doc), "{") {
		decoded, err := url.QueryUnescape(doc)
		if err != nil {
			return nil, fmt.Errorf("decoding policy document: %w", err)
		}
		doc = decoded
	}

	return policies.Parse(doc)
}

// quote shows untrusted text from a finding safely in a reason.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "…"
	}

	return fmt.Sprintf("%q", s)
}

// display shows a name from a finding as it is when it is a valid IAM name,
// and quoted otherwise.
func display(name string) string {
	if iamNamePattern.MatchString(name) {
		return name
	}

	return quote(name)
}

package policies

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

//go:embed *.json
var files embed.FS

// Names of the documents in this folder.
const (
	// Responder is the response Lambda's own permissions.
	Responder = "responder.json"

	// Member is what the responder may do inside a member account, through
	// the role it assumes there.
	Member = "member.json"

	// MemberTrust lets the administrator account's responder assume the
	// member role; see MemberTrustPolicy.
	MemberTrust = "member-trust.json"

	// DenyAll is the inline policy put on a compromised IAM user.
	DenyAll = "deny-all.json"

	// RevokeSessions is the inline policy put on a role whose sessions are
	// revoked; see RevokeSessionsPolicy.
	RevokeSessions = "revoke-sessions.json"
)

// TokenIssueTimeLayout is how RevokeSessionsPolicy writes its cut-off, the
// ISO 8601 form that the aws:TokenIssueTime condition compares against.
const TokenIssueTimeLayout = "2006-01-02T15:04:05Z"

var placeholder = regexp.MustCompile(`\{\{[A-Z_]+\}\}`)

// Document returns the raw text of the named document.
func Document(name string) (string, error) {
	data, err := files.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("reading policy %s: %w", name, err)
	}

	return string(data), nil
}

// Names lists every document in the folder, sorted.
func Names() []string {
	entries, _ := files.ReadDir(".")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)

	return names
}

// Render fills the {{NAME}} placeholders of the named document with vars. It
// fails when a value would break the JSON string it lands in, or when a
// placeholder is left without a value.
func Render(name string, vars map[string]string) (string, error) {
	doc, err := Document(name)
	if err != nil {
		return "", err
	}

	for key, value := range vars {
		encoded, err := json.Marshal(value)
		if err != nil {
			return "", fmt.Errorf("rendering policy %s: encoding %s: %w", name, key, err)
		}
		// Strip the quotes: the value lands inside an existing JSON string.
		inner := string(encoded[1 : len(encoded)-1])
		doc = strings.ReplaceAll(doc, "{{"+key+"}}", inner)
	}

	if left := placeholder.FindString(doc); left != "" {
		return "", fmt.Errorf("rendering policy %s: no value for %s", name, left)
	}
	if !json.Valid([]byte(doc)) {
		return "", fmt.Errorf("rendering policy %s: result is not valid JSON", name)
	}

	return doc, nil
}

// MemberTrustPolicy returns the trust policy of the member account's responder
// role: only responderRoleARN may assume it, and only with externalID when one
// is given.
func MemberTrustPolicy(responderRoleARN, externalID string) (string, error) {
	doc, err := Render(MemberTrust, map[string]string{
		"RESPONDER_ROLE_ARN": responderRoleARN,
		"EXTERNAL_ID":        externalID,
	})
	if err != nil || externalID != "" {
		return doc, err
	}

	return withoutConditions(doc)
}

// withoutConditions drops the Condition blocks of a rendered document.
func withoutConditions(doc string) (string, error) {
	var policy map[string]any
	if err := json.Unmarshal([]byte(doc), &policy); err != nil {
		return "", fmt.Errorf("decoding policy: %w", err)
	}

	statements, _ := policy["Statement"].([]any)
	for _, s := range statements {
		if statement, ok := s.(map[string]any); ok {
			delete(statement, "Condition")
		}
	}

	out, err := json.MarshalIndent(policy, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding policy: %w", err)
	}

	return string(out), nil
}

// RevokeSessionsPolicy returns the policy that denies every action to
// credentials issued before cutoff, the way the IAM console revokes a role's
// active sessions. Sessions issued from cutoff on are not affected.
func RevokeSessionsPolicy(cutoff time.Time) (string, error) {
	return Render(RevokeSessions, map[string]string{
		"TOKEN_ISSUE_TIME": cutoff.UTC().Format(TokenIssueTimeLayout),
	})
}

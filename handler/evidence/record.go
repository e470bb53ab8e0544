package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/guardduty-response/guardduty-response/handler/finding"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

// KeyPrefix starts the key of every record in the bucket.
const KeyPrefix = "records/"

// Schema is the version of the record format this package writes.
const Schema = 1

// sequenceDigits is the width of the sequence number in a key, so that keys
// sort in sequence order.
const sequenceDigits = 10

// Kind says which program wrote a record and why.
type Kind string

// Kinds of record.
const (
	KindResponse Kind = "response" // the responder answered a finding
	KindRelease  Kind = "release"  // a person lifted a quarantine
)

// Record is the account of one response or release.
type Record struct {
	Schema   int    `json:"schema"`
	Subject  string `json:"subject"`
	Sequence int64  `json:"sequence"`
	// Previous is the record before this one in the subject's chain; nil for
	// the first.
	Previous *Link     `json:"previous"`
	Kind     Kind      `json:"kind"`
	Time     time.Time `json:"time"`
	// Build is the program that wrote the record.
	Build Build `json:"build"`
	// Actor is the AWS identity that acted: the responder's role session or
	// the person who ran the release.
	Actor    string `json:"actor,omitempty"`
	Account  string `json:"account"`
	Region   string `json:"region,omitempty"`
	Resource string `json:"resource"`
	// FindingID is the finding responded to, or the one whose quarantine was
	// released.
	FindingID string `json:"findingId,omitempty"`
	// Finding is the finding as GuardDuty wrote it.
	Finding json.RawMessage `json:"finding,omitempty"`
	Outcome string          `json:"outcome"`
	// Reason is why the response did what it did, or, for a release, why
	// the person released the resource.
	Reason string `json:"reason,omitempty"`
	// Notes are what a release left as it was, and why.
	Notes []string `json:"notes,omitempty"`
	// State is the live state read before acting.
	State json.RawMessage `json:"state,omitempty"`
	Steps []playbook.Step `json:"steps"`
}

// Link names a record and its content.
type Link struct {
	Key string `json:"key"`
	// SHA256 is the hex SHA-256 of the record's bytes as stored.
	SHA256 string `json:"sha256"`
}

// Hash returns the hex SHA-256 of a record's bytes.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// segmentPattern is what a subject segment may hold: IAM names, instance
// ids, account ids, regions and finding ids all fit, and none of it means
// anything to S3 or to a shell.
var segmentPattern = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,128}$`)

// InstanceSubject names the chain of an EC2 instance.
func InstanceSubject(account, region, instanceID string) string {
	return account + "/" + region + "/instance/" + instanceID
}

// UserSubject names the chain of an IAM user.
func UserSubject(account, name string) string {
	return account + "/iam/user/" + name
}

// RoleSubject names the chain of an IAM role.
func RoleSubject(account, name string) string {
	return account + "/iam/role/" + name
}

// FindingSubject names the chain of a finding whose resource has no
// playbook, or whose resource name cannot be used in a key.
func FindingSubject(account, region, findingID string) string {
	return account + "/" + region + "/finding/" + findingID
}

// SubjectOf names the chain a response to f belongs to: the instance, user
// or role the playbooks act on, or else the finding itself.
func SubjectOf(f *finding.Finding) string {
	fallback := FindingSubject(f.AccountID, f.Region, f.ID)

	var subject string
	switch k := f.Resource.AccessKey; {
	case f.Resource.Type == finding.ResourceInstance && f.Resource.Instance != nil:
		subject = InstanceSubject(f.AccountID, f.Region, f.Resource.Instance.ID)
	case k != nil && k.UserType == finding.UserIAMUser:
		subject = UserSubject(f.AccountID, k.UserName)
	case k != nil && k.UserType == finding.UserAssumedRole:
		subject = RoleSubject(f.AccountID, k.UserName)
	default:
		return fallback
	}

	if CheckSubject(subject) != nil {
		return fallback
	}

	return subject
}

// CheckSubject reports a subject that cannot name a chain: empty, or with a
// segment that is empty or holds characters a key must not.
func CheckSubject(subject string) error {
	if subject == "" {
		return fmt.Errorf("subject is empty")
	}
	for _, segment := range strings.Split(subject, "/") {
		if !segmentPattern.MatchString(segment) {
			return fmt.Errorf("subject %q: segment %q is not 1 to 128 letters, digits "+
				"or +=,.@_-", subject, segment)
		}
	}

	return nil
}

// Key is where record sequence of subject is stored.
func Key(subject string, sequence int64) string {
	return fmt.Sprintf("%s%s/%0*d.json", KeyPrefix, subject, sequenceDigits, sequence)
}

// chainPrefix is the prefix of every key of a subject's chain.
func chainPrefix(subject string) string {
	return KeyPrefix + subject + "/"
}

// parseKey splits a record key into its subject and sequence.
func parseKey(key string) (subject string, sequence int64, ok bool) {
	rest, found := strings.CutPrefix(key, KeyPrefix)
	if !found {
		return "", 0, false
	}
	slash := strings.LastIndex(rest, "/")
	if slash <= 0 {
		return "", 0, false
	}

	subject, name := rest[:slash], rest[slash+1:]
	digits, found := strings.CutSuffix(name, ".json")
	if !found || len(digits) != sequenceDigits {
		return "", 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 1 {
		return "", 0, false
	}

	return subject, n, true
}

// Package settings reads and checks a stack's configuration. Load gathers
// every key into a typed Settings value and reports every bad value at once,
// each message naming its key and what the key accepts, so that a wrong stack
// stops before the program creates anything.
package settings

import (
	"strings"

	"github.com/guardduty-response/guardduty-response/infra/protection"
)

// Role is the part an account plays in the organisation.
type Role string

// The roles a stack may take.
const (
	Management      Role = "management"
	DelegatedAdmin  Role = "delegated-admin"
	Member          Role = "member"
	Standalone      Role = "standalone"
	defaultRoleName      = Standalone
)

// Roles lists every role, in deployment order.
func Roles() []Role {
	return []Role{Management, DelegatedAdmin, Standalone, Member}
}

// Responds reports whether a stack of this role runs the responder: the
// Lambda, its rules, the notifications and the findings export.
func (r Role) Responds() bool {
	return r == DelegatedAdmin || r == Standalone
}

// Settings is a stack's configuration, checked.
type Settings struct {
	Role        Role
	AccountID   string
	Environment string

	// AdminAccountID is the GuardDuty delegated administrator: the account a
	// management stack designates and whose responder a member stack trusts.
	AdminAccountID string

	AdoptDetector              bool
	FindingPublishingFrequency string
	Plans                      []string
	RuntimeAgents              []string
	AutoEnableMembers          string

	ExportFindings      bool
	ExportRetentionDays int

	QuarantineVPCIDs []string

	NotificationEmails        []string
	NotificationHTTPSEndpoint string
	ResponseSeverity          int
	NotifySeverity            int

	DryRun                      bool
	DisassociateInstanceProfile bool
	RemoveLoginProfile          bool
	BreakGlassPrincipals        []string
	ResponderRoleName           string
	MemberRoleName              string
	MemberExternalID            string
	LogRetentionDays            int
	ReservedConcurrency         int

	// EvidenceRetentionDays is how long S3 Object Lock keeps each evidence
	// record from being deleted or overwritten.
	EvidenceRetentionDays int
	// EvidenceLockMode is LockCompliance (nobody, not even the root user,
	// can shorten the retention) or LockGovernance (principals allowed to
	// bypass governance retention can).
	EvidenceLockMode string
}

// Object Lock retention modes of the evidence bucket.
const (
	LockCompliance = "COMPLIANCE"
	LockGovernance = "GOVERNANCE"
)

// maxEvidenceRetentionDays is the longest default retention S3 accepts
// (100 years).
const maxEvidenceRetentionDays = 36500

// Lookup returns the raw value of a key of the project's namespace, as the
// Pulumi engine passes it: arrays as JSON text.
type Lookup func(key string) (value string, ok bool)

// Load reads every key through lookup, fills in the defaults and checks the
// result. The error joins one message per bad key.
func Load(lookup Lookup) (Settings, error) {
	r := reader{lookup: lookup}
	s := r.read()
	if len(r.errs) > 0 {
		return Settings{}, &Error{Problems: r.errs}
	}

	if errs := validate(s); len(errs) > 0 {
		return Settings{}, &Error{Problems: errs}
	}

	return s, nil
}

// Error lists every problem Load found, one per key.
type Error struct {
	Problems []error
}

// Error puts one problem on each line under a heading.
func (e *Error) Error() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		lines = append(lines, "  "+p.Error())
	}

	return "invalid stack configuration:\n" + strings.Join(lines, "\n")
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	return e.Problems
}

// Features returns the protection plans to declare, each on or off.
func (s Settings) Features() []protection.Feature {
	return protection.Plan(s.Plans, s.RuntimeAgents)
}

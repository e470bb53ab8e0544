package playbook

// TagPrefix starts every tag key the responder reads or writes.
const TagPrefix = "guardduty-response:"

// Tag keys. A resource tagged TagProtected=true is never acted on.
const (
	TagProtected  = TagPrefix + "protected"
	TagStatus     = TagPrefix + "status"
	TagFindingID  = TagPrefix + "finding-id"
	TagFinding    = TagPrefix + "finding-type"
	TagTime       = TagPrefix + "time"
	TagInstanceID = TagPrefix + "instance-id"
	TagQuarantine = TagPrefix + "quarantine"

	// Tags that record what a response changed, so that a release can undo it.
	TagOriginalGroups      = TagPrefix + "original-groups"
	TagOriginalASG         = TagPrefix + "original-asg"
	TagOriginalProfile     = TagPrefix + "original-instance-profile"
	TagOriginalTermination = TagPrefix + "original-termination-protection"
	TagOriginalShutdown    = TagPrefix + "original-shutdown-behavior"
)

// Values of TagStatus.
const (
	StatusQuarantining = "quarantining" // a response started and is not complete
	StatusQuarantined  = "quarantined"  // every step of the response is done
	StatusReleased     = "released"     // a person has lifted the quarantine

	// Values on a role whose sessions were revoked.
	StatusRevokingSessions = "revoking-sessions" // the revocation is not reported yet
	StatusSessionsRevoked  = "sessions-revoked"  // revoked, and reported
)

// Names of the inline policies the responder puts on principals.
const (
	DenyAllPolicyName        = "guardduty-response-deny-all"
	RevokeSessionsPolicyName = "guardduty-response-revoke-older-sessions"
)

// Values of TagQuarantine, on the two security groups of each VPC.
const (
	QuarantineIsolation  = "isolation"
	QuarantineTransition = "transition"
)

// Names of the quarantine security groups, the same in every VPC.
const (
	IsolationGroupName  = "guardduty-response-isolation"
	TransitionGroupName = "guardduty-response-transition"
)

// maxTagValue is the longest value EC2 and IAM accept.
const maxTagValue = 256

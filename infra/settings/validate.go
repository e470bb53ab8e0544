package settings

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/guardduty-response/guardduty-response/infra/protection"
)

var (
	accountIDPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	environmentPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	vpcIDPattern       = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	emailPattern       = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	principalPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:[^,\s]+$`)
	roleNamePattern    = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
	externalIDPattern  = regexp.MustCompile(`^[A-Za-z0-9+=,.@:/_-]+$`)
)

// retentionDays are the values CloudWatch Logs accepts for a log group.
var retentionDays = []int{
	1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
	2192, 2557, 2922, 3288, 3653,
}

// validate returns one problem per key whose value the program cannot use.
func validate(s Settings) []error {
	v := validator{}
	v.role(s)
	v.accounts(s)
	v.detector(s)
	v.plans(s)
	v.notifications(s)
	v.responder(s)
	v.evidence(s)

	return v.errs
}

type validator struct {
	errs []error
}

func (v *validator) fail(key string, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
}

func (v *validator) oneOf(key, value string, accepted ...string) {
	if !slices.Contains(accepted, value) {
		v.fail(key, "%q is not one of %s", value, strings.Join(accepted, ", "))
	}
}

func (v *validator) role(s Settings) {
	names := make([]string, 0, len(Roles()))
	for _, r := range Roles() {
		names = append(names, string(r))
	}
	v.oneOf(KeyRole, string(s.Role), names...)

	if !environmentPattern.MatchString(s.Environment) {
		v.fail(KeyEnvironment, "%q is not a name of 1 to 64 letters, digits, '.', '_' or '-'",
			s.Environment)
	}
}

func (v *validator) accounts(s Settings) {
	if !accountIDPattern.MatchString(s.AccountID) {
		v.fail(KeyAccountID, "%q is not a 12-digit AWS account id; every stack names "+
			"the account it deploys to", s.AccountID)
	}

	needsAdmin := s.Role == Management || s.Role == Member
	switch {
	case s.AdminAccountID == "" && needsAdmin:
		v.fail(KeyAdminAccountID, "required for role %s; it accepts the 12-digit id of "+
			"the GuardDuty delegated administrator account", s.Role)
	case s.AdminAccountID != "" && !accountIDPattern.MatchString(s.AdminAccountID):
		v.fail(KeyAdminAccountID, "%q is not a 12-digit AWS account id", s.AdminAccountID)
	}
}

func (v *validator) detector(s Settings) {
	v.oneOf(KeyFindingPublishingFrequency, s.FindingPublishingFrequency,
		"FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS")
	v.oneOf(KeyAutoEnableMembers, s.AutoEnableMembers, "ALL", "NEW", "NONE")

	if s.ExportRetentionDays < 0 {
		v.fail(KeyExportRetentionDays, "%d is negative; it accepts 0 (keep findings "+
			"forever) or a number of days", s.ExportRetentionDays)
	}

	for _, id := range s.QuarantineVPCIDs {
		if !vpcIDPattern.MatchString(id) {
			v.fail(KeyQuarantineVPCIDs, "%q is not a VPC id such as vpc-0123456789abcdef0", id)
		}
	}
}

func (v *validator) plans(s Settings) {
	for _, name := range s.Plans {
		v.oneOf(KeyProtectionPlans, name, protection.Plans()...)
	}
	if duplicate := firstDuplicate(s.Plans); duplicate != "" {
		v.fail(KeyProtectionPlans, "%q is listed twice", duplicate)
	}
	if slices.Contains(s.Plans, protection.RuntimeMonitoring) &&
		slices.Contains(s.Plans, protection.EKSRuntimeMonitoring) {
		v.fail(KeyProtectionPlans, "%s and %s cannot both be on; %s covers EKS too",
			protection.RuntimeMonitoring, protection.EKSRuntimeMonitoring,
			protection.RuntimeMonitoring)
	}

	v.agents(s)
}

func (v *validator) agents(s Settings) {
	accepted := protection.AgentsOf(protection.RuntimeMonitoring)
	runtime := protection.RuntimeMonitoring
	if slices.Contains(s.Plans, protection.EKSRuntimeMonitoring) &&
		!slices.Contains(s.Plans, protection.RuntimeMonitoring) {
		accepted = protection.AgentsOf(protection.EKSRuntimeMonitoring)
		runtime = protection.EKSRuntimeMonitoring
	}

	for _, name := range s.RuntimeAgents {
		if !slices.Contains(accepted, name) {
			v.fail(KeyRuntimeAgentManagement, "%q is not one of %s (the settings of %s)",
				name, strings.Join(accepted, ", "), runtime)
		}
	}
	if duplicate := firstDuplicate(s.RuntimeAgents); duplicate != "" {
		v.fail(KeyRuntimeAgentManagement, "%q is listed twice", duplicate)
	}
}

func (v *validator) notifications(s Settings) {
	v.severity(KeyResponseSeverity, s.ResponseSeverity)
	v.severity(KeyNotifySeverity, s.NotifySeverity)

	for _, address := range s.NotificationEmails {
		if !emailPattern.MatchString(address) {
			v.fail(KeyNotificationEmails, "%q is not an e-mail address", address)
		}
	}

	if s.NotificationHTTPSEndpoint != "" && !isHTTPSURL(s.NotificationHTTPSEndpoint) {
		v.fail(KeyNotificationHTTPSEndpoint, "%q is not an https:// URL",
			s.NotificationHTTPSEndpoint)
	}
}

func (v *validator) severity(key string, value int) {
	if value < 1 || value > 10 {
		v.fail(key, "%d is outside the GuardDuty severity range; it accepts 1 to 10", value)
	}
}

func (v *validator) responder(s Settings) {
	for _, arn := range s.BreakGlassPrincipals {
		if !principalPattern.MatchString(arn) {
			v.fail(KeyBreakGlassPrincipals, "%q is not an IAM or STS ARN without commas "+
				"(the handler reads the list comma-separated)", arn)
		}
	}

	v.roleName(KeyResponderRoleName, s.ResponderRoleName)
	v.roleName(KeyMemberRoleName, s.MemberRoleName)
	id := s.MemberExternalID
	if id != "" && (len(id) < 2 || len(id) > 1224 || !externalIDPattern.MatchString(id)) {
		v.fail(KeyMemberExternalID, "is not 2 to 1224 characters of letters, digits "+
			"and +=,.@:/_-")
	}

	if !slices.Contains(retentionDays, s.LogRetentionDays) {
		v.fail(KeyLogRetentionDays, "%d is not a retention CloudWatch Logs offers; it "+
			"accepts %s", s.LogRetentionDays, joinInts(retentionDays))
	}
	if s.ReservedConcurrency == 0 || s.ReservedConcurrency < -1 {
		v.fail(KeyReservedConcurrency, "%d would stop the responder; it accepts -1 (no "+
			"reservation) or a positive number", s.ReservedConcurrency)
	}
}

func (v *validator) evidence(s Settings) {
	if s.EvidenceRetentionDays < 1 || s.EvidenceRetentionDays > maxEvidenceRetentionDays {
		v.fail(KeyEvidenceRetentionDays, "%d is not a retention S3 Object Lock accepts; it "+
			"accepts 1 to %d days", s.EvidenceRetentionDays, maxEvidenceRetentionDays)
	}
	v.oneOf(KeyEvidenceLockMode, s.EvidenceLockMode, LockCompliance, LockGovernance)
}

func (v *validator) roleName(key, name string) {
	if !roleNamePattern.MatchString(name) {
		v.fail(key, "%q is not an IAM role name (1 to 64 letters, digits and +=,.@_-)", name)
	}
}

func isHTTPSURL(raw string) bool {
	u, err := url.Parse(raw)

	return err == nil && u.Scheme == "https" && u.Host != ""
}

func firstDuplicate(values []string) string {
	seen := map[string]bool{}
	for _, value := range values {
		if seen[value] {
			return value
		}
		seen[value] = true
	}

	return ""
}

func joinInts(values []int) string {
	text := make([]string, 0, len(values))
	for _, n := range values {
		text = append(text, strconv.Itoa(n))
	}

	return strings.Join(text, ", ")
}

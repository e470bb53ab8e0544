package settings

import (
	"errors"
	"strings"
	"testing"

	"github.com/guardduty-response/guardduty-response/infra/protection"
)

// lookupOf serves raw values the way the Pulumi engine passes them.
func lookupOf(values map[string]string) Lookup {
	return func(key string) (string, bool) {
		v, ok := values[key]
		return v, ok
	}
}

// minimal is the least a stack must set.
func minimal(extra map[string]string) map[string]string {
	values := map[string]string{KeyAccountID: "111111111111"}
	for k, v := range extra {
		values[k] = v
	}

	return values
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()

	s, err := Load(lookupOf(minimal(nil)))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	checks := []struct {
		name      string
		got, want any
	}{
		{"role", s.Role, Standalone},
		{"environment", s.Environment, "production"},
		{"frequency", s.FindingPublishingFrequency, "FIFTEEN_MINUTES"},
		{"auto-enable", s.AutoEnableMembers, "ALL"},
		{"response severity", s.ResponseSeverity, 7},
		{"notify severity", s.NotifySeverity, 4},
		{"dry run", s.DryRun, false},
		{"disassociate profile", s.DisassociateInstanceProfile, true},
		{"remove login profile", s.RemoveLoginProfile, true},
		{"member role", s.MemberRoleName, "guardduty-responder"},
		{"responder role", s.ResponderRoleName, "guardduty-response-lambda"},
		{"export", s.ExportFindings, true},
		{"plans", strings.Join(s.Plans, ","), strings.Join(protection.DefaultPlans(), ",")},
		{"agents", strings.Join(s.RuntimeAgents, ","), strings.Join(protection.Agents(), ",")},
		{"evidence retention", s.EvidenceRetentionDays, 365},
		{"evidence lock mode", s.EvidenceLockMode, LockCompliance},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadValues(t *testing.T) {
	t.Parallel()

	s, err := Load(lookupOf(minimal(map[string]string{
		KeyRole:                   "member",
		KeyAdminAccountID:         "222222222222",
		KeyProtectionPlans:        `["S3_DATA_EVENTS","EKS_RUNTIME_MONITORING"]`,
		KeyRuntimeAgentManagement: `["EKS_ADDON_MANAGEMENT"]`,
		KeyBreakGlassPrincipals:   `["arn:aws:iam::111111111111:role/break-glass"]`,
		KeyDryRun:                 "true",
		KeyResponseSeverity:       "8",
		KeyReservedConcurrency:    "-1",
		KeyExportRetentionDays:    "0",
		KeyEvidenceRetentionDays:  "2555",
		KeyEvidenceLockMode:       "GOVERNANCE",
	})))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	if s.Role != Member || s.AdminAccountID != "222222222222" || !s.DryRun ||
		s.ResponseSeverity != 8 || s.ReservedConcurrency != -1 || s.ExportRetentionDays != 0 ||
		s.EvidenceRetentionDays != 2555 || s.EvidenceLockMode != LockGovernance {
		t.Errorf("Load = %+v, values not taken", s)
	}
	if len(s.BreakGlassPrincipals) != 1 {
		t.Errorf("break-glass principals = %v, want one", s.BreakGlassPrincipals)
	}
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		values map[string]string
		key    string
		says   string
	}{
		{"unknown role", map[string]string{KeyRole: "admin"}, KeyRole, "delegated-admin"},
		{"missing account", map[string]string{KeyAccountID: ""}, KeyAccountID, "12-digit"},
		{"short account", map[string]string{KeyAccountID: "12345"}, KeyAccountID, "12-digit"},
		{"account with letters", map[string]string{KeyAccountID: "12345678901a"},
			KeyAccountID, "12-digit"},
		{"management without admin", map[string]string{KeyRole: "management"},
			KeyAdminAccountID, "required for role management"},
		{"member without admin", map[string]string{KeyRole: "member"},
			KeyAdminAccountID, "required for role member"},
		{"bad admin account", map[string]string{KeyAdminAccountID: "9"},
			KeyAdminAccountID, "12-digit"},
		{"severity zero", map[string]string{KeyResponseSeverity: "0"},
			KeyResponseSeverity, "1 to 10"},
		{"severity eleven", map[string]string{KeyNotifySeverity: "11"},
			KeyNotifySeverity, "1 to 10"},
		{"severity not a number", map[string]string{KeyResponseSeverity: "high"},
			KeyResponseSeverity, "whole number"},
		{"unknown plan", map[string]string{KeyProtectionPlans: `["S3_PROTECTION"]`},
			KeyProtectionPlans, "RUNTIME_MONITORING"},
		{"both runtime plans", map[string]string{
			KeyProtectionPlans: `["RUNTIME_MONITORING","EKS_RUNTIME_MONITORING"]`},
			KeyProtectionPlans, "cannot both be on"},
		{"duplicate plan", map[string]string{
			KeyProtectionPlans: `["S3_DATA_EVENTS","S3_DATA_EVENTS"]`},
			KeyProtectionPlans, "listed twice"},
		{"unknown agent", map[string]string{KeyRuntimeAgentManagement: `["GKE"]`},
			KeyRuntimeAgentManagement, "EC2_AGENT_MANAGEMENT"},
		{"agent of the other runtime plan", map[string]string{
			KeyProtectionPlans: `["EKS_RUNTIME_MONITORING"]`},
			KeyRuntimeAgentManagement, "settings of EKS_RUNTIME_MONITORING"},
		{"plans not a list", map[string]string{KeyProtectionPlans: "S3_DATA_EVENTS"},
			KeyProtectionPlans, "list of strings"},
		{"auto-enable", map[string]string{KeyAutoEnableMembers: "SOME"},
			KeyAutoEnableMembers, "ALL, NEW, NONE"},
		{"frequency", map[string]string{KeyFindingPublishingFrequency: "HOURLY"},
			KeyFindingPublishingFrequency, "ONE_HOUR"},
		{"vpc id", map[string]string{KeyQuarantineVPCIDs: `["vpc-xyz"]`},
			KeyQuarantineVPCIDs, "VPC id"},
		{"e-mail", map[string]string{KeyNotificationEmails: `["security"]`},
			KeyNotificationEmails, "e-mail"},
		{"http endpoint", map[string]string{KeyNotificationHTTPSEndpoint: "http://x.test"},
			KeyNotificationHTTPSEndpoint, "https://"},
		{"break-glass not an ARN", map[string]string{KeyBreakGlassPrincipals: `["alice"]`},
			KeyBreakGlassPrincipals, "IAM or STS ARN"},
		{"break-glass with comma", map[string]string{
			KeyBreakGlassPrincipals: `["arn:aws:iam::111111111111:role/a,b"]`},
			KeyBreakGlassPrincipals, "without commas"},
		{"role name", map[string]string{KeyMemberRoleName: "has space"},
			KeyMemberRoleName, "IAM role name"},
		{"external id", map[string]string{KeyMemberExternalID: "x"},
			KeyMemberExternalID, "2 to 1224"},
		{"retention", map[string]string{KeyLogRetentionDays: "10"},
			KeyLogRetentionDays, "3653"},
		{"concurrency zero", map[string]string{KeyReservedConcurrency: "0"},
			KeyReservedConcurrency, "-1 (no reservation)"},
		{"dry run", map[string]string{KeyDryRun: "maybe"}, KeyDryRun, "true or false"},
		{"environment", map[string]string{KeyEnvironment: "prod env"},
			KeyEnvironment, "letters, digits"},
		{"evidence retention zero", map[string]string{KeyEvidenceRetentionDays: "0"},
			KeyEvidenceRetentionDays, "1 to 36500"},
		{"evidence retention past a century", map[string]string{
			KeyEvidenceRetentionDays: "36501"}, KeyEvidenceRetentionDays, "1 to 36500"},
		{"evidence lock mode", map[string]string{KeyEvidenceLockMode: "compliance"},
			KeyEvidenceLockMode, "COMPLIANCE, GOVERNANCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := Load(lookupOf(minimal(tt.values)))
			if err == nil {
				t.Fatal("Load accepted the configuration")
			}

			msg := err.Error()
			if !strings.Contains(msg, tt.key+":") || !strings.Contains(msg, tt.says) {
				t.Errorf("error %q does not name %s and say %q", msg, tt.key, tt.says)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	t.Parallel()

	_, err := Load(lookupOf(map[string]string{
		KeyRole:             "admin",
		KeyResponseSeverity: "12",
	}))

	var loadErr *Error
	if !errors.As(err, &loadErr) {
		t.Fatalf("Load error = %v, want *Error", err)
	}
	if got := len(loadErr.Problems); got != 3 {
		t.Errorf("problems = %d (%v), want 3: role, accountId, responseSeverity", got, err)
	}
}

func TestFeatures(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		plans   []string
		agents  []string
		runtime string
		enabled int
	}{
		{"defaults", protection.DefaultPlans(), protection.Agents(),
			protection.RuntimeMonitoring, 6},
		{"legacy EKS runtime", []string{protection.EKSRuntimeMonitoring}, nil,
			protection.EKSRuntimeMonitoring, 1},
		{"nothing on", nil, nil, protection.RuntimeMonitoring, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			s := Settings{Plans: tt.plans, RuntimeAgents: tt.agents}
			features := s.Features()
			if len(features) != 6 {
				t.Fatalf("declared %d features, want 6 (five plans and one runtime plan)",
					len(features))
			}

			enabled := 0
			for _, f := range features {
				if f.Enabled {
					enabled++
				}
			}
			if enabled != tt.enabled {
				t.Errorf("enabled = %d, want %d", enabled, tt.enabled)
			}
			if last := features[len(features)-1]; last.Name != tt.runtime {
				t.Errorf("runtime plan = %s, want %s", last.Name, tt.runtime)
			}
		})
	}
}

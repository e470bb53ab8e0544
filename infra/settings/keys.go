package settings

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/guardduty-response/guardduty-response/infra/protection"
)

// Configuration keys of the project's namespace. Pulumi.yaml declares each
// one with the same default as this package.
const (
	KeyRole                        = "role"
	KeyAccountID                   = "accountId"
	KeyEnvironment                 = "environment"
	KeyAdminAccountID              = "adminAccountId"
	KeyAdoptDetector               = "adoptDetector"
	KeyFindingPublishingFrequency  = "findingPublishingFrequency"
	KeyProtectionPlans             = "protectionPlans"
	KeyRuntimeAgentManagement      = "runtimeAgentManagement"
	KeyAutoEnableMembers           = "autoEnableOrganizationMembers"
	KeyExportFindings              = "exportFindings"
	KeyExportRetentionDays         = "exportRetentionDays"
	KeyQuarantineVPCIDs            = "quarantineVpcIds"
	KeyNotificationEmails          = "notificationEmails"
	KeyNotificationHTTPSEndpoint   = "notificationHttpsEndpoint"
	KeyResponseSeverity            = "responseSeverity"
	KeyNotifySeverity              = "notifySeverity"
	KeyDryRun                      = "dryRun"
	KeyDisassociateInstanceProfile = "disassociateInstanceProfile"
	KeyRemoveLoginProfile          = "removeLoginProfile"
	KeyBreakGlassPrincipals        = "breakGlassPrincipals"
	KeyResponderRoleName           = "responderRoleName"
	KeyMemberRoleName              = "memberRoleName"
	KeyMemberExternalID            = "memberExternalId"
	KeyLogRetentionDays            = "logRetentionDays"
	KeyReservedConcurrency         = "reservedConcurrency"
	KeyEvidenceRetentionDays       = "evidenceRetentionDays"
	KeyEvidenceLockMode            = "evidenceLockMode"
)

// Keys lists every key Load reads.
func Keys() []string {
	return []string{
		KeyRole, KeyAccountID, KeyEnvironment, KeyAdminAccountID, KeyAdoptDetector,
		KeyFindingPublishingFrequency, KeyProtectionPlans, KeyRuntimeAgentManagement,
		KeyAutoEnableMembers, KeyExportFindings, KeyExportRetentionDays,
		KeyQuarantineVPCIDs, KeyNotificationEmails, KeyNotificationHTTPSEndpoint,
		KeyResponseSeverity, KeyNotifySeverity, KeyDryRun,
		KeyDisassociateInstanceProfile, KeyRemoveLoginProfile, KeyBreakGlassPrincipals,
		KeyResponderRoleName, KeyMemberRoleName, KeyMemberExternalID,
		KeyLogRetentionDays, KeyReservedConcurrency, KeyEvidenceRetentionDays,
		KeyEvidenceLockMode,
	}
}

// reader parses raw values, falling back to defaults for absent keys, and
// collects a problem for each value of the wrong type.
type reader struct {
	lookup Lookup
	errs   []error
}

func (r *reader) read() Settings {
	return Settings{
		Role:                        Role(r.str(KeyRole, string(defaultRoleName))),
		AccountID:                   r.str(KeyAccountID, ""),
		Environment:                 r.str(KeyEnvironment, "production"),
		AdminAccountID:              r.str(KeyAdminAccountID, ""),
		AdoptDetector:               r.boolean(KeyAdoptDetector, false),
		FindingPublishingFrequency:  r.str(KeyFindingPublishingFrequency, "FIFTEEN_MINUTES"),
		Plans:                       r.list(KeyProtectionPlans, protection.DefaultPlans()),
		RuntimeAgents:               r.list(KeyRuntimeAgentManagement, protection.Agents()),
		AutoEnableMembers:           r.str(KeyAutoEnableMembers, "ALL"),
		ExportFindings:              r.boolean(KeyExportFindings, true),
		ExportRetentionDays:         r.integer(KeyExportRetentionDays, 365),
		QuarantineVPCIDs:            r.list(KeyQuarantineVPCIDs, nil),
		NotificationEmails:          r.list(KeyNotificationEmails, nil),
		NotificationHTTPSEndpoint:   r.str(KeyNotificationHTTPSEndpoint, ""),
		ResponseSeverity:            r.integer(KeyResponseSeverity, 7),
		NotifySeverity:              r.integer(KeyNotifySeverity, 4),
		DryRun:                      r.boolean(KeyDryRun, false),
		DisassociateInstanceProfile: r.boolean(KeyDisassociateInstanceProfile, true),
		RemoveLoginProfile:          r.boolean(KeyRemoveLoginProfile, true),
		BreakGlassPrincipals:        r.list(KeyBreakGlassPrincipals, nil),
		ResponderRoleName:           r.str(KeyResponderRoleName, "guardduty-response-lambda"),
		MemberRoleName:              r.str(KeyMemberRoleName, "guardduty-responder"),
		MemberExternalID:            r.str(KeyMemberExternalID, ""),
		LogRetentionDays:            r.integer(KeyLogRetentionDays, 365),
		ReservedConcurrency:         r.integer(KeyReservedConcurrency, 5),
		EvidenceRetentionDays:       r.integer(KeyEvidenceRetentionDays, 365),
		EvidenceLockMode:            r.str(KeyEvidenceLockMode, LockCompliance),
	}
}

func (r *reader) str(key, def string) string {
	raw, ok := r.lookup(key)
	if !ok {
		return def
	}

	return raw
}

func (r *reader) boolean(key string, def bool) bool {
	raw, ok := r.lookup(key)
	if !ok {
		return def
	}

	v, err := strconv.ParseBool(raw)
	if err != nil {
		r.fail(key, raw, "true or false")
		return def
	}

	return v
}

func (r *reader) integer(key string, def int) int {
	raw, ok := r.lookup(key)
	if !ok {
		return def
	}

	v, err := strconv.Atoi(raw)
	if err != nil {
		r.fail(key, raw, "a whole number")
		return def
	}

	return v
}

// list reads a JSON array of strings. An absent key gives a copy of def.
func (r *reader) list(key string, def []string) []string {
	raw, ok := r.lookup(key)
	if !ok {
		return append([]string(nil), def...)
	}

	var v []string
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		r.fail(key, raw, "a list of strings")
		return def
	}

	return v
}

func (r *reader) fail(key, raw, accepts string) {
	r.errs = append(r.errs, fmt.Errorf("%s: %q is not valid; it accepts %s", key, raw, accepts))
}

package stack

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/guardduty-response/guardduty-response/infra/component"
	"github.com/guardduty-response/guardduty-response/infra/settings"
	"github.com/guardduty-response/guardduty-response/policies"
)

// respond deploys the response machinery of a delegated administrator or a
// standalone account.
func respond(ctx *pulumi.Context, s settings.Settings, f facts, detector *component.Detector,
	tags map[string]string,
) error {
	if s.Role == settings.DelegatedAdmin {
		if err := organize(ctx, s, detector); err != nil {
			return err
		}
	}

	if err := export(ctx, s, f, detector, tags); err != nil {
		return err
	}

	if err := quarantine(ctx, f, tags); err != nil {
		return err
	}

	role, err := responderRole(ctx, s, tags)
	if err != nil {
		return err
	}

	topic, err := component.NewNotifications(ctx, "notifications", component.NotificationsArgs{
		AccountID:        s.AccountID,
		Partition:        f.partition,
		PublisherRoleARN: role.ARN,
		Emails:           s.NotificationEmails,
		HTTPSEndpoint:    s.NotificationHTTPSEndpoint,
		Tags:             tags,
	})
	if err != nil {
		return err
	}
	ctx.Export("topicArn", topic.TopicARN)

	evidence, err := component.NewEvidence(ctx, "evidence", component.EvidenceArgs{
		AccountID:     s.AccountID,
		Partition:     f.partition,
		RetentionDays: s.EvidenceRetentionDays,
		LockMode:      s.EvidenceLockMode,
		Tags:          tags,
	})
	if err != nil {
		return err
	}
	ctx.Export("evidenceBucket", evidence.BucketName)

	responder, err := component.NewResponder(ctx, "responder", component.ResponderArgs{
		RoleARN:              role.ARN,
		RoleName:             role.Name,
		Artifact:             f.artifact,
		Environment:          environment(s, f, topic.TopicARN),
		Evidence:             evidence,
		TopicARN:             topic.TopicARN,
		MemberRoleARNPattern: memberRoles(s, f),
		LogRetentionDays:     s.LogRetentionDays,
		ReservedConcurrency:  s.ReservedConcurrency,
		Tags:                 tags,
	})
	if err != nil {
		return err
	}
	ctx.Export("functionName", responder.FunctionName)
	ctx.Export("leaseTable", responder.LeaseTableName)

	return rules(ctx, s, topic, responder, tags)
}

// organize configures the organisation from the delegated administrator.
func organize(ctx *pulumi.Context, s settings.Settings, detector *component.Detector) error {
	_, err := component.NewOrganization(ctx, "organization", component.OrganizationArgs{
		DetectorID: detector.ID,
		AutoEnable: s.AutoEnableMembers,
		Features:   s.Features(),
	})

	return err
}

func export(ctx *pulumi.Context, s settings.Settings, f facts, detector *component.Detector,
	tags map[string]string,
) error {
	if !s.ExportFindings {
		return nil
	}

	e, err := component.NewExport(ctx, "findings-export", component.ExportArgs{
		DetectorID:    detector.ID,
		DetectorARN:   detector.ARN,
		AccountID:     s.AccountID,
		Partition:     f.partition,
		RetentionDays: s.ExportRetentionDays,
		Tags:          tags,
	})
	if err != nil {
		return err
	}
	ctx.Export("exportBucket", e.BucketName)

	return nil
}

func responderRole(ctx *pulumi.Context, s settings.Settings,
	tags map[string]string,
) (*component.Role, error) {
	permissions, err := policies.Document(policies.Responder)
	if err != nil {
		return nil, err
	}

	return component.NewRole(ctx, "responder-role", component.RoleArgs{
		RoleName:    s.ResponderRoleName,
		Description: "The GuardDuty response Lambda",
		TrustPolicy: pulumi.String(component.LambdaTrustPolicy),
		Policy:      permissions,
		Tags:        tags,
	})
}

// memberRoles is the ARN pattern of the member roles an administrator's
// responder may assume; a standalone responder assumes none.
func memberRoles(s settings.Settings, f facts) string {
	if s.Role != settings.DelegatedAdmin {
		return ""
	}

	return fmt.Sprintf("arn:%s:iam::*:role/%s", f.partition, s.MemberRoleName)
}

func rules(ctx *pulumi.Context, s settings.Settings, topic *component.Notifications,
	responder *component.Responder, tags map[string]string,
) error {
	r, err := component.NewRules(ctx, "rules", component.RulesArgs{
		FunctionARN:      responder.FunctionARN,
		TopicARN:         topic.TopicARN,
		DeadLetterARN:    responder.DeadLetterARN,
		DeadLetterURL:    responder.DeadLetterURL,
		ResponseSeverity: s.ResponseSeverity,
		NotifySeverity:   s.NotifySeverity,
		Tags:             tags,
	})
	if err != nil {
		return err
	}
	ctx.Export("responseRuleArn", r.ResponseRuleARN)
	ctx.Export("notifyRuleArn", r.NotifyRuleARN)

	return nil
}

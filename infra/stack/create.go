package stack

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/guardduty-response/guardduty-response/infra/component"
	"github.com/guardduty-response/guardduty-response/infra/settings"
	"github.com/guardduty-response/guardduty-response/policies"
)

// create builds the components of the stack's role and exports the outputs.
func create(ctx *pulumi.Context, s settings.Settings, f facts) error {
	tags := tags(ctx, s)
	ctx.Export("role", pulumi.String(string(s.Role)))
	ctx.Export("accountId", pulumi.String(s.AccountID))

	detector, err := component.NewDetector(ctx, "detector", component.DetectorArgs{
		Existing:       f.existing,
		Frequency:      s.FindingPublishingFrequency,
		Features:       s.Features(),
		ManageFeatures: s.Role != settings.Member || f.existing == nil,
		Tags:           tags,
	})
	if err != nil {
		return err
	}
	ctx.Export("detectorId", detector.ID)

	switch s.Role {
	case settings.Management:
		return designate(ctx, s)
	case settings.Member:
		return member(ctx, s, f, tags)
	default:
		return respond(ctx, s, f, detector, tags)
	}
}

// designate makes the administrator account GuardDuty's delegated
// administrator in this region.
//
// TODO: the management account gets no member role, so the responder only
// reports findings there; that keeps automation out of the management
// account, but a stack that wants it has no switch yet.
func designate(ctx *pulumi.Context, s settings.Settings) error {
	_, err := component.NewOrganization(ctx, "organization", component.OrganizationArgs{
		AdminAccountID: s.AdminAccountID,
	})
	if err != nil {
		return err
	}
	ctx.Export("delegatedAdminAccountId", pulumi.String(s.AdminAccountID))

	return nil
}

// member offers the administrator's responder a role in this account, and
// quarantine groups for it to use.
func member(ctx *pulumi.Context, s settings.Settings, f facts, tags map[string]string) error {
	if err := quarantine(ctx, f, tags); err != nil {
		return err
	}

	responder := fmt.Sprintf("arn:%s:iam::%s:role/%s", f.partition, s.AdminAccountID,
		s.ResponderRoleName)
	trust, err := policies.MemberTrustPolicy(responder, s.MemberExternalID)
	if err != nil {
		return fmt.Errorf("rendering the member trust policy: %w", err)
	}
	permissions, err := policies.Document(policies.Member)
	if err != nil {
		return err
	}

	role, err := component.NewRole(ctx, "member-role", component.RoleArgs{
		RoleName:    s.MemberRoleName,
		Description: "Lets the GuardDuty responder of " + s.AdminAccountID + " act here",
		TrustPolicy: secretIf(s.MemberExternalID != "", trust),
		Policy:      permissions,
		Tags:        tags,
	})
	if err != nil {
		return err
	}
	ctx.Export("memberRoleArn", role.ARN)

	return nil
}

func quarantine(ctx *pulumi.Context, f facts, tags map[string]string) error {
	q, err := component.NewQuarantine(ctx, "quarantine", component.QuarantineArgs{
		VPCIDs: f.vpcs,
		Tags:   tags,
	})
	if err != nil {
		return err
	}
	ctx.Export("quarantineGroups", q.Groups)

	return nil
}

// secretIf keeps value out of previews and state in clear text when secret.
func secretIf(secret bool, value string) pulumi.StringInput {
	if !secret {
		return pulumi.String(value)
	}

	return pulumi.ToSecret(pulumi.String(value)).(pulumi.StringOutput)
}

// environment is the handler's configuration, read from the stack's.
//
// TODO: DEPLOYER_ARN follows whoever runs `pulumi up`, so a preview by a
// person after a deploy by CI shows the function changing; a config key
// naming the deployer would make it stable.
func environment(s settings.Settings, f facts, topicARN pulumi.StringOutput) pulumi.StringMap {
	flag := func(on bool) pulumi.String { return pulumi.String(strconv.FormatBool(on)) }

	return pulumi.StringMap{
		"SNS_TOPIC_ARN":                 topicARN,
		"DRY_RUN":                       flag(s.DryRun),
		"DISASSOCIATE_INSTANCE_PROFILE": flag(s.DisassociateInstanceProfile),
		"REMOVE_LOGIN_PROFILE":          flag(s.RemoveLoginProfile),
		"BREAK_GLASS_PRINCIPALS":        pulumi.String(strings.Join(s.BreakGlassPrincipals, ",")),
		"MEMBER_ROLE_NAME":              pulumi.String(s.MemberRoleName),
		"MEMBER_EXTERNAL_ID":            secretIf(s.MemberExternalID != "", s.MemberExternalID),
		"DEPLOYER_ARN":                  pulumi.String(DeployerARN(f.caller.ARN)),
	}
}

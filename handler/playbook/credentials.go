package playbook

import (
	"context"

	"github.com/guardduty-response/guardduty-response/handler/account"
	"github.com/guardduty-response/guardduty-response/handler/finding"
)

// RootHeadline is the subject of every notification about the root user's
// credentials: nothing is done automatically, and a person must act now.
const RootHeadline = "ROOT CREDENTIALS IN USE, ACT NOW"

// AccessKey runs the playbook for the principal whose credentials an
// AccessKey finding is about, chosen by accessKeyDetails.userType: an IAM
// user is contained, an assumed role has its sessions revoked, and anything
// else is reported for a person to handle.
func AccessKey(ctx context.Context, clients *account.Clients, f *finding.Finding,
	opts Options) *Report {
	k := f.Resource.AccessKey
	response := newRun(&Report{Finding: f, Account: clients.AccountID}, opts, opts.logger())
	r := &response
	if k == nil {
		return notActed(ctx, r, "access key", "the finding carries no accessKeyDetails")
	}

	switch k.UserType {
	case finding.UserIAMUser:
		return IAMUser(ctx, clients, f, opts)
	case finding.UserAssumedRole:
		return Role(ctx, clients, f, opts)
	case finding.UserRoot:
		return root(ctx, r, clients.AccountID)
	case finding.UserFederated:
		// TODO: the IAM user that called GetFederationToken could be found
		// in CloudTrail and contained; its sessions end only with it.
		return notActed(ctx, r, "federated user "+display(k.UserName),
			"a federated user's sessions cannot be revoked on their own; find the IAM user "+
				"that issued them (GetFederationToken) in CloudTrail")
	case finding.UserAWSService:
		return notActed(ctx, r, "AWS service "+display(k.UserName),
			"the credentials belong to an AWS service; nothing to contain automatically")
	}

	return notActed(ctx, r, "access key", "userType "+quote(k.UserType)+" has no playbook")
}

// NamesRole reports whether a finding names an assumed role in its
// accessKeyDetails, whatever its resource type: that role's sessions are to
// be revoked.
func NamesRole(f *finding.Finding) bool {
	k := f.Resource.AccessKey
	return k != nil && k.UserType == finding.UserAssumedRole
}

// root reports the root user's credentials in use. IAM policies do not bind
// the root user, so there is nothing the responder can do to contain it.
func root(ctx context.Context, r *run, accountID string) *Report {
	report := r.report
	report.Resource = "root user of " + accountID
	if report.Finding.IsSample() {
		report.Outcome, report.Reason = DryRun, "sample finding: nothing was changed"
		return report
	}

	report.Headline = RootHeadline
	report.Outcome = NotActed
	report.Reason = "the root user cannot be restricted by IAM policies: change its password, " +
		"delete its access keys, check its MFA device, and review its activity in CloudTrail"
	r.log.WarnContext(ctx, "root credentials in use; not acting", "reason", report.Reason)

	return report
}

// notActed ends a response that leaves the principal alone, saying why.
func notActed(ctx context.Context, r *run, resource, reason string) *Report {
	report := r.report
	if report.Resource == "" {
		report.Resource = resource
	}
	report.Outcome, report.Reason = NotActed, reason
	r.log.InfoContext(ctx, "not acting", "reason", reason)

	return report
}

// planSample reports what a real finding would cause, without reading or
// changing anything: sample findings name placeholder principals.
func planSample(ctx context.Context, r *run, target string, actions ...string) {
	r.dryRun = true
	for _, action := range actions {
		_ = r.act(ctx, action, target, "sample finding", nil)
	}

	r.report.Outcome = DryRun
	r.report.Reason = "sample finding: nothing was changed"
}

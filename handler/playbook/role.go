package playbook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/guardduty-response/guardduty-response/handler/account"
	"github.com/guardduty-response/guardduty-response/handler/finding"
	"github.com/guardduty-response/guardduty-response/policies"
)

// Step actions of the role playbook.
const (
	actionRevoke   = "revoke role sessions"
	actionMarkRole = "mark role sessions revoking"
)

// Role paths of roles whose policies IAM does not let the responder change.
const (
	serviceLinkedPath = "/aws-service-role/"
	reservedPath      = "/aws-reserved/"
)

// Role runs the role playbook on the role a finding's accessKeyDetails names
// (userType AssumedRole): it revokes every session of the role issued before
// now, the way the IAM console does, with an inline policy that denies
// everything to older credentials. New sessions keep working, so the people
// and services that use the role get fresh credentials and carry on.
func Role(ctx context.Context, clients *account.Clients, f *finding.Finding,
	opts Options) *Report {
	k := f.Resource.AccessKey
	if k == nil {
		k = &finding.AccessKey{}
	}
	report := &Report{Finding: f, Account: clients.AccountID,
		Resource: "role " + display(k.UserName)}
	response := newRun(report, opts, opts.logger().With("role", k.UserName))
	r := &response

	switch {
	case f.IsSample():
		planSample(ctx, r, k.UserName, actionMarkRole, actionRevoke)
		return report
	case !iamNamePattern.MatchString(k.UserName):
		return notActed(ctx, r, report.Resource, "userName "+quote(k.UserName)+" is not a role name")
	}

	rr := newRoleRevocation(r, clients, f, opts, k.UserName, k.PrincipalID)
	if err := rr.read(ctx); err != nil {
		report.Outcome, report.Reason = Failure, err.Error()
		return report
	}
	if reason := rr.decline(); reason != "" {
		return notActed(ctx, r, report.Resource, reason)
	}
	if rr.current() && rr.reported() {
		report.Outcome, report.Reason = AlreadyContained, rr.alreadyReason()
		r.log.InfoContext(ctx, "not acting", "reason", report.Reason)
		return report
	}

	rr.respond(ctx)
	report.settle(r.dryRun)
	if report.Outcome == Contained {
		report.finish, report.reopen = rr.finish, rr.reopen
	}

	return report
}

// roleRevocation revokes the active sessions of one role, recording its steps
// in the run of the response it is part of.
type roleRevocation struct {
	*run
	clients     *account.Clients
	finding     *finding.Finding
	opts        Options
	name        string
	principalID string // the finding's "AROA…:session"; empty when not named by one
	cutoff      time.Time

	role      iamtypes.Role
	gone      bool
	tags      map[string]string
	revoked   time.Time // cut-off of the revocation policy in place; zero when none
	policyErr error
}

func newRoleRevocation(r *run, clients *account.Clients, f *finding.Finding, opts Options,
	name, principalID string) *roleRevocation {
	// Rounded up to the next second: a session issued in the second of the
	// response is revoked too.
	cutoff := opts.now().Truncate(time.Second).Add(time.Second)

	return &roleRevocation{run: r, clients: clients, finding: f, opts: opts, name: name,
		principalID: principalID, cutoff: cutoff}
}

// read fetches the role and its revocation policy, side by side. Only a
// failure to read the role stops the response.
func (rr *roleRevocation) read(ctx context.Context) error {
	var roleErr error
	parallel(
		func() { roleErr = rr.readRole(ctx) },
		func() { rr.revoked, rr.policyErr = rr.readRevocation(ctx) },
	)
	if roleErr != nil {
		return fmt.Errorf("reading role %s: %w", rr.name, roleErr)
	}

	return nil
}

func (rr *roleRevocation) readRole(ctx context.Context) error {
	out, err := rr.clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(rr.name)})
	if errorCode(err) == "NoSuchEntity" {
		rr.gone = true
		return nil
	}
	if err != nil {
		return err
	}

	rr.role = *out.Role
	rr.tags = iamTagMap(out.Role.Tags)

	return nil
}

// readRevocation returns the cut-off of the revocation policy in place, or
// zero when there is none or it cannot be read as one.
func (rr *roleRevocation) readRevocation(ctx context.Context) (time.Time, error) {
	out, err := rr.clients.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{
		RoleName: aws.String(rr.name), PolicyName: aws.String(RevokeSessionsPolicyName),
	})
	if errorCode(err) == "NoSuchEntity" {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading revocation policy: %w", err)
	}

	p, err := policyDocument(aws.ToString(out.PolicyDocument))
	if err != nil {
		rr.log.WarnContext(ctx, "revocation policy unreadable; replacing it", "error", err)
		return time.Time{}, nil
	}

	return RevocationCutoff(p), nil
}

// RevocationCutoff finds the aws:TokenIssueTime a revocation policy denies
// tokens before, or the zero time when it names none. Release reads it too.
func RevocationCutoff(p *policies.Policy) time.Time {
	for _, s := range p.Statement {
		values := s.Condition["DateLessThan"]["aws:TokenIssueTime"]
		if s.Effect != "Deny" || len(values) != 1 {
			continue
		}
		if t, err := time.Parse(time.RFC3339, values[0]); err == nil {
			return t
		}
	}

	return time.Time{}
}

// decline returns why the role must be left alone, or "".
func (rr *roleRevocation) decline() string {
	arn, path := aws.ToString(rr.role.Arn), aws.ToString(rr.role.Path)
	roleID, _, _ := strings.Cut(rr.principalID, ":")

	if rr.gone {
		return "role " + rr.name + " no longer exists"
	}
	if rr.principalID != "" && roleID != aws.ToString(rr.role.RoleId) {
		return fmt.Sprintf("role %s has id %s, the finding's principal is %s: not the same role",
			rr.name, aws.ToString(rr.role.RoleId), quote(rr.principalID))
	}
	if reason, ok := rr.opts.exemption(arn); ok {
		return arn + " is exempt: " + reason
	}

	switch {
	case rr.tags[TagProtected] == "true":
		return "the role is tagged " + TagProtected + "=true"
	case strings.HasPrefix(path, serviceLinkedPath):
		return rr.name + " is a service-linked role, whose policies IAM does not let " +
			"anyone change; notified only"
	case strings.HasPrefix(path, reservedPath):
		return rr.name + " is managed by IAM Identity Center; revoke its sessions " +
			"through its permission set"
	}

	return ""
}

// current reports whether the policy in place already revokes every session
// the finding can be about: it cuts off at or after the finding's last
// update. A later update means activity after the revocation, and moves the
// cut-off to now; a redelivery does not.
func (rr *roleRevocation) current() bool {
	if rr.revoked.IsZero() {
		return false
	}

	return rr.finding.UpdatedAt.IsZero() || !rr.revoked.Before(rr.finding.UpdatedAt)
}

// reported reports whether the last revocation was also delivered.
func (rr *roleRevocation) reported() bool {
	return rr.tags[TagStatus] == StatusSessionsRevoked
}

func (rr *roleRevocation) alreadyReason() string {
	return fmt.Sprintf("sessions of role %s issued before %s were revoked for finding %s",
		rr.name, rr.revoked.Format(time.RFC3339), rr.tags[TagFindingID])
}

// respond marks the role and puts the revocation policy on, side by side.
func (rr *roleRevocation) respond(ctx context.Context) {
	parallel(func() { rr.mark(ctx) }, func() { rr.revoke(ctx) })
}

func (rr *roleRevocation) mark(ctx context.Context) {
	arn := aws.ToString(rr.role.Arn)
	if rr.tags[TagStatus] == StatusRevokingSessions {
		rr.skip(ctx, actionMarkRole, arn, "already marked")
		return
	}

	tags := map[string]string{
		TagStatus:    StatusRevokingSessions,
		TagFindingID: rr.finding.ID,
		TagFinding:   rr.finding.Type,
		TagTime:      rr.cutoff.Format(time.RFC3339),
	}
	_ = rr.act(ctx, actionMarkRole, arn, TagStatus+"="+StatusRevokingSessions,
		func(ctx context.Context) error { return rr.tagRole(ctx, tags) })
}

func (rr *roleRevocation) revoke(ctx context.Context) {
	arn := aws.ToString(rr.role.Arn)
	if rr.current() {
		rr.skip(ctx, actionRevoke, arn, "sessions issued before "+
			rr.revoked.Format(time.RFC3339)+" already revoked")
		return
	}

	doc, err := policies.RevokeSessionsPolicy(rr.cutoff)
	if err != nil {
		rr.fail(ctx, actionRevoke, arn, err)
		return
	}

	detail := "sessions issued before " + rr.cutoff.Format(time.RFC3339)
	if rr.policyErr != nil {
		detail += "; earlier revocation unknown: " + rr.policyErr.Error()
	}
	_ = rr.act(ctx, actionRevoke, arn, detail, func(ctx context.Context) error {
		_, err := rr.clients.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
			RoleName:       aws.String(rr.name),
			PolicyName:     aws.String(RevokeSessionsPolicyName),
			PolicyDocument: aws.String(doc),
		})
		return err
	})
}

// finish marks a revocation that has been reported.
func (rr *roleRevocation) finish(ctx context.Context) error {
	tags := map[string]string{TagStatus: StatusSessionsRevoked}
	if err := rr.tagRole(ctx, tags); err != nil {
		return fmt.Errorf("marking role %s sessions revoked: %w", rr.name, err)
	}

	rr.log.InfoContext(ctx, "session revocation complete", "role", rr.name)

	return nil
}

// reopen marks the revocation unreported again, for a report that could not
// be delivered.
func (rr *roleRevocation) reopen(ctx context.Context) error {
	if err := rr.tagRole(ctx, map[string]string{TagStatus: StatusRevokingSessions}); err != nil {
		return fmt.Errorf("marking role %s sessions unreported: %w", rr.name, err)
	}

	return nil
}

func (rr *roleRevocation) tagRole(ctx context.Context, tags map[string]string) error {
	_, err := rr.clients.IAM.TagRole(ctx, &iam.TagRoleInput{
		RoleName: aws.String(rr.name), Tags: iamTags(tags),
	})
	return err
}

func iamTagMap(tags []iamtypes.Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}

	return out
}

func iamTags(tags map[string]string) []iamtypes.Tag {
	out := make([]iamtypes.Tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, iamtypes.Tag{Key: aws.String(k), Value: aws.String(tagValue(v))})
	}

	return out
}

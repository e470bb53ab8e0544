package playbook

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/guardduty-response/guardduty-response/handler/account"
	"github.com/guardduty-response/guardduty-response/handler/finding"
	"github.com/guardduty-response/guardduty-response/policies"
)

// Step actions of the IAM user playbook.
const (
	actionMarkUser      = "mark user quarantine started"
	actionDeactivateKey = "deactivate access key"
	actionDenyAll       = "attach deny-all policy"
	actionLoginProfile  = "remove console password"
)

// temporaryKeyPrefix starts the ids of temporary credentials, which a user
// obtains from STS and which cannot be deactivated.
const temporaryKeyPrefix = "ASIA"

// userState is the live state of the user, read before anything is changed.
// A read that failed leaves its error, and the step that depends on it acts
// regardless: each of its changes is safe to repeat.
type userState struct {
	gone bool
	user iamtypes.User
	tags map[string]string

	key     *iamtypes.AccessKeyMetadata // the finding's key; nil when not the user's
	keysErr error

	denyAll    bool // the deny-all policy is in place, unchanged
	denyAllErr error

	loginProfile    bool
	loginProfileErr error
}

// userResponse is one run of the IAM user playbook.
type userResponse struct {
	run
	clients *account.Clients
	finding *finding.Finding
	opts    Options
	name    string
	keyID   string
	now     time.Time
	denyDoc string

	live userState
}

// IAMUser runs the IAM user playbook on the user an AccessKey finding names:
// it deactivates exactly the finding's access key (never deleting it, so that
// it stays traceable in CloudTrail, and never touching the user's other
// keys), puts the deny-all policy on the user, removes the user's console
// password when configured to, and tags the user. The report's Finish marks
// the user quarantined once the report has been delivered.
func IAMUser(ctx context.Context, clients *account.Clients, f *finding.Finding,
	opts Options) *Report {
	k := f.Resource.AccessKey
	report := &Report{Finding: f, Account: clients.AccountID,
		Resource: "IAM user " + display(k.UserName) + " key " + display(k.AccessKeyID)}
	r := &userResponse{
		run: newRun(report, opts,
			opts.logger().With("user", k.UserName, "accessKey", k.AccessKeyID)),
		clients: clients,
		finding: f,
		opts:    opts,
		name:    k.UserName,
		keyID:   k.AccessKeyID,
		now:     opts.now(),
	}

	switch {
	case f.IsSample():
		planSample(ctx, &r.run, k.UserName, actionMarkUser, actionDeactivateKey, actionDenyAll,
			actionLoginProfile)
		return report
	case !iamNamePattern.MatchString(k.UserName):
		return notActed(ctx, &r.run, "", "userName "+quote(k.UserName)+" is not a user name")
	case !accessKeyPattern.MatchString(k.AccessKeyID):
		return notActed(ctx, &r.run, "", "accessKeyId "+quote(k.AccessKeyID)+" is not a key id")
	}

	if err := r.prepare(ctx); err != nil {
		report.Outcome, report.Reason = Failure, err.Error()
		return report
	}
	if r.decline(ctx) {
		return report
	}

	r.respond(ctx)
	report.settle(r.dryRun)
	if report.Outcome == Contained {
		report.finish, report.reopen = r.finish, r.reopen
	}

	return report
}

// prepare renders the deny-all policy and reads the live state.
func (r *userResponse) prepare(ctx context.Context) error {
	doc, err := policies.Document(policies.DenyAll)
	if err != nil {
		return err
	}
	r.denyDoc = doc

	return r.read(ctx)
}

// read fetches the live state, all reads side by side. Only a failure to
// read the user stops the response: without it, the user cannot be told
// from another of the same name.
func (r *userResponse) read(ctx context.Context) error {
	var userErr error
	parallel(
		func() { userErr = r.readUser(ctx) },
		func() { r.live.key, r.live.keysErr = r.readKey(ctx) },
		func() { r.live.denyAll, r.live.denyAllErr = r.readDenyAll(ctx) },
		func() { r.live.loginProfile, r.live.loginProfileErr = r.readLoginProfile(ctx) },
	)
	if userErr != nil {
		return fmt.Errorf("reading IAM user %s: %w", r.name, userErr)
	}

	return nil
}

func (r *userResponse) readUser(ctx context.Context) error {
	out, err := r.clients.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(r.name)})
	if errorCode(err) == "NoSuchEntity" {
		r.live.gone = true
		return nil
	}
	if err != nil {
		return err
	}

	r.live.user = *out.User
	r.live.tags = iamTagMap(out.User.Tags)

	return nil
}

func (r *userResponse) readKey(ctx context.Context) (*iamtypes.AccessKeyMetadata, error) {
	paginator := iam.NewListAccessKeysPaginator(r.clients.IAM,
		&iam.ListAccessKeysInput{UserName: aws.String(r.name)})
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(ctx)
		if errorCode(err) == "NoSuchEntity" {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("listing access keys: %w", err)
		}
		for _, k := range page.AccessKeyMetadata {
			if aws.ToString(k.AccessKeyId) == r.keyID {
				return &k, nil
			}
		}
	}

	return nil, nil
}

// readDenyAll reports whether the user has the deny-all policy, unchanged.
func (r *userResponse) readDenyAll(ctx context.Context) (bool, error) {
	out, err := r.clients.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{
		UserName: aws.String(r.name), PolicyName: aws.String(DenyAllPolicyName),
	})
	if errorCode(err) == "NoSuchEntity" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading deny-all policy: %w", err)
	}

	have, err := policyDocument(aws.ToString(out.PolicyDocument))
	if err != nil {
		return false, nil
	}
	want, err := policies.Parse(r.denyDoc)
	if err != nil {
		return false, err
	}

	return reflect.DeepEqual(have, want), nil
}

func (r *userResponse) readLoginProfile(ctx context.Context) (bool, error) {
	_, err := r.clients.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{
		UserName: aws.String(r.name),
	})
	switch {
	case errorCode(err) == "NoSuchEntity":
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading login profile: %w", err)
	}

	return true, nil
}

// decline decides not to act, and says why, when the user is gone, is not
// the finding's principal, is exempt or protected, or is already contained.
func (r *userResponse) decline(ctx context.Context) bool {
	report := r.report
	switch reason := r.leaveAlone(); {
	case reason != "":
		report.Outcome, report.Reason = NotActed, reason
	case !r.needsChange() && r.live.tags[TagStatus] == StatusQuarantined:
		report.Outcome = AlreadyContained
		report.Reason = "the user was quarantined by finding " + r.live.tags[TagFindingID]
	default:
		return false
	}

	r.log.InfoContext(ctx, "not acting", "reason", report.Reason)

	return true
}

// leaveAlone returns why the user must not be touched, or "".
func (r *userResponse) leaveAlone() string {
	arn, userID := aws.ToString(r.live.user.Arn), aws.ToString(r.live.user.UserId)
	principalID := r.finding.Resource.AccessKey.PrincipalID

	switch {
	case r.live.gone:
		return "IAM user " + r.name + " no longer exists"
	case principalID != "" && principalID != userID:
		return fmt.Sprintf("user %s has id %s, the finding's principal is %s: not the same user",
			r.name, userID, quote(principalID))
	case principalID == "" && r.live.key == nil:
		return "the finding names no principal id and " + r.keyID + " is not a key of " +
			r.name + ": cannot confirm the user"
	}
	if reason, ok := r.opts.exemption(arn); ok {
		return arn + " is exempt: " + reason
	}
	if r.live.tags[TagProtected] == "true" {
		return "the user is tagged " + TagProtected + "=true"
	}

	return ""
}

// needsChange reports whether any step has something to do, or may have.
func (r *userResponse) needsChange() bool {
	l := r.live
	keyActive := l.keysErr != nil || (l.key != nil && l.key.Status != iamtypes.StatusTypeInactive)
	login := r.opts.RemoveLoginProfile && (l.loginProfile || l.loginProfileErr != nil)

	return keyActive || !l.denyAll || l.denyAllErr != nil || login
}

// respond runs every step side by side: none depends on another.
func (r *userResponse) respond(ctx context.Context) {
	parallel(
		func() { r.mark(ctx) },
		func() { r.deactivateKey(ctx) },
		func() { r.denyAll(ctx) },
		func() { r.removeLoginProfile(ctx) },
	)
}

// mark tags the user as being quarantined, by which finding and when.
//
// TODO: a user that already has IAM's maximum of 50 tags cannot be marked;
// the step then fails on every retry, although the key, the deny-all policy
// and the password are dealt with, until the event reaches the dead-letter
// queue.
func (r *userResponse) mark(ctx context.Context) {
	tags := map[string]string{TagStatus: StatusQuarantining, TagTime: r.now.Format(time.RFC3339)}
	if r.live.tags[TagStatus] != StatusQuarantining {
		tags[TagFindingID] = r.finding.ID
		tags[TagFinding] = r.finding.Type
	}

	_ = r.act(ctx, actionMarkUser, r.arn(), TagStatus+"="+StatusQuarantining,
		func(ctx context.Context) error { return r.tagUser(ctx, tags) })
}

// deactivateKey sets exactly the finding's key inactive.
func (r *userResponse) deactivateKey(ctx context.Context) {
	l := r.live
	switch {
	case strings.HasPrefix(r.keyID, temporaryKeyPrefix):
		r.skip(ctx, actionDeactivateKey, r.keyID,
			"temporary credentials cannot be deactivated; the deny-all policy refuses them")
		return
	case l.keysErr == nil && l.key == nil:
		r.skip(ctx, actionDeactivateKey, r.keyID, "no longer a key of "+r.name)
		return
	case l.keysErr == nil && l.key.Status == iamtypes.StatusTypeInactive:
		r.skip(ctx, actionDeactivateKey, r.keyID, "already inactive")
		return
	}

	_ = r.act(ctx, actionDeactivateKey, r.keyID, unknownState("of "+r.name, l.keysErr),
		func(ctx context.Context) error {
			_, err := r.clients.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
				UserName:    aws.String(r.name),
				AccessKeyId: aws.String(r.keyID),
				Status:      iamtypes.StatusTypeInactive,
			})
			return err
		})
}

// denyAll puts the inline policy that refuses the user every action, with
// any credentials: other keys, temporary credentials, console sessions.
func (r *userResponse) denyAll(ctx context.Context) {
	if r.live.denyAll && r.live.denyAllErr == nil {
		r.skip(ctx, actionDenyAll, r.arn(), "already attached")
		return
	}

	_ = r.act(ctx, actionDenyAll, r.arn(), unknownState(DenyAllPolicyName, r.live.denyAllErr),
		func(ctx context.Context) error {
			_, err := r.clients.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
				UserName:       aws.String(r.name),
				PolicyName:     aws.String(DenyAllPolicyName),
				PolicyDocument: aws.String(r.denyDoc),
			})
			return err
		})
}

// removeLoginProfile deletes the user's console password. A password that is
// already gone is success.
func (r *userResponse) removeLoginProfile(ctx context.Context) {
	l := r.live
	switch {
	case !r.opts.RemoveLoginProfile:
		r.skip(ctx, actionLoginProfile, r.arn(), "turned off by configuration")
		return
	case l.loginProfileErr == nil && !l.loginProfile:
		r.skip(ctx, actionLoginProfile, r.arn(), "no console password")
		return
	}

	_ = r.act(ctx, actionLoginProfile, r.arn(), unknownState("", l.loginProfileErr),
		func(ctx context.Context) error {
			_, err := r.clients.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{
				UserName: aws.String(r.name),
			})
			if errorCode(err) == "NoSuchEntity" {
				return nil
			}
			return err
		})
}

// finish marks a quarantine whose every step is done and reported.
func (r *userResponse) finish(ctx context.Context) error {
	tags := map[string]string{TagStatus: StatusQuarantined, TagTime: r.now.Format(time.RFC3339)}
	if err := r.tagUser(ctx, tags); err != nil {
		return fmt.Errorf("marking IAM user %s quarantined: %w", r.name, err)
	}

	r.log.InfoContext(ctx, "quarantine complete")

	return nil
}

// reopen marks the quarantine unfinished again, for a report that could not
// be delivered.
func (r *userResponse) reopen(ctx context.Context) error {
	if err := r.tagUser(ctx, map[string]string{TagStatus: StatusQuarantining}); err != nil {
		return fmt.Errorf("marking IAM user %s unfinished: %w", r.name, err)
	}

	return nil
}

func (r *userResponse) tagUser(ctx context.Context, tags map[string]string) error {
	_, err := r.clients.IAM.TagUser(ctx, &iam.TagUserInput{
		UserName: aws.String(r.name), Tags: iamTags(tags),
	})
	return err
}

func (r *userResponse) arn() string { return aws.ToString(r.live.user.Arn) }

// unknownState is a step's detail, noting when the state it changes could
// not be read first.
func unknownState(detail string, err error) string {
	if err == nil {
		return detail
	}
	if detail != "" {
		detail += "; "
	}

	return detail + "state unknown: " + err.Error()
}

package release

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/guardduty-response/guardduty-response/handler/account"
	"github.com/guardduty-response/guardduty-response/handler/evidence"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
	"github.com/guardduty-response/guardduty-response/policies"
)

// Step actions of a principal release.
const (
	actionRemoveDenyAll    = "remove deny-all policy"
	actionRemoveRevocation = "remove session revocation policy"
)

// How long credentials that a containment policy may still be stopping can
// stay valid after it was put on.
const (
	// userTokenLifetime is the longest that temporary credentials obtained
	// with an IAM user's keys last (GetSessionToken, GetFederationToken).
	userTokenLifetime = 36 * time.Hour
	// roleSessionLifetime is the longest a role session lasts.
	roleSessionLifetime = 12 * time.Hour
)

var iamNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// PrincipalView is what a release read of a user or role before acting.
type PrincipalView struct {
	Kind string            `json:"kind"` // "user" or "role"
	Name string            `json:"name"`
	ARN  string            `json:"arn"`
	Tags map[string]string `json:"tags"`
	// Policy is whether the containment policy (deny-all on a user,
	// session revocation on a role) is attached.
	Policy bool `json:"containmentPolicy"`
	// Cutoff is when the role's revocation policy starts letting sessions
	// through; zero for a user, or when it cannot be read.
	Cutoff       time.Time `json:"cutoff,omitzero"`
	InactiveKeys []string  `json:"inactiveKeys,omitempty"`
	LoginProfile bool      `json:"loginProfile"`
}

// User plans the release of an IAM user the responder quarantined: the
// deny-all policy comes off, the user is marked released, and its
// deactivated access keys stay inactive, as rotation is the way back.
func User(ctx context.Context, clients *account.Clients, name string,
	opts Options) (*Plan, error) {
	if !iamNamePattern.MatchString(name) {
		return nil, fmt.Errorf("releasing IAM user: %q is not a user name", name)
	}

	view, err := readUser(ctx, clients.IAM, name)
	if err != nil {
		return nil, fmt.Errorf("releasing IAM user %s: %w", name, err)
	}

	subject := evidence.UserSubject(clients.AccountID, name)
	p := principalPlan(clients, view, "IAM user "+name, subject)
	switch status := view.Tags[playbook.TagStatus]; status {
	case playbook.StatusReleased:
		p.note("already released (%s)", view.Tags[playbook.TagTime])
		return p, nil
	case playbook.StatusQuarantined, playbook.StatusQuarantining:
	default:
		return nil, fmt.Errorf("releasing IAM user %s: %w: its %s tag is %q", name,
			ErrNotQuarantined, playbook.TagStatus, status)
	}

	if view.Policy {
		since, _ := time.Parse(time.RFC3339, view.Tags[playbook.TagTime])
		kept := !planRemoval(p, opts, actionRemoveDenyAll, playbook.DenyAllPolicyName, since,
			userTokenLifetime, "temporary credentials obtained with the user's keys before "+
				"the quarantine", func(ctx context.Context) error {
				_, err := clients.IAM.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{
					UserName: aws.String(name), PolicyName: aws.String(playbook.DenyAllPolicyName),
				})
				return ignoreNoSuchEntity(err)
			})
		if kept {
			return p, nil
		}
	}
	for _, key := range view.InactiveKeys {
		p.note("access key %s stays inactive: keys are never reactivated; give the user a new "+
			"key and delete this one", key)
	}
	if !view.LoginProfile {
		p.note("the user has no console password; if the response removed it, set a new one")
	}
	p.finally(actionMark, view.ARN, playbook.TagStatus+"="+playbook.StatusReleased,
		func(ctx context.Context) error {
			_, err := clients.IAM.TagUser(ctx, &iam.TagUserInput{
				UserName: aws.String(name), Tags: releasedTags(opts),
			})
			return err
		})

	return p, nil
}

// Role plans the release of a role whose sessions the responder revoked:
// the revocation policy comes off, once every session it denies has expired,
// and the role is marked released.
func Role(ctx context.Context, clients *account.Clients, name string,
	opts Options) (*Plan, error) {
	if !iamNamePattern.MatchString(name) {
		return nil, fmt.Errorf("releasing role: %q is not a role name", name)
	}

	view, err := readRole(ctx, clients.IAM, name)
	if err != nil {
		return nil, fmt.Errorf("releasing role %s: %w", name, err)
	}

	p := principalPlan(clients, view, "role "+name, evidence.RoleSubject(clients.AccountID, name))
	switch status := view.Tags[playbook.TagStatus]; {
	case status == playbook.StatusReleased:
		p.note("already released (%s)", view.Tags[playbook.TagTime])
		return p, nil
	case !revoked(status):
		return nil, fmt.Errorf("releasing role %s: %w: its %s tag is %q", name,
			ErrNotQuarantined, playbook.TagStatus, status)
	}

	if view.Policy {
		kept := !planRemoval(p, opts, actionRemoveRevocation, playbook.RevokeSessionsPolicyName,
			view.Cutoff, roleSessionLifetime, "sessions issued before "+
				view.Cutoff.Format(time.RFC3339)+", the stolen ones among them",
			func(ctx context.Context) error {
				_, err := clients.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{
					RoleName:   aws.String(name),
					PolicyName: aws.String(playbook.RevokeSessionsPolicyName),
				})
				return ignoreNoSuchEntity(err)
			})
		if kept {
			return p, nil
		}
	}
	p.finally(actionMark, view.ARN, playbook.TagStatus+"="+playbook.StatusReleased,
		func(ctx context.Context) error {
			_, err := clients.IAM.TagRole(ctx, &iam.TagRoleInput{
				RoleName: aws.String(name), Tags: releasedTags(opts),
			})
			return err
		})

	return p, nil
}

func principalPlan(clients *account.Clients, view PrincipalView, resource, subject string) *Plan {
	return &Plan{Resource: resource, Subject: subject, Account: clients.AccountID,
		FindingID: view.Tags[playbook.TagFindingID], State: view}
}

// planRemoval plans to remove a containment policy, unless credentials it
// stops may still be valid: until since+lifetime, or when since is unknown.
// Early removes it regardless. It reports whether the removal is planned;
// when not, the principal stays quarantined and nothing is changed.
func planRemoval(p *Plan, opts Options, action, policy string, since time.Time,
	lifetime time.Duration, stops string, remove func(context.Context) error) bool {
	harmless := since.Add(lifetime)
	switch {
	case opts.Early:
		p.add(action, policy, "early: "+stops+" may still be valid", remove)
	case since.IsZero():
		p.note("%s stays, and the quarantine with it: when it was put on is unknown, so %s "+
			"may still be valid; run release with -early to remove it anyway", policy, stops)
		return false
	case opts.now().Before(harmless):
		p.note("%s stays, and the quarantine with it, until %s: %s may be valid until then; "+
			"run release again after, or with -early to remove it now", policy,
			harmless.Format(time.RFC3339), stops)
		return false
	default:
		p.add(action, policy, "", remove)
	}

	return true
}

func readUser(ctx context.Context, client *iam.Client, name string) (PrincipalView, error) {
	out, err := client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if err != nil {
		return PrincipalView{}, fmt.Errorf("reading the user: %w", err)
	}

	v := PrincipalView{Kind: "user", Name: name, ARN: aws.ToString(out.User.Arn),
		Tags: iamTagMap(out.User.Tags)}
	_, err = client.GetUserPolicy(ctx, &iam.GetUserPolicyInput{
		UserName: aws.String(name), PolicyName: aws.String(playbook.DenyAllPolicyName),
	})
	if ignoreNoSuchEntity(err) != nil {
		return v, fmt.Errorf("reading the deny-all policy: %w", err)
	}
	v.Policy = err == nil

	keys, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(name)})
	if err != nil {
		return v, fmt.Errorf("listing access keys: %w", err)
	}
	for _, k := range keys.AccessKeyMetadata {
		if k.Status == iamtypes.StatusTypeInactive {
			v.InactiveKeys = append(v.InactiveKeys, aws.ToString(k.AccessKeyId))
		}
	}

	_, err = client.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(name)})
	if ignoreNoSuchEntity(err) != nil {
		return v, fmt.Errorf("reading the login profile: %w", err)
	}
	v.LoginProfile = err == nil

	return v, nil
}

func readRole(ctx context.Context, client *iam.Client, name string) (PrincipalView, error) {
	out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return PrincipalView{}, fmt.Errorf("reading the role: %w", err)
	}

	v := PrincipalView{Kind: "role", Name: name, ARN: aws.ToString(out.Role.Arn),
		Tags: iamTagMap(out.Role.Tags)}
	policy, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{
		RoleName: aws.String(name), PolicyName: aws.String(playbook.RevokeSessionsPolicyName),
	})
	switch {
	case errorCode(err) == "NoSuchEntity":
		return v, nil
	case err != nil:
		return v, fmt.Errorf("reading the session revocation policy: %w", err)
	}

	v.Policy = true
	v.Cutoff = revocationCutoff(aws.ToString(policy.PolicyDocument))

	return v, nil
}

// revocationCutoff reads the aws:TokenIssueTime before which a revocation
// policy denies everything; zero when the document says no such thing.
func revocationCutoff(encoded string) time.Time {
	doc := encoded
	if !strings.HasPrefix(strings.TrimSpace(doc), "{") {
		decoded, err := url.QueryUnescape(doc)
		if err != nil {
			return time.Time{}
		}
		doc = decoded
	}

	p, err := policies.Parse(doc)
	if err != nil {
		return time.Time{}
	}

	return playbook.RevocationCutoff(p)
}

// revoked reports whether a role's status says the responder revoked its
// sessions.
func revoked(status string) bool {
	return status == playbook.StatusRevokingSessions || status == playbook.StatusSessionsRevoked
}

func releasedTags(opts Options) []iamtypes.Tag {
	return []iamtypes.Tag{
		{Key: aws.String(playbook.TagStatus), Value: aws.String(playbook.StatusReleased)},
		{Key: aws.String(playbook.TagTime), Value: aws.String(opts.now().Format(time.RFC3339))},
	}
}

func ignoreNoSuchEntity(err error) error {
	if errorCode(err) == "NoSuchEntity" {
		return nil
	}

	return err
}

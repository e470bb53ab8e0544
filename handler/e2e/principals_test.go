package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
	"github.com/guardduty-response/guardduty-response/policies"
)

// Finding types of the credential tests.
const (
	userFindingType = "UnauthorizedAccess:IAMUser/MaliciousIPCaller"
	roleFindingType = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"
)

// memberAccount is the second account of the cross-account tests.
const memberAccount = "210987654321"

// principals is a test's view of IAM in one account, as its administrator.
type principals struct {
	t       testing.TB
	ctx     context.Context
	account string
	iam     *iam.Client
}

// accountIAM returns the IAM view of the default account.
func (w *world) accountIAM() *principals {
	cfg := suite.moto.Config(emulator.TestAccessKey, emulator.TestSecretKey)
	return &principals{t: w.t, ctx: w.ctx, account: emulator.DefaultAccount,
		iam: iam.NewFromConfig(cfg)}
}

// user is an IAM user made for a test.
type user struct {
	name string
	id   string
	arn  string
	keys []string // access key ids
}

// createUser makes a user with keys access keys and, when password is set, a
// console password.
func (p *principals) createUser(name string, keys int, password bool, tags ...iamtypes.Tag) user {
	p.t.Helper()
	out, err := p.iam.CreateUser(p.ctx, &iam.CreateUserInput{UserName: aws.String(name), Tags: tags})
	if err != nil {
		p.t.Fatal(err)
	}
	u := user{name: name, id: aws.ToString(out.User.UserId), arn: aws.ToString(out.User.Arn)}

	for range keys {
		key, err := p.iam.CreateAccessKey(p.ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		if err != nil {
			p.t.Fatal(err)
		}
		u.keys = append(u.keys, aws.ToString(key.AccessKey.AccessKeyId))
	}
	if password {
		if _, err := p.iam.CreateLoginProfile(p.ctx, &iam.CreateLoginProfileInput{
			UserName: aws.String(name), Password: aws.String("correct-Horse-battery-9"),
		}); err != nil {
			p.t.Fatal(err)
		}
	}

	return u
}

// role is an IAM role made for a test.
type role struct {
	name string
	id   string
	arn  string
}

// createRole makes a role EC2 may assume, at path ("/" when empty).
func (p *principals) createRole(name, path string, tags ...iamtypes.Tag) role {
	p.t.Helper()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
		`"Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	in := &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust),
		Tags: tags}
	if path != "" {
		in.Path = aws.String(path)
	}
	out, err := p.iam.CreateRole(p.ctx, in)
	if err != nil {
		p.t.Fatal(err)
	}

	return role{name: name, id: aws.ToString(out.Role.RoleId), arn: aws.ToString(out.Role.Arn)}
}

// getRole reads a role made outside the test, such as the estate's.
func (p *principals) getRole(name string) role {
	p.t.Helper()
	out, err := p.iam.GetRole(p.ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		p.t.Fatal(err)
	}

	return role{name: name, id: aws.ToString(out.Role.RoleId), arn: aws.ToString(out.Role.Arn)}
}

// keyStatus returns each access key of a user with its status.
func (p *principals) keyStatus(name string) map[string]iamtypes.StatusType {
	p.t.Helper()
	out, err := p.iam.ListAccessKeys(p.ctx, &iam.ListAccessKeysInput{UserName: aws.String(name)})
	if err != nil {
		p.t.Fatal(err)
	}

	status := map[string]iamtypes.StatusType{}
	for _, k := range out.AccessKeyMetadata {
		status[aws.ToString(k.AccessKeyId)] = k.Status
	}

	return status
}

// userPolicy returns a user's inline policy, or nil when it has none.
func (p *principals) userPolicy(userName, policyName string) *policies.Policy {
	p.t.Helper()
	out, err := p.iam.GetUserPolicy(p.ctx, &iam.GetUserPolicyInput{
		UserName: aws.String(userName), PolicyName: aws.String(policyName),
	})
	if noSuchEntity(err) {
		return nil
	}
	if err != nil {
		p.t.Fatal(err)
	}

	return p.decode(aws.ToString(out.PolicyDocument))
}

// rolePolicy returns a role's inline policy, or nil when it has none.
func (p *principals) rolePolicy(roleName, policyName string) *policies.Policy {
	p.t.Helper()
	out, err := p.iam.GetRolePolicy(p.ctx, &iam.GetRolePolicyInput{
		RoleName: aws.String(roleName), PolicyName: aws.String(policyName),
	})
	if noSuchEntity(err) {
		return nil
	}
	if err != nil {
		p.t.Fatal(err)
	}

	return p.decode(aws.ToString(out.PolicyDocument))
}

func (p *principals) decode(doc string) *policies.Policy {
	p.t.Helper()
	if decoded, err := url.QueryUnescape(doc); err == nil && doc != "" && doc[0] != '{' {
		doc = decoded
	}
	policy, err := policies.Parse(doc)
	if err != nil {
		p.t.Fatalf("inline policy does not parse: %v\n%s", err, doc)
	}

	return policy
}

// hasLoginProfile reports whether a user has a console password.
func (p *principals) hasLoginProfile(name string) bool {
	p.t.Helper()
	_, err := p.iam.GetLoginProfile(p.ctx, &iam.GetLoginProfileInput{UserName: aws.String(name)})
	if noSuchEntity(err) {
		return false
	}
	if err != nil {
		p.t.Fatal(err)
	}

	return true
}

func (p *principals) userTags(name string) map[string]string {
	p.t.Helper()
	out, err := p.iam.ListUserTags(p.ctx, &iam.ListUserTagsInput{UserName: aws.String(name)})
	if err != nil {
		p.t.Fatal(err)
	}

	return tagMap(out.Tags)
}

func (p *principals) roleTags(name string) map[string]string {
	p.t.Helper()
	out, err := p.iam.ListRoleTags(p.ctx, &iam.ListRoleTagsInput{RoleName: aws.String(name)})
	if err != nil {
		p.t.Fatal(err)
	}

	return tagMap(out.Tags)
}

// revocationCutoff returns the time before which the role's sessions are
// revoked, or zero when they are not.
func (p *principals) revocationCutoff(roleName string) time.Time {
	p.t.Helper()
	policy := p.rolePolicy(roleName, "guardduty-response-revoke-older-sessions")
	if policy == nil {
		return time.Time{}
	}

	for _, s := range policy.Statement {
		values := s.Condition["DateLessThan"]["aws:TokenIssueTime"]
		if s.Effect == "Deny" && len(s.Action) == 1 && s.Action[0] == "*" && len(values) == 1 {
			cutoff, err := time.Parse(time.RFC3339, values[0])
			if err != nil {
				p.t.Fatal(err)
			}
			return cutoff
		}
	}
	p.t.Fatalf("revocation policy of %s denies nothing by token issue time: %+v", roleName, policy)

	return time.Time{}
}

// checkUserUntouched checks that a user kept its keys active, got no deny
// policy and no quarantine tag, and kept its password if it had one.
func (p *principals) checkUserUntouched(u user, password bool) {
	p.t.Helper()
	for id, status := range p.keyStatus(u.name) {
		if status != iamtypes.StatusTypeActive {
			p.t.Errorf("key %s of %s is %s", id, u.name, status)
		}
	}
	if p.userPolicy(u.name, "guardduty-response-deny-all") != nil {
		p.t.Errorf("%s got the deny-all policy", u.name)
	}
	if password && !p.hasLoginProfile(u.name) {
		p.t.Errorf("%s lost its console password", u.name)
	}
	if status := p.userTags(u.name)["guardduty-response:status"]; status != "" {
		p.t.Errorf("%s tagged %q", u.name, status)
	}
}

// checkRoleUntouched checks that a role's sessions were not revoked.
func (p *principals) checkRoleUntouched(name string) {
	p.t.Helper()
	if cutoff := p.revocationCutoff(name); !cutoff.IsZero() {
		p.t.Errorf("sessions of %s revoked before %s", name, cutoff)
	}
	if status := p.roleTags(name)["guardduty-response:status"]; status != "" {
		p.t.Errorf("%s tagged %q", name, status)
	}
}

// accessKeyFinding is GuardDuty's sample AccessKey finding made real: it
// names a principal of account, carries a finding id of its own and no
// sample marks, and was updated now.
func (w *world) accessKeyFinding(account, findingType, userType, userName, principalID,
	keyID string) map[string]any {
	w.t.Helper()
	f := w.fixture(emulator.SampleAccessKey)
	now := time.Now().UTC().Format(time.RFC3339)

	f["id"] = fmt.Sprintf("c0ffee%026x", time.Now().UnixNano())
	f["type"], f["accountId"], f["region"] = findingType, account, emulator.Region
	f["updatedAt"], f["createdAt"] = now, now
	f["title"] = "Credentials of " + userName + " used from a known malicious address"
	f["service"].(map[string]any)["additionalInfo"] = map[string]any{}
	f["resource"] = map[string]any{
		"resourceType": "AccessKey",
		"accessKeyDetails": map[string]any{
			"accessKeyId": keyID, "principalId": principalID,
			"userType": userType, "userName": userName,
		},
	}

	return f
}

// userFinding is an AccessKey finding about one key of a user.
func (w *world) userFinding(account string, u user, key string) map[string]any {
	return w.accessKeyFinding(account, userFindingType, "IAMUser", u.name, u.id, key)
}

// roleFinding is an AccessKey finding about a session of a role.
func (w *world) roleFinding(account string, r role) map[string]any {
	return w.accessKeyFinding(account, roleFindingType, "AssumedRole", r.name,
		r.id+":i-0123456789abcdef0", "ASIAEXAMPLESESSION01")
}

// assumeRoleConfig returns credentials of a session of a role that trusts
// the administrator, for a function to run as.
func (w *world) assumeRole(roleARN string) aws.Credentials {
	w.t.Helper()
	cfg := suite.moto.Config(emulator.TestAccessKey, emulator.TestSecretKey)
	out, err := sts.NewFromConfig(cfg).AssumeRole(w.ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("lambda"),
	})
	if err != nil {
		w.t.Fatal(err)
	}

	c := out.Credentials

	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
}

// startTestFunction starts a function for one test, stopped at its end.
func (w *world) startTestFunction(env ...string) *emulator.Function {
	w.t.Helper()
	fn, err := startFunction(w.ctx, env...)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(fn.Stop)

	return fn
}

func tagMap(tags []iamtypes.Tag) map[string]string {
	out := map[string]string{}
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}

	return out
}

func noSuchEntity(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchEntity"
}

func tag(key, value string) iamtypes.Tag {
	return iamtypes.Tag{Key: aws.String(key), Value: aws.String(value)}
}

package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/guardduty-response/guardduty-response/policies"
)

// Names of the principals EnforceIAM creates.
const (
	AdminUser     = "emulator-admin"
	ResponderUser = "guardduty-response"
)

// identitySeed seeds moto's identifiers before the principals are created,
// so that their keys come out the same after every reset and a function
// started once keeps working across tests.
const identitySeed = 20260101

// adminPolicy lets the tests build and inspect the estate.
const adminPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// Keys are an access key pair.
type Keys struct {
	AccessKeyID     string
	SecretAccessKey string
}

// Principals are the IAM users of an emulator that enforces IAM.
type Principals struct {
	// Admin may do anything; Config hands its keys out for TestAccessKey.
	Admin Keys
	// Responder holds exactly the policy given to EnforceIAM.
	Responder    Keys
	ResponderARN string
}

// EnforceIAM makes moto check every call against IAM from now on, after
// creating, in the default account, an administrator and the responder user
// holding responderPolicy. It forgets nothing: call Reset first for a clean
// emulator. The keys are the same on every call with the same moto.
func (m *Moto) EnforceIAM(ctx context.Context, responderPolicy string) (*Principals, error) {
	if err := m.setAuth(ctx, false); err != nil {
		return nil, err
	}
	if err := m.post(ctx, fmt.Sprintf("/moto-api/seed?a=%d", identitySeed), ""); err != nil {
		return nil, err
	}

	client := iam.NewFromConfig(m.rawConfig(TestAccessKey, TestSecretKey, ""))
	admin, _, err := createUser(ctx, client, AdminUser, adminPolicy)
	if err != nil {
		return nil, err
	}
	policy, err := MotoPolicy(responderPolicy, DefaultAccount)
	if err != nil {
		return nil, err
	}
	responder, arn, err := createUser(ctx, client, ResponderUser, policy)
	if err != nil {
		return nil, err
	}

	m.mu.Lock()
	m.admin = admin
	m.mu.Unlock()

	return &Principals{Admin: admin, Responder: responder, ResponderARN: arn}, m.setAuth(ctx, true)
}

// WithoutIAM runs fn while moto does not check calls, and checks them again
// afterwards. fn may use any keys, TestAccessKey among them.
func (m *Moto) WithoutIAM(ctx context.Context, fn func() error) error {
	if err := m.setAuth(ctx, false); err != nil {
		return err
	}
	fnErr := fn()

	return errors.Join(fnErr, m.setAuth(ctx, true))
}

// setAuth turns moto's IAM checks on or off from the next call on.
func (m *Moto) setAuth(ctx context.Context, on bool) error {
	count := "inf"
	if on {
		count = "0"
	}

	return m.post(ctx, "/moto-api/reset-auth", count)
}

func (m *Moto) post(ctx context.Context, path, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Endpoint+path,
		strings.NewReader(body))
	if err != nil {
		return err
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("calling moto %s: %w", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("calling moto %s: %s", path, resp.Status)
	}

	return nil
}

// createUser makes an IAM user with an inline policy and an access key.
func createUser(ctx context.Context, client *iam.Client, name, policy string) (Keys, string,
	error) {
	user, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	if err != nil {
		return Keys{}, "", fmt.Errorf("creating user %s: %w", name, err)
	}
	if _, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName: aws.String(name), PolicyName: aws.String("permissions"),
		PolicyDocument: aws.String(policy),
	}); err != nil {
		return Keys{}, "", fmt.Errorf("giving user %s its policy: %w", name, err)
	}

	key, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		return Keys{}, "", fmt.Errorf("creating key of user %s: %w", name, err)
	}
	keys := Keys{AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId),
		SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)}

	return keys, aws.ToString(user.User.Arn), nil
}

// Member is a second account of the emulator, entered through its member
// role as the responder enters a member account.
type Member struct {
	AccountID string
	Admin     Keys
	RoleARN   string
}

// CreateMember sets up account as a member account: an administrator of its
// own, and the role roleName holding the member document and trusting
// trustedARN. moto keeps each account's state apart, and its AssumeRole
// enters any account.
func (m *Moto) CreateMember(ctx context.Context, account, roleName, trustedARN string) (*Member,
	error) {
	member := &Member{AccountID: account}
	err := m.WithoutIAM(ctx, func() error {
		creds, err := m.enter(ctx, account)
		if err != nil {
			return err
		}
		client := iam.NewFromConfig(m.rawConfig(creds.AccessKeyID, creds.SecretAccessKey,
			creds.SessionToken))

		member.Admin, _, err = createUser(ctx, client, AdminUser, adminPolicy)
		if err != nil {
			return err
		}
		member.RoleARN, err = createMemberRole(ctx, client, account, roleName, trustedARN)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("setting up member account %s: %w", account, err)
	}

	return member, nil
}

// enter returns credentials in account, which moto hands out for any role
// ARN there, existing or not.
func (m *Moto) enter(ctx context.Context, account string) (aws.Credentials, error) {
	out, err := sts.NewFromConfig(m.rawConfig(TestAccessKey, TestSecretKey, "")).AssumeRole(ctx,
		&sts.AssumeRoleInput{
			RoleArn:         aws.String("arn:aws:iam::" + account + ":role/emulator-setup"),
			RoleSessionName: aws.String("emulator-setup"),
		})
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("entering account %s: %w", account, err)
	}

	c := out.Credentials

	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}, nil
}

func createMemberRole(ctx context.Context, client *iam.Client, account, name,
	trusted string) (string, error) {
	trust, err := policies.MemberTrustPolicy(trusted, "")
	if err != nil {
		return "", err
	}
	doc, err := policies.Document(policies.Member)
	if err != nil {
		return "", err
	}
	permissions, err := MotoPolicy(doc, account)
	if err != nil {
		return "", err
	}

	_, arn, err := CreateRole(ctx, client, name, trust, permissions)

	return arn, err
}

// CreateRole makes a role with a trust policy and an inline permissions
// policy, and returns its id and ARN.
func CreateRole(ctx context.Context, client *iam.Client, name, trust,
	permissions string) (id, arn string, err error) {
	role, err := client.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust),
	})
	if err != nil {
		return "", "", fmt.Errorf("creating role %s: %w", name, err)
	}
	if _, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String(name), PolicyName: aws.String("permissions"),
		PolicyDocument: aws.String(permissions),
	}); err != nil {
		return "", "", fmt.Errorf("giving role %s its policy: %w", name, err)
	}

	return aws.ToString(role.Role.RoleId), aws.ToString(role.Role.Arn), nil
}

// Config returns an SDK configuration for the member account's
// administrator.
func (mb *Member) Config(m *Moto) aws.Config {
	return m.rawConfig(mb.Admin.AccessKeyID, mb.Admin.SecretAccessKey, "")
}

// MotoPolicy turns a policy document into what moto evaluates as IAM would
// evaluate the original for a principal of account:
//
//   - ${aws:PrincipalAccount} becomes account, as IAM substitutes it at
//     evaluation time; moto leaves it as it is, and a "$" in a Resource
//     then matches nothing;
//   - the Resource of actions whose resource moto does not check becomes
//     "*": moto compares the statement's Resource with "*" for them, so
//     anything narrower would deny what IAM allows. moto checks the resource
//     only of IAM calls naming a role, of sts:AssumeRole, of SQS and of S3;
//     for these the document's own resources stand.
//
// Actions are kept exactly. Conditions stay, and moto ignores them.
func MotoPolicy(doc, account string) (string, error) {
	p, err := policies.Parse(strings.ReplaceAll(doc, "${aws:PrincipalAccount}", account))
	if err != nil {
		return "", err
	}

	out := &policies.Policy{Version: p.Version, ID: p.ID}
	for _, s := range p.Statement {
		checked, unchecked := s, s
		checked.Action, unchecked.Action = nil, nil
		for _, a := range s.Action {
			if motoChecksResource(a) {
				checked.Action = append(checked.Action, a)
			} else {
				unchecked.Action = append(unchecked.Action, a)
			}
		}
		unchecked.Resource = policies.Strings{"*"}
		for _, part := range []policies.Statement{checked, unchecked} {
			if len(part.Action) > 0 {
				out.Statement = append(out.Statement, part)
			}
		}
	}

	return out.JSON()
}

// motoChecksResource reports whether moto compares a call's resource with a
// policy's Resource for action.
func motoChecksResource(action string) bool {
	service, name, _ := strings.Cut(action, ":")
	switch service {
	case "iam":
		// Calls that take a RoleName.
		return strings.Contains(name, "Role") && !strings.Contains(name, "InstanceProfile")
	case "sts":
		return name == "AssumeRole"
	case "sqs", "s3":
		return true
	}

	return false
}

// rawConfig is Config without the substitution of the administrator.
func (m *Moto) rawConfig(accessKey, secretKey, token string) aws.Config {
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(m.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, token),
	}
}

// Package account hands out AWS clients for the account a finding belongs
// to: the Lambda's own credentials for its home account, and the member
// account's responder role, assumed once and cached for its lifetime, for
// every other account of the organisation.
package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// sessionName marks every action taken in a member account in CloudTrail.
const sessionName = "guardduty-response"

// Clients are the service clients of one account and region.
type Clients struct {
	AccountID   string
	Region      string
	EC2         *ec2.Client
	AutoScaling *autoscaling.Client
	ELB         *elb.Client
	IAM         *iam.Client
}

// Identity is who the Lambda itself runs as, learned from STS.
type Identity struct {
	AccountID string
	// ARN is the caller's ARN as STS reports it (an assumed-role session).
	ARN string
	// RoleARN is the IAM role behind an assumed-role session, or ARN itself.
	RoleARN string
}

// Sessions returns clients per account, assuming the member role where the
// account is not the Lambda's own. It is safe for concurrent use.
type Sessions struct {
	base       aws.Config
	roleName   string
	externalID string
	self       Identity

	mu     sync.Mutex
	byKey  map[string]*Clients
	assume func(ctx context.Context, roleARN string) (aws.CredentialsProvider, error)
}

// NewSessions learns the Lambda's own identity and prepares to enter member
// accounts through roleName, presenting externalID when it is not empty.
func NewSessions(ctx context.Context, base aws.Config, roleName, externalID string) (*Sessions, error) {
	if roleName == "" {
		return nil, errors.New("member role name is empty")
	}

	self, err := whoAmI(ctx, sts.NewFromConfig(base))
	if err != nil {
		return nil, err
	}

	s := &Sessions{
		base:       base,
		roleName:   roleName,
		externalID: externalID,
		self:       self,
		byKey:      map[string]*Clients{},
	}
	s.assume = s.assumeRole

	return s, nil
}

// Self returns the Lambda's own identity.
func (s *Sessions) Self() Identity { return s.self }

// For returns the clients for accountID in region. Member-account sessions are
// created once and reused; their credentials renew themselves when they
// expire. An account that cannot be entered returns an error and is tried
// again on the next call.
func (s *Sessions) For(ctx context.Context, partition, accountID, region string) (*Clients, error) {
	key := accountID + "/" + region

	s.mu.Lock()
	defer s.mu.Unlock()

	if c, ok := s.byKey[key]; ok {
		return c, nil
	}

	cfg := s.base.Copy()
	cfg.Region = region
	if accountID != s.self.AccountID {
		roleARN := fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, accountID, s.roleName)
		creds, err := s.assume(ctx, roleARN)
		if err != nil {
			return nil, fmt.Errorf("entering account %s through %s: %w", accountID, roleARN, err)
		}
		cfg.Credentials = creds
	}

	c := newClients(cfg, accountID)
	s.byKey[key] = c

	return c, nil
}

// assumeRole returns cached credentials of roleARN, retrieved once now so
// that an account that cannot be entered is known before any action.
func (s *Sessions) assumeRole(ctx context.Context, roleARN string) (aws.CredentialsProvider, error) {
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(s.base), roleARN,
		func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = sessionName
			if s.externalID != "" {
				o.ExternalID = aws.String(s.externalID)
			}
		})
	creds := aws.NewCredentialsCache(provider)

	if _, err := creds.Retrieve(ctx); err != nil {
		return nil, err
	}

	return creds, nil
}

func newClients(cfg aws.Config, accountID string) *Clients {
	cfg.APIOptions = append(cfg.APIOptions, logRequestIDs)

	return &Clients{
		AccountID:   accountID,
		Region:      cfg.Region,
		EC2:         ec2.NewFromConfig(cfg),
		AutoScaling: autoscaling.NewFromConfig(cfg),
		ELB:         elb.NewFromConfig(cfg),
		IAM:         iam.NewFromConfig(cfg),
	}
}

func whoAmI(ctx context.Context, client *sts.Client) (Identity, error) {
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, fmt.Errorf("learning own identity from STS: %w", err)
	}

	id := Identity{AccountID: aws.ToString(out.Account), ARN: aws.ToString(out.Arn)}
	id.RoleARN = RoleARN(id.ARN)

	return id, nil
}

// RoleARN turns an assumed-role session ARN
// (arn:aws:sts::123456789012:assumed-role/name/session) into the ARN of its
// role (arn:aws:iam::123456789012:role/name). Any other ARN is returned as is.
func RoleARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sts" {
		return arn
	}

	resource := strings.Split(parts[5], "/")
	if len(resource) < 2 || resource[0] != "assumed-role" {
		return arn
	}

	return fmt.Sprintf("arn:%s:iam::%s:role/%s", parts[1], parts[4], resource[1])
}

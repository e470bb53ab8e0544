package release

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/guardduty-response/guardduty-response/handler/account"
	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

var moto *emulator.Moto

func TestMain(m *testing.M) {
	var err error
	if moto, err = emulator.StartMoto(context.Background(), emulator.MotoOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, "release tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	moto.Stop()
	os.Exit(code)
}

// clients are the emulator's clients for the default account.
func clients(t *testing.T) *account.Clients {
	t.Helper()
	cfg := moto.Config(emulator.TestAccessKey, emulator.TestSecretKey)
	sessions, err := account.NewSessions(t.Context(), cfg, unusedMemberRole, "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := sessions.For(t.Context(), "aws", emulator.DefaultAccount, emulator.Region)
	if err != nil {
		t.Fatal(err)
	}

	return c
}

// box is a VPC of one test with three application groups, an isolation
// group and an instance with one interface, all its own, so that tests run
// side by side.
type box struct {
	t         *testing.T
	ec2       *ec2.Client
	groups    []string // application groups, sorted
	isolation string
	instance  string
	eni       string
}

func newBox(t *testing.T) *box {
	t.Helper()
	ctx := t.Context()
	b := &box{t: t, ec2: clients(t).EC2}

	vpc, err := b.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := vpc.Vpc.VpcId
	subnet, err := b.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID,
		CidrBlock: aws.String("10.0.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		b.groups = append(b.groups, b.group(vpcID, fmt.Sprintf("app-%d", i), nil))
	}
	slices.Sort(b.groups)
	b.isolation = b.group(vpcID, playbook.IsolationGroupName, map[string]string{
		playbook.TagQuarantine: playbook.QuarantineIsolation})

	run, err := b.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		NetworkInterfaces: []ec2types.InstanceNetworkInterfaceSpecification{{
			DeviceIndex: aws.Int32(0), SubnetId: subnet.Subnet.SubnetId, Groups: b.groups}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b.instance = aws.ToString(run.Instances[0].InstanceId)
	b.eni = aws.ToString(run.Instances[0].NetworkInterfaces[0].NetworkInterfaceId)

	return b
}

func (b *box) group(vpc *string, name string, tags map[string]string) string {
	b.t.Helper()
	out, err := b.ec2.CreateSecurityGroup(b.t.Context(), &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(name), Description: aws.String(name), VpcId: vpc,
	})
	if err != nil {
		b.t.Fatal(err)
	}
	id := aws.ToString(out.GroupId)
	b.tag(id, tags)

	return id
}

// quarantine puts the instance in the state a quarantine leaves, with the
// given tags on the instance and on its interface.
func (b *box) quarantine(instanceTags, eniTags map[string]string) {
	b.t.Helper()
	ctx := b.t.Context()
	if _, err := b.ec2.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: aws.String(b.eni), Groups: []string{b.isolation},
	}); err != nil {
		b.t.Fatal(err)
	}
	b.tag(b.instance, instanceTags)
	b.tag(b.eni, eniTags)
}

func (b *box) tag(resource string, tags map[string]string) {
	b.t.Helper()
	if len(tags) == 0 {
		return
	}
	if _, err := b.ec2.CreateTags(b.t.Context(), &ec2.CreateTagsInput{
		Resources: []string{resource}, Tags: ec2Tags(tags),
	}); err != nil {
		b.t.Fatal(err)
	}
}

func (b *box) tags(resource string) map[string]string {
	b.t.Helper()
	out, err := b.ec2.DescribeTags(b.t.Context(), &ec2.DescribeTagsInput{
		Filters: []ec2types.Filter{{Name: aws.String("resource-id"), Values: []string{resource}}},
	})
	if err != nil {
		b.t.Fatal(err)
	}
	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}

	return tags
}

func (b *box) eniGroups() []string {
	b.t.Helper()
	out, err := b.ec2.DescribeNetworkInterfaces(b.t.Context(), &ec2.DescribeNetworkInterfacesInput{
		NetworkInterfaceIds: []string{b.eni},
	})
	if err != nil {
		b.t.Fatal(err)
	}
	var ids []string
	for _, g := range out.NetworkInterfaces[0].Groups {
		ids = append(ids, aws.ToString(g.GroupId))
	}
	slices.Sort(ids)

	return ids
}

var quarantined = map[string]string{
	playbook.TagStatus: playbook.StatusQuarantined, playbook.TagFindingID: "f1",
}

// TestGroupsSplitOverTagsAreRestored proves the groups recorded over
// original-groups and its continuations all come back, and every one of
// those tags goes.
func TestGroupsSplitOverTagsAreRestored(t *testing.T) {
	t.Parallel()
	b := newBox(t)
	b.quarantine(quarantined, map[string]string{
		playbook.TagOriginalGroups:        b.groups[0] + " " + b.groups[2],
		playbook.TagOriginalGroups + "-2": b.groups[1],
	})

	plan, err := Instance(t.Context(), clients(t), nil, b.instance, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res := plan.Apply(t.Context()); res.Failed() {
		t.Fatalf("apply: %+v", res.Steps)
	}

	if got := b.eniGroups(); !slices.Equal(got, b.groups) {
		t.Errorf("interface in %v, want %v", got, b.groups)
	}
	for k := range b.tags(b.eni) {
		if strings.HasPrefix(k, playbook.TagOriginalGroups) {
			t.Errorf("interface still tagged %s", k)
		}
	}
	if status := b.tags(b.instance)[playbook.TagStatus]; status != playbook.StatusReleased {
		t.Errorf("status %q, want released", status)
	}
}

// TestInstanceRefusals proves release changes nothing, and says why, for an
// instance it must not or cannot release.
func TestInstanceRefusals(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		instance map[string]string
		eni      map[string]string
		isolate  bool
		says     string
		refused  error
	}{
		{"never quarantined", nil, nil, false, "not quarantined", ErrNotQuarantined},
		{"status of another tool", map[string]string{playbook.TagStatus: "isolated"}, nil,
			false, "not quarantined", ErrNotQuarantined},
		{"isolated with no record of its groups", quarantined, nil, true,
			"set its groups by hand", nil},
		{"record that is not a group id", quarantined,
			map[string]string{playbook.TagOriginalGroups: "sg-1234 0.0.0.0/0"}, true,
			"not a security group id", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBox(t)
			if tt.isolate {
				b.quarantine(tt.instance, tt.eni)
			} else {
				b.tag(b.instance, tt.instance)
			}
			beforeGroups, beforeTags := b.eniGroups(), b.tags(b.instance)

			_, err := Instance(t.Context(), clients(t), nil, b.instance, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error = %v, want one saying %q", err, tt.says)
			}
			if tt.refused != nil && !errors.Is(err, tt.refused) {
				t.Errorf("error = %v, want %v", err, tt.refused)
			}
			if !slices.Equal(b.eniGroups(), beforeGroups) || len(b.tags(b.instance)) != len(beforeTags) {
				t.Error("a refused release changed the instance")
			}
		})
	}
}

func TestBadInstanceIDsAreRefused(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "i-xyz", "i-0123456789abcdef0 --yes", "vol-0123456789abcdef0"} {
		if _, err := Instance(t.Context(), clients(t), nil, id, Options{}); err == nil {
			t.Errorf("Instance accepted %q", id)
		}
	}
}

// TestAlreadyReleasedNeedsNothing proves a second release is a success that
// changes nothing.
func TestAlreadyReleasedNeedsNothing(t *testing.T) {
	t.Parallel()
	b := newBox(t)
	b.tag(b.instance, map[string]string{playbook.TagStatus: playbook.StatusReleased})

	plan, err := Instance(t.Context(), clients(t), nil, b.instance, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Empty() || !slices.ContainsFunc(plan.Notes, func(n string) bool {
		return strings.Contains(n, "already released")
	}) {
		t.Errorf("plan = %+v, want nothing to do, already released", plan)
	}
}

// TestFailedStepKeepsTheQuarantine proves that when a step fails the
// instance is not marked released, so that running release again finishes.
func TestFailedStepKeepsTheQuarantine(t *testing.T) {
	t.Parallel()
	b := newBox(t)
	tags := map[string]string{
		playbook.TagOriginalProfile: "arn:aws:iam::" + emulator.DefaultAccount +
			":instance-profile/deleted-since",
	}
	for k, v := range quarantined {
		tags[k] = v
	}
	b.quarantine(tags, map[string]string{playbook.TagOriginalGroups: b.groups[0]})

	plan, err := Instance(t.Context(), clients(t), nil, b.instance, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := plan.Apply(t.Context())

	if res.Outcome != PartlyReleased {
		t.Fatalf("outcome %s, want %s: %+v", res.Outcome, PartlyReleased, res.Steps)
	}
	last := res.Steps[len(res.Steps)-1]
	if last.Action != actionMark || last.Status != playbook.Skipped {
		t.Errorf("last step = %+v, want the marking skipped", last)
	}
	got := b.tags(b.instance)
	if got[playbook.TagStatus] != playbook.StatusQuarantined || got[playbook.TagOriginalProfile] == "" {
		t.Errorf("tags after a failed release = %v, want the quarantine and its record kept", got)
	}
	if groups := b.eniGroups(); !slices.Equal(groups, b.groups[:1]) {
		t.Errorf("interface in %v: the steps that could be done were not", groups)
	}
}

// TestContainmentPolicyStaysWhileCredentialsMayBeValid proves a user's
// deny-all policy comes off only once temporary credentials obtained before
// the quarantine have expired, or when the person says -early.
func TestContainmentPolicyStaysWhileCredentialsMayBeValid(t *testing.T) {
	t.Parallel()
	c := clients(t)
	quarantinedAt := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	tests := []struct {
		name    string
		tagTime string
		now     time.Time
		early   bool
		remove  bool
	}{
		{"within 36 hours", quarantinedAt.Format(time.RFC3339), quarantinedAt.Add(35 * time.Hour),
			false, false},
		{"after 36 hours", quarantinedAt.Format(time.RFC3339), quarantinedAt.Add(37 * time.Hour),
			false, true},
		{"time unknown", "", quarantinedAt.Add(1000 * time.Hour), false, false},
		{"early", quarantinedAt.Format(time.RFC3339), quarantinedAt, true, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := fmt.Sprintf("policy-user-%d", i)
			quarantineUser(t, c, name, tt.tagTime)

			plan, err := User(t.Context(), c, name, Options{Early: tt.early,
				Now: func() time.Time { return tt.now }})
			if err != nil {
				t.Fatal(err)
			}
			removes := slices.ContainsFunc(plan.Steps, func(s Step) bool {
				return s.Action == actionRemoveDenyAll
			})
			if removes != tt.remove {
				t.Errorf("plan removes the deny-all policy: %v, want %v (%+v)", removes, tt.remove, plan)
			}
			if !removes && !plan.Empty() {
				t.Errorf("plan %+v marks the user released while the deny-all policy stays", plan.Steps)
			}
		})
	}

	if _, err := User(t.Context(), c, "nobody-quarantined", Options{}); err == nil {
		t.Error("a user that does not exist was planned")
	}
}

// quarantineUser makes a user as the responder leaves one: tagged, with the
// deny-all policy.
func quarantineUser(t *testing.T, c *account.Clients, name, tagTime string) {
	t.Helper()
	ctx := t.Context()
	tags := []string{playbook.TagStatus, playbook.StatusQuarantined}
	if tagTime != "" {
		tags = append(tags, playbook.TagTime, tagTime)
	}
	in := &iam.CreateUserInput{UserName: aws.String(name)}
	for i := 0; i < len(tags); i += 2 {
		in.Tags = append(in.Tags, iamTag(tags[i], tags[i+1]))
	}
	if _, err := c.IAM.CreateUser(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := c.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName: aws.String(name), PolicyName: aws.String(playbook.DenyAllPolicyName),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny",` +
			`"Action":"*","Resource":"*"}]}`),
	}); err != nil {
		t.Fatal(err)
	}
}

func TestUserNotQuarantinedIsRefused(t *testing.T) {
	t.Parallel()
	c := clients(t)
	_, err := c.IAM.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String("plain")})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := User(t.Context(), c, "plain", Options{}); !errors.Is(err, ErrNotQuarantined) {
		t.Errorf("error = %v, want %v", err, ErrNotQuarantined)
	}
	if _, err := Role(t.Context(), c, "no role here", Options{}); err == nil {
		t.Error("a role name that is not one was planned")
	}
}

func TestRevocationCutoff(t *testing.T) {
	t.Parallel()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*",` +
		`"Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T12:00:01Z"}}}]}`

	tests := []struct {
		name string
		doc  string
		want time.Time
	}{
		{"as written", doc, time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC)},
		{"URL-encoded, as IAM returns it", strings.ReplaceAll(strings.ReplaceAll(doc, "{", "%7B"),
			"\"", "%22"), time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC)},
		{"no cut-off", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*",` +
			`"Resource":"*"}]}`, time.Time{}},
		{"not a policy", "%zz", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := revocationCutoff(tt.doc); !got.Equal(tt.want) {
				t.Errorf("cutoff = %v, want %v", got, tt.want)
			}
		})
	}
}

func iamTag(key, value string) iamtypes.Tag {
	return iamtypes.Tag{Key: aws.String(key), Value: aws.String(value)}
}

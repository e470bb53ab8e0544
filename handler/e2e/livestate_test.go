package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// fact is one thing an operator would check on a resource.
type fact struct {
	resource string // "instance i-0abc", "user alice", "role app"
	field    string // "interface eni-1 groups", "access key AKIA… status"
}

// liveState is the value of every fact about a set of resources, read from
// the emulator as its administrator. A fact that does not hold (no console
// password, no such tag) is absent.
type liveState map[fact]string

// watched are the resources whose live state is read.
type watched struct {
	instances []string
	users     []string
	roles     []string
}

// change is a fact that differs between two readings.
type change struct {
	fact
	before, after string // "" when absent
}

func (c change) String() string {
	return fmt.Sprintf("%s: %s changed from %q to %q", c.resource, c.field, c.before, c.after)
}

// readersAtOnce bounds the reads in flight, to keep moto responsive.
const readersAtOnce = 6

// liveState reads everything a response could change on the watched
// resources: for instances their interfaces' groups and tags, termination
// protection, shutdown behaviour, volumes kept on termination, snapshots,
// instance profile, Auto Scaling group, target groups, tags and run state;
// for users their access keys' status, console password, inline and attached
// policies, groups, permissions boundary and tags; for roles their inline and
// attached policies, trust policy, permissions boundary and tags.
func (w *world) liveState(on watched) liveState {
	w.t.Helper()
	s := &stateReader{ctx: w.ctx, w: w, iam: w.accountIAM().iam, state: liveState{}}

	readers := []func() error{s.instances(on.instances), s.principals(on.users, on.roles)}
	for _, name := range on.users {
		readers = append(readers, s.credentials(name))
	}

	if err := runAll(readers); err != nil {
		w.t.Fatalf("reading live state: %v", err)
	}

	return s.state
}

// changes returns the facts that differ in after, in a stable order.
func (before liveState) changes(after liveState) []change {
	var out []change
	for f, v := range before {
		if after[f] != v {
			out = append(out, change{fact: f, before: v, after: after[f]})
		}
	}
	for f, v := range after {
		if _, ok := before[f]; !ok {
			out = append(out, change{fact: f, after: v})
		}
	}
	slices.SortFunc(out, func(a, b change) int {
		return strings.Compare(a.resource+"\x00"+a.field, b.resource+"\x00"+b.field)
	})

	return out
}

// runAll runs the readers, a few at a time, and joins their errors.
func runAll(readers []func() error) error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	slots := make(chan struct{}, readersAtOnce)
	for _, read := range readers {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			if err := read(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	return errors.Join(errs...)
}

// stateReader collects facts from readers running side by side.
type stateReader struct {
	ctx context.Context
	w   *world
	iam *iam.Client

	mu    sync.Mutex
	state liveState
}

func (s *stateReader) put(resource, field, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.state[fact{resource, field}] = value
}

// instances reads the instances with a few calls for all of them, and two
// attribute calls for each.
func (s *stateReader) instances(ids []string) func() error {
	return func() error {
		if len(ids) == 0 {
			return nil
		}

		volumes, err := s.describeInstances(ids)
		if err != nil {
			return err
		}
		readers := []func() error{
			func() error { return s.interfaces(ids) },
			func() error { return s.snapshots(volumes) },
			func() error { return s.profiles(ids) },
			func() error { return s.autoScaling(ids) },
			func() error { return s.targetGroups() },
		}
		for _, id := range ids {
			readers = append(readers, func() error { return s.attributes(id) })
		}

		return runAll(readers)
	}
}

// describeInstances reads run state, tags and volumes, and returns the
// instance each volume belongs to.
func (s *stateReader) describeInstances(ids []string) (map[string]string, error) {
	out, err := s.w.ec2.DescribeInstances(s.ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		return nil, fmt.Errorf("describing instances: %w", err)
	}

	volumes := map[string]string{}
	for _, r := range out.Reservations {
		for _, inst := range r.Instances {
			resource := "instance " + aws.ToString(inst.InstanceId)
			s.put(resource, "state", string(inst.State.Name))
			for _, t := range inst.Tags {
				s.put(resource, "tag "+aws.ToString(t.Key), aws.ToString(t.Value))
			}
			for _, m := range inst.BlockDeviceMappings {
				volume := aws.ToString(m.Ebs.VolumeId)
				volumes[volume] = resource
				s.put(resource, "volume "+volume+" deleted on termination",
					fmt.Sprint(aws.ToBool(m.Ebs.DeleteOnTermination)))
			}
		}
	}

	return volumes, nil
}

// interfaces reads each attached interface's groups and tags.
func (s *stateReader) interfaces(ids []string) error {
	out, err := s.w.ec2.DescribeNetworkInterfaces(s.ctx, &ec2.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{{Name: aws.String("attachment.instance-id"), Values: ids}},
	})
	if err != nil {
		return fmt.Errorf("describing network interfaces: %w", err)
	}

	for _, n := range out.NetworkInterfaces {
		resource := "instance " + aws.ToString(n.Attachment.InstanceId)
		eni := "interface " + aws.ToString(n.NetworkInterfaceId)
		var groups []string
		for _, g := range n.Groups {
			groups = append(groups, aws.ToString(g.GroupId))
		}
		slices.Sort(groups)
		s.put(resource, eni+" groups", strings.Join(groups, " "))
		for _, t := range n.TagSet {
			s.put(resource, eni+" tag "+aws.ToString(t.Key), aws.ToString(t.Value))
		}
	}

	return nil
}

// snapshots reads the snapshots of the instances' volumes, whoever took them.
func (s *stateReader) snapshots(volumes map[string]string) error {
	ids := slices.Collect(maps.Keys(volumes))
	if len(ids) == 0 {
		return nil
	}

	out, err := s.w.ec2.DescribeSnapshots(s.ctx, &ec2.DescribeSnapshotsInput{
		Filters: []ec2types.Filter{{Name: aws.String("volume-id"), Values: ids}},
	})
	if err != nil {
		return fmt.Errorf("describing snapshots: %w", err)
	}

	for _, snap := range out.Snapshots {
		volume := aws.ToString(snap.VolumeId)
		if resource, ok := volumes[volume]; ok {
			s.put(resource, "snapshot "+aws.ToString(snap.SnapshotId), "of "+volume)
		}
	}

	return nil
}

func (s *stateReader) profiles(ids []string) error {
	out, err := s.w.ec2.DescribeIamInstanceProfileAssociations(s.ctx,
		&ec2.DescribeIamInstanceProfileAssociationsInput{
			Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: ids}},
		})
	if err != nil {
		return fmt.Errorf("describing instance profile associations: %w", err)
	}

	for _, a := range out.IamInstanceProfileAssociations {
		s.put("instance "+aws.ToString(a.InstanceId), "instance profile "+
			aws.ToString(a.IamInstanceProfile.Arn), string(a.State))
	}

	return nil
}

func (s *stateReader) autoScaling(ids []string) error {
	out, err := s.w.asg.DescribeAutoScalingInstances(s.ctx,
		&autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: ids})
	if err != nil {
		return fmt.Errorf("describing auto scaling instances: %w", err)
	}

	for _, i := range out.AutoScalingInstances {
		s.put("instance "+aws.ToString(i.InstanceId), "auto scaling group",
			aws.ToString(i.AutoScalingGroupName))
	}

	return nil
}

// targetGroups reads which instances every target group has registered.
func (s *stateReader) targetGroups() error {
	groups, err := s.w.elb.DescribeTargetGroups(s.ctx, &elb.DescribeTargetGroupsInput{})
	if err != nil {
		return fmt.Errorf("describing target groups: %w", err)
	}

	for _, g := range groups.TargetGroups {
		health, err := s.w.elb.DescribeTargetHealth(s.ctx, &elb.DescribeTargetHealthInput{
			TargetGroupArn: g.TargetGroupArn,
		})
		if err != nil {
			return fmt.Errorf("describing target health: %w", err)
		}
		for _, h := range health.TargetHealthDescriptions {
			s.put("instance "+aws.ToString(h.Target.Id),
				"target of "+aws.ToString(g.TargetGroupName), "registered")
		}
	}

	return nil
}

func (s *stateReader) attributes(id string) error {
	resource := "instance " + id
	termination, err := s.w.ec2.DescribeInstanceAttribute(s.ctx,
		&ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id),
			Attribute: ec2types.InstanceAttributeNameDisableApiTermination})
	if err != nil {
		return fmt.Errorf("reading termination protection of %s: %w", id, err)
	}
	s.put(resource, "termination protection",
		fmt.Sprint(aws.ToBool(termination.DisableApiTermination.Value)))

	shutdown, err := s.w.ec2.DescribeInstanceAttribute(s.ctx,
		&ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id),
			Attribute: ec2types.InstanceAttributeNameInstanceInitiatedShutdownBehavior})
	if err != nil {
		return fmt.Errorf("reading shutdown behaviour of %s: %w", id, err)
	}
	s.put(resource, "shutdown behaviour",
		aws.ToString(shutdown.InstanceInitiatedShutdownBehavior.Value))

	return nil
}

// principals reads the users' and roles' policies, tags, permissions
// boundaries and trust policies, as IAM's authorization details report them
// for the whole account.
func (s *stateReader) principals(users, roles []string) func() error {
	return func() error {
		paginator := iam.NewGetAccountAuthorizationDetailsPaginator(s.iam,
			&iam.GetAccountAuthorizationDetailsInput{
				Filter: []iamtypes.EntityType{iamtypes.EntityTypeUser, iamtypes.EntityTypeRole},
			})
		for paginator.HasMorePages() {
			page, err := paginator.NextPage(s.ctx)
			if err != nil {
				return fmt.Errorf("reading authorization details: %w", err)
			}
			for _, u := range page.UserDetailList {
				if slices.Contains(users, aws.ToString(u.UserName)) {
					s.user(u)
				}
			}
			for _, r := range page.RoleDetailList {
				if slices.Contains(roles, aws.ToString(r.RoleName)) {
					s.role(r)
				}
			}
		}

		return nil
	}
}

func (s *stateReader) user(u iamtypes.UserDetail) {
	resource := "user " + aws.ToString(u.UserName)
	s.principal(resource, u.Tags, u.PermissionsBoundary, u.AttachedManagedPolicies)
	for _, p := range u.UserPolicyList {
		s.put(resource, "inline policy "+aws.ToString(p.PolicyName),
			policyText(aws.ToString(p.PolicyDocument)))
	}
	for _, g := range u.GroupList {
		s.put(resource, "group "+g, "member")
	}
}

func (s *stateReader) role(r iamtypes.RoleDetail) {
	resource := "role " + aws.ToString(r.RoleName)
	s.principal(resource, r.Tags, r.PermissionsBoundary, r.AttachedManagedPolicies)
	s.put(resource, "trust policy", policyText(aws.ToString(r.AssumeRolePolicyDocument)))
	for _, p := range r.RolePolicyList {
		s.put(resource, "inline policy "+aws.ToString(p.PolicyName),
			policyText(aws.ToString(p.PolicyDocument)))
	}
}

// principal records a user's or role's tags, permissions boundary and
// attached policies.
func (s *stateReader) principal(resource string, tags []iamtypes.Tag,
	boundary *iamtypes.AttachedPermissionsBoundary, attached []iamtypes.AttachedPolicy) {
	for _, t := range tags {
		s.put(resource, "tag "+aws.ToString(t.Key), aws.ToString(t.Value))
	}
	if boundary != nil {
		s.put(resource, "permissions boundary", aws.ToString(boundary.PermissionsBoundaryArn))
	}
	for _, p := range attached {
		s.put(resource, "attached policy "+aws.ToString(p.PolicyArn), "attached")
	}
}

// credentials reads the status of a user's access keys and whether it has a
// console password, which the authorization details leave out.
func (s *stateReader) credentials(name string) func() error {
	resource := "user " + name
	return func() error {
		keys, err := s.iam.ListAccessKeys(s.ctx,
			&iam.ListAccessKeysInput{UserName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("listing keys of %s: %w", name, err)
		}
		for _, k := range keys.AccessKeyMetadata {
			s.put(resource, "access key "+aws.ToString(k.AccessKeyId)+" status", string(k.Status))
		}

		_, err = s.iam.GetLoginProfile(s.ctx, &iam.GetLoginProfileInput{UserName: aws.String(name)})
		switch {
		case err == nil:
			s.put(resource, "console password", "present")
		case !noSuchEntity(err):
			return fmt.Errorf("reading console password of %s: %w", name, err)
		}

		return nil
	}
}

// policyText is a policy document as IAM returns it, URL-decoded.
func policyText(doc string) string {
	if decoded, err := url.QueryUnescape(doc); err == nil {
		return decoded
	}

	return doc
}

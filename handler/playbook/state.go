package playbook

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// instanceState is the live state of the instance and what surrounds it,
// read before anything is changed. A read that failed leaves its error, and
// the steps that depend on it fail with it.
type instanceState struct {
	gone     bool
	instance ec2types.Instance
	tags     map[string]string

	groups    map[string]*vpcGroups // quarantine groups by VPC
	groupsErr error

	snapshots    []ec2types.Snapshot // the responder's snapshots of this instance
	snapshotsErr error

	profile    *ec2types.IamInstanceProfileAssociation
	profileErr error

	autoScalingGroup string
	autoScalingErr   error

	targetGroups    []elbtypes.TargetGroup
	targetGroupsErr error

	terminationProtected *bool   // nil when unknown
	shutdownBehavior     *string // nil when unknown
}

// vpcGroups are the two quarantine groups of one VPC.
type vpcGroups struct {
	isolation  ec2types.SecurityGroup
	transition ec2types.SecurityGroup
}

func (s *instanceState) tag(key string) string { return s.tags[key] }

// originals are the settings a release restores, as tags to record.
func (s *instanceState) originals() map[string]string {
	out := map[string]string{}
	if s.autoScalingGroup != "" {
		out[TagOriginalASG] = s.autoScalingGroup
	}
	if s.profile != nil && s.profile.IamInstanceProfile != nil {
		out[TagOriginalProfile] = aws.ToString(s.profile.IamInstanceProfile.Arn)
	}
	if s.terminationProtected != nil {
		out[TagOriginalTermination] = strconv.FormatBool(*s.terminationProtected)
	}
	if s.shutdownBehavior != nil {
		out[TagOriginalShutdown] = *s.shutdownBehavior
	}

	return out
}

// read fetches the live state, all reads side by side. Only a failure to read
// the instance itself stops the response.
func (r *instanceResponse) read(ctx context.Context) error {
	var instanceErr error
	parallel(
		func() { instanceErr = r.readInstance(ctx) },
		func() { r.live.groups, r.live.groupsErr = r.readQuarantineGroups(ctx) },
		func() { r.live.snapshots, r.live.snapshotsErr = r.readSnapshots(ctx) },
		func() { r.live.profile, r.live.profileErr = r.readProfile(ctx) },
		func() { r.live.autoScalingGroup, r.live.autoScalingErr = r.readAutoScaling(ctx) },
		func() { r.live.targetGroups, r.live.targetGroupsErr = r.readTargetGroups(ctx) },
		func() { r.live.terminationProtected = r.readTermination(ctx) },
		func() { r.live.shutdownBehavior = r.readShutdown(ctx) },
	)
	if instanceErr != nil {
		return fmt.Errorf("reading instance %s: %w", r.id, instanceErr)
	}

	return nil
}

func (r *instanceResponse) readInstance(ctx context.Context) error {
	out, err := r.clients.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		InstanceIds: []string{r.id},
	})
	if errorCode(err) == "InvalidInstanceID.NotFound" {
		r.live.gone = true
		return nil
	}
	if err != nil {
		return err
	}

	for _, res := range out.Reservations {
		for _, inst := range res.Instances {
			if aws.ToString(inst.InstanceId) == r.id {
				r.live.instance = inst
			}
		}
	}
	if r.live.instance.InstanceId == nil {
		r.live.gone = true
		return nil
	}

	r.live.tags = tagMap(r.live.instance.Tags)
	if state := r.live.instance.State; state != nil {
		switch state.Name {
		case ec2types.InstanceStateNameTerminated, ec2types.InstanceStateNameShuttingDown:
			r.live.gone = true
		}
	}

	return nil
}

func (r *instanceResponse) readQuarantineGroups(ctx context.Context) (map[string]*vpcGroups, error) {
	groups := map[string]*vpcGroups{}
	paginator := ec2.NewDescribeSecurityGroupsPaginator(r.clients.EC2,
		&ec2.DescribeSecurityGroupsInput{
			Filters: []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{TagQuarantine}}},
		})
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("finding quarantine groups: %w", err)
		}
		for _, g := range page.SecurityGroups {
			addQuarantineGroup(groups, g)
		}
	}

	return groups, nil
}

func addQuarantineGroup(groups map[string]*vpcGroups, g ec2types.SecurityGroup) {
	vpc := aws.ToString(g.VpcId)
	if groups[vpc] == nil {
		groups[vpc] = &vpcGroups{}
	}

	switch tagMap(g.Tags)[TagQuarantine] {
	case QuarantineIsolation:
		groups[vpc].isolation = g
	case QuarantineTransition:
		groups[vpc].transition = g
	}
}

func (r *instanceResponse) readSnapshots(ctx context.Context) ([]ec2types.Snapshot, error) {
	var snapshots []ec2types.Snapshot
	paginator := ec2.NewDescribeSnapshotsPaginator(r.clients.EC2, &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{
			{Name: aws.String("tag:" + TagInstanceID), Values: []string{r.id}},
		},
	})
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("finding earlier snapshots: %w", err)
		}
		snapshots = append(snapshots, page.Snapshots...)
	}

	return snapshots, nil
}

func (r *instanceResponse) readProfile(ctx context.Context) (*ec2types.IamInstanceProfileAssociation, error) {
	out, err := r.clients.EC2.DescribeIamInstanceProfileAssociations(ctx,
		&ec2.DescribeIamInstanceProfileAssociationsInput{
			Filters: []ec2types.Filter{
				{Name: aws.String("instance-id"), Values: []string{r.id}},
				{Name: aws.String("state"), Values: []string{"associated"}},
			},
		})
	if err != nil {
		return nil, fmt.Errorf("finding instance profile association: %w", err)
	}

	for _, a := range out.IamInstanceProfileAssociations {
		if aws.ToString(a.InstanceId) == r.id && a.State == ec2types.IamInstanceProfileAssociationStateAssociated {
			return &a, nil
		}
	}

	return nil, nil
}

func (r *instanceResponse) readAutoScaling(ctx context.Context) (string, error) {
	out, err := r.clients.AutoScaling.DescribeAutoScalingInstances(ctx,
		&autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{r.id}})
	if err != nil {
		return "", fmt.Errorf("finding auto scaling group: %w", err)
	}

	for _, i := range out.AutoScalingInstances {
		if aws.ToString(i.InstanceId) == r.id {
			return aws.ToString(i.AutoScalingGroupName), nil
		}
	}

	return "", nil
}

func (r *instanceResponse) readTargetGroups(ctx context.Context) ([]elbtypes.TargetGroup, error) {
	var groups []elbtypes.TargetGroup
	paginator := elb.NewDescribeTargetGroupsPaginator(r.clients.ELB, &elb.DescribeTargetGroupsInput{})
	for paginator.HasMorePages() {
		page, err := paginator.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing target groups: %w", err)
		}
		groups = append(groups, page.TargetGroups...)
	}

	return groups, nil
}

// readTermination returns whether termination protection is on, or nil when
// it cannot be read; the protection step then sets it regardless.
func (r *instanceResponse) readTermination(ctx context.Context) *bool {
	out, err := r.clients.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{
		InstanceId: aws.String(r.id),
		Attribute:  ec2types.InstanceAttributeNameDisableApiTermination,
	})
	if err != nil || out.DisableApiTermination == nil {
		r.log.WarnContext(ctx, "termination protection unknown", "error", errText(err))
		return nil
	}

	return out.DisableApiTermination.Value
}

// readShutdown returns the shutdown behaviour, or nil when unknown.
func (r *instanceResponse) readShutdown(ctx context.Context) *string {
	out, err := r.clients.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{
		InstanceId: aws.String(r.id),
		Attribute:  ec2types.InstanceAttributeNameInstanceInitiatedShutdownBehavior,
	})
	if err != nil || out.InstanceInitiatedShutdownBehavior == nil {
		r.log.WarnContext(ctx, "shutdown behaviour unknown", "error", errText(err))
		return nil
	}

	return out.InstanceInitiatedShutdownBehavior.Value
}

func tagMap(tags []ec2types.Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}

	return out
}

func createTagsInput(resource string, tags map[string]string) *ec2.CreateTagsInput {
	return &ec2.CreateTagsInput{Resources: []string{resource}, Tags: ec2Tags(tags)}
}

// tagValue makes text fit a tag value: EC2 and IAM both accept letters,
// digits, spaces and + - = . _ : / @, at most 256 characters.
func tagValue(s string) string {
	var b strings.Builder
	for _, c := range s {
		if b.Len() >= maxTagValue {
			break
		}
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			strings.ContainsRune(" +-=._:/@", c):
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}

	return b.String()
}

func errText(err error) string {
	if err == nil {
		return ""
	}

	return err.Error()
}

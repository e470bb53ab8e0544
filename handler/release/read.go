package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

// Options adjust a release.
type Options struct {
	// Early removes credential containment (deny-all and session revocation
	// policies) even while credentials issued before the quarantine may
	// still be valid.
	Early bool

	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (o Options) now() time.Time {
	if o.Now == nil {
		return time.Now().UTC()
	}

	return o.Now().UTC()
}

// read fetches everything the plan depends on, one call after another: a
// release is run by a person, once.
func (r *instanceRelease) read(ctx context.Context) error {
	inst, err := r.describe(ctx)
	if err != nil {
		return err
	}

	r.view = InstanceView{InstanceID: r.id, Tags: ec2TagMap(inst.Tags)}
	if inst.State != nil {
		r.view.State = string(inst.State.Name)
	}
	for _, m := range inst.BlockDeviceMappings {
		if m.Ebs != nil {
			r.view.Volumes = append(r.view.Volumes, playbook.VolumeState{
				ID: aws.ToString(m.Ebs.VolumeId), Device: aws.ToString(m.DeviceName),
				DeleteOnTermination: aws.ToBool(m.Ebs.DeleteOnTermination)})
		}
	}

	reads := []func(context.Context, ec2types.Instance) error{
		r.readInterfaces, r.readAutoScaling, r.readProfile, r.readAttributes,
	}
	for _, read := range reads {
		if err := read(ctx, inst); err != nil {
			return err
		}
	}

	return nil
}

func (r *instanceRelease) describe(ctx context.Context) (ec2types.Instance, error) {
	out, err := r.clients.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		InstanceIds: []string{r.id},
	})
	if errorCode(err) == "InvalidInstanceID.NotFound" {
		return ec2types.Instance{}, fmt.Errorf("no instance %s in account %s, %s", r.id,
			r.clients.AccountID, r.clients.Region)
	}
	if err != nil {
		return ec2types.Instance{}, fmt.Errorf("reading the instance: %w", err)
	}

	for _, res := range out.Reservations {
		for _, inst := range res.Instances {
			if aws.ToString(inst.InstanceId) == r.id {
				return inst, nil
			}
		}
	}

	return ec2types.Instance{}, fmt.Errorf("no instance %s in account %s, %s", r.id,
		r.clients.AccountID, r.clients.Region)
}

// readInterfaces reads each interface's groups and tags, and which of its
// groups are quarantine groups.
func (r *instanceRelease) readInterfaces(ctx context.Context, inst ec2types.Instance) error {
	var ids []string
	for _, eni := range inst.NetworkInterfaces {
		ids = append(ids, aws.ToString(eni.NetworkInterfaceId))
	}
	if len(ids) == 0 {
		return nil
	}

	out, err := r.clients.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
		NetworkInterfaceIds: ids,
	})
	if err != nil {
		return fmt.Errorf("reading network interfaces: %w", err)
	}

	var all []string
	for _, eni := range out.NetworkInterfaces {
		v := InterfaceView{ID: aws.ToString(eni.NetworkInterfaceId), Tags: ec2TagMap(eni.TagSet)}
		for _, g := range eni.Groups {
			v.Groups = append(v.Groups, aws.ToString(g.GroupId))
		}
		slices.Sort(v.Groups)
		all = append(all, v.Groups...)
		r.view.Interfaces = append(r.view.Interfaces, v)
	}

	return r.markQuarantined(ctx, all)
}

// markQuarantined flags the interfaces that are in a quarantine group.
func (r *instanceRelease) markQuarantined(ctx context.Context, groups []string) error {
	if len(groups) == 0 {
		return nil
	}

	slices.Sort(groups)
	out, err := r.clients.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		GroupIds: slices.Compact(groups),
	})
	if err != nil {
		return fmt.Errorf("reading security groups: %w", err)
	}

	quarantine := map[string]bool{}
	for _, g := range out.SecurityGroups {
		if _, ok := ec2TagMap(g.Tags)[playbook.TagQuarantine]; ok {
			quarantine[aws.ToString(g.GroupId)] = true
		}
	}
	for i, eni := range r.view.Interfaces {
		r.view.Interfaces[i].Quarantined = slices.ContainsFunc(eni.Groups,
			func(g string) bool { return quarantine[g] })
	}

	return nil
}

func (r *instanceRelease) readAutoScaling(ctx context.Context, _ ec2types.Instance) error {
	out, err := r.clients.AutoScaling.DescribeAutoScalingInstances(ctx,
		&autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{r.id}})
	if err != nil {
		return fmt.Errorf("reading auto scaling membership: %w", err)
	}

	for _, i := range out.AutoScalingInstances {
		if aws.ToString(i.InstanceId) == r.id {
			r.view.AutoScalingGroup = aws.ToString(i.AutoScalingGroupName)
		}
	}

	return nil
}

func (r *instanceRelease) readProfile(ctx context.Context, _ ec2types.Instance) error {
	out, err := r.clients.EC2.DescribeIamInstanceProfileAssociations(ctx,
		&ec2.DescribeIamInstanceProfileAssociationsInput{
			Filters: []ec2types.Filter{
				{Name: aws.String("instance-id"), Values: []string{r.id}},
			},
		})
	if err != nil {
		return fmt.Errorf("reading instance profile association: %w", err)
	}

	for _, a := range out.IamInstanceProfileAssociations {
		if aws.ToString(a.InstanceId) == r.id && a.IamInstanceProfile != nil &&
			a.State == ec2types.IamInstanceProfileAssociationStateAssociated {
			r.view.InstanceProfileARN = aws.ToString(a.IamInstanceProfile.Arn)
		}
	}

	return nil
}

func (r *instanceRelease) readAttributes(ctx context.Context, _ ec2types.Instance) error {
	termination, err := r.clients.EC2.DescribeInstanceAttribute(ctx,
		&ec2.DescribeInstanceAttributeInput{
			InstanceId: aws.String(r.id),
			Attribute:  ec2types.InstanceAttributeNameDisableApiTermination,
		})
	if err != nil {
		return fmt.Errorf("reading termination protection: %w", err)
	}
	if termination.DisableApiTermination != nil {
		r.view.TerminationProtection = aws.ToBool(termination.DisableApiTermination.Value)
	}

	shutdown, err := r.clients.EC2.DescribeInstanceAttribute(ctx,
		&ec2.DescribeInstanceAttributeInput{
			InstanceId: aws.String(r.id),
			Attribute:  ec2types.InstanceAttributeNameInstanceInitiatedShutdownBehavior,
		})
	if err != nil {
		return fmt.Errorf("reading shutdown behaviour: %w", err)
	}
	if shutdown.InstanceInitiatedShutdownBehavior != nil {
		r.view.ShutdownBehavior = aws.ToString(shutdown.InstanceInitiatedShutdownBehavior.Value)
	}

	return nil
}

func ec2TagMap(tags []ec2types.Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}

	return out
}

func ec2Tags(tags map[string]string) []ec2types.Tag {
	out := make([]ec2types.Tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}

	return out
}

func iamTagMap(tags []iamtypes.Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}

	return out
}

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}

	return ""
}

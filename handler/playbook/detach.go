package playbook

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// targetGroupReads bounds how many target groups are read at once.
const targetGroupReads = 8

// detachFromAutoScaling takes the instance out of its Auto Scaling group, so
// that failing health checks after isolation do not get it replaced and
// terminated. The group keeps its desired capacity and launches a
// replacement, so the service recovers.
func (r *instanceResponse) detachFromAutoScaling(ctx context.Context) {
	group := r.live.autoScalingGroup
	switch {
	case r.live.autoScalingErr != nil:
		r.fail(ctx, actionDetachASG, r.id, r.live.autoScalingErr)
		return
	case group == "":
		r.skip(ctx, actionDetachASG, r.id, "not in an auto scaling group")
		return
	}

	_ = r.act(ctx, actionDetachASG, r.id, group, func(ctx context.Context) error {
		_, err := r.clients.AutoScaling.DetachInstances(ctx, &autoscaling.DetachInstancesInput{
			AutoScalingGroupName:           aws.String(group),
			InstanceIds:                    []string{r.id},
			ShouldDecrementDesiredCapacity: aws.Bool(false),
		})
		return err
	})
}

// deregisterTargets takes the instance, by id or by any of its private
// addresses, out of every target group that sends it traffic.
func (r *instanceResponse) deregisterTargets(ctx context.Context) {
	if r.live.targetGroupsErr != nil {
		r.fail(ctx, actionDeregister, r.id, r.live.targetGroupsErr)
		return
	}

	var registered atomic.Int32
	limit := make(chan struct{}, targetGroupReads)
	var fns []func()
	for _, tg := range r.live.targetGroups {
		fns = append(fns, func() {
			limit <- struct{}{}
			defer func() { <-limit }()
			if r.deregisterFrom(ctx, tg) {
				registered.Add(1)
			}
		})
	}
	parallel(fns...)

	if registered.Load() == 0 {
		r.skip(ctx, actionDeregister, r.id, "not registered in any target group")
	}
}

// deregisterFrom removes the instance's targets from one target group and
// reports whether it had any there.
func (r *instanceResponse) deregisterFrom(ctx context.Context, tg elbtypes.TargetGroup) bool {
	arn := aws.ToString(tg.TargetGroupArn)
	out, err := r.clients.ELB.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{
		TargetGroupArn: tg.TargetGroupArn,
	})
	if err != nil {
		r.fail(ctx, actionDeregister, arn, fmt.Errorf("reading targets: %w", err))
		return true
	}

	var targets []elbtypes.TargetDescription
	for _, h := range out.TargetHealthDescriptions {
		if h.Target != nil && r.isTarget(tg, aws.ToString(h.Target.Id)) {
			targets = append(targets, *h.Target)
		}
	}
	if len(targets) == 0 {
		return false
	}

	_ = r.act(ctx, actionDeregister, arn, aws.ToString(tg.TargetGroupName),
		func(ctx context.Context) error {
			_, err := r.clients.ELB.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{
				TargetGroupArn: tg.TargetGroupArn,
				Targets:        targets,
			})
			return err
		})

	return true
}

// isTarget reports whether a target id names this instance: its id, or one
// of its private addresses in the target group's VPC.
func (r *instanceResponse) isTarget(tg elbtypes.TargetGroup, id string) bool {
	if id == r.id {
		return true
	}
	if tg.TargetType != elbtypes.TargetTypeEnumIp {
		return false
	}

	for _, eni := range r.live.instance.NetworkInterfaces {
		if aws.ToString(eni.VpcId) != aws.ToString(tg.VpcId) {
			continue
		}
		for _, ip := range eni.PrivateIpAddresses {
			if aws.ToString(ip.PrivateIpAddress) == id {
				return true
			}
		}
	}

	return false
}

// disassociateProfile takes the instance profile away, so that the role's
// credentials on the instance are no longer renewed.
func (r *instanceResponse) disassociateProfile(ctx context.Context) {
	switch {
	case !r.opts.DisassociateInstanceProfile:
		r.skip(ctx, actionProfile, r.id, "turned off by configuration")
		return
	case r.live.profileErr != nil:
		r.fail(ctx, actionProfile, r.id, r.live.profileErr)
		return
	case r.live.profile == nil:
		r.skip(ctx, actionProfile, r.id, "no instance profile")
		return
	}

	association := r.live.profile
	profile := aws.ToString(association.IamInstanceProfile.Arn)
	_ = r.act(ctx, actionProfile, r.id, profile, func(ctx context.Context) error {
		_, err := r.clients.EC2.DisassociateIamInstanceProfile(ctx,
			&ec2.DisassociateIamInstanceProfileInput{AssociationId: association.AssociationId})
		return err
	})
}

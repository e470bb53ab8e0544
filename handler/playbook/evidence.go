package playbook

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// protect keeps the instance and its volumes from being destroyed while the
// incident is investigated: no API termination, stop rather than terminate
// on shutdown, volumes kept when the instance goes.
func (r *instanceResponse) protect(ctx context.Context) {
	parallel(r.enableTerminationProtection(ctx), r.stopOnShutdown(ctx), r.keepVolumes(ctx))
}

func (r *instanceResponse) enableTerminationProtection(ctx context.Context) func() {
	return func() {
		if p := r.live.terminationProtected; p != nil && *p {
			r.skip(ctx, actionTermination, r.id, "already on")
			return
		}

		_ = r.act(ctx, actionTermination, r.id, "", r.modify(&ec2.ModifyInstanceAttributeInput{
			DisableApiTermination: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)},
		}))
	}
}

func (r *instanceResponse) stopOnShutdown(ctx context.Context) func() {
	return func() {
		if b := r.live.shutdownBehavior; b != nil && *b == string(ec2types.ShutdownBehaviorStop) {
			r.skip(ctx, actionShutdown, r.id, "already stop")
			return
		}

		_ = r.act(ctx, actionShutdown, r.id, "", r.modify(&ec2.ModifyInstanceAttributeInput{
			InstanceInitiatedShutdownBehavior: &ec2types.AttributeValue{Value: aws.String("stop")},
		}))
	}
}

func (r *instanceResponse) keepVolumes(ctx context.Context) func() {
	return func() {
		var devices []ec2types.InstanceBlockDeviceMappingSpecification
		var volumes []string
		for _, m := range r.live.instance.BlockDeviceMappings {
			if m.Ebs == nil || !aws.ToBool(m.Ebs.DeleteOnTermination) {
				continue
			}
			devices = append(devices, ec2types.InstanceBlockDeviceMappingSpecification{
				DeviceName: m.DeviceName,
				Ebs:        &ec2types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(false)},
			})
			volumes = append(volumes, aws.ToString(m.Ebs.VolumeId))
		}
		if len(devices) == 0 {
			r.skip(ctx, actionKeepVolumes, r.id, "no volume is deleted on termination")
			return
		}

		_ = r.act(ctx, actionKeepVolumes, r.id, strings.Join(volumes, " "),
			r.modify(&ec2.ModifyInstanceAttributeInput{BlockDeviceMappings: devices}))
	}
}

func (r *instanceResponse) modify(in *ec2.ModifyInstanceAttributeInput) func(context.Context) error {
	return func(ctx context.Context) error {
		in.InstanceId = aws.String(r.id)
		_, err := r.clients.EC2.ModifyInstanceAttribute(ctx, in)
		return err
	}
}

// snapshot takes one crash-consistent snapshot set of every attached volume,
// unless this quarantine already has one.
func (r *instanceResponse) snapshot(ctx context.Context) {
	volumes := r.attachedVolumes()
	switch {
	case len(volumes) == 0:
		r.skip(ctx, actionSnapshot, r.id, "no EBS volumes attached")
		return
	case r.live.snapshotsErr != nil:
		// Without knowing the earlier sets, a new one could be a duplicate.
		r.fail(ctx, actionSnapshot, r.id, r.live.snapshotsErr)
		return
	}

	responseID := r.responseFindingID()
	if taken := r.snapshotsOf(responseID); len(taken) > 0 {
		r.skip(ctx, actionSnapshot, r.id, "already taken: "+strings.Join(taken, " "))
		return
	}

	tags := map[string]string{
		TagInstanceID: r.id,
		TagFindingID:  responseID,
		TagFinding:    r.finding.Type,
		TagTime:       r.now.Format("2006-01-02T15:04:05Z"),
		"Name":        "guardduty-response evidence " + r.id,
	}
	_ = r.act(ctx, actionSnapshot, r.id, strings.Join(volumes, " "), func(ctx context.Context) error {
		_, err := r.clients.EC2.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{
			InstanceSpecification: &ec2types.InstanceSpecification{
				InstanceId:        aws.String(r.id),
				ExcludeBootVolume: aws.Bool(false),
			},
			Description:        aws.String("guardduty-response evidence of " + r.id + ", finding " + responseID),
			CopyTagsFromSource: ec2types.CopyTagsFromSourceVolume,
			TagSpecifications: []ec2types.TagSpecification{{
				ResourceType: ec2types.ResourceTypeSnapshot,
				Tags:         ec2Tags(tags),
			}},
		})
		return err
	})
}

func (r *instanceResponse) attachedVolumes() []string {
	var volumes []string
	for _, m := range r.live.instance.BlockDeviceMappings {
		if m.Ebs != nil {
			volumes = append(volumes, aws.ToString(m.Ebs.VolumeId))
		}
	}

	return volumes
}

// snapshotsOf lists the snapshots the responder took for a response.
func (r *instanceResponse) snapshotsOf(findingID string) []string {
	var ids []string
	for _, s := range r.live.snapshots {
		if tagMap(s.Tags)[TagFindingID] == tagValue(findingID) {
			ids = append(ids, aws.ToString(s.SnapshotId))
		}
	}

	return ids
}

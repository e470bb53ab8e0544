package demo

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// row is one line of the before-and-after table.
type row struct{ label, value string }

// observe reads what the response may change about the web instance.
func observe(ctx context.Context, cfg aws.Config, e *emulator.Estate) ([]row, error) {
	ec2c := ec2.NewFromConfig(cfg)
	var rows []row

	out, err := ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{e.Web}})
	if err != nil {
		return nil, fmt.Errorf("reading web instance: %w", err)
	}
	inst := out.Reservations[0].Instances[0]

	enis, err := ec2c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
		NetworkInterfaceIds: e.WebInterfaces,
	})
	if err != nil {
		return nil, fmt.Errorf("reading interfaces: %w", err)
	}
	for _, n := range enis.NetworkInterfaces {
		var groups []string
		for _, g := range n.Groups {
			groups = append(groups, aws.ToString(g.GroupName))
		}
		rows = append(rows, row{"groups of " + aws.ToString(n.NetworkInterfaceId), strings.Join(groups, ", ")})
	}

	attrs, err := attributes(ctx, ec2c, e.Web)
	if err != nil {
		return nil, err
	}
	rows = append(rows, attrs...)

	for _, m := range inst.BlockDeviceMappings {
		rows = append(rows, row{aws.ToString(m.Ebs.VolumeId) + " deleted on termination",
			fmt.Sprint(aws.ToBool(m.Ebs.DeleteOnTermination))})
	}

	more, err := surroundings(ctx, cfg, e)
	if err != nil {
		return nil, err
	}
	rows = append(rows, more...)

	return append(rows, responderTags(inst.Tags)...), nil
}

func attributes(ctx context.Context, ec2c *ec2.Client, id string) ([]row, error) {
	term, err := ec2c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{
		InstanceId: aws.String(id), Attribute: ec2types.InstanceAttributeNameDisableApiTermination,
	})
	if err != nil {
		return nil, fmt.Errorf("reading termination protection: %w", err)
	}
	shut, err := ec2c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{
		InstanceId: aws.String(id), Attribute: ec2types.InstanceAttributeNameInstanceInitiatedShutdownBehavior,
	})
	if err != nil {
		return nil, fmt.Errorf("reading shutdown behaviour: %w", err)
	}

	return []row{
		{"termination protection", fmt.Sprint(aws.ToBool(term.DisableApiTermination.Value))},
		{"shutdown behaviour", aws.ToString(shut.InstanceInitiatedShutdownBehavior.Value)},
	}, nil
}

// surroundings reads snapshots, Auto Scaling, target group and profile.
func surroundings(ctx context.Context, cfg aws.Config, e *emulator.Estate) ([]row, error) {
	ec2c := ec2.NewFromConfig(cfg)
	snaps, err := ec2c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{
			{Name: aws.String("tag:guardduty-response:instance-id"), Values: []string{e.Web}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("reading snapshots: %w", err)
	}
	var ids []string
	for _, s := range snaps.Snapshots {
		ids = append(ids, aws.ToString(s.SnapshotId)+" of "+aws.ToString(s.VolumeId))
	}

	asg, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingInstances(ctx,
		&autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{e.Web}})
	if err != nil {
		return nil, fmt.Errorf("reading auto scaling: %w", err)
	}
	group := "none"
	if len(asg.AutoScalingInstances) > 0 {
		group = aws.ToString(asg.AutoScalingInstances[0].AutoScalingGroupName)
	}

	health, err := elb.NewFromConfig(cfg).DescribeTargetHealth(ctx,
		&elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(e.TargetGroupARN)})
	if err != nil {
		return nil, fmt.Errorf("reading target group: %w", err)
	}
	registered := "no"
	for _, h := range health.TargetHealthDescriptions {
		if aws.ToString(h.Target.Id) == e.Web {
			registered = "yes"
		}
	}

	profile, err := ec2c.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{
		Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: []string{e.Web}}},
	})
	if err != nil {
		return nil, fmt.Errorf("reading instance profile: %w", err)
	}
	associated := "none"
	for _, a := range profile.IamInstanceProfileAssociations {
		if a.State == ec2types.IamInstanceProfileAssociationStateAssociated {
			associated = aws.ToString(a.IamInstanceProfile.Arn)
		}
	}

	return []row{
		{"evidence snapshots", orNone(strings.Join(ids, ", "))},
		{"auto scaling group", group},
		{"registered in target group web", registered},
		{"instance profile", associated},
	}, nil
}

func responderTags(tags []ec2types.Tag) []row {
	var rows []row
	for _, t := range tags {
		if key := aws.ToString(t.Key); strings.HasPrefix(key, "guardduty-response:") {
			rows = append(rows, row{"tag " + key, aws.ToString(t.Value)})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].label < rows[j].label })

	return rows
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}

	return s
}

// printer writes the demo's story.
type printer struct{ out io.Writer }

func (p *printer) title(s string) { fmt.Fprintf(p.out, "\n== %s\n", s) }

func (p *printer) line(format string, args ...any) { fmt.Fprintf(p.out, format+"\n", args...) }

// compare prints each row's value before and after, marking what changed.
func (p *printer) compare(before, after []row) {
	was := map[string]string{}
	for _, r := range before {
		was[r.label] = r.value
	}

	fmt.Fprintf(p.out, "%-2s%-56s %-28s %s\n", "", "", "BEFORE", "AFTER")
	for _, r := range after {
		mark := ""
		if was[r.label] != r.value {
			mark = "*"
		}
		old, ok := was[r.label]
		if !ok {
			old = "-"
		}
		fmt.Fprintf(p.out, "%-2s%-56s %-28s %s\n", mark, r.label, old, r.value)
	}
}

func (p *printer) notifications(ctx context.Context, inbox *emulator.Inbox, invokeErr error) error {
	all, err := inbox.Drain(ctx)
	if err != nil {
		return err
	}

	p.title(fmt.Sprintf("Notifications sent to the security team (%d)", len(all)))
	for _, n := range all {
		p.line("Subject: %s\n\n%s", n.Subject, n.Message)
	}
	if invokeErr != nil {
		return fmt.Errorf("the handler reported an error: %w", invokeErr)
	}
	if len(all) != 1 {
		return fmt.Errorf("expected one notification, got %d", len(all))
	}

	return nil
}

// evidence lists the records the response left in the evidence bucket.
func (p *printer) evidence(ctx context.Context, cfg aws.Config) error {
	out, err := emulator.S3(cfg).ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: aws.String(emulator.EvidenceBucket),
	})
	if err != nil {
		return fmt.Errorf("listing evidence records: %w", err)
	}

	p.title(fmt.Sprintf("Evidence records in s3://%s (%d)", emulator.EvidenceBucket, len(out.Contents)))
	for _, o := range out.Contents {
		p.line("%s (%d bytes)", aws.ToString(o.Key), aws.ToInt64(o.Size))
	}
	if len(out.Contents) != 1 {
		return fmt.Errorf("expected one evidence record, got %d", len(out.Contents))
	}
	p.line("check the chain with: go run ./handler/cmd/verify -bucket BUCKET -instance ID -account ACCOUNT")

	return nil
}

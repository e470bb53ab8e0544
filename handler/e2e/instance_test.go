package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

func TestQuarantinesInstanceWithTwoInterfacesAndTwoVolumes(t *testing.T) {
	w := newWorld(t)
	e := w.estate

	w.mustInvoke(suite.fn, w.finding(e.Web))

	for eni, groups := range w.interfaceGroups(e.WebInterfaces...) {
		if !slices.Equal(groups, []string{e.IsolationA}) {
			t.Errorf("%s in %v, want only the isolation group %s", eni, groups, e.IsolationA)
		}
		if got := w.tags(eni)["guardduty-response:original-groups"]; got != e.AppGroupA {
			t.Errorf("%s original groups recorded as %q, want %q", eni, got, e.AppGroupA)
		}
	}

	w.checkEvidenceProtected(e.Web)
	w.checkSnapshotSet(e.Web, e.WebVolumes)
	w.checkDetached()

	tags := w.tags(e.Web)
	if tags["guardduty-response:status"] != "quarantined" {
		t.Errorf("status tag %q, want quarantined", tags["guardduty-response:status"])
	}
	if tags["guardduty-response:finding-id"] != "92c1a1d65b221e96d6a6fae27aaaae43" {
		t.Errorf("finding-id tag %q", tags["guardduty-response:finding-id"])
	}
	if tags["guardduty-response:original-asg"] != e.AutoScalingGroup {
		t.Errorf("original-asg tag %q, want %q", tags["guardduty-response:original-asg"], e.AutoScalingGroup)
	}

	n, r := w.onlyNotification()
	if !strings.Contains(n.Subject, "CONTAINED") || !strings.Contains(n.Subject, e.Web) {
		t.Errorf("subject %q does not say the instance was contained", n.Subject)
	}
	if r.Outcome != "contained" {
		t.Errorf("outcome %q, want contained", r.Outcome)
	}
	for _, s := range r.Steps {
		if s.Status == "failed" {
			t.Errorf("step %s %s failed: %s", s.Action, s.Target, s.Error)
		}
		if s.Status == "done" && len(s.RequestIDs) == 0 {
			t.Errorf("step %s %s done without an AWS request id", s.Action, s.Target)
		}
	}
}

func (w *world) checkEvidenceProtected(id string) {
	w.t.Helper()
	termination := w.attribute(id, ec2types.InstanceAttributeNameDisableApiTermination)
	if !aws.ToBool(termination.DisableApiTermination.Value) {
		w.t.Error("termination protection is off")
	}
	v := w.attribute(id, ec2types.InstanceAttributeNameInstanceInitiatedShutdownBehavior)
	if got := aws.ToString(v.InstanceInitiatedShutdownBehavior.Value); got != "stop" {
		w.t.Errorf("shutdown behaviour %q, want stop", got)
	}
	for _, m := range w.instance(id).BlockDeviceMappings {
		if aws.ToBool(m.Ebs.DeleteOnTermination) {
			w.t.Errorf("volume %s still deleted on termination", aws.ToString(m.Ebs.VolumeId))
		}
	}
}

// checkSnapshotSet checks that there is exactly one snapshot of each volume.
func (w *world) checkSnapshotSet(id string, volumes []string) {
	w.t.Helper()
	var snapped []string
	for _, s := range w.snapshots(id) {
		snapped = append(snapped, aws.ToString(s.VolumeId))
		tags := map[string]string{}
		for _, tag := range s.Tags {
			tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		if tags["guardduty-response:finding-id"] == "" || tags["guardduty-response:finding-type"] == "" {
			w.t.Errorf("snapshot %s lacks finding tags: %v", aws.ToString(s.SnapshotId), tags)
		}
	}
	slices.Sort(snapped)
	want := slices.Sorted(slices.Values(volumes))
	if !slices.Equal(snapped, want) {
		w.t.Errorf("snapshots of volumes %v, want one of each of %v", snapped, want)
	}
}

// checkDetached checks that the web instance left its Auto Scaling group
// without lowering its capacity, its target group and its instance profile.
func (w *world) checkDetached() {
	w.t.Helper()
	e := w.estate

	groups, err := w.asg.DescribeAutoScalingGroups(w.ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		AutoScalingGroupNames: []string{e.AutoScalingGroup},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	g := groups.AutoScalingGroups[0]
	for _, i := range g.Instances {
		if aws.ToString(i.InstanceId) == e.Web {
			w.t.Errorf("%s is still in %s", e.Web, e.AutoScalingGroup)
		}
	}
	if aws.ToInt32(g.DesiredCapacity) != 1 {
		w.t.Errorf("desired capacity %d, want 1 (kept after detaching)", aws.ToInt32(g.DesiredCapacity))
	}

	health, err := w.elb.DescribeTargetHealth(w.ctx, &elb.DescribeTargetHealthInput{
		TargetGroupArn: aws.String(e.TargetGroupARN),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, h := range health.TargetHealthDescriptions {
		if aws.ToString(h.Target.Id) == e.Web {
			w.t.Errorf("%s still registered in the target group", e.Web)
		}
	}

	assoc, err := w.ec2.DescribeIamInstanceProfileAssociations(w.ctx,
		&ec2.DescribeIamInstanceProfileAssociationsInput{
			Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: []string{e.Web}}},
		})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, a := range assoc.IamInstanceProfileAssociations {
		if a.State == ec2types.IamInstanceProfileAssociationStateAssociated {
			w.t.Errorf("instance profile still associated: %s", aws.ToString(a.AssociationId))
		}
	}
}

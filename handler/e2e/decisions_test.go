package e2e

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

func TestCreatesQuarantineGroupsInVPCWithoutThem(t *testing.T) {
	w := newWorld(t)
	e := w.estate

	w.mustInvoke(suite.fn, w.finding(e.Worker))

	iso, tr := w.quarantineGroups(e.VPCB)
	if len(iso.IpPermissions) != 0 || len(iso.IpPermissionsEgress) != 0 {
		t.Errorf("new isolation group has rules: in %v, out %v", iso.IpPermissions, iso.IpPermissionsEgress)
	}
	if !allowsAll(tr.IpPermissions) || !allowsAll(tr.IpPermissionsEgress) {
		t.Errorf("new transition group does not allow all traffic: in %v, out %v",
			tr.IpPermissions, tr.IpPermissionsEgress)
	}

	eni := aws.ToString(w.instance(e.Worker).NetworkInterfaces[0].NetworkInterfaceId)
	if got := w.interfaceGroups(eni)[eni]; !slices.Equal(got, []string{aws.ToString(iso.GroupId)}) {
		t.Errorf("worker interface in %v, want VPC B's isolation group %s", got, aws.ToString(iso.GroupId))
	}

	// VPC A's groups are not touched, and the web instance is left alone.
	if isoA, _ := w.quarantineGroups(e.VPCA); aws.ToString(isoA.GroupId) != e.IsolationA {
		t.Errorf("VPC A isolation group changed to %s", aws.ToString(isoA.GroupId))
	}
	w.checkUntouched(e.Web, e.WebInterfaces, e.AppGroupA)
}

func TestRedeliveredAndUpdatedFindingChangesNothingMore(t *testing.T) {
	w := newWorld(t)
	e := w.estate
	f := w.finding(e.Web)

	w.mustInvoke(suite.fn, f)
	w.mustInvoke(suite.fn, f)
	service := f["service"].(map[string]any)
	service["count"] = service["count"].(float64) + 1
	f["updatedAt"] = "2099-01-01T00:00:00Z"
	w.mustInvoke(suite.fn, f)

	if n := w.notifications(); len(n) != 1 {
		t.Errorf("got %d notifications for one response, want 1", len(n))
	}
	w.checkSnapshotSet(e.Web, e.WebVolumes)
}

func TestSecondFindingForQuarantinedInstanceDoesNothing(t *testing.T) {
	w := newWorld(t)
	e := w.estate

	w.mustInvoke(suite.fn, w.finding(e.Web))
	other := w.finding(e.Web)
	other["id"] = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"
	w.mustInvoke(suite.fn, other)

	if n := w.notifications(); len(n) != 1 {
		t.Errorf("got %d notifications, want 1", len(n))
	}
	w.checkSnapshotSet(e.Web, e.WebVolumes)
	if got := w.tags(e.Web)["guardduty-response:finding-id"]; got != "92c1a1d65b221e96d6a6fae27aaaae43" {
		t.Errorf("finding-id tag rewritten to %q", got)
	}
}

func TestLeavesInstanceAloneAndSaysWhy(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(w *world) map[string]any // returns the finding to send
		fn      func() *emulator.Function
		outcome string
		reason  string
	}{
		{
			name: "sample flag on a real instance",
			setup: func(w *world) map[string]any {
				f := w.finding(w.estate.Web)
				f["service"].(map[string]any)["additionalInfo"] = map[string]any{"sample": true}
				return f
			},
			fn: func() *emulator.Function { return suite.fn }, outcome: "dry-run", reason: "sample",
		},
		{
			name: "GuardDuty sample finding",
			setup: func(w *world) map[string]any {
				f := w.fixture(emulator.SampleInstanceFinding)
				f["accountId"], f["region"] = emulator.DefaultAccount, emulator.Region
				return f
			},
			fn: func() *emulator.Function { return suite.fn }, outcome: "dry-run", reason: "sample",
		},
		{
			name: "protected instance",
			setup: func(w *world) map[string]any {
				w.tag(w.estate.Web, "guardduty-response:protected", "true")
				return w.finding(w.estate.Web)
			},
			fn: func() *emulator.Function { return suite.fn }, outcome: "not-acted", reason: "protected",
		},
		{
			name:    "dry-run mode",
			setup:   func(w *world) map[string]any { return w.finding(w.estate.Web) },
			fn:      func() *emulator.Function { return suite.dryRun },
			outcome: "dry-run",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			e := w.estate
			f := tt.setup(w)

			w.mustInvoke(tt.fn(), f)

			w.checkUntouched(e.Web, e.WebInterfaces, e.AppGroupA)
			_, r := w.onlyNotification()
			if r.Outcome != tt.outcome || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("outcome %q, reason %q; want %q and a reason naming %q",
					r.Outcome, r.Reason, tt.outcome, tt.reason)
			}
			if tt.outcome == "dry-run" && !hasStatus(r, "planned") {
				t.Errorf("dry run reports no planned step: %+v", r.Steps)
			}
		})
	}
}

func TestTerminatedInstanceIsReportedNotAnError(t *testing.T) {
	w := newWorld(t)
	e := w.estate
	if _, err := w.ec2.TerminateInstances(w.ctx, &ec2.TerminateInstancesInput{
		InstanceIds: []string{e.Worker},
	}); err != nil {
		t.Fatal(err)
	}

	w.mustInvoke(suite.fn, w.finding(e.Worker))

	_, r := w.onlyNotification()
	if r.Outcome != "not-acted" || !strings.Contains(r.Reason, "no longer exists") {
		t.Errorf("outcome %q, reason %q; want not-acted, no longer exists", r.Outcome, r.Reason)
	}
	if len(w.snapshots(e.Worker)) != 0 {
		t.Error("snapshots taken of a terminated instance")
	}
}

func TestUnknownResourceTypeIsNotifiedOnly(t *testing.T) {
	w := newWorld(t)
	e := w.estate
	f := w.fixture(emulator.SampleS3Finding)
	f["service"].(map[string]any)["additionalInfo"] = map[string]any{}
	// An S3 finding carrying an instance block must still not touch it.
	f["resource"].(map[string]any)["instanceDetails"] = map[string]any{"instanceId": e.Web}

	w.mustInvoke(suite.fn, f)

	_, r := w.onlyNotification()
	if r.Outcome != "not-acted" || !strings.Contains(r.Reason, "S3Bucket") {
		t.Errorf("outcome %q, reason %q; want not-acted naming S3Bucket", r.Outcome, r.Reason)
	}
	w.checkUntouched(e.Web, e.WebInterfaces, e.AppGroupA)
}

func TestRefusesEventsThatAreNotFindings(t *testing.T) {
	w := newWorld(t)
	e := w.estate

	err := suite.fn.Invoke(w.ctx, []byte(`{"source":"aws.ec2","detail-type":"GuardDuty Finding",`+
		`"detail":{"id":"x","resource":{"resourceType":"Instance","instanceDetails":{"instanceId":"`+e.Web+`"}}}}`))
	var fnErr *emulator.InvokeError
	if !errors.As(err, &fnErr) || !strings.Contains(fnErr.Message, "not a GuardDuty finding") {
		t.Errorf("got %v, want a function error saying it is not a GuardDuty finding", err)
	}

	w.checkUntouched(e.Web, e.WebInterfaces, e.AppGroupA)
	if n := w.notifications(); len(n) != 0 {
		t.Errorf("got %d notifications for a refused event", len(n))
	}
}

// checkUntouched checks that an instance kept its groups, protection
// settings, snapshots, and tags.
func (w *world) checkUntouched(id string, interfaces []string, group string) {
	w.t.Helper()
	for eni, groups := range w.interfaceGroups(interfaces...) {
		if !slices.Equal(groups, []string{group}) {
			w.t.Errorf("%s moved to %v", eni, groups)
		}
	}
	if n := len(w.snapshots(id)); n != 0 {
		w.t.Errorf("%d snapshots taken", n)
	}
	termination := w.attribute(id, ec2types.InstanceAttributeNameDisableApiTermination)
	if aws.ToBool(termination.DisableApiTermination.Value) {
		w.t.Error("termination protection turned on")
	}
	if status := w.tags(id)["guardduty-response:status"]; status != "" {
		w.t.Errorf("status tag set to %q", status)
	}
}

func (w *world) fixture(name string) map[string]any {
	w.t.Helper()
	f, err := emulator.LoadFinding(name)
	if err != nil {
		w.t.Fatal(err)
	}

	return f
}

func (w *world) tag(id, key, value string) {
	w.t.Helper()
	if _, err := w.ec2.CreateTags(w.ctx, &ec2.CreateTagsInput{
		Resources: []string{id},
		Tags:      []ec2types.Tag{{Key: aws.String(key), Value: aws.String(value)}},
	}); err != nil {
		w.t.Fatal(err)
	}
}

// quarantineGroups returns a VPC's isolation and transition groups.
func (w *world) quarantineGroups(vpc string) (iso, tr ec2types.SecurityGroup) {
	w.t.Helper()
	out, err := w.ec2.DescribeSecurityGroups(w.ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{vpc}},
			{Name: aws.String("tag-key"), Values: []string{"guardduty-response:quarantine"}},
		},
	})
	if err != nil {
		w.t.Fatal(err)
	}

	for _, g := range out.SecurityGroups {
		switch aws.ToString(g.GroupName) {
		case "guardduty-response-isolation":
			iso = g
		case "guardduty-response-transition":
			tr = g
		}
	}
	if iso.GroupId == nil || tr.GroupId == nil {
		w.t.Fatalf("VPC %s lacks quarantine groups: %d found", vpc, len(out.SecurityGroups))
	}

	return iso, tr
}

// allowsAll reports whether rules let every protocol through for IPv4 and IPv6.
func allowsAll(rules []ec2types.IpPermission) bool {
	v4, v6 := false, false
	for _, r := range rules {
		if aws.ToString(r.IpProtocol) != "-1" {
			continue
		}
		for _, ip := range r.IpRanges {
			v4 = v4 || aws.ToString(ip.CidrIp) == "0.0.0.0/0"
		}
		for _, ip := range r.Ipv6Ranges {
			v6 = v6 || aws.ToString(ip.CidrIpv6) == "::/0"
		}
	}

	return v4 && v6
}

func hasStatus(r report, status string) bool {
	for _, s := range r.Steps {
		if s.Status == status {
			return true
		}
	}

	return false
}

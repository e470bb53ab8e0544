package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// world is one test's view of a freshly reset emulator with the estate built.
type world struct {
	t      testing.TB
	ctx    context.Context
	estate *emulator.Estate
	inbox  *emulator.Inbox
	ec2    *ec2.Client
	asg    *autoscaling.Client
	elb    *elb.Client
}

func newWorld(t testing.TB) *world {
	t.Helper()
	ctx := t.Context()

	resetEmulator(t)
	cfg := suite.moto.Config(emulator.TestAccessKey, emulator.TestSecretKey)

	estate, err := emulator.BuildEstate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := emulator.NewInbox(ctx, cfg, topicName)
	if err != nil {
		t.Fatal(err)
	}
	if err := emulator.CreateLeaseTable(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	return &world{t: t, ctx: ctx, estate: estate, inbox: inbox,
		ec2: ec2.NewFromConfig(cfg), asg: autoscaling.NewFromConfig(cfg), elb: elb.NewFromConfig(cfg)}
}

// finding is the real instance finding naming instanceID.
func (w *world) finding(instanceID string) map[string]any {
	w.t.Helper()
	f, err := emulator.InstanceFinding(instanceID, emulator.DefaultAccount)
	if err != nil {
		w.t.Fatal(err)
	}

	return f
}

// invoke posts the finding to fn and returns the function's error.
func (w *world) invoke(fn *emulator.Function, finding map[string]any) error {
	w.t.Helper()
	event, err := emulator.Event(finding)
	if err != nil {
		w.t.Fatal(err)
	}

	return fn.Invoke(w.ctx, event)
}

// mustInvoke posts the finding and fails the test on a function error.
func (w *world) mustInvoke(fn *emulator.Function, finding map[string]any) {
	w.t.Helper()
	if err := w.invoke(fn, finding); err != nil {
		w.t.Fatalf("invoke: %v\nlogs:\n%s", err, tail(fn.Logs(), 4000))
	}
}

func (w *world) instance(id string) ec2types.Instance {
	w.t.Helper()
	out, err := w.ec2.DescribeInstances(w.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		w.t.Fatal(err)
	}

	return out.Reservations[0].Instances[0]
}

func (w *world) tags(id string) map[string]string {
	w.t.Helper()
	out, err := w.ec2.DescribeTags(w.ctx, &ec2.DescribeTagsInput{
		Filters: []ec2types.Filter{{Name: aws.String("resource-id"), Values: []string{id}}},
	})
	if err != nil {
		w.t.Fatal(err)
	}

	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}

	return tags
}

// interfaceGroups returns each interface's security groups, sorted.
func (w *world) interfaceGroups(ids ...string) map[string][]string {
	w.t.Helper()
	out, err := w.ec2.DescribeNetworkInterfaces(w.ctx, &ec2.DescribeNetworkInterfacesInput{
		NetworkInterfaceIds: ids,
	})
	if err != nil {
		w.t.Fatal(err)
	}

	groups := map[string][]string{}
	for _, n := range out.NetworkInterfaces {
		var ids []string
		for _, g := range n.Groups {
			ids = append(ids, aws.ToString(g.GroupId))
		}
		slices.Sort(ids)
		groups[aws.ToString(n.NetworkInterfaceId)] = ids
	}

	return groups
}

// snapshots returns the responder's snapshots of an instance.
func (w *world) snapshots(instanceID string) []ec2types.Snapshot {
	w.t.Helper()
	out, err := w.ec2.DescribeSnapshots(w.ctx, &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters: []ec2types.Filter{
			{Name: aws.String("tag:guardduty-response:instance-id"), Values: []string{instanceID}},
		},
	})
	if err != nil {
		w.t.Fatal(err)
	}

	return out.Snapshots
}

func (w *world) attribute(id string, name ec2types.InstanceAttributeName) *ec2.DescribeInstanceAttributeOutput {
	w.t.Helper()
	out, err := w.ec2.DescribeInstanceAttribute(w.ctx, &ec2.DescribeInstanceAttributeInput{
		InstanceId: aws.String(id), Attribute: name,
	})
	if err != nil {
		w.t.Fatal(err)
	}

	return out
}

// notifications drains the inbox.
func (w *world) notifications() []emulator.Notification {
	w.t.Helper()
	n, err := w.inbox.Drain(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}

	return n
}

// report is the JSON block of a notification.
type report struct {
	Finding struct {
		ID     string `json:"id"`
		Sample bool   `json:"sample"`
	} `json:"finding"`
	Resource string `json:"resource"`
	Outcome  string `json:"outcome"`
	Reason   string `json:"reason"`
	Steps    []struct {
		Action     string   `json:"action"`
		Target     string   `json:"target"`
		Status     string   `json:"status"`
		Detail     string   `json:"detail"`
		Error      string   `json:"error"`
		RequestIDs []string `json:"requestIds"`
	} `json:"steps"`
}

// decodeReport reads the JSON block of a notification.
func decodeReport(n emulator.Notification) (report, bool) {
	var r report
	_, block, ok := strings.Cut(n.Message, "--- JSON ---\n")
	if !ok || json.Unmarshal([]byte(block), &r) != nil {
		return r, false
	}

	return r, true
}

// onlyNotification checks that exactly one notification arrived, with a
// subject SNS accepts, and returns its JSON report.
func (w *world) onlyNotification() (emulator.Notification, report) {
	w.t.Helper()
	all := w.notifications()
	if len(all) != 1 {
		w.t.Fatalf("got %d notifications, want 1: %+v", len(all), all)
	}

	n := all[0]
	if len(n.Subject) >= 100 || strings.ContainsAny(n.Subject, "\r\n") {
		w.t.Errorf("subject SNS would refuse: %q", n.Subject)
	}
	_, block, ok := strings.Cut(n.Message, "--- JSON ---\n")
	if !ok {
		w.t.Fatalf("no JSON block in message:\n%s", n.Message)
	}

	var r report
	if err := json.Unmarshal([]byte(block), &r); err != nil {
		w.t.Fatalf("decoding JSON block: %v\n%s", err, block)
	}

	return n, r
}

// tail returns the end of long logs.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}

	return "…" + s[len(s)-n:]
}

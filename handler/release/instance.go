package release

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/guardduty-response/guardduty-response/handler/account"
	"github.com/guardduty-response/guardduty-response/handler/evidence"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

// Step actions of an instance release.
const (
	actionGroups      = "restore security groups"
	actionProfile     = "associate instance profile"
	actionTermination = "disable termination protection"
	actionShutdown    = "restore shutdown behaviour"
	actionVolumes     = "delete volumes on termination again"
	actionAttachASG   = "attach to auto scaling group"
	actionMark        = "mark released"
)

var (
	instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)
	groupIDPattern    = regexp.MustCompile(`^sg-[0-9a-f]{8}([0-9a-f]{9})?$`)
)

// InstanceView is what a release read of an instance before acting.
type InstanceView struct {
	InstanceID            string                 `json:"instanceId"`
	State                 string                 `json:"state"`
	Tags                  map[string]string      `json:"tags"`
	Interfaces            []InterfaceView        `json:"networkInterfaces"`
	Volumes               []playbook.VolumeState `json:"volumes"`
	AutoScalingGroup      string                 `json:"autoScalingGroup,omitempty"`
	InstanceProfileARN    string                 `json:"instanceProfileArn,omitempty"`
	TerminationProtection bool                   `json:"terminationProtection"`
	ShutdownBehavior      string                 `json:"shutdownBehavior"`
}

// InterfaceView is one network interface as the release read it.
type InterfaceView struct {
	ID     string            `json:"id"`
	Groups []string          `json:"groups"`
	Tags   map[string]string `json:"tags,omitempty"`
	// Quarantined is set when one of its groups is a quarantine group.
	Quarantined bool `json:"quarantined"`
}

// instanceRelease plans the release of one instance.
type instanceRelease struct {
	clients *account.Clients
	id      string
	opts    Options
	view    InstanceView
	plan    *Plan
}

// Instance plans the release of an EC2 instance the responder quarantined,
// from the tags the response left and, for what tags do not hold, the
// instance's evidence history. It refuses an instance that carries no
// quarantine of the responder's. Nothing is changed until the plan is
// applied.
func Instance(ctx context.Context, clients *account.Clients, history []evidence.Record,
	id string, opts Options) (*Plan, error) {
	if !instanceIDPattern.MatchString(id) {
		return nil, fmt.Errorf("releasing instance: %q is not an instance id", id)
	}

	r := &instanceRelease{clients: clients, id: id, opts: opts}
	if err := r.read(ctx); err != nil {
		return nil, fmt.Errorf("releasing instance %s: %w", id, err)
	}

	r.plan = &Plan{
		Resource:  "instance " + id,
		Subject:   evidence.InstanceSubject(clients.AccountID, clients.Region, id),
		Account:   clients.AccountID,
		Region:    clients.Region,
		FindingID: r.view.Tags[playbook.TagFindingID],
		State:     r.view,
	}
	done, err := r.checkQuarantined()
	if err != nil {
		return nil, err
	}
	if done {
		return r.plan, nil
	}
	if err := r.planChanges(ctx, since(history)); err != nil {
		return nil, fmt.Errorf("releasing instance %s: %w", id, err)
	}

	return r.plan, nil
}

// checkQuarantined refuses an instance the responder did not quarantine; an
// instance already released, or gone, needs nothing.
func (r *instanceRelease) checkQuarantined() (done bool, err error) {
	status := r.view.Tags[playbook.TagStatus]
	switch {
	case r.view.State == string(ec2types.InstanceStateNameTerminated):
		r.plan.note("the instance is terminated")
		return true, nil
	case status == playbook.StatusReleased:
		r.plan.note("already released (%s)", r.view.Tags[playbook.TagTime])
		return true, nil
	case status == playbook.StatusQuarantining:
		r.plan.note("the response did not finish (status %s): what it recorded is undone",
			status)
	case status != playbook.StatusQuarantined:
		return false, fmt.Errorf("releasing instance %s: %w: its %s tag is %q", r.id,
			ErrNotQuarantined, playbook.TagStatus, status)
	}

	return false, nil
}

// planChanges adds the steps in the order they run: what protects and
// identifies the instance first, then the network, then Auto Scaling, which
// health-checks it, and last the marking.
func (r *instanceRelease) planChanges(ctx context.Context, history []evidence.Record) error {
	r.planProfile()
	r.planTermination()
	r.planShutdown()
	r.planVolumes(stateBefore(history))
	if err := r.planInterfaces(); err != nil {
		return err
	}
	if err := r.planAutoScaling(ctx); err != nil {
		return err
	}
	r.planMark()
	r.noteKept(ctx, history)

	return nil
}

func (r *instanceRelease) planProfile() {
	original := r.view.Tags[playbook.TagOriginalProfile]
	current := r.view.InstanceProfileARN
	switch {
	case original == "" || original == current:
		return
	case current != "":
		r.plan.note("the instance now has instance profile %s; %s, its profile before the "+
			"quarantine, is not put back", current, original)
		return
	}

	in := &ec2.AssociateIamInstanceProfileInput{
		InstanceId:         aws.String(r.id),
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Arn: aws.String(original)},
	}
	r.plan.add(actionProfile, r.id, original, func(ctx context.Context) error {
		_, err := r.clients.EC2.AssociateIamInstanceProfile(ctx, in)
		return err
	})
}

func (r *instanceRelease) planTermination() {
	original, recorded := r.view.Tags[playbook.TagOriginalTermination]
	switch {
	case !recorded:
		if r.view.TerminationProtection {
			r.plan.note("termination protection stays on: its setting before the quarantine " +
				"was not recorded")
		}
		return
	case original == "true" || !r.view.TerminationProtection:
		return
	}

	r.plan.add(actionTermination, r.id, "off before the quarantine",
		r.modify(&ec2.ModifyInstanceAttributeInput{
			DisableApiTermination: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)},
		}))
}

func (r *instanceRelease) planShutdown() {
	original := r.view.Tags[playbook.TagOriginalShutdown]
	switch original {
	case "", r.view.ShutdownBehavior:
		return
	case string(ec2types.ShutdownBehaviorStop), string(ec2types.ShutdownBehaviorTerminate):
	default:
		r.plan.note("shutdown behaviour left as %s: the recorded original %q is not one EC2 "+
			"accepts", r.view.ShutdownBehavior, original)
		return
	}

	behaviour := &ec2types.AttributeValue{Value: aws.String(original)}
	r.plan.add(actionShutdown, r.id, r.view.ShutdownBehavior+" to "+original,
		r.modify(&ec2.ModifyInstanceAttributeInput{InstanceInitiatedShutdownBehavior: behaviour}))
}

// planVolumes deletes again, on termination, the volumes that were deleted
// on termination before the response kept them. Tags do not record this;
// the response's evidence record holds the instance as it was.
func (r *instanceRelease) planVolumes(before *playbook.InstanceState) {
	kept := map[string]bool{}
	for _, v := range r.view.Volumes {
		kept[v.ID] = !v.DeleteOnTermination
	}

	if before == nil {
		for _, k := range kept {
			if k {
				r.plan.note("volumes are kept on termination: no evidence record shows how " +
					"they were set before the quarantine")
				return
			}
		}
		return
	}

	var devices []ec2types.InstanceBlockDeviceMappingSpecification
	var volumes []string
	for _, v := range before.Volumes {
		if v.DeleteOnTermination && kept[v.ID] {
			ebs := &ec2types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(true)}
			devices = append(devices, ec2types.InstanceBlockDeviceMappingSpecification{
				DeviceName: aws.String(v.Device), Ebs: ebs,
			})
			volumes = append(volumes, v.ID)
		}
	}
	if len(devices) == 0 {
		return
	}

	r.plan.add(actionVolumes, r.id, strings.Join(volumes, " "),
		r.modify(&ec2.ModifyInstanceAttributeInput{BlockDeviceMappings: devices}))
}

// planInterfaces puts each interface back in the groups recorded on it. An
// interface in a quarantine group with no record of its groups stops the
// release: only a person knows where it belongs.
func (r *instanceRelease) planInterfaces() error {
	for _, eni := range r.view.Interfaces {
		original, err := originalGroups(eni.Tags)
		switch {
		case err != nil:
			return fmt.Errorf("interface %s: %w", eni.ID, err)
		case len(original) == 0 && eni.Quarantined:
			return fmt.Errorf("interface %s is in quarantine groups %s with no record of its "+
				"own; set its groups by hand, then run release again", eni.ID,
				strings.Join(eni.Groups, " "))
		case len(original) == 0 || slices.Equal(original, eni.Groups):
			continue
		}

		r.plan.add(actionGroups, eni.ID, strings.Join(original, " ")+" (now "+
			strings.Join(eni.Groups, " ")+")", r.setGroups(eni.ID, original))
	}

	return nil
}

// planAutoScaling attaches the instance to the group it was detached from.
func (r *instanceRelease) planAutoScaling(ctx context.Context) error {
	group := r.view.Tags[playbook.TagOriginalASG]
	switch {
	case group == "" || group == r.view.AutoScalingGroup:
		return nil
	case r.view.AutoScalingGroup != "":
		r.plan.note("the instance is now in auto scaling group %s, not %s", r.view.AutoScalingGroup,
			group)
		return nil
	}

	out, err := r.clients.AutoScaling.DescribeAutoScalingGroups(ctx,
		&autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	if err != nil {
		return fmt.Errorf("reading auto scaling group %s: %w", group, err)
	}
	if len(out.AutoScalingGroups) == 0 {
		r.plan.note("auto scaling group %s no longer exists", group)
		return nil
	}

	desired := aws.ToInt32(out.AutoScalingGroups[0].DesiredCapacity)
	detail := fmt.Sprintf("desired capacity %d to %d: lower it once the instance that replaced "+
		"this one is no longer needed", desired, desired+1)
	r.plan.add(actionAttachASG, group, detail, func(ctx context.Context) error {
		_, err := r.clients.AutoScaling.AttachInstances(ctx, &autoscaling.AttachInstancesInput{
			AutoScalingGroupName: aws.String(group), InstanceIds: []string{r.id},
		})
		return err
	})

	return nil
}

// planMark marks the instance released and takes away the tags that
// recorded the quarantine's originals, so that a later quarantine records
// its own. The evidence records keep their values.
func (r *instanceRelease) planMark() {
	r.plan.finally(actionMark, r.id, playbook.TagStatus+"="+playbook.StatusReleased,
		func(ctx context.Context) error {
			tags := map[string]string{
				playbook.TagStatus: playbook.StatusReleased,
				playbook.TagTime:   r.opts.now().Format(time.RFC3339),
			}
			if _, err := r.clients.EC2.CreateTags(ctx, &ec2.CreateTagsInput{
				Resources: []string{r.id}, Tags: ec2Tags(tags),
			}); err != nil {
				return fmt.Errorf("tagging %s released: %w", r.id, err)
			}
			return r.removeOriginals(ctx)
		})
}

func (r *instanceRelease) removeOriginals(ctx context.Context) error {
	untag := map[string][]string{r.id: originalKeys(r.view.Tags, instanceOriginals)}
	for _, eni := range r.view.Interfaces {
		untag[eni.ID] = originalKeys(eni.Tags, []string{playbook.TagOriginalGroups})
	}

	for resource, keys := range untag {
		if len(keys) == 0 {
			continue
		}
		var tags []ec2types.Tag
		for _, k := range keys {
			tags = append(tags, ec2types.Tag{Key: aws.String(k)})
		}
		_, err := r.clients.EC2.DeleteTags(ctx, &ec2.DeleteTagsInput{
			Resources: []string{resource}, Tags: tags,
		})
		if err != nil {
			return fmt.Errorf("removing the quarantine's tags from %s: %w", resource, err)
		}
	}

	return nil
}

// noteKept says what the release leaves: the snapshots, target group
// registrations, and the instance role's revoked sessions.
//
// TODO: target group registrations are not restored, as the response records
// the target groups but not the ports it deregistered; a person registers
// the instance again, guided by the plan.
func (r *instanceRelease) noteKept(ctx context.Context, history []evidence.Record) {
	r.plan.note("the response's snapshots of the instance are kept as evidence")

	for _, rec := range history {
		for _, s := range rec.Steps {
			if s.Action == playbook.ActionDeregister && s.Status == playbook.Done {
				r.plan.note("target group %s: the response deregistered the instance; "+
					"register it again if it should serve traffic", s.Target)
			}
		}
	}

	r.noteRole(ctx)
}

// noteRole points at the instance role when this quarantine revoked its
// sessions: that is released on its own, as the role may serve a fleet.
func (r *instanceRelease) noteRole(ctx context.Context) {
	profile := r.view.Tags[playbook.TagOriginalProfile]
	if profile == "" {
		profile = r.view.InstanceProfileARN
	}
	if profile == "" {
		return
	}

	name := profile[strings.LastIndex(profile, "/")+1:]
	out, err := r.clients.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{
		InstanceProfileName: aws.String(name),
	})
	if err != nil || len(out.InstanceProfile.Roles) == 0 {
		return
	}

	role := out.InstanceProfile.Roles[0]
	tags := iamTagMap(role.Tags)
	if len(tags) == 0 {
		got, err := r.clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: role.RoleName})
		if err != nil {
			return
		}
		tags = iamTagMap(got.Role.Tags)
	}
	if revoked(tags[playbook.TagStatus]) && tags[playbook.TagFindingID] == r.plan.FindingID {
		r.plan.note("the sessions of role %s were revoked for this finding; release it on its "+
			"own (release -role %s) when its old sessions have expired",
			aws.ToString(role.RoleName), aws.ToString(role.RoleName))
	}
}

func (r *instanceRelease) modify(in *ec2.ModifyInstanceAttributeInput) func(context.Context) error {
	return func(ctx context.Context) error {
		in.InstanceId = aws.String(r.id)
		_, err := r.clients.EC2.ModifyInstanceAttribute(ctx, in)
		return err
	}
}

func (r *instanceRelease) setGroups(eniID string, groups []string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := r.clients.EC2.ModifyNetworkInterfaceAttribute(ctx,
			&ec2.ModifyNetworkInterfaceAttributeInput{
				NetworkInterfaceId: aws.String(eniID), Groups: groups,
			})
		return err
	}
}

// instanceOriginals are the tags on an instance that record what a
// quarantine changed.
var instanceOriginals = []string{playbook.TagOriginalASG, playbook.TagOriginalProfile,
	playbook.TagOriginalTermination, playbook.TagOriginalShutdown}

// originalGroups reads the groups recorded on an interface: the
// original-groups tag and its continuations -2, -3, …, space-separated,
// returned sorted. Tags anyone could have written are checked to be group
// ids.
func originalGroups(tags map[string]string) ([]string, error) {
	var joined []string
	for n := 1; ; n++ {
		key := playbook.TagOriginalGroups
		if n > 1 {
			key += "-" + strconv.Itoa(n)
		}
		value, ok := tags[key]
		if !ok {
			break
		}
		joined = append(joined, value)
	}

	groups := strings.Fields(strings.Join(joined, " "))
	for _, g := range groups {
		if !groupIDPattern.MatchString(g) {
			return nil, fmt.Errorf("tag %s holds %q, not a security group id",
				playbook.TagOriginalGroups, g)
		}
	}
	slices.Sort(groups)

	return slices.Compact(groups), nil
}

// originalKeys lists the tag keys among tags that are one of the given keys
// or a numbered continuation of one.
func originalKeys(tags map[string]string, keys []string) []string {
	var out []string
	for k := range tags {
		for _, base := range keys {
			if k == base || strings.HasPrefix(k, base+"-") {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)

	return out
}

// since returns the records since the last complete release: the history
// of the quarantine being released.
func since(history []evidence.Record) []evidence.Record {
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Kind == evidence.KindRelease && history[i].Outcome == Released {
			return history[i+1:]
		}
	}

	return history
}

// stateBefore finds, among a quarantine's records, the last state read
// before the instance was first marked: the instance as it was.
func stateBefore(history []evidence.Record) *playbook.InstanceState {
	var before *playbook.InstanceState
	for _, rec := range history {
		if rec.Kind != evidence.KindResponse || len(rec.State) == 0 {
			continue
		}
		var s playbook.InstanceState
		if json.Unmarshal(rec.State, &s) != nil || !s.Exists {
			continue
		}
		switch s.Tags[playbook.TagStatus] {
		case playbook.StatusQuarantining, playbook.StatusQuarantined:
			return before
		}
		before = &s
	}

	return before
}

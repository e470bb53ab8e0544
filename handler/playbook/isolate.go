package playbook

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// isolate cuts every network interface of the instance off the network.
func (r *instanceResponse) isolate(ctx context.Context) {
	var fns []func()
	for _, eni := range r.live.instance.NetworkInterfaces {
		fns = append(fns, func() { r.isolateInterface(ctx, eni) })
	}
	parallel(fns...)
}

// isolateInterface moves one interface to its VPC's isolation group through
// the all-traffic transition group. Security groups do not cut connections
// they already track; passing through a group that allows everything turns
// them into untracked flows, which the isolation group then drops at once.
func (r *instanceResponse) isolateInterface(ctx context.Context, eni ec2types.InstanceNetworkInterface) {
	eniID := aws.ToString(eni.NetworkInterfaceId)
	current := groupIDs(eni.Groups)

	groups, err := r.groupsFor(ctx, aws.ToString(eni.VpcId))
	if err != nil {
		r.fail(ctx, actionIsolation, eniID, err)
		return
	}

	isolation, transition := aws.ToString(groups.isolation.GroupId), aws.ToString(groups.transition.GroupId)
	if slices.Equal(current, []string{isolation}) {
		r.skip(ctx, actionIsolation, eniID, "already in "+isolation)
		return
	}

	parallel(
		func() { r.recordOriginalGroups(ctx, eniID, current, groups) },
		func() {
			if slices.Equal(current, []string{transition}) {
				r.skip(ctx, actionTransition, eniID, "already in "+transition)
				return
			}
			_ = r.act(ctx, actionTransition, eniID, transition+" (was "+strings.Join(current, " ")+")",
				r.setGroups(eniID, transition))
		},
	)

	// The isolation group goes on even if the transition failed: a tracked
	// connection may survive, but everything new is cut.
	_ = r.act(ctx, actionIsolation, eniID, isolation, r.setGroups(eniID, isolation))
}

// recordOriginalGroups tags the interface with the groups a release restores.
// Groups of the responder's own are never recorded as original.
func (r *instanceResponse) recordOriginalGroups(ctx context.Context, eniID string,
	current []string, groups *vpcGroups) {
	if groups.contains(current) {
		r.skip(ctx, actionRecordGroups, eniID, "interface already in quarantine groups")
		return
	}

	tags := map[string]string{}
	for i, chunk := range chunkJoin(current, " ", maxTagValue) {
		key := TagOriginalGroups
		if i > 0 {
			key = fmt.Sprintf("%s-%d", TagOriginalGroups, i+1)
		}
		tags[key] = chunk
	}

	_ = r.act(ctx, actionRecordGroups, eniID, strings.Join(current, " "),
		func(ctx context.Context) error {
			_, err := r.clients.EC2.CreateTags(ctx, createTagsInput(eniID, tags))
			return err
		})
}

func (r *instanceResponse) setGroups(eniID, group string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := r.clients.EC2.ModifyNetworkInterfaceAttribute(ctx,
			&ec2.ModifyNetworkInterfaceAttributeInput{
				NetworkInterfaceId: aws.String(eniID),
				Groups:             []string{group},
			})
		return err
	}
}

func (g *vpcGroups) contains(ids []string) bool {
	for _, id := range ids {
		if id != aws.ToString(g.isolation.GroupId) && id != aws.ToString(g.transition.GroupId) {
			return false
		}
	}

	return true
}

func groupIDs(groups []ec2types.GroupIdentifier) []string {
	ids := make([]string, 0, len(groups))
	for _, g := range groups {
		ids = append(ids, aws.ToString(g.GroupId))
	}
	slices.Sort(ids)

	return ids
}

// chunkJoin joins items with sep into strings of at most max bytes each.
func chunkJoin(items []string, sep string, max int) []string {
	var chunks []string
	current := ""
	for _, item := range items {
		switch {
		case current == "":
			current = item
		case len(current)+len(sep)+len(item) <= max:
			current += sep + item
		default:
			chunks = append(chunks, current)
			current = item
		}
	}
	if current != "" {
		chunks = append(chunks, current)
	}

	return chunks
}

package playbook

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// allTraffic is every protocol to and from everywhere, IPv4 and IPv6.
var allTraffic = []ec2types.IpPermission{{
	IpProtocol: aws.String("-1"),
	IpRanges:   []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}},
	Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String("::/0")}},
}}

// groupsFor returns the quarantine groups of a VPC: the ones the stack
// deployed, or new ones made the same way when the VPC has none. An isolation
// group that has gained rules is emptied again before it is used.
func (r *instanceResponse) groupsFor(ctx context.Context, vpc string) (*vpcGroups, error) {
	r.groupsMu.Lock()
	defer r.groupsMu.Unlock()

	if g := r.groups[vpc]; g != nil {
		return g, nil
	}
	if r.live.groupsErr != nil {
		return nil, r.live.groupsErr
	}

	g := r.live.groups[vpc]
	if g == nil {
		g = &vpcGroups{}
	}
	if g.isolation.GroupId == nil || g.transition.GroupId == nil {
		if err := r.createGroups(ctx, vpc, g); err != nil {
			return nil, err
		}
	}
	if err := r.emptyIsolationGroup(ctx, g.isolation); err != nil {
		return nil, err
	}

	r.groups[vpc] = g

	return g, nil
}

// createGroups makes whichever of the two groups the VPC lacks.
func (r *instanceResponse) createGroups(ctx context.Context, vpc string, g *vpcGroups) error {
	detail := "in " + vpc
	if r.dryRun {
		_ = r.act(ctx, actionGroups, vpc, detail, nil)
		g.isolation.GroupId = aws.String("new isolation group")
		g.transition.GroupId = aws.String("new transition group")
		return nil
	}

	return r.act(ctx, actionGroups, vpc, detail, func(ctx context.Context) error {
		var isoErr, trErr error
		parallel(
			func() {
				if g.isolation.GroupId == nil {
					g.isolation, isoErr = r.createGroup(ctx, vpc, IsolationGroupName, QuarantineIsolation)
				}
			},
			func() {
				if g.transition.GroupId == nil {
					g.transition, trErr = r.createGroup(ctx, vpc, TransitionGroupName, QuarantineTransition)
				}
			},
		)
		return errors.Join(isoErr, trErr)
	})
}

// createGroup makes one quarantine group, or finds the one that another
// response made at the same moment.
func (r *instanceResponse) createGroup(ctx context.Context, vpc, name, kind string,
) (ec2types.SecurityGroup, error) {
	_, err := r.clients.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:   aws.String(name),
		Description: aws.String("guardduty-response quarantine: " + kind),
		VpcId:       aws.String(vpc),
		TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeSecurityGroup,
			Tags:         ec2Tags(map[string]string{TagQuarantine: kind, "Name": name}),
		}},
	})
	if err != nil && errorCode(err) != "InvalidGroup.Duplicate" {
		return ec2types.SecurityGroup{}, fmt.Errorf("creating %s in %s: %w", name, vpc, err)
	}

	g, err := r.findGroup(ctx, vpc, name)
	if err != nil {
		return g, err
	}
	if kind == QuarantineTransition {
		return g, r.openTransitionGroup(ctx, g)
	}

	return g, nil
}

func (r *instanceResponse) findGroup(ctx context.Context, vpc, name string) (ec2types.SecurityGroup, error) {
	out, err := r.clients.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{vpc}},
			{Name: aws.String("group-name"), Values: []string{name}},
		},
	})
	if err != nil {
		return ec2types.SecurityGroup{}, fmt.Errorf("finding %s in %s: %w", name, vpc, err)
	}
	if len(out.SecurityGroups) != 1 {
		return ec2types.SecurityGroup{}, fmt.Errorf("finding %s in %s: %d groups match",
			name, vpc, len(out.SecurityGroups))
	}

	return out.SecurityGroups[0], nil
}

// openTransitionGroup lets all traffic in and out of a new transition group.
func (r *instanceResponse) openTransitionGroup(ctx context.Context, g ec2types.SecurityGroup) error {
	if len(g.IpPermissions) == 0 {
		_, err := r.clients.EC2.AuthorizeSecurityGroupIngress(ctx,
			&ec2.AuthorizeSecurityGroupIngressInput{GroupId: g.GroupId, IpPermissions: allTraffic})
		if err != nil && errorCode(err) != "InvalidPermission.Duplicate" {
			return fmt.Errorf("opening %s to inbound traffic: %w", aws.ToString(g.GroupId), err)
		}
	}

	_, err := r.clients.EC2.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{
		GroupId: g.GroupId,
		IpPermissions: []ec2types.IpPermission{{
			IpProtocol: aws.String("-1"),
			Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String("::/0")}},
		}},
	})
	if err != nil && errorCode(err) != "InvalidPermission.Duplicate" {
		return fmt.Errorf("opening %s to outbound IPv6: %w", aws.ToString(g.GroupId), err)
	}

	return nil
}

// emptyIsolationGroup removes every rule from the isolation group: the
// default outbound rule of a new group, and anything added since.
func (r *instanceResponse) emptyIsolationGroup(ctx context.Context, g ec2types.SecurityGroup) error {
	if len(g.IpPermissions) == 0 && len(g.IpPermissionsEgress) == 0 {
		return nil
	}

	id := aws.ToString(g.GroupId)
	r.log.WarnContext(ctx, "isolation group has rules; removing them", "group", id)

	return r.act(ctx, "remove rules from isolation group", id, "", func(ctx context.Context) error {
		return r.revokeRules(ctx, g)
	})
}

// revokeRules removes the rules g was read with. A rule already gone means
// that another response, for another instance of the VPC, is emptying the
// group at the same moment: the group must then be found empty.
func (r *instanceResponse) revokeRules(ctx context.Context, g ec2types.SecurityGroup) error {
	id := aws.ToString(g.GroupId)
	var inErr, outErr error
	if len(g.IpPermissions) > 0 {
		in := &ec2.RevokeSecurityGroupIngressInput{GroupId: g.GroupId,
			IpPermissions: g.IpPermissions}
		_, inErr = r.clients.EC2.RevokeSecurityGroupIngress(ctx, in)
	}
	if len(g.IpPermissionsEgress) > 0 {
		out := &ec2.RevokeSecurityGroupEgressInput{GroupId: g.GroupId,
			IpPermissions: g.IpPermissionsEgress}
		_, outErr = r.clients.EC2.RevokeSecurityGroupEgress(ctx, out)
	}

	switch {
	case inErr != nil && errorCode(inErr) != ruleNotFound:
		return fmt.Errorf("revoking inbound rules of %s: %w", id, inErr)
	case outErr != nil && errorCode(outErr) != ruleNotFound:
		return fmt.Errorf("revoking outbound rules of %s: %w", id, outErr)
	case inErr != nil || outErr != nil:
		return r.checkEmpty(ctx, id)
	}

	return nil
}

// ruleNotFound is EC2's error for revoking a rule a group does not have.
const ruleNotFound = "InvalidPermission.NotFound"

// checkEmpty confirms that a security group has no rules left.
func (r *instanceResponse) checkEmpty(ctx context.Context, id string) error {
	out, err := r.clients.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		GroupIds: []string{id},
	})
	if err != nil {
		return fmt.Errorf("reading rules of %s: %w", id, err)
	}
	for _, g := range out.SecurityGroups {
		if len(g.IpPermissions) > 0 || len(g.IpPermissionsEgress) > 0 {
			return fmt.Errorf("isolation group %s still has rules", id)
		}
	}

	return nil
}

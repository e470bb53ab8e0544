package component

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Names and tag of the quarantine groups. The handler looks groups up by
// QuarantineTag and VPC, and creates them with these names when missing.
const (
	IsolationGroupName  = "guardduty-response-isolation"
	TransitionGroupName = "guardduty-response-transition"
	QuarantineTag       = TagPrefix + "quarantine"
)

// QuarantineArgs lists the VPCs that get quarantine groups.
type QuarantineArgs struct {
	VPCIDs []string
	Tags   map[string]string
}

// Quarantine is a pair of security groups in every VPC: an isolation group
// with no rules at all, which cuts an instance off, and a transition group
// that allows all traffic. Security groups do not cut connections they
// already track; an instance moved to the transition group first has its
// connections untracked, so that the isolation group then stops them too.
type Quarantine struct {
	pulumi.ResourceState

	// Groups maps each VPC id to {"isolation": sg-…, "transition": sg-…}.
	Groups pulumi.MapOutput
}

// NewQuarantine creates both groups in every VPC.
func NewQuarantine(ctx *pulumi.Context, name string, args QuarantineArgs,
	opts ...pulumi.ResourceOption,
) (*Quarantine, error) {
	for _, id := range args.VPCIDs {
		if id == "" {
			return nil, fmt.Errorf("quarantine: an empty VPC id")
		}
	}

	q := &Quarantine{}
	if err := ctx.RegisterComponentResourceV2(typeToken("Quarantine"), name, nil, q,
		opts...); err != nil {
		return nil, fmt.Errorf("registering quarantine %s: %w", name, err)
	}

	groups := pulumi.Map{}
	for _, vpc := range args.VPCIDs {
		pair, err := q.pair(ctx, name+"-"+vpc, vpc, args.Tags)
		if err != nil {
			return nil, fmt.Errorf("quarantining VPC %s: %w", vpc, err)
		}
		groups[vpc] = pair
	}
	q.Groups = groups.ToMapOutput()

	if err := ctx.RegisterResourceOutputs(q, pulumi.Map{"groups": q.Groups}); err != nil {
		return nil, fmt.Errorf("registering outputs of quarantine %s: %w", name, err)
	}

	return q, nil
}

// pair creates the two groups of one VPC and returns their ids.
func (q *Quarantine) pair(ctx *pulumi.Context, name, vpc string,
	tags map[string]string,
) (pulumi.Map, error) {
	// Declaring empty rule lists, rather than none, is what makes the
	// provider remove the egress rule AWS adds to every new group.
	isolation, err := ec2.NewSecurityGroup(ctx, name+"-isolation", &ec2.SecurityGroupArgs{
		Name:                pulumi.String(IsolationGroupName),
		Description:         pulumi.String("GuardDuty response: isolates an instance, no traffic"),
		VpcId:               pulumi.String(vpc),
		Ingress:             ec2.SecurityGroupIngressArray{},
		Egress:              ec2.SecurityGroupEgressArray{},
		RevokeRulesOnDelete: pulumi.Bool(true),
		Tags:                withTags(tags, map[string]string{QuarantineTag: "isolation"}),
	}, pulumi.Parent(q))
	if err != nil {
		return nil, fmt.Errorf("creating isolation group: %w", err)
	}

	transition, err := ec2.NewSecurityGroup(ctx, name+"-transition", &ec2.SecurityGroupArgs{
		Name:                pulumi.String(TransitionGroupName),
		Description:         pulumi.String("GuardDuty response: first step of isolation"),
		VpcId:               pulumi.String(vpc),
		Ingress:             ec2.SecurityGroupIngressArray{allTrafficIn()},
		Egress:              ec2.SecurityGroupEgressArray{allTrafficOut()},
		RevokeRulesOnDelete: pulumi.Bool(true),
		Tags:                withTags(tags, map[string]string{QuarantineTag: "transition"}),
	}, pulumi.Parent(q))
	if err != nil {
		return nil, fmt.Errorf("creating transition group: %w", err)
	}

	return pulumi.Map{"isolation": isolation.ID(), "transition": transition.ID()}, nil
}

func allTrafficIn() ec2.SecurityGroupIngressArgs {
	return ec2.SecurityGroupIngressArgs{
		Description:    pulumi.String("all traffic, so that open connections become untracked"),
		Protocol:       pulumi.String("-1"),
		FromPort:       pulumi.Int(0),
		ToPort:         pulumi.Int(0),
		CidrBlocks:     pulumi.StringArray{pulumi.String("0.0.0.0/0")},
		Ipv6CidrBlocks: pulumi.StringArray{pulumi.String("::/0")},
	}
}

func allTrafficOut() ec2.SecurityGroupEgressArgs {
	return ec2.SecurityGroupEgressArgs{
		Description:    pulumi.String("all traffic, so that open connections become untracked"),
		Protocol:       pulumi.String("-1"),
		FromPort:       pulumi.Int(0),
		ToPort:         pulumi.Int(0),
		CidrBlocks:     pulumi.StringArray{pulumi.String("0.0.0.0/0")},
		Ipv6CidrBlocks: pulumi.StringArray{pulumi.String("::/0")},
	}
}

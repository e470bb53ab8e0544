package emulator

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Estate is a small workload to respond on: two VPCs; in the first, the
// quarantine groups the stack deploys and an instance with two network
// interfaces and two volumes, in an Auto Scaling group behind a target group;
// in the second, no quarantine groups and a plain instance.
type Estate struct {
	VPCA, VPCB         string
	AppGroupA          string // the web instance's original group
	AppGroupB          string
	IsolationA         string // quarantine groups of VPC A
	TransitionA        string
	Web                string // instance in VPC A, in the ASG and target group
	WebInterfaces      []string
	WebVolumes         []string
	Worker             string // instance in VPC B
	AutoScalingGroup   string
	TargetGroupARN     string
	InstanceProfileARN string
}

// TagPrefix is the project's tag prefix, repeated here so that the estate is
// built the way the stack would build it, independently of the handler.
const tagPrefix = "guardduty-response:"

// BuildEstate creates the estate in the account cfg's keys belong to.
func BuildEstate(ctx context.Context, cfg aws.Config) (*Estate, error) {
	b := &builder{ec2: ec2.NewFromConfig(cfg), asg: autoscaling.NewFromConfig(cfg),
		elb: elb.NewFromConfig(cfg)}
	e := &Estate{}

	steps := []struct {
		what string
		fn   func(context.Context, *Estate) error
	}{
		{"creating VPCs", b.vpcs},
		{"creating quarantine groups", b.quarantineGroups},
		{"creating instance profile", b.profile(cfg)},
		{"launching instances", b.instances},
		{"creating target group", b.targetGroup},
		{"creating auto scaling group", b.autoScaling},
	}
	for _, s := range steps {
		if err := s.fn(ctx, e); err != nil {
			return nil, fmt.Errorf("building estate: %s: %w", s.what, err)
		}
	}

	return e, nil
}

type builder struct {
	ec2        *ec2.Client
	asg        *autoscaling.Client
	elb        *elb.Client
	subnetA    string
	subnetB    string
	templateID string
}

func (b *builder) vpcs(ctx context.Context, e *Estate) error {
	var err error
	if e.VPCA, b.subnetA, e.AppGroupA, err = b.network(ctx, "10.10.0.0/16", "10.10.1.0/24"); err != nil {
		return err
	}
	e.VPCB, b.subnetB, e.AppGroupB, err = b.network(ctx, "10.20.0.0/16", "10.20.1.0/24")

	return err
}

// network makes a VPC with one subnet and an application security group.
func (b *builder) network(ctx context.Context, vpcCIDR, subnetCIDR string) (vpc, subnet, group string, err error) {
	v, err := b.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(vpcCIDR)})
	if err != nil {
		return "", "", "", err
	}
	vpc = aws.ToString(v.Vpc.VpcId)

	s, err := b.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{
		VpcId: aws.String(vpc), CidrBlock: aws.String(subnetCIDR),
		AvailabilityZone: aws.String(Region + "a"),
	})
	if err != nil {
		return "", "", "", err
	}

	g, err := b.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String("app"), Description: aws.String("application"), VpcId: aws.String(vpc),
	})
	if err != nil {
		return "", "", "", err
	}

	return vpc, aws.ToString(s.Subnet.SubnetId), aws.ToString(g.GroupId), nil
}

// quarantineGroups deploys VPC A's groups as the Pulumi program does.
func (b *builder) quarantineGroups(ctx context.Context, e *Estate) error {
	iso, err := b.group(ctx, e.VPCA, "guardduty-response-isolation", "isolation")
	if err != nil {
		return err
	}
	_, err = b.ec2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{
		GroupId: aws.String(iso),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("-1"),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}},
	})
	if err != nil {
		return err
	}

	tr, err := b.group(ctx, e.VPCA, "guardduty-response-transition", "transition")
	if err != nil {
		return err
	}
	_, err = b.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(tr),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("-1"),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}},
	})
	e.IsolationA, e.TransitionA = iso, tr

	return err
}

func (b *builder) group(ctx context.Context, vpc, name, kind string) (string, error) {
	out, err := b.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(name), Description: aws.String("quarantine"), VpcId: aws.String(vpc),
		TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeSecurityGroup,
			Tags:         []ec2types.Tag{{Key: aws.String(tagPrefix + "quarantine"), Value: aws.String(kind)}},
		}},
	})
	if err != nil {
		return "", err
	}

	return aws.ToString(out.GroupId), nil
}

func (b *builder) instances(ctx context.Context, e *Estate) error {
	web, err := b.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Arn: aws.String(e.InstanceProfileARN)},
		NetworkInterfaces: []ec2types.InstanceNetworkInterfaceSpecification{
			{DeviceIndex: aws.Int32(0), SubnetId: aws.String(b.subnetA), Groups: []string{e.AppGroupA}},
			{DeviceIndex: aws.Int32(1), SubnetId: aws.String(b.subnetA), Groups: []string{e.AppGroupA}},
		},
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(8), DeleteOnTermination: aws.Bool(true)}},
			{DeviceName: aws.String("/dev/xvdb"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(20), DeleteOnTermination: aws.Bool(true)}},
		},
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
			Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}},
	})
	if err != nil {
		return err
	}
	e.Web = aws.ToString(web.Instances[0].InstanceId)

	worker, err := b.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		// Groups are given on the interface, not the instance: moto keeps
		// instance-level groups on the primary interface whatever
		// ModifyNetworkInterfaceAttribute sets, where AWS treats both as one.
		NetworkInterfaces: []ec2types.InstanceNetworkInterfaceSpecification{
			{DeviceIndex: aws.Int32(0), SubnetId: aws.String(b.subnetB), Groups: []string{e.AppGroupB}},
		},
	})
	if err != nil {
		return err
	}
	e.Worker = aws.ToString(worker.Instances[0].InstanceId)

	return b.describeWeb(ctx, e)
}

func (b *builder) describeWeb(ctx context.Context, e *Estate) error {
	out, err := b.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{e.Web}})
	if err != nil {
		return err
	}

	inst := out.Reservations[0].Instances[0]
	for _, n := range inst.NetworkInterfaces {
		e.WebInterfaces = append(e.WebInterfaces, aws.ToString(n.NetworkInterfaceId))
	}
	for _, m := range inst.BlockDeviceMappings {
		e.WebVolumes = append(e.WebVolumes, aws.ToString(m.Ebs.VolumeId))
	}

	return nil
}

func (b *builder) targetGroup(ctx context.Context, e *Estate) error {
	tg, err := b.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
		Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String(e.VPCA), TargetType: elbtypes.TargetTypeEnumInstance,
	})
	if err != nil {
		return err
	}
	e.TargetGroupARN = aws.ToString(tg.TargetGroups[0].TargetGroupArn)

	_, err = b.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{
		TargetGroupArn: aws.String(e.TargetGroupARN),
		Targets:        []elbtypes.TargetDescription{{Id: aws.String(e.Web), Port: aws.Int32(80)}},
	})

	return err
}

func (b *builder) autoScaling(ctx context.Context, e *Estate) error {
	lt, err := b.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
			ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro,
		},
	})
	if err != nil {
		return err
	}

	e.AutoScalingGroup = "web"
	_, err = b.asg.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(e.AutoScalingGroup),
		LaunchTemplate:       &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId},
		MinSize:              aws.Int32(0), MaxSize: aws.Int32(3), DesiredCapacity: aws.Int32(0),
		VPCZoneIdentifier: aws.String(b.subnetA),
	})
	if err != nil {
		return err
	}

	_, err = b.asg.AttachInstances(ctx, &autoscaling.AttachInstancesInput{
		AutoScalingGroupName: aws.String(e.AutoScalingGroup), InstanceIds: []string{e.Web},
	})

	return err
}

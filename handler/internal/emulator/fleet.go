package emulator

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// LaunchFleet starts n more plain instances, each with one volume, spread
// over the estate's two VPCs, and returns their ids.
func (e *Estate) LaunchFleet(ctx context.Context, cfg aws.Config, n int) ([]string, error) {
	client := ec2.NewFromConfig(cfg)
	subnets, err := e.subnets(ctx, client)
	if err != nil {
		return nil, err
	}

	var ids []string
	for i, half := range []int{n / 2, n - n/2} {
		if half == 0 {
			continue
		}
		out, err := client.RunInstances(ctx, &ec2.RunInstancesInput{
			ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro,
			MinCount: aws.Int32(int32(half)), MaxCount: aws.Int32(int32(half)),
			NetworkInterfaces: []ec2types.InstanceNetworkInterfaceSpecification{{
				DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnets[i]),
				Groups: []string{[]string{e.AppGroupA, e.AppGroupB}[i]},
			}},
		})
		if err != nil {
			return nil, fmt.Errorf("launching fleet: %w", err)
		}
		for _, inst := range out.Instances {
			ids = append(ids, aws.ToString(inst.InstanceId))
		}
	}

	return ids, nil
}

// subnets returns the subnet of VPC A and of VPC B.
func (e *Estate) subnets(ctx context.Context, client *ec2.Client) ([2]string, error) {
	var out [2]string
	for i, vpc := range []string{e.VPCA, e.VPCB} {
		res, err := client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{
			Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}},
		})
		if err != nil || len(res.Subnets) == 0 {
			return out, fmt.Errorf("finding subnet of %s: %v", vpc, err)
		}
		out[i] = aws.ToString(res.Subnets[0].SubnetId)
	}

	return out, nil
}

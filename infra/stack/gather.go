package stack

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/guardduty"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/guardduty-response/guardduty-response/infra/artifact"
	"github.com/guardduty-response/guardduty-response/infra/component"
	"github.com/guardduty-response/guardduty-response/infra/settings"
)

// facts are what the program learns from the account and the build before
// it creates anything.
type facts struct {
	caller    identity
	partition string
	vpcs      []string
	existing  *component.ExistingDetector
	artifact  artifact.Artifact
}

// gather looks up the facts the stack's role needs, failing on the first
// that does not fit the configuration.
func gather(ctx *pulumi.Context, s settings.Settings, opts Options) (facts, error) {
	var f facts
	var err error

	if f.caller, f.partition, err = caller(ctx, s); err != nil {
		return f, err
	}

	if s.Role != settings.Management {
		if f.vpcs, err = vpcs(ctx, s.QuarantineVPCIDs); err != nil {
			return f, err
		}
	}

	if s.AdoptDetector {
		if f.existing, err = existingDetector(ctx); err != nil {
			return f, err
		}
	}

	if s.Role.Responds() {
		if f.artifact, err = buildArtifact(ctx, opts); err != nil {
			return f, err
		}
	}

	return f, nil
}

// caller checks that the credentials belong to the stack's account.
func caller(ctx *pulumi.Context, s settings.Settings) (identity, string, error) {
	result, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return identity{}, "", fmt.Errorf("asking STS who is deploying: %w", err)
	}

	id := identity{AccountID: result.AccountId, ARN: result.Arn}
	if id.AccountID != s.AccountID {
		return id, "", fmt.Errorf("%s: the stack is for account %s but the credentials "+
			"belong to account %s (%s); switch credentials or fix the stack",
			settings.KeyAccountID, s.AccountID, id.AccountID, id.ARN)
	}

	partition, err := id.partition()

	return id, partition, err
}

// vpcs lists the region's VPCs, narrowed to wanted when it is not empty.
func vpcs(ctx *pulumi.Context, wanted []string) ([]string, error) {
	result, err := ec2.GetVpcs(ctx, &ec2.GetVpcsArgs{})
	if err != nil {
		return nil, fmt.Errorf("listing the region's VPCs: %w", err)
	}

	found := slices.Sorted(slices.Values(result.Ids))
	if len(wanted) == 0 {
		return found, nil
	}

	for _, id := range wanted {
		if !slices.Contains(found, id) {
			return nil, fmt.Errorf("%s: %s is not a VPC of this account in this region "+
				"(found %v)", settings.KeyQuarantineVPCIDs, id, found)
		}
	}

	return slices.Sorted(slices.Values(wanted)), nil
}

// existingDetector finds the region's detector for the stack to adopt.
func existingDetector(ctx *pulumi.Context) (*component.ExistingDetector, error) {
	result, err := guardduty.LookupDetector(ctx, &guardduty.LookupDetectorArgs{})
	if err != nil {
		return nil, fmt.Errorf("%s: no GuardDuty detector to adopt in this region: %w",
			settings.KeyAdoptDetector, err)
	}

	return &component.ExistingDetector{ID: result.Id, ARN: result.Arn}, nil
}

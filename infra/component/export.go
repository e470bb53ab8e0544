package component

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/guardduty"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ExportArgs configures where GuardDuty exports findings.
type ExportArgs struct {
	DetectorID  pulumi.StringInput
	DetectorARN pulumi.StringInput
	AccountID   string
	Partition   string
	// RetentionDays is how long exported findings and their older versions
	// are kept; 0 keeps them for ever.
	RetentionDays int
	Tags          map[string]string
}

// Export is an S3 bucket, encrypted with a customer key, that receives every
// finding, so that the evidence outlives the 90 days GuardDuty keeps it.
type Export struct {
	pulumi.ResourceState

	BucketName pulumi.StringOutput
	KeyARN     pulumi.StringOutput
}

// NewExport creates the key, the bucket with its policy and the publishing
// destination.
func NewExport(ctx *pulumi.Context, name string, args ExportArgs,
	opts ...pulumi.ResourceOption,
) (*Export, error) {
	if err := args.check(); err != nil {
		return nil, err
	}

	e := &Export{}
	if err := ctx.RegisterComponentResourceV2(typeToken("Export"), name, nil, e,
		opts...); err != nil {
		return nil, fmt.Errorf("registering export %s: %w", name, err)
	}

	if err := e.build(ctx, name, args); err != nil {
		return nil, fmt.Errorf("building export %s: %w", name, err)
	}

	err := ctx.RegisterResourceOutputs(e, pulumi.Map{
		"bucketName": e.BucketName, "keyArn": e.KeyARN,
	})
	if err != nil {
		return nil, fmt.Errorf("registering outputs of export %s: %w", name, err)
	}

	return e, nil
}

func (a ExportArgs) check() error {
	if a.DetectorID == nil || a.DetectorARN == nil {
		return fmt.Errorf("export: DetectorID and DetectorARN are required")
	}
	if a.RetentionDays < 0 {
		return fmt.Errorf("export: RetentionDays is negative")
	}

	return required("export", map[string]string{
		"AccountID": a.AccountID, "Partition": a.Partition,
	})
}

func (e *Export) build(ctx *pulumi.Context, name string, args ExportArgs) error {
	parent := pulumi.Parent(e)

	key, err := e.key(ctx, name, args, parent)
	if err != nil {
		return err
	}

	bucket, ready, err := e.bucket(ctx, name, args, key, parent)
	if err != nil {
		return err
	}

	_, err = guardduty.NewPublishingDestination(ctx, name, &guardduty.PublishingDestinationArgs{
		DetectorId:     args.DetectorID,
		DestinationArn: bucket.Arn,
		KmsKeyArn:      key.Arn,
	}, parent, pulumi.DependsOn(ready))
	if err != nil {
		return fmt.Errorf("creating publishing destination: %w", err)
	}

	e.BucketName = bucket.Bucket
	e.KeyARN = key.Arn

	return nil
}

// key creates the customer key GuardDuty encrypts exported findings with.
func (e *Export) key(ctx *pulumi.Context, name string, args ExportArgs,
	parent pulumi.ResourceOption,
) (*kms.Key, error) {
	policy := args.DetectorARN.ToStringOutput().ApplyT(func(detectorARN string) (string, error) {
		return exportKeyPolicy(args.Partition, args.AccountID, detectorARN)
	}).(pulumi.StringOutput)

	return customerKey(ctx, name, "Encrypts GuardDuty findings exported to S3", "findings", policy, args.Tags, parent)
}

// exportKeyPolicy lets the account administer the key and GuardDuty, for
// this detector only, generate data keys with it.
func exportKeyPolicy(partition, account, detectorARN string) (string, error) {
	guardDuty := allow("GuardDutyEncryptsFindings", service("guardduty.amazonaws.com"),
		"kms:GenerateDataKey", "*")
	guardDuty.Condition = forDetector(account, detectorARN)

	return policyJSON(
		allow("AccountAdministersKey", awsPrincipal(rootARN(partition, account)), "kms:*", "*"),
		guardDuty,
	)
}

// forDetector limits a GuardDuty statement to one detector of one account,
// against the confused-deputy problem.
func forDetector(account, detectorARN string) map[string]any {
	return map[string]any{
		"StringEquals": map[string]string{
			"aws:SourceAccount": account,
			"aws:SourceArn":     detectorARN,
		},
	}
}

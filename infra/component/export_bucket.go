package component

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// bucket creates the versioned, private, KMS-encrypted bucket and its policy.
// The resources it returns must exist before GuardDuty can publish.
func (e *Export) bucket(ctx *pulumi.Context, name string, args ExportArgs, key *kms.Key,
	parent pulumi.ResourceOption,
) (*s3.BucketV2, []pulumi.Resource, error) {
	bucket, err := s3.NewBucketV2(ctx, name+"-findings", &s3.BucketV2Args{
		Tags: withTags(args.Tags, nil),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("creating bucket: %w", err)
	}

	type step func() (pulumi.Resource, error)
	steps := []step{
		func() (pulumi.Resource, error) { return versioning(ctx, name+"-findings", bucket, parent) },
		func() (pulumi.Resource, error) {
			return publicAccessBlock(ctx, name+"-findings", bucket, parent)
		},
		func() (pulumi.Resource, error) {
			return encryption(ctx, name+"-findings", bucket, key, parent)
		},
		func() (pulumi.Resource, error) {
			return bucketPolicy(ctx, name, args, bucket, key, parent)
		},
	}
	ready := make([]pulumi.Resource, 0, len(steps))
	for _, step := range steps {
		r, err := step()
		if err != nil {
			return nil, nil, err
		}
		ready = append(ready, r)
	}

	if err := lifecycle(ctx, name, args.RetentionDays, bucket, parent); err != nil {
		return nil, nil, err
	}

	return bucket, ready, nil
}

// versioning, publicAccessBlock and encryption are shared by the findings
// export and the evidence bucket; name is the resource's own.
func versioning(ctx *pulumi.Context, name string, bucket *s3.BucketV2,
	parent pulumi.ResourceOption,
) (pulumi.Resource, error) {
	v, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket: bucket.ID(),
		VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{
			Status: pulumi.String("Enabled"),
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("enabling versioning: %w", err)
	}

	return v, nil
}

func publicAccessBlock(ctx *pulumi.Context, name string, bucket *s3.BucketV2,
	parent pulumi.ResourceOption,
) (pulumi.Resource, error) {
	b, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("blocking public access: %w", err)
	}

	return b, nil
}

func encryption(ctx *pulumi.Context, name string, bucket *s3.BucketV2, key *kms.Key,
	parent pulumi.ResourceOption,
) (pulumi.Resource, error) {
	rule := s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
		ApplyServerSideEncryptionByDefault: s3.
			BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm:   pulumi.String("aws:kms"),
			KmsMasterKeyId: key.Arn,
		},
		BucketKeyEnabled: pulumi.Bool(true),
	}
	c, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name,
		&s3.BucketServerSideEncryptionConfigurationV2Args{
			Bucket: bucket.ID(),
			Rules:  s3.BucketServerSideEncryptionConfigurationV2RuleArray{rule},
		}, parent)
	if err != nil {
		return nil, fmt.Errorf("setting default encryption: %w", err)
	}

	return c, nil
}

func bucketPolicy(ctx *pulumi.Context, name string, args ExportArgs, bucket *s3.BucketV2,
	key *kms.Key, parent pulumi.ResourceOption,
) (pulumi.Resource, error) {
	policy := pulumi.All(bucket.Arn, key.Arn, args.DetectorARN).ApplyT(
		func(v []any) (string, error) {
			return exportBucketPolicy(args.AccountID, v[0].(string), v[1].(string), v[2].(string))
		}).(pulumi.StringOutput)

	p, err := s3.NewBucketPolicy(ctx, name+"-findings", &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: policy,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("setting bucket policy: %w", err)
	}

	return p, nil
}

// exportBucketPolicy refuses plain HTTP, lets this detector locate the
// bucket and write to it, and refuses any object GuardDuty would write
// without the export key.
func exportBucketPolicy(account, bucketARN, keyARN, detectorARN string) (string, error) {
	objects := bucketARN + "/*"
	guardDuty := service("guardduty.amazonaws.com")

	locate := allow("GuardDutyLocatesBucket", guardDuty, "s3:GetBucketLocation", bucketARN)
	locate.Condition = forDetector(account, detectorARN)
	write := allow("GuardDutyWritesFindings", guardDuty, "s3:PutObject", objects)
	write.Condition = forDetector(account, detectorARN)

	return policyJSON(
		statement{Sid: "DenyPlainHTTP", Effect: "Deny", Principal: "*", Action: "s3:*",
			Resource:  []string{bucketARN, objects},
			Condition: map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}}},
		locate,
		write,
		statement{Sid: "DenyUnencryptedFindings", Effect: "Deny", Principal: guardDuty,
			Action: "s3:PutObject", Resource: objects,
			Condition: map[string]any{"StringNotEquals": map[string]string{
				"s3:x-amz-server-side-encryption": "aws:kms"}}},
		statement{Sid: "DenyOtherKeys", Effect: "Deny", Principal: guardDuty,
			Action: "s3:PutObject", Resource: objects,
			Condition: map[string]any{"StringNotEquals": map[string]string{
				"s3:x-amz-server-side-encryption-aws-kms-key-id": keyARN}}},
	)
}

// lifecycle expires findings, and their older versions, after days; with 0
// the bucket keeps everything.
func lifecycle(ctx *pulumi.Context, name string, days int, bucket *s3.BucketV2,
	parent pulumi.ResourceOption,
) error {
	if days == 0 {
		return nil
	}

	type noncurrent = s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs
	rule := s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:     pulumi.String("expire-findings"),
		Status: pulumi.String("Enabled"),
		Filter: s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
		Expiration: s3.BucketLifecycleConfigurationV2RuleExpirationArgs{
			Days: pulumi.Int(days),
		},
		NoncurrentVersionExpiration: noncurrent{NoncurrentDays: pulumi.Int(days)},
	}
	_, err := s3.NewBucketLifecycleConfigurationV2(ctx, name+"-findings",
		&s3.BucketLifecycleConfigurationV2Args{
			Bucket: bucket.ID(),
			Rules:  s3.BucketLifecycleConfigurationV2RuleArray{rule},
		}, parent)
	if err != nil {
		return fmt.Errorf("setting lifecycle: %w", err)
	}

	return nil
}

package emulator

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// EvidenceBucket is the name the tests and the demo give the evidence bucket.
const EvidenceBucket = "guardduty-response-evidence"

// S3 returns an S3 client for moto, which needs path-style addressing.
func S3(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// CreateEvidenceBucket creates a bucket the way the stack creates the
// evidence bucket: Object Lock on (which turns versioning on), every new
// object retained for a day. The retention is in GOVERNANCE mode so that a
// test can remove a record the way someone allowed to bypass it could.
func CreateEvidenceBucket(ctx context.Context, cfg aws.Config, name string) error {
	client := S3(cfg)
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket:                     aws.String(name),
		ObjectLockEnabledForBucket: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("creating evidence bucket %s: %w", name, err)
	}

	_, err = client.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
		Bucket: aws.String(name),
		ObjectLockConfiguration: &s3types.ObjectLockConfiguration{
			ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
			Rule: &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{
				Mode: s3types.ObjectLockRetentionModeGovernance,
				Days: aws.Int32(1),
			}},
		},
	})
	if err != nil {
		return fmt.Errorf("setting retention of evidence bucket %s: %w", name, err)
	}

	return nil
}

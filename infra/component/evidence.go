package component

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/guardduty-response/guardduty-response/handler/evidence"
)

// Object Lock modes the evidence bucket accepts.
var lockModes = []string{"COMPLIANCE", "GOVERNANCE"}

// EvidenceArgs configures the evidence bucket.
type EvidenceArgs struct {
	AccountID string
	Partition string
	// RetentionDays is how long Object Lock keeps each record.
	RetentionDays int
	// LockMode is COMPLIANCE or GOVERNANCE.
	LockMode string
	Tags     map[string]string
}

// Evidence is the S3 bucket the responder and the release command write
// their records to: versioned, private, encrypted with a customer key, with
// Object Lock on every record, and a policy that refuses to replace or delete
// any of them. The bucket outlives the stack: `pulumi destroy` leaves it.
type Evidence struct {
	pulumi.ResourceState

	BucketName pulumi.StringOutput
	BucketARN  pulumi.StringOutput
	KeyARN     pulumi.StringOutput
}

// NewEvidence creates the key and the bucket with its settings.
func NewEvidence(ctx *pulumi.Context, name string, args EvidenceArgs,
	opts ...pulumi.ResourceOption,
) (*Evidence, error) {
	if err := args.check(); err != nil {
		return nil, err
	}

	e := &Evidence{}
	if err := ctx.RegisterComponentResourceV2(typeToken("Evidence"), name, nil, e,
		opts...); err != nil {
		return nil, fmt.Errorf("registering evidence %s: %w", name, err)
	}

	if err := e.build(ctx, name, args); err != nil {
		return nil, fmt.Errorf("building evidence %s: %w", name, err)
	}

	err := ctx.RegisterResourceOutputs(e, pulumi.Map{
		"bucketName": e.BucketName, "bucketArn": e.BucketARN, "keyArn": e.KeyARN,
	})
	if err != nil {
		return nil, fmt.Errorf("registering outputs of evidence %s: %w", name, err)
	}

	return e, nil
}

func (a EvidenceArgs) check() error {
	if a.RetentionDays < 1 {
		return fmt.Errorf("evidence: RetentionDays must be positive")
	}
	if !slices.Contains(lockModes, a.LockMode) {
		return fmt.Errorf("evidence: LockMode %q is not COMPLIANCE or GOVERNANCE", a.LockMode)
	}

	return required("evidence", map[string]string{
		"AccountID": a.AccountID, "Partition": a.Partition,
	})
}

func (e *Evidence) build(ctx *pulumi.Context, name string, args EvidenceArgs) error {
	parent := pulumi.Parent(e)

	key, err := e.key(ctx, name, args, parent)
	if err != nil {
		return err
	}

	// Object Lock can only be turned on when the bucket is created. The
	// bucket is retained on delete: records under retention cannot be
	// removed anyway, and evidence must outlive the stack.
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		BucketPrefix:      pulumi.String("guardduty-response-evidence-"),
		ObjectLockEnabled: pulumi.Bool(true),
		Tags:              withTags(args.Tags, nil),
	}, parent, pulumi.RetainOnDelete(true))
	if err != nil {
		return fmt.Errorf("creating bucket: %w", err)
	}

	if err := e.settings(ctx, name, args, bucket, key, parent); err != nil {
		return err
	}

	e.BucketName, e.BucketARN, e.KeyARN = bucket.Bucket, bucket.Arn, key.Arn

	return nil
}

// key creates the customer key the records are encrypted with. The account
// administers it; who may use it is left to IAM policies.
func (e *Evidence) key(ctx *pulumi.Context, name string, args EvidenceArgs,
	parent pulumi.ResourceOption,
) (*kms.Key, error) {
	policy, err := policyJSON(allow("AccountAdministersKey",
		awsPrincipal(rootARN(args.Partition, args.AccountID)), "kms:*", "*"))
	if err != nil {
		return nil, err
	}

	return customerKey(ctx, name, "Encrypts the GuardDuty responder's evidence records", "evidence", pulumi.String(policy), args.Tags, parent)
}

// settings versions the bucket, blocks public access, encrypts by default,
// locks every new record and sets the policy.
func (e *Evidence) settings(ctx *pulumi.Context, name string, args EvidenceArgs,
	bucket *s3.BucketV2, key *kms.Key, parent pulumi.ResourceOption,
) error {
	versioned, err := versioning(ctx, name, bucket, parent)
	if err != nil {
		return err
	}
	if _, err := publicAccessBlock(ctx, name, bucket, parent); err != nil {
		return err
	}
	if _, err := encryption(ctx, name, bucket, key, parent); err != nil {
		return err
	}

	type retention = s3.BucketObjectLockConfigurationV2RuleDefaultRetentionArgs
	_, err = s3.NewBucketObjectLockConfigurationV2(ctx, name, &s3.BucketObjectLockConfigurationV2Args{
		Bucket: bucket.ID(),
		Rule: s3.BucketObjectLockConfigurationV2RuleArgs{DefaultRetention: retention{
			Mode: pulumi.String(args.LockMode),
			Days: pulumi.Int(args.RetentionDays),
		}},
	}, parent, pulumi.DependsOn([]pulumi.Resource{versioned}))
	if err != nil {
		return fmt.Errorf("setting object lock retention: %w", err)
	}

	policy := pulumi.All(bucket.Arn, key.Arn).ApplyT(func(v []any) (string, error) {
		return evidenceBucketPolicy(v[0].(string), v[1].(string))
	}).(pulumi.StringOutput)
	_, err = s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: policy,
	}, parent)
	if err != nil {
		return fmt.Errorf("setting bucket policy: %w", err)
	}

	return nil
}

// evidenceBucketPolicy refuses, for everyone: plain HTTP; a PutObject or
// CompleteMultipartUpload without If-None-Match, which is what could replace
// a record; deleting a record or a version of one; and a record that asks
// for another KMS key than the evidence key.
func evidenceBucketPolicy(bucketARN, keyARN string) (string, error) {
	const keyHeader = "s3:x-amz-server-side-encryption-aws-kms-key-id"
	objects := bucketARN + "/*"

	return policyJSON(
		statement{Sid: "DenyPlainHTTP", Effect: "Deny", Principal: "*", Action: "s3:*",
			Resource:  []string{bucketARN, objects},
			Condition: map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}}},
		statement{Sid: "DenyWritesThatCouldReplace", Effect: "Deny", Principal: "*",
			Action: "s3:PutObject", Resource: objects,
			Condition: map[string]any{
				"Null": map[string]string{"s3:if-none-match": "true"},
				"Bool": map[string]string{"s3:ObjectCreationOperation": "true"},
			}},
		statement{Sid: "DenyDeletes", Effect: "Deny", Principal: "*",
			Action:   []string{"s3:DeleteObject", "s3:DeleteObjectVersion"},
			Resource: objects},
		statement{Sid: "DenyOtherKeys", Effect: "Deny", Principal: "*",
			Action: "s3:PutObject", Resource: objects,
			Condition: map[string]any{
				"Null":            map[string]string{keyHeader: "false"},
				"StringNotEquals": map[string]string{keyHeader: keyARN},
			}},
	)
}

// evidenceGrants are the statements that let the responder append records
// (see evidence.WriterGrants), narrowed by conditions: listing only under
// the records prefix, and the key only through S3.
func evidenceGrants(bucketARN, keyARN string) []statement {
	var out []statement
	for _, g := range evidence.WriterGrants(bucketARN, keyARN) {
		s := allow(g.Sid, nil, g.Actions, g.Resource)
		switch g.Sid {
		case evidence.GrantList:
			s.Condition = map[string]any{"StringLike": map[string]string{
				"s3:prefix": evidence.KeyPrefix + "*"}}
		case evidence.GrantKey:
			s.Condition = map[string]any{"StringLike": map[string]string{
				"kms:ViaService": "s3.*.amazonaws.com"}}
		}
		out = append(out, s)
	}

	return out
}

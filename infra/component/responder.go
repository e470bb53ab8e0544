package component

import (
	"fmt"
	"maps"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/guardduty-response/guardduty-response/handler/lease"
	"github.com/guardduty-response/guardduty-response/infra/artifact"
)

// Settings of the function that the stack configuration does not expose.
const (
	functionTimeoutSeconds = 300
	functionMemoryMB       = 256
	asyncRetries           = 2
	asyncMaxAgeSeconds     = 6 * 60 * 60
	deadLetterRetention    = 14 * 24 * 60 * 60
)

// ResponderArgs configures the response Lambda.
type ResponderArgs struct {
	RoleARN  pulumi.StringInput
	RoleName pulumi.StringInput
	// Artifact is the built deployment package.
	Artifact artifact.Artifact
	// Environment is the handler's configuration; the component adds
	// LEASE_TABLE, and EVIDENCE_BUCKET when Evidence is set.
	Environment pulumi.StringMap
	// Evidence, when set, is the bucket the function writes its records to.
	Evidence *Evidence
	// TopicARN receives the alarms.
	TopicARN pulumi.StringInput
	// MemberRoleARNPattern, when set, lets the function assume the member
	// accounts' responder roles, e.g. arn:aws:iam::*:role/guardduty-responder.
	MemberRoleARNPattern string
	LogRetentionDays     int
	// ReservedConcurrency caps concurrent runs; -1 reserves nothing.
	ReservedConcurrency int
	Tags                map[string]string
}

// Responder is the Lambda that acts on findings, with its log group, its
// dead-letter queue and alarms on its health.
type Responder struct {
	pulumi.ResourceState

	FunctionARN    pulumi.StringOutput
	FunctionName   pulumi.StringOutput
	LeaseTableName pulumi.StringOutput
	DeadLetterARN  pulumi.StringOutput
	DeadLetterURL  pulumi.StringOutput
	DeadLetterName pulumi.StringOutput
}

// NewResponder creates the function and everything it runs with.
func NewResponder(ctx *pulumi.Context, name string, args ResponderArgs,
	opts ...pulumi.ResourceOption,
) (*Responder, error) {
	if err := args.check(); err != nil {
		return nil, err
	}

	r := &Responder{}
	if err := ctx.RegisterComponentResourceV2(typeToken("Responder"), name, nil, r,
		opts...); err != nil {
		return nil, fmt.Errorf("registering responder %s: %w", name, err)
	}

	if err := r.build(ctx, name, args); err != nil {
		return nil, fmt.Errorf("building responder %s: %w", name, err)
	}

	err := ctx.RegisterResourceOutputs(r, pulumi.Map{
		"functionArn": r.FunctionARN, "functionName": r.FunctionName,
		"leaseTableName": r.LeaseTableName, "deadLetterArn": r.DeadLetterARN,
	})
	if err != nil {
		return nil, fmt.Errorf("registering outputs of responder %s: %w", name, err)
	}

	return r, nil
}

func (a ResponderArgs) check() error {
	if a.RoleARN == nil || a.RoleName == nil || a.TopicARN == nil || a.Environment == nil {
		return fmt.Errorf("responder: RoleARN, RoleName, TopicARN and Environment are required")
	}
	if a.Artifact.Path == "" || a.Artifact.SHA256 == "" {
		return fmt.Errorf("responder: Artifact needs a path and a hash")
	}
	if a.LogRetentionDays <= 0 {
		return fmt.Errorf("responder: LogRetentionDays must be positive")
	}
	if a.ReservedConcurrency == 0 || a.ReservedConcurrency < -1 {
		return fmt.Errorf("responder: ReservedConcurrency must be -1 or positive")
	}

	return nil
}

func (r *Responder) build(ctx *pulumi.Context, name string, args ResponderArgs) error {
	parent := pulumi.Parent(r)

	logs, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		NamePrefix:      pulumi.String("/guardduty-response/" + name + "-"),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		Tags:            withTags(args.Tags, nil),
	}, parent)
	if err != nil {
		return fmt.Errorf("creating log group: %w", err)
	}

	queue, err := sqs.NewQueue(ctx, name+"-dead-letter", &sqs.QueueArgs{
		SqsManagedSseEnabled:    pulumi.Bool(true),
		MessageRetentionSeconds: pulumi.Int(deadLetterRetention),
		Tags:                    withTags(args.Tags, nil),
	}, parent)
	if err != nil {
		return fmt.Errorf("creating dead-letter queue: %w", err)
	}

	leases, err := leaseTable(ctx, name, args.Tags, parent)
	if err != nil {
		return err
	}

	runtime, err := r.runtimePolicy(ctx, name, args, logs, queue, leases, parent)
	if err != nil {
		return err
	}

	fn, err := r.function(ctx, name, args, logs, leases, parent, pulumi.DependsOn(runtime))
	if err != nil {
		return err
	}

	if err := r.asyncInvocation(ctx, name, fn, queue, parent); err != nil {
		return err
	}

	r.FunctionARN, r.FunctionName, r.LeaseTableName = fn.Arn, fn.Name, leases.Name
	r.DeadLetterARN, r.DeadLetterURL, r.DeadLetterName = queue.Arn, queue.Url, queue.Name

	return r.alarms(ctx, name, args.TopicARN, args.Tags, parent)
}

// LeaseTableName is the lease table's name in every responding stack.
const LeaseTableName = "guardduty-response-leases"

// leaseTable creates the table the function takes its per-resource leases
// from (see handler/lease): keyed by resource, with the lease's expiry as the
// TTL attribute so that DynamoDB removes leases left behind. Leases live
// seconds, so point-in-time recovery would restore nothing of use.
func leaseTable(ctx *pulumi.Context, name string, tags map[string]string,
	parent pulumi.ResourceOption,
) (*dynamodb.Table, error) {
	table, err := dynamodb.NewTable(ctx, name+"-leases", &dynamodb.TableArgs{
		// One per account and region, as a stack is: the name is the one
		// policies/responder.json grants (table/guardduty-response-*).
		Name:        pulumi.String(LeaseTableName),
		BillingMode: pulumi.String("PAY_PER_REQUEST"),
		HashKey:     pulumi.String(lease.KeyAttribute),
		Attributes: dynamodb.TableAttributeArray{dynamodb.TableAttributeArgs{
			Name: pulumi.String(lease.KeyAttribute), Type: pulumi.String("S"),
		}},
		Ttl: dynamodb.TableTtlArgs{
			AttributeName: pulumi.String(lease.ExpiresAttribute), Enabled: pulumi.Bool(true),
		},
		ServerSideEncryption: dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true)},
		Tags:                 withTags(tags, nil),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating lease table: %w", err)
	}

	return table, nil
}

// runtimePolicy grants what running the function takes beyond the
// responder's own document: writing its logs, parking failed events in its
// queue, appending evidence records and, for an
// administrator, reaching into member accounts. These name resources this
// program creates, which a static document cannot.
func (r *Responder) runtimePolicy(ctx *pulumi.Context, name string, args ResponderArgs,
	logs *cloudwatch.LogGroup, queue *sqs.Queue, leases *dynamodb.Table,
	parent pulumi.ResourceOption,
) ([]pulumi.Resource, error) {
	arns := []any{logs.Arn, queue.Arn, leases.Arn}
	if args.Evidence != nil {
		arns = append(arns, args.Evidence.BucketARN, args.Evidence.KeyARN)
	}
	policy := pulumi.All(arns...).ApplyT(func(v []any) (string, error) {
		res := runtimeResources{logGroup: v[0].(string), queue: v[1].(string),
			leaseTable: v[2].(string), memberRoles: args.MemberRoleARNPattern}
		if len(v) == 5 {
			res.evidenceBucket, res.evidenceKey = v[3].(string), v[4].(string)
		}
		return runtimePolicy(res)
	}).(pulumi.StringOutput)

	p, err := iam.NewRolePolicy(ctx, name+"-runtime", &iam.RolePolicyArgs{
		Role:   args.RoleName,
		Name:   pulumi.String("runtime"),
		Policy: policy,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("attaching runtime policy: %w", err)
	}

	return []pulumi.Resource{p}, nil
}

// runtimeResources are the ARNs the runtime policy names; the evidence ones
// and memberRoles may be empty.
type runtimeResources struct {
	logGroup, queue, leaseTable string
	evidenceBucket, evidenceKey string
	memberRoles                 string
}

func runtimePolicy(res runtimeResources) (string, error) {
	statements := []statement{
		allow("WriteOwnLogs", nil, []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			res.logGroup+":*"),
		allow("ParkFailedEvents", nil, "sqs:SendMessage", res.queue),
	}
	if res.evidenceBucket != "" {
		statements = append(statements, evidenceGrants(res.evidenceBucket, res.evidenceKey)...)
	}
	// TODO: the member role may be assumed in any account that has one of
	// that name; a condition on aws:ResourceOrgID would keep it to the
	// organisation, given the organisation id as configuration.
	if res.memberRoles != "" {
		statements = append(statements,
			allow("AssumeMemberResponderRoles", nil, "sts:AssumeRole", res.memberRoles))
	}

	return policyJSON(statements...)
}

func (r *Responder) function(ctx *pulumi.Context, name string, args ResponderArgs,
	logs *cloudwatch.LogGroup, leases *dynamodb.Table, opts ...pulumi.ResourceOption,
) (*lambda.Function, error) {
	env := pulumi.StringMap{}
	maps.Copy(env, args.Environment)
	env["LEASE_TABLE"] = leases.Name
	if args.Evidence != nil {
		env["EVIDENCE_BUCKET"] = args.Evidence.BucketName
	}

	fnArgs := &lambda.FunctionArgs{
		Description:    pulumi.String("Responds to GuardDuty findings"),
		Runtime:        pulumi.String("provided.al2023"),
		Architectures:  pulumi.StringArray{pulumi.String("arm64")},
		Handler:        pulumi.String(artifact.Entry),
		Code:           pulumi.NewFileArchive(args.Artifact.Path),
		SourceCodeHash: pulumi.String(args.Artifact.SHA256),
		Role:           args.RoleARN,
		Timeout:        pulumi.Int(functionTimeoutSeconds),
		MemorySize:     pulumi.Int(functionMemoryMB),
		Environment:    lambda.FunctionEnvironmentArgs{Variables: env},
		LoggingConfig: lambda.FunctionLoggingConfigArgs{
			LogFormat:           pulumi.String("JSON"),
			LogGroup:            logs.Name,
			ApplicationLogLevel: pulumi.String("INFO"),
			SystemLogLevel:      pulumi.String("WARN"),
		},
		Tags: withTags(args.Tags, nil),
	}
	if args.ReservedConcurrency > 0 {
		fnArgs.ReservedConcurrentExecutions = pulumi.Int(args.ReservedConcurrency)
	}

	fn, err := lambda.NewFunction(ctx, name, fnArgs, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating function: %w", err)
	}

	return fn, nil
}

// asyncInvocation bounds EventBridge's asynchronous retries and sends events
// that still fail to the dead-letter queue.
func (r *Responder) asyncInvocation(ctx *pulumi.Context, name string, fn *lambda.Function,
	queue *sqs.Queue, parent pulumi.ResourceOption,
) error {
	_, err := lambda.NewFunctionEventInvokeConfig(ctx, name, &lambda.FunctionEventInvokeConfigArgs{
		FunctionName:             fn.Name,
		MaximumRetryAttempts:     pulumi.Int(asyncRetries),
		MaximumEventAgeInSeconds: pulumi.Int(asyncMaxAgeSeconds),
		DestinationConfig: lambda.FunctionEventInvokeConfigDestinationConfigArgs{
			OnFailure: lambda.FunctionEventInvokeConfigDestinationConfigOnFailureArgs{
				Destination: queue.Arn,
			},
		},
	}, parent)
	if err != nil {
		return fmt.Errorf("configuring asynchronous invocation: %w", err)
	}

	return nil
}

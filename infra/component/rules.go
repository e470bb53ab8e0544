package component

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/guardduty-response/guardduty-response/handler/finding"
)

// Retry policy of both rule targets.
const (
	targetRetries         = 10
	targetMaxAgeInSeconds = 24 * 60 * 60
)

// RulesArgs configures the EventBridge rules that route findings.
type RulesArgs struct {
	FunctionARN   pulumi.StringInput
	TopicARN      pulumi.StringInput
	DeadLetterARN pulumi.StringInput
	DeadLetterURL pulumi.StringInput
	// ResponseSeverity is the lowest severity the responder acts on.
	ResponseSeverity int
	// NotifySeverity is the lowest severity announced on the topic.
	NotifySeverity int
	Tags           map[string]string
}

// Rules sends severe findings to the responder and notable ones to the
// topic, each with retries and the dead-letter queue behind them.
type Rules struct {
	pulumi.ResourceState

	ResponseRuleARN pulumi.StringOutput
	NotifyRuleARN   pulumi.StringOutput
}

// NewRules creates both rules, their targets, the permission for
// EventBridge to invoke the function and the queue policy for dead letters.
func NewRules(ctx *pulumi.Context, name string, args RulesArgs,
	opts ...pulumi.ResourceOption,
) (*Rules, error) {
	if err := args.check(); err != nil {
		return nil, err
	}

	r := &Rules{}
	if err := ctx.RegisterComponentResourceV2(typeToken("Rules"), name, nil, r,
		opts...); err != nil {
		return nil, fmt.Errorf("registering rules %s: %w", name, err)
	}

	if err := r.build(ctx, name, args); err != nil {
		return nil, fmt.Errorf("building rules %s: %w", name, err)
	}

	err := ctx.RegisterResourceOutputs(r, pulumi.Map{
		"responseRuleArn": r.ResponseRuleARN, "notifyRuleArn": r.NotifyRuleARN,
	})
	if err != nil {
		return nil, fmt.Errorf("registering outputs of rules %s: %w", name, err)
	}

	return r, nil
}

func (a RulesArgs) check() error {
	if a.FunctionARN == nil || a.TopicARN == nil || a.DeadLetterARN == nil ||
		a.DeadLetterURL == nil {
		return fmt.Errorf("rules: FunctionARN, TopicARN and the dead-letter queue are required")
	}
	for _, severity := range []int{a.ResponseSeverity, a.NotifySeverity} {
		if severity < 1 || severity > 10 {
			return fmt.Errorf("rules: severity %d is outside 1 to 10", severity)
		}
	}

	return nil
}

// rulePattern is the responder's own event pattern (package finding holds
// the one definition), re-encoded without HTML escaping so that [">=", 7]
// reads the same in a preview as in the console.
func rulePattern(minSeverity int) (string, error) {
	pattern, err := finding.EventPattern(float64(minSeverity))
	if err != nil {
		return "", err
	}

	var v any
	if err := json.Unmarshal([]byte(pattern), &v); err != nil {
		return "", fmt.Errorf("decoding event pattern: %w", err)
	}

	return encodeJSON(v)
}

func (r *Rules) build(ctx *pulumi.Context, name string, args RulesArgs) error {
	parent := pulumi.Parent(r)

	respond, err := r.respond(ctx, name+"-respond", args, parent)
	if err != nil {
		return err
	}

	notify, err := r.notify(ctx, name+"-notify", args, parent)
	if err != nil {
		return err
	}

	r.ResponseRuleARN, r.NotifyRuleARN = respond.Arn, notify.Arn

	return r.deadLetterPolicy(ctx, name, args, parent)
}

func (r *Rules) rule(ctx *pulumi.Context, name, description string, severity int,
	tags map[string]string, parent pulumi.ResourceOption,
) (*cloudwatch.EventRule, error) {
	pattern, err := rulePattern(severity)
	if err != nil {
		return nil, err
	}

	rule, err := cloudwatch.NewEventRule(ctx, name, &cloudwatch.EventRuleArgs{
		Description:  pulumi.String(description),
		EventPattern: pulumi.String(pattern),
		Tags:         withTags(tags, nil),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating rule %s: %w", name, err)
	}

	return rule, nil
}

// respond routes severe findings to the function.
func (r *Rules) respond(ctx *pulumi.Context, name string, args RulesArgs,
	parent pulumi.ResourceOption,
) (*cloudwatch.EventRule, error) {
	description := fmt.Sprintf("GuardDuty findings of severity %d and above, to the responder",
		args.ResponseSeverity)
	rule, err := r.rule(ctx, name, description, args.ResponseSeverity, args.Tags, parent)
	if err != nil {
		return nil, err
	}

	_, err = lambda.NewPermission(ctx, name, &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  args.FunctionARN,
		Principal: pulumi.String(eventsService),
		SourceArn: rule.Arn,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("letting rule %s invoke the function: %w", name, err)
	}

	_, err = cloudwatch.NewEventTarget(ctx, name, &cloudwatch.EventTargetArgs{
		Rule:             rule.Name,
		Arn:              args.FunctionARN,
		RetryPolicy:      retryPolicy(),
		DeadLetterConfig: cloudwatch.EventTargetDeadLetterConfigArgs{Arn: args.DeadLetterARN},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("targeting the function from rule %s: %w", name, err)
	}

	return rule, nil
}

// notify routes notable findings to the topic as a readable message.
func (r *Rules) notify(ctx *pulumi.Context, name string, args RulesArgs,
	parent pulumi.ResourceOption,
) (*cloudwatch.EventRule, error) {
	description := fmt.Sprintf("GuardDuty findings of severity %d and above, to the topic",
		args.NotifySeverity)
	rule, err := r.rule(ctx, name, description, args.NotifySeverity, args.Tags, parent)
	if err != nil {
		return nil, err
	}

	_, err = cloudwatch.NewEventTarget(ctx, name, &cloudwatch.EventTargetArgs{
		Rule:             rule.Name,
		Arn:              args.TopicARN,
		RetryPolicy:      retryPolicy(),
		DeadLetterConfig: cloudwatch.EventTargetDeadLetterConfigArgs{Arn: args.DeadLetterARN},
		InputTransformer: cloudwatch.EventTargetInputTransformerArgs{
			InputPaths:    pulumi.ToStringMap(NotificationPaths),
			InputTemplate: pulumi.String(NotificationTemplate),
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("targeting the topic from rule %s: %w", name, err)
	}

	return rule, nil
}

// NotificationPaths picks the fields of a finding event that the
// notification shows.
var NotificationPaths = map[string]string{
	"severity": "$.detail.severity",
	"type":     "$.detail.type",
	"title":    "$.detail.title",
	"account":  "$.detail.accountId",
	"region":   "$.region",
	"id":       "$.detail.id",
	"time":     "$.detail.updatedAt",
}

// NotificationTemplate is the text sent to the topic: a JSON string, so
// that subscribers get plain text rather than the event's JSON.
//
// TODO: the console link is the commercial partition's; GovCloud and China
// stacks get a link that does not open. And how EventBridge treats a double
// quote inside a finding title in a string template is unverified here (the
// emulator does not run input transformers); check one sample finding.
const NotificationTemplate = `"GuardDuty finding, severity <severity>, ` +
	`account <account>, region <region>: <title> (type <type>, updated <time>). ` +
	`Open it: https://console.aws.amazon.com/guardduty/home?region=<region>` +
	`#/findings?macros=current&fId=<id>"`

func retryPolicy() cloudwatch.EventTargetRetryPolicyArgs {
	return cloudwatch.EventTargetRetryPolicyArgs{
		MaximumRetryAttempts:     pulumi.Int(targetRetries),
		MaximumEventAgeInSeconds: pulumi.Int(targetMaxAgeInSeconds),
	}
}

// deadLetterPolicy lets EventBridge park events from these two rules only.
func (r *Rules) deadLetterPolicy(ctx *pulumi.Context, name string, args RulesArgs,
	parent pulumi.ResourceOption,
) error {
	policy := pulumi.All(args.DeadLetterARN, r.ResponseRuleARN, r.NotifyRuleARN).ApplyT(
		func(v []any) (string, error) {
			send := allow("RulesParkFailedEvents", service(eventsService), "sqs:SendMessage",
				v[0].(string))
			rules := []string{v[1].(string), v[2].(string)}
			send.Condition = map[string]any{
				"ArnEquals": map[string]any{"aws:SourceArn": rules},
			}
			return policyJSON(send)
		}).(pulumi.StringOutput)

	_, err := sqs.NewQueuePolicy(ctx, name+"-dead-letter", &sqs.QueuePolicyArgs{
		QueueUrl: args.DeadLetterURL,
		Policy:   policy,
	}, parent)
	if err != nil {
		return fmt.Errorf("setting dead-letter queue policy: %w", err)
	}

	return nil
}

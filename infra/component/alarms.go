package component

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// alarm is one CloudWatch alarm on a metric that should stay at zero.
type alarm struct {
	suffix      string
	description string
	namespace   string
	metric      string
	statistic   string
	dimensions  pulumi.StringMap
}

// alarms raises to the topic when the function fails or is throttled, and
// when an event waits in the dead-letter queue.
func (r *Responder) alarms(ctx *pulumi.Context, name string, topicARN pulumi.StringInput,
	tags map[string]string, parent pulumi.ResourceOption,
) error {
	function := pulumi.StringMap{"FunctionName": r.FunctionName}
	queue := pulumi.StringMap{"QueueName": r.DeadLetterName}

	for _, a := range []alarm{
		{"errors", "The GuardDuty responder failed", "AWS/Lambda", "Errors", "Sum", function},
		{"throttles", "The GuardDuty responder was throttled", "AWS/Lambda", "Throttles",
			"Sum", function},
		{"dead-letters", "GuardDuty findings wait unhandled in the dead-letter queue",
			"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", queue},
	} {
		_, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+a.suffix, &cloudwatch.MetricAlarmArgs{
			AlarmDescription:   pulumi.String(a.description),
			Namespace:          pulumi.String(a.namespace),
			MetricName:         pulumi.String(a.metric),
			Statistic:          pulumi.String(a.statistic),
			Dimensions:         a.dimensions,
			Period:             pulumi.Int(300),
			EvaluationPeriods:  pulumi.Int(1),
			Threshold:          pulumi.Float64(0),
			ComparisonOperator: pulumi.String("GreaterThanThreshold"),
			TreatMissingData:   pulumi.String("notBreaching"),
			AlarmActions:       pulumi.Array{topicARN},
			OkActions:          pulumi.Array{topicARN},
			Tags:               withTags(tags, nil),
		}, parent)
		if err != nil {
			return fmt.Errorf("creating %s alarm: %w", a.suffix, err)
		}
	}

	return nil
}

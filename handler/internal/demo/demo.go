// Package demo is `make demo`: the whole response to one GuardDuty finding,
// on the local emulators, told as a before and after.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/guardduty-response/guardduty-response/handler/finding"
	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// responseThreshold is the stack's default minimum severity for a response.
const responseThreshold = 7

// Run plays the demo and writes it to out.
func Run(ctx context.Context, out io.Writer) error {
	p := &printer{out: out}

	p.title("Starting the AWS API emulator and building the handler")
	moto, err := emulator.StartMoto(ctx, emulator.MotoOptions{})
	if err != nil {
		return err
	}
	defer moto.Stop()
	cfg := moto.Config(emulator.TestAccessKey, emulator.TestSecretKey)

	fn, err := startHandler(ctx, moto)
	if err != nil {
		return err
	}
	defer fn.Stop()

	p.title("Building a small estate")
	estate, err := emulator.BuildEstate(ctx, cfg)
	if err != nil {
		return err
	}
	inbox, err := emulator.NewInbox(ctx, cfg, "security-alerts")
	if err != nil {
		return err
	}
	if err := emulator.CreateLeaseTable(ctx, cfg); err != nil {
		return err
	}
	if err := emulator.CreateEvidenceBucket(ctx, cfg, emulator.EvidenceBucket); err != nil {
		return err
	}
	p.line("VPC A %s: instance %s (web) with interfaces %s and volumes %s,",
		estate.VPCA, estate.Web, strings.Join(estate.WebInterfaces, ", "), strings.Join(estate.WebVolumes, ", "))
	p.line("  in auto scaling group %q behind target group \"web\"; quarantine groups deployed", estate.AutoScalingGroup)
	p.line("VPC B %s: instance %s (worker); no quarantine groups yet", estate.VPCB, estate.Worker)

	before, err := observe(ctx, cfg, estate)
	if err != nil {
		return err
	}

	event, err := routeFinding(ctx, cfg, estate, p)
	if err != nil {
		return err
	}

	p.title("Handing the matched event to the compiled handler (aws-lambda-rie)")
	start := time.Now()
	invokeErr := fn.Invoke(ctx, event)
	p.line("handler answered in %v, error: %v", time.Since(start).Round(time.Millisecond), invokeErr)

	after, err := observe(ctx, cfg, estate)
	if err != nil {
		return err
	}
	p.title("The web instance, before and after")
	p.compare(before, after)

	if err := p.notifications(ctx, inbox, invokeErr); err != nil {
		return err
	}

	return p.evidence(ctx, cfg)
}

func startHandler(ctx context.Context, moto *emulator.Moto) (*emulator.Function, error) {
	root, err := emulator.ModuleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "demo-")
	if err != nil {
		return nil, err
	}

	bootstrap, err := emulator.BuildBootstrap(root, dir)
	if err != nil {
		return nil, err
	}

	return emulator.StartFunction(ctx, bootstrap, []string{
		"AWS_ENDPOINT_URL=" + moto.Endpoint,
		"AWS_ACCESS_KEY_ID=" + emulator.TestAccessKey,
		"AWS_SECRET_ACCESS_KEY=" + emulator.TestSecretKey,
		"AWS_REGION=" + emulator.Region,
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"SNS_TOPIC_ARN=arn:aws:sns:" + emulator.Region + ":" + emulator.DefaultAccount + ":security-alerts",
		"LEASE_TABLE=" + emulator.LeaseTable,
		"EVIDENCE_BUCKET=" + emulator.EvidenceBucket,
	})
}

// routeFinding puts a high and a low severity finding on the event bus, through
// a rule with the stack's pattern, and returns the one event the rule passed
// on. An SQS queue stands in for the Lambda target the emulator cannot invoke.
func routeFinding(ctx context.Context, cfg aws.Config, estate *emulator.Estate, p *printer) ([]byte, error) {
	bus, queues := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)

	pattern, err := finding.EventPattern(responseThreshold)
	if err != nil {
		return nil, err
	}
	p.title("Routing findings through the response rule")
	p.line("pattern: %s", pattern)

	queueURL, err := ruleToQueue(ctx, bus, queues, pattern)
	if err != nil {
		return nil, err
	}

	high, err := emulator.InstanceFinding(estate.Web, emulator.DefaultAccount)
	if err != nil {
		return nil, err
	}
	low, err := emulator.InstanceFinding(estate.Worker, emulator.DefaultAccount)
	if err != nil {
		return nil, err
	}
	low["severity"], low["id"] = 5.0, "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"

	for _, f := range []map[string]any{high, low} {
		if err := putFinding(ctx, bus, f); err != nil {
			return nil, err
		}
		p.line("put finding %s, severity %v, instance %v", f["id"], f["severity"],
			f["resource"].(map[string]any)["instanceDetails"].(map[string]any)["instanceId"])
	}

	return matchedEvent(ctx, queues, queueURL, p)
}

func ruleToQueue(ctx context.Context, bus *eventbridge.Client, queues *sqs.Client, pattern string) (string, error) {
	q, err := queues.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("responder-stand-in")})
	if err != nil {
		return "", fmt.Errorf("creating stand-in queue: %w", err)
	}
	attrs, err := queues.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", fmt.Errorf("reading stand-in queue ARN: %w", err)
	}

	if _, err := bus.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String("guardduty-response"), EventPattern: aws.String(pattern),
	}); err != nil {
		return "", fmt.Errorf("creating rule: %w", err)
	}
	if _, err := bus.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String("guardduty-response"),
		Targets: []ebtypes.Target{{Id: aws.String("responder"),
			Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}},
	}); err != nil {
		return "", fmt.Errorf("targeting stand-in queue: %w", err)
	}

	return aws.ToString(q.QueueUrl), nil
}

func putFinding(ctx context.Context, bus *eventbridge.Client, f map[string]any) error {
	detail, err := json.Marshal(f)
	if err != nil {
		return err
	}

	out, err := bus.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String(finding.Source), DetailType: aws.String(finding.DetailType),
		Detail: aws.String(string(detail)),
	}}})
	if err != nil {
		return fmt.Errorf("putting finding on the bus: %w", err)
	}
	if out.FailedEntryCount > 0 {
		return fmt.Errorf("putting finding on the bus: %d entries failed", out.FailedEntryCount)
	}

	return nil
}

// matchedEvent reads what the rule delivered: exactly one event is expected.
func matchedEvent(ctx context.Context, queues *sqs.Client, url string, p *printer) ([]byte, error) {
	out, err := queues.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("reading matched events: %w", err)
	}
	if len(out.Messages) != 1 {
		return nil, fmt.Errorf("the rule passed on %d events, want 1", len(out.Messages))
	}

	event := []byte(aws.ToString(out.Messages[0].Body))
	var matched struct {
		Detail struct {
			ID       string  `json:"id"`
			Severity float64 `json:"severity"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(event, &matched); err != nil {
		return nil, fmt.Errorf("decoding matched event: %w", err)
	}
	p.line("the rule passed on finding %s (severity %v) and held back the other",
		matched.Detail.ID, matched.Detail.Severity)

	return event, nil
}

package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sample is one event put on the bus.
type sample struct {
	id         string
	source     string
	detailType string
	severity   float64
}

func finding(id string, severity float64) sample {
	return sample{id, "aws.guardduty", "GuardDuty Finding", severity}
}

var samples = []sample{
	finding("low", 3.9),
	finding("medium", 4.0),
	finding("just-below-high", 6.9),
	finding("high", 7.0),
	finding("high-upper", 8.9),
	finding("critical", 9.5),
	finding("critical-max", 10.0),
	{"security-hub", "aws.securityhub", "Security Hub Findings - Imported", 9.5},
	{"impostor", "my.application", "GuardDuty Finding", 9.5},
}

// TestRulePatternsOnEventBus puts the patterns the program deploys on the
// emulator's event bus, with a queue behind each, and sends it findings.
func TestRulePatternsOnEventBus(t *testing.T) {
	t.Parallel()

	cfg := emulatorConfig(t)

	e := newEngine()
	e.mustRun(t, map[string]string{"accountId": testAccount})

	tests := []struct {
		rule string
		want []string
	}{
		{"rules-respond", []string{"high", "high-upper", "critical", "critical-max"}},
		{"rules-notify", []string{"medium", "just-below-high", "high", "high-upper",
			"critical", "critical-max"}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			pattern := text(e.named(t, ruleType, tt.rule).Inputs, "eventPattern")
			got := matches(t, cfg, tt.rule, pattern)
			if !slices.Equal(got, sorted(tt.want)) {
				t.Errorf("pattern %s matched %v, want %v", pattern, got, sorted(tt.want))
			}
		})
	}
}

// matches deploys pattern as a rule routed to a fresh queue, puts every
// sample on the bus and returns the ids that reached the queue, sorted.
func matches(t *testing.T, cfg aws.Config, name, pattern string) []string {
	t.Helper()

	ctx := context.Background()
	events := eventbridge.NewFromConfig(cfg)
	queues := sqs.NewFromConfig(cfg)

	// A name of its own keeps reruns against the same emulator apart.
	name = fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
	queueURL, queueARN := createQueue(t, queues, name)
	if _, err := events.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String(name), EventPattern: aws.String(pattern),
	}); err != nil {
		t.Fatalf("putting rule %s: %v", name, err)
	}
	t.Cleanup(func() { deleteRule(t, events, name) })
	if _, err := events.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule:    aws.String(name),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(queueARN)}},
	}); err != nil {
		t.Fatalf("targeting the queue: %v", err)
	}

	putSamples(t, events)

	return receiveIDs(t, queues, queueURL)
}

// deleteRule takes the rule off the bus so later samples do not reach it.
func deleteRule(t *testing.T, events *eventbridge.Client, name string) {
	t.Helper()

	ctx := context.Background()
	if _, err := events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{
		Rule: aws.String(name), Ids: []string{"queue"},
	}); err != nil {
		t.Errorf("removing the target of %s: %v", name, err)
	}
	_, err := events.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(name)})
	if err != nil {
		t.Errorf("deleting rule %s: %v", name, err)
	}
}

func createQueue(t *testing.T, queues *sqs.Client, name string) (string, string) {
	t.Helper()

	ctx := context.Background()
	created, err := queues.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("creating queue: %v", err)
	}
	attrs, err := queues.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       created.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("reading queue ARN: %v", err)
	}

	return *created.QueueUrl, attrs.Attributes["QueueArn"]
}

func putSamples(t *testing.T, events *eventbridge.Client) {
	t.Helper()

	entries := make([]ebtypes.PutEventsRequestEntry, 0, len(samples))
	for _, s := range samples {
		detail, err := json.Marshal(map[string]any{"id": s.id, "severity": s.severity,
			"type": "Recon:EC2/PortProbeUnprotectedPort"})
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, ebtypes.PutEventsRequestEntry{
			Source: aws.String(s.source), DetailType: aws.String(s.detailType),
			Detail: aws.String(string(detail)),
		})
	}

	out, err := events.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("putting events: %v (%d failed)", err, out.FailedEntryCount)
	}
}

// receiveIDs drains the queue; the emulator delivers during PutEvents, so
// an empty receive means the queue is done.
func receiveIDs(t *testing.T, queues *sqs.Client, url string) []string {
	t.Helper()

	var ids []string
	for range 20 {
		out, err := queues.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		})
		if err != nil {
			t.Fatalf("receiving: %v", err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			ids = append(ids, eventID(t, *m.Body))
		}
	}

	return sorted(ids)
}

func eventID(t *testing.T, body string) string {
	t.Helper()

	var event struct {
		Detail struct {
			ID string `json:"id"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(body), &event); err != nil {
		t.Fatalf("decoding delivered event %q: %v", body, err)
	}

	return event.Detail.ID
}

func sorted(values []string) []string {
	out := slices.Clone(values)
	slices.Sort(out)

	return out
}

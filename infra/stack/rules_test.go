package stack

import (
	"reflect"
	"strings"
	"testing"
)

const deadLetterARN = "arn:aws:sqs:us-east-1:111111111111:responder-dead-letter"

func TestRulePatterns(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name            string
		config          map[string]string
		respond, notify float64
	}{
		{"defaults", nil, 7, 4},
		{"configured", map[string]string{"responseSeverity": "8", "notifySeverity": "2"}, 8, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			config := map[string]string{"accountId": testAccount}
			for k, v := range tt.config {
				config[k] = v
			}
			e := newEngine()
			e.mustRun(t, config)

			checkPattern(t, e.named(t, ruleType, "rules-respond"), tt.respond)
			checkPattern(t, e.named(t, ruleType, "rules-notify"), tt.notify)
		})
	}
}

// checkPattern asserts a rule that takes GuardDuty findings at or above a
// severity, with no upper bound.
func checkPattern(t *testing.T, rule record, severity float64) {
	t.Helper()

	pattern := document(t, text(rule.Inputs, "eventPattern"))
	want := map[string]any{
		"source":      []any{"aws.guardduty"},
		"detail-type": []any{"GuardDuty Finding"},
		"detail": map[string]any{
			"severity": []any{map[string]any{"numeric": []any{">=", severity}}},
		},
	}
	if !reflect.DeepEqual(pattern, want) {
		t.Errorf("rule %s pattern = %v, want %v", rule.Name, pattern, want)
	}
}

func TestRuleTargets(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{"accountId": testAccount})

	respond := e.named(t, targetType, "rules-respond")
	if got := text(respond.Inputs, "arn"); got != "arn:aws:lambda:us-east-1:111111111111:responder" {
		t.Errorf("response target = %s, want the function", got)
	}
	notify := e.named(t, targetType, "rules-notify")
	if got := text(notify.Inputs, "arn"); got != "arn:aws:sns:us-east-1:111111111111:notifications" {
		t.Errorf("notify target = %s, want the topic", got)
	}
	template := text(notify.Inputs, "inputTransformer", "inputTemplate")
	if !strings.HasPrefix(template, `"`) || !strings.Contains(template, "<severity>") {
		t.Errorf("notify template = %s, want a text message with the severity", template)
	}

	for _, target := range []record{respond, notify} {
		if got := text(target.Inputs, "deadLetterConfig", "arn"); got != deadLetterARN {
			t.Errorf("target %s dead letters go to %q, want %s", target.Name, got, deadLetterARN)
		}
		if field(target.Inputs, "retryPolicy", "maximumRetryAttempts") == nil {
			t.Errorf("target %s has no retry policy", target.Name)
		}
	}

	permission := e.one(t, permissionType)
	if got := text(permission.Inputs, "sourceArn"); got !=
		"arn:aws:events:us-east-1:111111111111:rule/rules-respond" {
		t.Errorf("invoke permission scoped to %q, want the response rule", got)
	}
	if text(permission.Inputs, "principal") != "events.amazonaws.com" {
		t.Errorf("invoke permission principal = %s", text(permission.Inputs, "principal"))
	}
}

func TestDeadLetterWiring(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{"accountId": testAccount})

	queue := e.one(t, queueType)
	if queue.Inputs["sqsManagedSseEnabled"] != true {
		t.Error("dead-letter queue is not encrypted")
	}

	invoke := e.one(t, invokeConfigType)
	got := text(invoke.Inputs, "destinationConfig", "onFailure", "destination")
	if got != deadLetterARN {
		t.Errorf("failed invocations go to %q, want %s", got, deadLetterARN)
	}

	policy := document(t, text(e.one(t, queuePolicyType).Inputs, "policy"))
	sources := field(policy["Statement"].([]any)[0], "Condition", "ArnEquals", "aws:SourceArn")
	want := []any{
		"arn:aws:events:us-east-1:111111111111:rule/rules-respond",
		"arn:aws:events:us-east-1:111111111111:rule/rules-notify",
	}
	if !reflect.DeepEqual(sources, want) {
		t.Errorf("queue accepts dead letters from %v, want %v", sources, want)
	}

	checkAlarms(t, e)
}

func checkAlarms(t *testing.T, e *engine) {
	t.Helper()

	metrics := map[string]bool{}
	for _, a := range e.ofType(alarmType) {
		metrics[text(a.Inputs, "metricName")] = true
		actions, _ := a.Inputs["alarmActions"].([]any)
		if len(actions) != 1 || actions[0] != "arn:aws:sns:us-east-1:111111111111:notifications" {
			t.Errorf("alarm %s notifies %v, want the topic", a.Name, actions)
		}
	}
	for _, metric := range []string{"Errors", "Throttles", "ApproximateNumberOfMessagesVisible"} {
		if !metrics[metric] {
			t.Errorf("no alarm on %s", metric)
		}
	}
}

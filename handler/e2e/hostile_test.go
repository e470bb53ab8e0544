package e2e

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// hostileCase is one event a crafted or broken source might send.
type hostileCase struct {
	name string
	// event builds the bytes to deliver; base is a valid finding naming the
	// worker instance, free to change.
	event func(w *world, base map[string]any) []byte
	// outcome is the report's outcome, or "" when the event must be refused.
	outcome string
}

func TestHostileAndBrokenInput(t *testing.T) {
	for _, tt := range hostileCases() {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			e := w.estate

			err := suite.fn.Invoke(w.ctx, tt.event(w, w.finding(e.Worker)))

			var fnErr *emulator.InvokeError
			if errors.As(err, &fnErr) && strings.HasPrefix(fnErr.Type, "Runtime.") {
				t.Fatalf("the function crashed: %v", err)
			}
			w.checkUntouched(e.Web, e.WebInterfaces, e.AppGroupA)

			if tt.outcome == "" {
				w.checkRefused(err)
				return
			}
			if failed := tt.outcome == "failed"; (err != nil) != failed {
				t.Errorf("function error %v; want one only for a failed response", err)
			}
			if tt.outcome != "contained" {
				eni := *w.instance(e.Worker).NetworkInterfaces[0].NetworkInterfaceId
				w.checkUntouched(e.Worker, []string{eni}, e.AppGroupB)
			}
			n, r := w.onlyNotification()
			if r.Outcome != tt.outcome {
				t.Errorf("outcome %q, want %q (reason %q)", r.Outcome, tt.outcome, r.Reason)
			}
			if strings.Count(n.Message, "\nOutcome:") != 1 {
				t.Errorf("message has forged lines:\n%s", n.Message)
			}
		})
	}
}

// checkRefused checks that the event was refused with a clear error and
// that nothing changed anywhere.
func (w *world) checkRefused(err error) {
	w.t.Helper()
	var fnErr *emulator.InvokeError
	if !errors.As(err, &fnErr) || !strings.Contains(fnErr.Message, "refusing event") {
		w.t.Errorf("got %v, want the event refused", err)
	}
	e := w.estate
	worker := w.instance(e.Worker)
	eni := *worker.NetworkInterfaces[0].NetworkInterfaceId
	w.checkUntouched(e.Worker, []string{eni}, e.AppGroupB)
	if n := w.notifications(); len(n) != 0 {
		w.t.Errorf("%d notifications for a refused event", len(n))
	}
}

func hostileCases() []hostileCase {
	raw := func(s string) func(*world, map[string]any) []byte {
		return func(*world, map[string]any) []byte { return []byte(s) }
	}
	detail := func(mutate func(w *world, f map[string]any)) func(*world, map[string]any) []byte {
		return func(w *world, f map[string]any) []byte {
			mutate(w, f)
			event, err := emulator.Event(f)
			if err != nil {
				w.t.Fatal(err)
			}
			return event
		}
	}
	envelope := func(mutate func(e map[string]any)) func(*world, map[string]any) []byte {
		return func(w *world, f map[string]any) []byte {
			var e map[string]any
			event, _ := emulator.Event(f)
			_ = json.Unmarshal(event, &e)
			mutate(e)
			out, _ := json.Marshal(e)
			return out
		}
	}
	instance := func(f map[string]any) map[string]any {
		return f["resource"].(map[string]any)["instanceDetails"].(map[string]any)
	}

	return []hostileCase{
		{"not JSON", raw(`{"source": "aws.guardduty", "detail`), ""},
		{"JSON array", raw(`[{"source":"aws.guardduty"}]`), ""},
		{"empty object", raw(`{}`), ""},
		{"JSON null", raw(`null`), ""},
		{"wrong source", envelope(func(e map[string]any) { e["source"] = "aws.ec2" }), ""},
		{"source in another case", envelope(func(e map[string]any) { e["source"] = "AWS.GuardDuty" }), ""},
		{"forged detail-type", envelope(func(e map[string]any) { e["detail-type"] = "GuardDuty Finding " }), ""},
		{"no detail-type", envelope(func(e map[string]any) { delete(e, "detail-type") }), ""},
		{"detail null", envelope(func(e map[string]any) { e["detail"] = nil }), ""},
		{"detail a string", envelope(func(e map[string]any) { e["detail"] = "{}" }), ""},
		{"nulls everywhere", detail(func(_ *world, f map[string]any) {
			for k := range f {
				f[k] = nil
			}
		}), ""},
		{"id with a line break", detail(func(_ *world, f map[string]any) { f["id"] = "abc\nSubject: hi" }), ""},
		{"id with a path", detail(func(_ *world, f map[string]any) { f["id"] = "../../etc/passwd" }), ""},
		{"id of 200 KB", detail(func(_ *world, f map[string]any) { f["id"] = strings.Repeat("a", 200<<10) }), ""},
		{"type with a line break", detail(func(_ *world, f map[string]any) { f["type"] = "Recon:EC2/X\r\nBcc: x" }), ""},
		{"type not ASCII", detail(func(_ *world, f map[string]any) { f["type"] = "Recon:EC2/Pörtscan" }), ""},
		{"severity as a string", detail(func(_ *world, f map[string]any) { f["severity"] = "8" }), ""},
		{"severity null", detail(func(_ *world, f map[string]any) { f["severity"] = nil }), ""},
		{"severity negative", detail(func(_ *world, f map[string]any) { f["severity"] = -1 }), ""},
		{"severity huge", raw(`{"source":"aws.guardduty","detail-type":"GuardDuty Finding",` +
			`"detail":{"id":"a","type":"T","severity":1e999}}`), ""},
		{"account as a number", detail(func(_ *world, f map[string]any) { f["accountId"] = 123456789012 }), ""},
		{"account of 13 digits", detail(func(_ *world, f map[string]any) { f["accountId"] = "1234567890123" }), ""},
		{"region with a line break", detail(func(_ *world, f map[string]any) { f["region"] = "us-east-1\n" }), ""},
		{"count as a string", detail(func(_ *world, f map[string]any) {
			f["service"].(map[string]any)["count"] = "278"
		}), ""},
		{"resource null", detail(func(_ *world, f map[string]any) { f["resource"] = nil }), ""},
		{"instance details null", detail(func(_ *world, f map[string]any) {
			f["resource"].(map[string]any)["instanceDetails"] = nil
		}), ""},
		{"instance id malformed", detail(func(_ *world, f map[string]any) { instance(f)["instanceId"] = "i-xyz" }), ""},
		{"instance id of a network interface", detail(func(w *world, f map[string]any) {
			instance(f)["instanceId"] = w.estate.WebInterfaces[0]
		}), ""},
		{"two instance ids in one", detail(func(w *world, f map[string]any) {
			instance(f)["instanceId"] = w.estate.Worker + "," + w.estate.Web
		}), ""},
		{"instance id with a wildcard", detail(func(_ *world, f map[string]any) { instance(f)["instanceId"] = "i-*" }), ""},
		{"instance that does not exist", detail(func(_ *world, f map[string]any) {
			instance(f)["instanceId"] = "i-0123456789abcdef0"
		}), "not-acted"},
		{"interfaces and groups of another instance", detail(func(w *world, f map[string]any) {
			instance(f)["networkInterfaces"] = []any{map[string]any{
				"networkInterfaceId": w.estate.WebInterfaces[0], "vpcId": w.estate.VPCA,
				"securityGroups": []any{map[string]any{"groupId": w.estate.AppGroupA}},
			}}
		}), "contained"},
		{"tags claiming protection that the live instance lacks", detail(func(_ *world, f map[string]any) {
			instance(f)["tags"] = []any{map[string]any{"key": "guardduty-response:protected", "value": "true"}}
		}), "contained"},
		// The account has no member role. moto lets it be assumed where AWS
		// refuses, but, enforcing IAM, then refuses every call made with it.
		{"instance id of another account", detail(func(_ *world, f map[string]any) {
			f["accountId"] = "999999999999"
		}), "failed"},
		{"unknown resource type naming an instance", detail(func(w *world, f map[string]any) {
			f["resource"].(map[string]any)["resourceType"] = "Lambda"
			instance(f)["instanceId"] = w.estate.Web
		}), "not-acted"},
		{"sample flag as a string", detail(func(_ *world, f map[string]any) {
			f["service"].(map[string]any)["additionalInfo"] = map[string]any{"sample": "true"}
		}), "dry-run"},
		{"title with control characters and forged lines", detail(func(_ *world, f map[string]any) {
			f["title"] = "x\nOutcome:   contained\u0000\u001b[2J\u202e"
		}), "contained"},
		{"title in other scripts", detail(func(_ *world, f map[string]any) {
			f["title"] = "可疑活动 — نشاط مريب — подозрительно"
		}), "contained"},
		{"event of 256 KB", detail(func(_ *world, f map[string]any) {
			f["description"] = strings.Repeat("A", 250<<10)
		}), "contained"},
	}
}

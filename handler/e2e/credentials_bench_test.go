package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// BenchmarkCredentialResponse measures the credential playbooks from invoke
// to answer through the compiled bootstrap, each iteration a new principal
// with its own finding: how long, how many AWS calls, and how many of them
// had to wait for one another. In the member account it also counts how
// often the responder entered it: once for the whole run, its session
// reused.
func BenchmarkCredentialResponse(b *testing.B) {
	cases := []struct {
		name    string
		account string
		finding func(w *world, p *principals, i int) map[string]any
	}{
		{"IAM user", emulator.DefaultAccount, func(w *world, p *principals, i int) map[string]any {
			u := p.createUser(fmt.Sprintf("user-%d", i), 2, true)
			return w.userFinding(p.account, u, u.keys[0])
		}},
		{"role", emulator.DefaultAccount, func(w *world, p *principals, i int) map[string]any {
			return w.roleFinding(p.account, p.createRole(fmt.Sprintf("role-%d", i), ""))
		}},
		{"IAM user in member account", memberAccount,
			func(w *world, p *principals, i int) map[string]any {
				u := p.createUser(fmt.Sprintf("user-%d", i), 2, true)
				return w.userFinding(p.account, u, u.keys[0])
			}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			w := newWorld(b)
			p := w.accountIAM()
			if c.account != emulator.DefaultAccount {
				_, p = w.member()
			}
			fn := w.startTestFunction()
			_ = fn.Invoke(w.ctx, []byte(`{}`)) // start the runtime outside the measured calls
			suite.recorder.Reset()

			var took []time.Duration
			calls, depth, entered, i := 0, 0, 0, 0
			for b.Loop() {
				b.StopTimer()
				event, err := emulator.Event(c.finding(w, p, i))
				if err != nil {
					b.Fatal(err)
				}
				i++
				suite.recorder.Reset()
				b.StartTimer()

				start := time.Now()
				if err := fn.Invoke(w.ctx, event); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))

				b.StopTimer()
				made := suite.recorder.Calls()
				calls += len(made)
				depth = max(depth, len(emulator.CriticalPath(made)))
				entered += countOf(made, "sts", "AssumeRole")
				if _, err := w.inbox.Drain(w.ctx); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}

			if c.account != emulator.DefaultAccount && entered != 1 {
				b.Errorf("entered the member account %d times for %d findings, want once",
					entered, len(took))
			}
			b.ReportMetric(float64(calls)/float64(len(took)), "aws-calls/op")
			b.ReportMetric(float64(depth), "critical-path-calls")
			b.ReportMetric(float64(entered), "assume-role-calls")
			reportLatency(b, took)
		})
	}
}

// countOf counts the calls of one action.
func countOf(calls []emulator.Call, service, action string) int {
	n := 0
	for _, c := range calls {
		if c.Service == service && c.Action == action {
			n++
		}
	}

	return n
}

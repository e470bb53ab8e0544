package playbook

import (
	"context"
	"sync"
	"time"

	"github.com/guardduty-response/guardduty-response/handler/finding"
)

// Status is what became of one step.
type Status string

// Step statuses.
const (
	Done    Status = "done"
	Skipped Status = "skipped" // nothing to do, or not allowed; Detail says why
	Failed  Status = "failed"
	Planned Status = "planned" // dry run: would have been done
)

// Outcome sums up a whole response.
type Outcome string

// Outcomes, from the security team's point of view.
const (
	Contained        Outcome = "contained"         // every step done
	PartlyContained  Outcome = "partly-contained"  // a step failed; Lambda retries
	AlreadyContained Outcome = "already-contained" // an earlier response finished
	DryRun           Outcome = "dry-run"           // nothing changed; steps planned
	NotActed         Outcome = "not-acted"         // deliberately left alone; Reason says why
	Failure          Outcome = "failed"            // the response could not start
)

// Step is one action of a response on one target.
type Step struct {
	Action string `json:"action"`
	Target string `json:"target,omitempty"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
	// RequestIDs are the AWS request ids of the calls the step made.
	RequestIDs []string `json:"requestIds,omitempty"`
	// Time is when the step ended.
	Time time.Time `json:"time"`
}

// Report is the record of one response, built concurrently by its steps.
type Report struct {
	Finding  *finding.Finding
	Account  string
	Resource string // "instance i-0abc", "access key AKIA…"
	Outcome  Outcome
	Reason   string
	// Headline, when set, replaces the outcome in the notification's subject,
	// for findings that need a person at once (root credentials in use).
	Headline string
	// State is the live state the playbook read before acting (for the EC2
	// playbook an InstanceState), kept in the evidence record; nil when
	// nothing was read.
	State any

	mu      sync.Mutex
	steps   []Step
	finish  func(context.Context) error
	reopen  func(context.Context) error
	gateErr error
}

// GateErr is why Options.Gate refused the response its changes, or nil.
func (r *Report) GateErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()

	return r.gateErr
}

// Steps returns a copy of the steps recorded so far, in completion order.
func (r *Report) Steps() []Step {
	r.mu.Lock()
	defer r.mu.Unlock()

	return append([]Step(nil), r.steps...)
}

// Failed reports whether any step failed.
func (r *Report) Failed() bool {
	return r.count(Failed) > 0
}

// Changed reports whether any step changed something.
func (r *Report) Changed() bool {
	return r.count(Done) > 0
}

func (r *Report) count(status Status) int {
	r.mu.Lock()
	defer r.mu.Unlock()

	n := 0
	for _, s := range r.steps {
		if s.Status == status {
			n++
		}
	}

	return n
}

func (r *Report) add(s Step) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.steps = append(r.steps, s)
}

// settle sets the outcome of a response whose steps have all run.
func (r *Report) settle(dryRun bool) {
	switch {
	case dryRun:
		r.Outcome = DryRun
	case r.Failed():
		r.Outcome = PartlyContained
	default:
		r.Outcome = Contained
	}
}

// Finish completes a response once its report has been delivered: for a
// complete quarantine it marks the instance quarantined, so that later
// findings leave it alone. It does nothing for any other outcome.
func (r *Report) Finish(ctx context.Context) error {
	if r.finish == nil {
		return nil
	}

	return r.finish(ctx)
}

// Reopen undoes Finish when the report could not be delivered after all, so
// that the retry finds the response unfinished and reports it again instead
// of staying silent. It does nothing when there is nothing to undo.
func (r *Report) Reopen(ctx context.Context) error {
	if r.reopen == nil {
		return nil
	}

	return r.reopen(ctx)
}

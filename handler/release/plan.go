package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/guardduty-response/guardduty-response/handler/account"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

// ErrNotQuarantined means the resource carries no quarantine of the
// responder's: release refuses to touch it.
var ErrNotQuarantined = errors.New("not quarantined by the responder")

// Outcomes of a release, as its evidence record states them.
const (
	Released       = "released"
	PartlyReleased = "partly-released" // a step failed; running release again does the rest
)

// Plan is what releasing one resource would change, read from its live state
// and the tags the response left on it.
type Plan struct {
	// Resource says what is released: "instance i-0abc", "IAM user alice".
	Resource string
	// Subject is the resource's evidence chain.
	Subject string
	Account string
	Region  string
	// FindingID is the finding whose quarantine is lifted.
	FindingID string
	// Steps are the changes, in the order they are made.
	Steps []Step
	// Notes are what the release leaves as it is, and why.
	Notes []string
	// State is what was read, kept in the evidence record.
	State any
}

// Step is one change of a release.
type Step struct {
	Action string
	Target string
	Detail string
	// last steps run only when every earlier one succeeded: they mark the
	// resource released.
	last  bool
	apply func(ctx context.Context) error
}

// Empty reports whether there is nothing to change.
func (p *Plan) Empty() bool { return len(p.Steps) == 0 }

func (p *Plan) add(action, target, detail string, apply func(context.Context) error) {
	p.Steps = append(p.Steps, Step{Action: action, Target: target, Detail: detail, apply: apply})
}

// finally adds a step that runs only if every other one succeeded.
func (p *Plan) finally(action, target, detail string, apply func(context.Context) error) {
	p.Steps = append(p.Steps, Step{Action: action, Target: target, Detail: detail, last: true,
		apply: apply})
}

func (p *Plan) note(format string, args ...any) {
	p.Notes = append(p.Notes, fmt.Sprintf(format, args...))
}

// Print writes the plan for the person who is to confirm it.
func (p *Plan) Print(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Release of %s in account %s", p.Resource, p.Account)
	if p.Region != "" {
		fmt.Fprintf(&b, ", %s", p.Region)
	}
	if p.FindingID != "" {
		fmt.Fprintf(&b, " (quarantined for finding %s)", p.FindingID)
	}
	b.WriteString("\n")

	if p.Empty() {
		b.WriteString("\nNothing to change.\n")
	} else {
		b.WriteString("\nChanges, in order:\n")
	}
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "  %d. %s: %s", i+1, s.Action, s.Target)
		if s.Detail != "" {
			fmt.Fprintf(&b, " (%s)", s.Detail)
		}
		b.WriteString("\n")
	}

	if len(p.Notes) > 0 {
		b.WriteString("\nLeft as it is:\n")
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "  - %s\n", n)
	}

	_, err := io.WriteString(w, b.String())

	return err
}

// Result is what applying a plan did.
type Result struct {
	Outcome string
	Steps   []playbook.Step
}

// Failed reports whether any step failed.
func (r Result) Failed() bool { return r.Outcome != Released }

// Apply makes the plan's changes one after the other, recording each with
// the AWS request ids of its calls. A failed step does not stop the others,
// except the final marking, which then does not run: the resource stays
// quarantined and running release again does what is left.
func (p *Plan) Apply(ctx context.Context) Result {
	res := Result{Outcome: Released}
	for _, s := range p.Steps {
		step := playbook.Step{Action: s.Action, Target: s.Target, Detail: s.Detail}
		switch {
		case s.last && res.Outcome != Released:
			step.Status, step.Error = playbook.Skipped, "an earlier step failed"
		default:
			callCtx, requests := account.WithRequestLog(ctx)
			err := s.apply(callCtx)
			step.RequestIDs = requests.IDs()
			step.Status = playbook.Done
			if err != nil {
				step.Status, step.Error = playbook.Failed, err.Error()
				res.Outcome = PartlyReleased
			}
		}
		step.Time = time.Now().UTC()
		res.Steps = append(res.Steps, step)
	}

	return res
}

// PrintResult writes what was done, one step a line.
func PrintResult(w io.Writer, res Result) error {
	var b strings.Builder
	for _, s := range res.Steps {
		fmt.Fprintf(&b, "  %-7s %s: %s", s.Status, s.Action, s.Target)
		if s.Error != "" {
			fmt.Fprintf(&b, ": %s", s.Error)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Outcome: %s\n", res.Outcome)

	_, err := io.WriteString(w, b.String())

	return err
}

// encodeState keeps a plan's state as the evidence record's JSON.
func encodeState(state any) (json.RawMessage, error) {
	if state == nil {
		return nil, nil
	}
	data, err := json.Marshal(state)
	if err != nil {
		return nil, fmt.Errorf("encoding the state read for the evidence record: %w", err)
	}

	return data, nil
}

package playbook

import (
	"context"
	"log/slog"
	"time"
)

// Options are the settings every playbook shares.
type Options struct {
	// DryRun records what would be done and changes nothing.
	DryRun bool

	// DisassociateInstanceProfile takes the instance profile away from a
	// quarantined instance, so its role credentials stop being renewed.
	DisassociateInstanceProfile bool

	// RemoveLoginProfile removes the console password of a compromised IAM
	// user. Either way the user's deny-all policy refuses console sessions
	// every action.
	RemoveLoginProfile bool

	// Exempt are the principals no playbook restricts, whatever a finding
	// says about them: the responder itself, its deployer, break-glass
	// principals, and the responder's role in the finding's account.
	Exempt []Exemption

	// StopBy is when no new step may start any more, so that the time left
	// before the Lambda's deadline is enough to report; zero means no limit.
	// Steps not started are reported as failed, and the retry does them.
	StopBy time.Time

	// Gate, when set, is called once before the first change a response
	// makes (never in a dry run); when it fails, no change is made and the
	// report's GateErr says why. The responder takes its lease there, so
	// that taking it overlaps the reads.
	Gate func(context.Context) error

	// Now is the clock; time.Now when nil.
	Now func() time.Time

	// Log receives a record of every step; slog.Default when nil.
	Log *slog.Logger
}

func (o Options) now() time.Time {
	if o.Now == nil {
		return time.Now().UTC()
	}

	return o.Now().UTC()
}

func (o Options) logger() *slog.Logger {
	if o.Log == nil {
		return slog.Default()
	}

	return o.Log
}

package playbook

import (
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

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

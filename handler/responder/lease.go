package responder

import (
	"context"
	"time"

	"github.com/guardduty-response/guardduty-response/handler/finding"
)

// Lease timing. A lease outlives its holder's deadline by leaseMargin, so
// that a retry cannot start while the holder may still be acting; a waiting
// invocation gives up leaseWaitReserve before its own deadline.
const (
	leaseMargin      = 30 * time.Second
	leaseNoDeadline  = 15 * time.Minute
	leaseMaxWait     = 20 * time.Second
	leaseWaitReserve = 10 * time.Second
)

// leaseKey names the resource a finding's response may change, or "" when
// the response changes nothing (samples, dry runs, notify-only types).
func (r *Responder) leaseKey(f *finding.Finding) string {
	if r.cfg.DryRun || f.IsSample() {
		return ""
	}

	prefix := f.AccountID + "/" + f.Region + "/"
	switch {
	case f.Resource.Type == finding.ResourceInstance:
		return prefix + "instance/" + f.Resource.Instance.ID
	case f.Resource.Type == finding.ResourceAccessKey && f.Resource.AccessKey != nil:
		k := f.Resource.AccessKey
		return prefix + "principal/" + k.UserType + "/" + k.PrincipalID + "/" + k.UserName
	}

	return ""
}

// acquire takes the lease on the finding's resource, waiting a little for a
// concurrent response to finish. It returns the function that releases it.
func (r *Responder) acquire(ctx context.Context, f *finding.Finding) (func(), error) {
	key := r.leaseKey(f)
	if key == "" || r.leases == nil {
		return func() {}, nil
	}

	until, wait := time.Now().Add(leaseNoDeadline), leaseMaxWait
	if deadline, ok := ctx.Deadline(); ok {
		until = deadline.Add(leaseMargin)
		wait = min(leaseMaxWait, max(0, time.Until(deadline)-leaseWaitReserve))
	}

	l, err := r.leases.Acquire(ctx, key, f.ID, until, wait)
	if err != nil {
		return nil, err
	}

	return func() {
		// The lease expires on its own if this fails; a retry then waits.
		if err := l.Release(context.WithoutCancel(ctx)); err != nil {
			r.log.WarnContext(ctx, "releasing lease", "error", err)
		}
	}, nil
}

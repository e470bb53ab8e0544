package responder

import (
	"context"
	"sync"
	"time"

	"github.com/guardduty-response/guardduty-response/handler/finding"
	"github.com/guardduty-response/guardduty-response/handler/lease"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
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

// heldLease is a lease being taken, or taken, on the finding's resource.
// Taking it starts with the response and overlaps the playbook's reads; the
// playbook waits for it only before its first change.
type heldLease struct {
	done     chan struct{}
	lease    *lease.Lease // nil when there is nothing to hold, or it was not taken
	err      error
	released sync.Once
}

// leaseKey names the resource a finding's response may change, or "" when
// the response changes nothing (samples, dry runs, notify-only types).
func (r *Responder) leaseKey(f *finding.Finding) string {
	if r.cfg.DryRun || f.IsSample() || r.leases == nil {
		return ""
	}

	prefix := f.AccountID + "/" + f.Region + "/"
	switch playbook.Choose(f) {
	case playbook.KindInstance:
		return prefix + "instance/" + f.Resource.Instance.ID
	case playbook.KindAccessKey, playbook.KindRole:
		k := f.Resource.AccessKey
		if k == nil {
			return ""
		}
		return prefix + "principal/" + k.UserType + "/" + k.PrincipalID + "/" + k.UserName
	}

	return ""
}

// startLease tries once, in the background, to take the lease.
func (r *Responder) startLease(ctx context.Context, f *finding.Finding) *heldLease {
	return r.takeLease(ctx, f, 0)
}

// waitForLease takes the lease, waiting a little for the response that
// holds it to finish.
func (r *Responder) waitForLease(ctx context.Context, f *finding.Finding) *heldLease {
	wait := leaseMaxWait
	if deadline, ok := ctx.Deadline(); ok {
		wait = min(leaseMaxWait, max(0, time.Until(deadline)-leaseWaitReserve))
	}

	h := r.takeLease(ctx, f, wait)
	<-h.done

	return h
}

func (r *Responder) takeLease(ctx context.Context, f *finding.Finding, wait time.Duration) *heldLease {
	h := &heldLease{done: make(chan struct{})}
	key := r.leaseKey(f)
	if key == "" {
		close(h.done)
		return h
	}

	until := time.Now().Add(leaseNoDeadline)
	if deadline, ok := ctx.Deadline(); ok {
		until = deadline.Add(leaseMargin)
	}
	go func() {
		defer close(h.done)
		h.lease, h.err = r.leases.Acquire(ctx, key, f.ID, until, wait)
	}()

	return h
}

// gate waits for the lease: a playbook's Options.Gate.
func (h *heldLease) gate(context.Context) error {
	<-h.done
	return h.err
}

// release gives the lease up, once, when it is known whether it was taken.
func (r *Responder) release(ctx context.Context, h *heldLease) {
	<-h.done
	h.released.Do(func() {
		if h.lease == nil {
			return
		}
		// The lease expires on its own if this fails; a retry then waits.
		if err := h.lease.Release(context.WithoutCancel(ctx)); err != nil {
			r.log.WarnContext(ctx, "releasing lease", "error", err)
		}
	})
}

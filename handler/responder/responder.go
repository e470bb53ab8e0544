// Package responder is the Lambda function: it decodes each GuardDuty
// finding, enters the finding's account, runs the playbook for the kind of
// resource the finding names, and reports what was done.
package responder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/guardduty-response/guardduty-response/handler/account"
	"github.com/guardduty-response/guardduty-response/handler/evidence"
	"github.com/guardduty-response/guardduty-response/handler/finding"
	"github.com/guardduty-response/guardduty-response/handler/lease"
	"github.com/guardduty-response/guardduty-response/handler/notify"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

// Responder handles GuardDuty finding events.
type Responder struct {
	cfg      Config
	sessions *account.Sessions
	notifier *notify.Publisher
	leases   *lease.Table    // nil when no table is configured
	evidence *evidence.Store // nil when no bucket is configured
	log      *slog.Logger
}

// New prepares a Responder: it learns its own identity, which also proves
// that its credentials work before the first finding arrives.
func New(ctx context.Context, awsCfg aws.Config, cfg Config, log *slog.Logger) (*Responder, error) {
	sessions, err := account.NewSessions(ctx, awsCfg, cfg.MemberRoleName, cfg.MemberExternalID)
	if err != nil {
		return nil, err
	}

	r := &Responder{
		cfg:      cfg,
		sessions: sessions,
		notifier: notify.NewPublisher(sns.NewFromConfig(awsCfg), cfg.TopicARN),
		log:      log,
	}
	if cfg.LeaseTable != "" {
		r.leases = lease.NewTable(dynamodb.NewFromConfig(awsCfg), cfg.LeaseTable)
	} else {
		log.WarnContext(ctx, "LEASE_TABLE is not set: concurrent deliveries may act twice")
	}
	if cfg.EvidenceBucket != "" {
		r.evidence = evidence.NewStoreFromConfig(awsCfg, cfg.EvidenceBucket)
	} else {
		log.WarnContext(ctx, "EVIDENCE_BUCKET is not set: no evidence records are written")
	}

	return r, nil
}

// Invoke is the Lambda entry point: it takes the event's bytes as they come,
// so that even an event that is not JSON is refused by Handle with a clear
// error rather than by the runtime. It returns no payload.
func (r *Responder) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return nil, r.Handle(ctx, payload)
}

// Handle answers one event. It returns an error, so that Lambda retries the
// delivery, when the event cannot be trusted, when a step failed or when the
// report could not be delivered; the retry does only what is still missing.
func (r *Responder) Handle(ctx context.Context, event json.RawMessage) error {
	f, err := finding.Decode(event)
	if err != nil {
		r.log.ErrorContext(ctx, "refusing event", "error", err)
		return fmt.Errorf("refusing event: %w", err)
	}

	log := r.log.With("finding", f.ID, "type", f.Type, "account", f.AccountID)
	log.InfoContext(ctx, "finding received", "severity", f.Severity,
		"resourceType", f.Resource.Type, "sample", f.IsSample())

	held := r.startLease(ctx, f)
	report := r.respond(ctx, f, log, held.gate)
	if errors.Is(held.gate(ctx), lease.ErrHeld) {
		// Another invocation is acting on the resource (whether or not this
		// response got as far as a change): wait for it, then start again
		// from a fresh read of what it left, and only then report.
		log.InfoContext(ctx, "another invocation is responding to this resource; waiting")
		if held = r.waitForLease(ctx, f); held.err != nil {
			log.WarnContext(ctx, "not responding now; the delivery will be retried", "error", held.err)
			return fmt.Errorf("responding to finding %s: %w", f.ID, held.err)
		}
		report = r.respond(ctx, f, log, held.gate)
	}
	defer r.release(ctx, held)

	if report.Outcome == playbook.AlreadyContained && !report.Changed() {
		log.InfoContext(ctx, "nothing to do", "reason", report.Reason)
		return nil
	}

	return r.deliver(ctx, report, log, func() { r.release(ctx, held) })
}

// respond runs the playbook for the finding's resource type.
func (r *Responder) respond(ctx context.Context, f *finding.Finding, log *slog.Logger,
	gate func(context.Context) error) *playbook.Report {
	clients, err := r.sessions.For(ctx, f.Partition, f.AccountID, f.Region)
	if err != nil {
		return failure(f, err)
	}

	opts := playbook.Options{
		DryRun:                      r.cfg.DryRun,
		DisassociateInstanceProfile: r.cfg.DisassociateInstanceProfile,
		RemoveLoginProfile:          r.cfg.RemoveLoginProfile,
		Exempt:                      r.exemptions(f),
		Gate:                        gate,
		Log:                         log,
	}
	if deadline, ok := ctx.Deadline(); ok {
		opts.StopBy = deadline.Add(-r.cfg.DeadlineReserve)
	}

	switch playbook.Choose(f) {
	case playbook.KindInstance:
		return playbook.Instance(ctx, clients, f, opts)
	case playbook.KindAccessKey:
		return playbook.AccessKey(ctx, clients, f, opts)
	case playbook.KindRole:
		return playbook.Role(ctx, clients, f, opts)
	default:
		return &playbook.Report{
			Finding:  f,
			Account:  f.AccountID,
			Resource: "resource type " + f.Resource.Type,
			Outcome:  playbook.NotActed,
			Reason:   "no playbook for resource type " + f.Resource.Type + "; notified only",
		}
	}
}

// exemptions are the principals no playbook may restrict: the responder
// itself, whoever deploys it, the break-glass principals, and the role the
// responder enters the finding's account through. Restricting any of them
// would lock out the people, or the tool, that fix things.
func (r *Responder) exemptions(f *finding.Finding) []playbook.Exemption {
	memberRole := fmt.Sprintf("arn:%s:iam::%s:role/%s", f.Partition, f.AccountID,
		r.cfg.MemberRoleName)
	exempt := []playbook.Exemption{
		{ARN: r.sessions.Self().RoleARN, Reason: "the responder's own identity"},
		{ARN: memberRole, Reason: "the role the responder acts through in this account"},
	}
	if r.cfg.DeployerARN != "" {
		exempt = append(exempt, playbook.Exemption{ARN: account.RoleARN(r.cfg.DeployerARN),
			Reason: "the principal that deploys the responder (DEPLOYER_ARN)"})
	}
	for _, arn := range r.cfg.BreakGlass {
		exempt = append(exempt, playbook.Exemption{ARN: arn,
			Reason: "a break-glass principal (BREAK_GLASS_PRINCIPALS)"})
	}

	return exempt
}

// deliver sends the report and, at the same time, records it as evidence and
// completes the response.
func (r *Responder) deliver(ctx context.Context, report *playbook.Report, log *slog.Logger,
	release func()) error {
	var recordErr, notifyErr, finishErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		recordErr = r.record(ctx, report, log)
		if recordErr == nil { // unrecorded, it stays unfinished: the retry records it
			finishErr = report.Finish(ctx)
		}
		release() // the resource's state is final: another response may look
	}()
	notifyErr = r.notifier.Publish(ctx, report)
	<-done

	log.InfoContext(ctx, "response reported", "outcome", report.Outcome,
		"reason", report.Reason, "notified", notifyErr == nil)

	errs := []error{recordErr, notifyErr, finishErr}
	if notifyErr != nil && finishErr == nil {
		// Nobody has heard of this response: let the retry report it.
		errs = append(errs, report.Reopen(context.WithoutCancel(ctx)))
	}
	if report.Failed() || report.Outcome == playbook.Failure {
		errs = append(errs, fmt.Errorf("response to finding %s %s: %s",
			report.Finding.ID, report.Outcome, report.Reason))
	}
	if err := errors.Join(errs...); err != nil {
		log.ErrorContext(ctx, "response incomplete; returning error for a retry", "error", err)
		return err
	}

	return nil
}

func failure(f *finding.Finding, err error) *playbook.Report {
	return &playbook.Report{
		Finding:  f,
		Account:  f.AccountID,
		Resource: "account " + f.AccountID,
		Outcome:  playbook.Failure,
		Reason:   err.Error(),
	}
}

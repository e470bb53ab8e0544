package playbook

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/smithy-go"

	"github.com/guardduty-response/guardduty-response/handler/account"
)

// run carries one response: where its steps are recorded and whether they may
// change anything.
type run struct {
	report *Report
	dryRun bool
	stopBy time.Time
	gate   func(context.Context) error // nil, or Options.Gate called once
	log    *slog.Logger
}

// newRun starts a response's record with the options every playbook shares.
func newRun(report *Report, opts Options, log *slog.Logger) run {
	r := run{report: report, dryRun: opts.DryRun, stopBy: opts.StopBy, log: log}
	if opts.Gate != nil {
		var once sync.Once
		var err error
		r.gate = func(ctx context.Context) error {
			once.Do(func() {
				err = opts.Gate(ctx)
				report.gateErr = err
			})
			return err
		}
	}

	return r
}

// errTooLate is why a step was not started.
var errTooLate = errors.New("not started: too little time left before the deadline")

// act records one step: in a dry run it is planned and change is not called;
// otherwise change runs and its error, if any, fails the step. The request ids
// of the calls change makes are kept with the step.
func (r *run) act(ctx context.Context, action, target, detail string,
	change func(context.Context) error) error {
	step := Step{Action: action, Target: target, Detail: detail}

	switch {
	case r.dryRun:
		step.Status = Planned
	case ctx.Err() != nil:
		step.Status, step.Error = Failed, "not started: "+ctx.Err().Error()
	case !r.stopBy.IsZero() && time.Now().After(r.stopBy):
		step.Status, step.Error = Failed, errTooLate.Error()
	case r.gate != nil && r.gate(ctx) != nil:
		step.Status, step.Error = Failed, "not started: "+r.gate(ctx).Error()
	default:
		callCtx, requests := account.WithRequestLog(ctx)
		err := change(callCtx)
		step.RequestIDs = requests.IDs()
		if err != nil {
			step.Status, step.Error = Failed, err.Error()
		} else {
			step.Status = Done
		}
	}

	r.record(ctx, step)
	if step.Status == Failed {
		return errors.New(step.Error)
	}

	return nil
}

// skip records a step that is not taken, with the reason.
func (r *run) skip(ctx context.Context, action, target, reason string) {
	r.record(ctx, Step{Action: action, Target: target, Status: Skipped, Detail: reason})
}

// fail records a step that could not be taken.
func (r *run) fail(ctx context.Context, action, target string, err error) {
	r.record(ctx, Step{Action: action, Target: target, Status: Failed, Error: err.Error()})
}

func (r *run) record(ctx context.Context, s Step) {
	s.Time = time.Now().UTC()
	r.report.add(s)

	level := slog.LevelInfo
	if s.Status == Failed {
		level = slog.LevelError
	}
	r.log.Log(ctx, level, "step", "action", s.Action, "target", s.Target,
		"status", s.Status, "detail", s.Detail, "error", s.Error)
}

// parallel runs each function in its own goroutine and waits for all.
func parallel(fns ...func()) {
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(fn)
	}
	wg.Wait()
}

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}

	return ""
}

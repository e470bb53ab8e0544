package playbook

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/guardduty-response/guardduty-response/handler/account"
	"github.com/guardduty-response/guardduty-response/handler/finding"
)

// Step actions of the EC2 playbook.
const (
	actionClaim        = "mark quarantine started"
	actionGroups       = "create quarantine groups"
	actionRecordGroups = "record original security groups"
	actionTransition   = "move to transition group"
	actionIsolation    = "move to isolation group"
	actionTermination  = "enable termination protection"
	actionShutdown     = "set shutdown behaviour to stop"
	actionKeepVolumes  = "keep volumes on termination"
	actionSnapshot     = "snapshot volumes"
	actionDetachASG    = "detach from auto scaling group"
	actionDeregister   = "deregister from target group"
	actionProfile      = "disassociate instance profile"
	actionFinish       = "mark quarantined"
)

// instanceResponse is one run of the EC2 playbook.
type instanceResponse struct {
	run
	clients *account.Clients
	finding *finding.Finding
	opts    Options
	id      string
	now     time.Time

	live instanceState

	groupsMu sync.Mutex
	groups   map[string]*vpcGroups // by VPC id, found or created

	role *roleRevocation // set when the response revoked a role's sessions
}

// Instance runs the EC2 playbook on the instance finding f names, with the
// clients of the finding's account. The report's Finish must be called once
// the report has been delivered, to mark a complete quarantine.
func Instance(ctx context.Context, clients *account.Clients, f *finding.Finding,
	opts Options) *Report {
	id := f.Resource.Instance.ID
	report := &Report{Finding: f, Account: clients.AccountID, Resource: "instance " + id}
	r := &instanceResponse{
		run:     newRun(report, opts, opts.logger().With("instance", id)),
		clients: clients,
		finding: f,
		opts:    opts,
		id:      id,
		now:     opts.now(),
		groups:  map[string]*vpcGroups{},
	}

	if f.IsSample() {
		r.planSample(ctx)
		return report
	}

	if err := r.read(ctx); err != nil {
		report.Outcome, report.Reason = Failure, err.Error()
		return report
	}
	report.State = r.live.export(id)
	if r.decline(ctx) {
		return report
	}

	r.respond(ctx)
	report.settle(r.dryRun)
	if report.Outcome == Contained {
		report.finish, report.reopen = r.finish, r.reopen
	}

	return report
}

// decline decides not to act, and says why, when the instance is gone,
// protected or already quarantined.
func (r *instanceResponse) decline(ctx context.Context) bool {
	report := r.report
	switch {
	case r.live.gone:
		report.Outcome = NotActed
		report.Reason = "the instance no longer exists"
	case r.live.tag(TagProtected) == "true":
		report.Outcome = NotActed
		report.Reason = "the instance is tagged " + TagProtected + "=true"
	case r.live.tag(TagStatus) == StatusQuarantined:
		report.Outcome = AlreadyContained
		report.Reason = "the instance was quarantined by finding " + r.live.tag(TagFindingID)
	default:
		return false
	}

	r.log.InfoContext(ctx, "not acting", "reason", report.Reason)

	return true
}

// respond runs every step; the independent ones run side by side.
func (r *instanceResponse) respond(ctx context.Context) {
	parallel(
		func() { r.claim(ctx) },
		func() { r.isolate(ctx) },
		func() { r.protect(ctx) },
		func() { r.snapshot(ctx) },
		func() { r.detachFromAutoScaling(ctx) },
		func() { r.deregisterTargets(ctx) },
		func() { r.disassociateProfile(ctx) },
		func() { r.revokeRoleSessions(ctx) },
	)
}

// planSample reports what a real finding would cause, without reading or
// changing anything: sample findings name placeholder resources.
func (r *instanceResponse) planSample(ctx context.Context) {
	r.dryRun = true
	actions := []string{actionClaim, actionTransition, actionIsolation,
		actionTermination, actionShutdown, actionKeepVolumes, actionSnapshot,
		actionDetachASG, actionDeregister, actionProfile, actionFinish}
	for _, action := range append(actions, plannedRoleActions(r.finding)...) {
		_ = r.act(ctx, action, r.id, "sample finding", nil)
	}

	r.report.Outcome = DryRun
	r.report.Reason = "sample finding: nothing was changed"
}

// claim marks the instance as being quarantined, and records what the
// response is about to change, so that a retry and a release know it.
func (r *instanceResponse) claim(ctx context.Context) {
	tags := map[string]string{TagStatus: StatusQuarantining, TagTime: r.now.Format(time.RFC3339)}
	if r.live.tag(TagStatus) != StatusQuarantining {
		tags[TagFindingID] = r.finding.ID
		tags[TagFinding] = r.finding.Type
	}
	for key, value := range r.live.originals() {
		if r.live.tag(key) == "" {
			tags[key] = value
		}
	}

	_ = r.act(ctx, actionClaim, r.id, TagStatus+"="+StatusQuarantining,
		func(ctx context.Context) error { return r.tagInstance(ctx, tags) })
}

// finish marks a response whose every step is done.
func (r *instanceResponse) finish(ctx context.Context) error {
	tags := map[string]string{TagStatus: StatusQuarantined, TagTime: r.now.Format(time.RFC3339)}
	if err := r.tagInstance(ctx, tags); err != nil {
		return fmt.Errorf("marking instance %s quarantined: %w", r.id, err)
	}
	if r.role != nil {
		if err := r.role.finish(ctx); err != nil {
			return err
		}
	}

	r.log.InfoContext(ctx, "quarantine complete")

	return nil
}

// reopen marks the quarantine unfinished again.
func (r *instanceResponse) reopen(ctx context.Context) error {
	if err := r.tagInstance(ctx, map[string]string{TagStatus: StatusQuarantining}); err != nil {
		return fmt.Errorf("marking instance %s unfinished: %w", r.id, err)
	}

	return nil
}

func (r *instanceResponse) tagInstance(ctx context.Context, tags map[string]string) error {
	_, err := r.clients.EC2.CreateTags(ctx, createTagsInput(r.id, tags))
	return err
}

// responseFindingID names the response a snapshot set belongs to: the finding
// that started the quarantine in progress, or this one.
func (r *instanceResponse) responseFindingID() string {
	if r.live.tag(TagStatus) == StatusQuarantining && r.live.tag(TagFindingID) != "" {
		return r.live.tag(TagFindingID)
	}

	return r.finding.ID
}

func ec2Tags(tags map[string]string) []ec2types.Tag {
	out := make([]ec2types.Tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(tagValue(v))})
	}

	return out
}

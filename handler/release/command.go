package release

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/guardduty-response/guardduty-response/handler/account"
	"github.com/guardduty-response/guardduty-response/handler/evidence"
	"github.com/guardduty-response/guardduty-response/handler/lease"
)

// Exit codes of the command.
const (
	ExitOK     = 0
	ExitFailed = 1 // refused, cancelled, or a step or the record failed
	ExitUsage  = 2
)

// Lease timing: a release holds the instance's lease while it acts, waiting
// a little for a response in progress to finish.
const (
	leaseHold = 15 * time.Minute
	leaseWait = 30 * time.Second
)

// maxReason bounds the reason a person gives, which goes into the record.
const maxReason = 1000

// unusedMemberRole fills account.Sessions' member role name: a release acts
// in the account its credentials belong to and never assumes a role.
const unusedMemberRole = "guardduty-responder"

// Env is what the command runs with; tests swap its parts.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// LoadConfig loads the AWS configuration of a shared-config profile
	// ("" for the default chain) in a region ("" for the profile's).
	LoadConfig func(ctx context.Context, profile, region string) (aws.Config, error)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// LeaseWait is how long to wait for a response in progress to give up
	// the instance's lease; 30 seconds when zero.
	LeaseWait time.Duration
}

// flags are the command line.
type flags struct {
	instance, user, role string
	bucket, reason       string
	region               string
	profile, evProfile   string
	leaseTable           string
	yes, early           bool
}

// Command runs `release` with args (without the program name) and returns
// its exit code.
func Command(ctx context.Context, args []string, env Env) int {
	f, err := parse(args, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "release:", err)
		return ExitUsage
	}

	if err := run(ctx, f, env); err != nil {
		fmt.Fprintln(env.Stderr, "release:", err)
		return ExitFailed
	}

	return ExitOK
}

func parse(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: release (-instance ID | -user NAME | -role NAME) "+
			"-bucket BUCKET -reason TEXT [flags]")
		fmt.Fprintln(stderr, "Lifts a quarantine of the GuardDuty responder and records it.")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.instance, "instance", "", "EC2 instance `id` to release")
	fs.StringVar(&f.user, "user", "", "IAM user `name` to release")
	fs.StringVar(&f.role, "role", "", "IAM role `name` whose session revocation to lift")
	fs.StringVar(&f.bucket, "bucket", "", "the stack's evidence `bucket` (output evidenceBucket)")
	fs.StringVar(&f.reason, "reason", "", "why the quarantine is lifted, e.g. the incident "+
		"ticket; kept in the evidence record")
	fs.StringVar(&f.region, "region", "", "the resource's `region`; the profile's by default")
	fs.StringVar(&f.profile, "profile", "", "AWS `profile` of the resource's account")
	fs.StringVar(&f.evProfile, "evidence-profile", "", "AWS `profile` that may write to the "+
		"evidence bucket and take leases; -profile by default")
	fs.StringVar(&f.leaseTable, "lease-table", "", "the responder's lease `table` (output "+
		"leaseTable): wait for, and hold off, a response to the same instance")
	fs.BoolVar(&f.yes, "yes", false, "act without asking")
	fs.BoolVar(&f.early, "early", false, "remove deny-all and session revocation policies "+
		"even while credentials issued before the quarantine may still be valid")

	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	return f, f.check()
}

func (f flags) check() error {
	named := 0
	for _, v := range []string{f.instance, f.user, f.role} {
		if v != "" {
			named++
		}
	}
	reason := strings.TrimSpace(f.reason)
	switch {
	case named != 1:
		return errors.New("name exactly one of -instance, -user and -role")
	case f.bucket == "":
		return errors.New("-bucket is required: every release is recorded")
	case reason == "":
		return errors.New("-reason is required: say why the quarantine is lifted")
	case len(reason) > maxReason || strings.IndexFunc(reason, unicode.IsControl) >= 0:
		return fmt.Errorf("-reason must be one line of at most %d bytes", maxReason)
	case f.leaseTable != "" && f.instance == "":
		return errors.New("-lease-table applies to -instance only")
	}

	return nil
}

// run plans, asks, applies and records.
func run(ctx context.Context, f flags, env Env) error {
	opts := Options{Early: f.early, Now: env.Now}
	s, err := setUp(ctx, f, env)
	if err != nil {
		return err
	}

	if f.leaseTable != "" {
		unlock, err := s.lock(ctx, f, env)
		if err != nil {
			return err
		}
		defer unlock()
	}

	plan, err := s.plan(ctx, f, opts)
	if err != nil {
		return err
	}
	if err := plan.Print(env.Stdout); err != nil {
		return err
	}
	if plan.Empty() {
		return nil
	}
	if !f.yes && !confirm(env, plan) {
		return errors.New("not released; nothing was changed")
	}

	res := plan.Apply(ctx)
	if err := PrintResult(env.Stdout, res); err != nil {
		return err
	}

	if err := s.record(ctx, plan, res, f.reason, opts, env); err != nil {
		return err
	}
	if res.Failed() {
		return errors.New("a step failed: the resource stays quarantined; run release " +
			"again to finish")
	}

	return nil
}

// session is the release's identity, clients and evidence store.
type session struct {
	self     account.Identity
	clients  *account.Clients
	store    *evidence.Store
	evidence aws.Config
}

func setUp(ctx context.Context, f flags, env Env) (*session, error) {
	cfg, err := env.LoadConfig(ctx, f.profile, f.region)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		return nil, errors.New("no region: pass -region or set one in the profile")
	}
	evCfg := cfg
	if f.evProfile != "" {
		if evCfg, err = env.LoadConfig(ctx, f.evProfile, f.region); err != nil {
			return nil, err
		}
	}

	sessions, err := account.NewSessions(ctx, cfg, unusedMemberRole, "")
	if err != nil {
		return nil, err
	}
	self := sessions.Self()
	clients, err := sessions.For(ctx, partition(self.ARN), self.AccountID, cfg.Region)
	if err != nil {
		return nil, err
	}

	return &session{self: self, clients: clients, evidence: evCfg,
		store: evidence.NewStoreFromConfig(evCfg, f.bucket)}, nil
}

// lock takes the lease the responder takes on the same instance, so that a
// release and a response never act on it at once.
//
// TODO: users and roles are released without the lease: the responder keys
// their leases by the finding's principal id, which a release does not know.
func (s *session) lock(ctx context.Context, f flags, env Env) (func(), error) {
	// The key the responder leases an instance under (handler/responder).
	key := s.clients.AccountID + "/" + s.clients.Region + "/instance/" + f.instance
	table := lease.NewTable(dynamodb.NewFromConfig(s.evidence), f.leaseTable)

	wait := env.LeaseWait
	if wait == 0 {
		wait = leaseWait
	}
	l, err := table.Acquire(ctx, key, "release by "+s.self.ARN, time.Now().Add(leaseHold), wait)
	if err != nil {
		return nil, fmt.Errorf("taking the lease on %s: %w", f.instance, err)
	}

	return func() {
		if err := l.Release(context.WithoutCancel(ctx)); err != nil {
			fmt.Fprintf(env.Stderr, "release: giving the lease back: %v (it expires on its "+
				"own)\n", err)
		}
	}, nil
}

// plan reads the resource's history, which also proves the evidence bucket
// can be read before anything is changed, and plans the release.
func (s *session) plan(ctx context.Context, f flags, opts Options) (*Plan, error) {
	subject := evidence.InstanceSubject(s.clients.AccountID, s.clients.Region, f.instance)
	switch {
	case f.user != "":
		subject = evidence.UserSubject(s.clients.AccountID, f.user)
	case f.role != "":
		subject = evidence.RoleSubject(s.clients.AccountID, f.role)
	}
	history, err := s.store.History(ctx, subject)
	if err != nil {
		return nil, err
	}

	switch {
	case f.user != "":
		return User(ctx, s.clients, f.user, opts)
	case f.role != "":
		return Role(ctx, s.clients, f.role, opts)
	default:
		return Instance(ctx, s.clients, history, f.instance, opts)
	}
}

// record appends the release's evidence record. If it cannot, the record is
// printed, so that what was changed is not lost.
func (s *session) record(ctx context.Context, plan *Plan, res Result, reason string,
	opts Options, env Env) error {
	state, err := encodeState(plan.State)
	if err != nil {
		return err
	}
	rec := &evidence.Record{
		Subject: plan.Subject, Kind: evidence.KindRelease, Time: opts.now(),
		Build: evidence.CurrentBuild("release"), Actor: s.self.ARN, Account: plan.Account,
		Region: plan.Region, Resource: plan.Resource, FindingID: plan.FindingID,
		Outcome: res.Outcome, Reason: strings.TrimSpace(reason), Notes: plan.Notes,
		State: state, Steps: res.Steps,
	}

	w, err := s.store.Append(ctx, rec)
	if err != nil {
		data, _ := json.MarshalIndent(rec, "", "  ")
		fmt.Fprintf(env.Stderr, "the changes above were made, but their record was not "+
			"written; keep it:\n%s\n", data)
		return err
	}
	fmt.Fprintf(env.Stdout, "Recorded as s3://%s/%s (SHA-256 %s)\n", s.store.Bucket(), w.Key,
		w.SHA256)

	return nil
}

// confirm asks the person to type yes.
func confirm(env Env, plan *Plan) bool {
	fmt.Fprintf(env.Stdout, "\nRelease %s? Type yes to go ahead: ", plan.Resource)
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return false
	}

	return strings.TrimSpace(line) == "yes"
}

// partition reads the partition from an ARN, "aws" when it has none.
func partition(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 3 || parts[1] == "" {
		return "aws"
	}

	return parts[1]
}

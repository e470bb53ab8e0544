package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Exit codes of the verify command.
const (
	ExitWhole  = 0 // every chain walked is whole
	ExitBroken = 1 // a chain is broken, or there was nothing to verify
	ExitUsage  = 2
	ExitError  = 3 // the bucket could not be read
)

// VerifyEnv is what the verify command runs with; tests swap its parts.
type VerifyEnv struct {
	Stdout, Stderr io.Writer
	// LoadConfig loads the AWS configuration of a shared-config profile
	// ("" for the default chain) in a region ("" for the profile's).
	LoadConfig func(ctx context.Context, profile, region string) (aws.Config, error)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// verifyFlags are the command line.
type verifyFlags struct {
	bucket, profile, region string
	account, subject        string
	instance, user, role    string
	from, to                string
	json                    bool
}

// VerifyCommand runs `verify` with args (without the program name) and
// returns its exit code.
func VerifyCommand(ctx context.Context, args []string, env VerifyEnv) int {
	f, err := parseVerify(args, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitWhole
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "verify:", err)
		return ExitUsage
	}

	from, to, err := f.window(env.Now)
	if err != nil {
		fmt.Fprintln(env.Stderr, "verify:", err)
		return ExitUsage
	}

	reports, err := f.verify(ctx, env, from, to)
	if err != nil {
		fmt.Fprintln(env.Stderr, "verify:", err)
		return ExitError
	}

	return f.print(env, reports)
}

func parseVerify(args []string, stderr io.Writer) (verifyFlags, error) {
	var f verifyFlags
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: verify -bucket BUCKET (-instance ID | -user NAME | "+
			"-role NAME) -account ID [-region REGION]")
		fmt.Fprintln(stderr, "       verify -bucket BUCKET -subject SUBJECT")
		fmt.Fprintln(stderr, "       verify -bucket BUCKET -from TIME [-to TIME]")
		fmt.Fprintln(stderr, "Walks evidence chains and reports any record missing or altered.")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.bucket, "bucket", "", "the stack's evidence `bucket` (output evidenceBucket)")
	fs.StringVar(&f.profile, "profile", "", "AWS `profile` that may read the bucket")
	fs.StringVar(&f.region, "region", "", "`region` of the bucket and of the instance; the "+
		"profile's by default")
	fs.StringVar(&f.account, "account", "", "`account` id of the instance, user or role")
	fs.StringVar(&f.instance, "instance", "", "walk the chain of this EC2 instance `id`")
	fs.StringVar(&f.user, "user", "", "walk the chain of this IAM user `name`")
	fs.StringVar(&f.role, "role", "", "walk the chain of this IAM role `name`")
	fs.StringVar(&f.subject, "subject", "", "walk the chain of this `subject`, as records "+
		"name it")
	fs.StringVar(&f.from, "from", "", "walk every chain written to from this `time` "+
		"(RFC 3339 or YYYY-MM-DD)")
	fs.StringVar(&f.to, "to", "", "... until this `time`; now by default")
	fs.BoolVar(&f.json, "json", false, "print the reports as JSON")

	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	return f, f.check()
}

func (f verifyFlags) check() error {
	chosen := 0
	for _, v := range []string{f.instance, f.user, f.role, f.subject, f.from} {
		if v != "" {
			chosen++
		}
	}
	switch {
	case f.bucket == "":
		return errors.New("-bucket is required")
	case chosen != 1:
		return errors.New("name exactly one of -instance, -user, -role, -subject and -from")
	case (f.instance != "" || f.user != "" || f.role != "") && f.account == "":
		return errors.New("-account is required with -instance, -user and -role")
	case f.to != "" && f.from == "":
		return errors.New("-to needs -from")
	}

	return nil
}

// window parses the time range; zero times when none was asked for.
func (f verifyFlags) window(now func() time.Time) (time.Time, time.Time, error) {
	if f.from == "" {
		return time.Time{}, time.Time{}, nil
	}

	from, err := parseTime(f.from)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("-from: %w", err)
	}
	to := time.Now()
	if now != nil {
		to = now()
	}
	if f.to != "" {
		if to, err = parseTime(f.to); err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("-to: %w", err)
		}
	}

	return from, to, nil
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}

	return time.Time{}, fmt.Errorf("%q is not a time such as 2026-01-31 or "+
		"2026-01-31T12:00:00Z", s)
}

// verify walks the chains asked for.
func (f verifyFlags) verify(ctx context.Context, env VerifyEnv, from, to time.Time) (
	[]ChainReport, error) {
	cfg, err := env.LoadConfig(ctx, f.profile, f.region)
	if err != nil {
		return nil, err
	}
	store := NewStoreFromConfig(cfg, f.bucket)

	if f.from != "" {
		return store.VerifyRange(ctx, from, to)
	}

	subject := f.subject
	switch {
	case f.instance != "":
		subject = InstanceSubject(f.account, cfg.Region, f.instance)
	case f.user != "":
		subject = UserSubject(f.account, f.user)
	case f.role != "":
		subject = RoleSubject(f.account, f.role)
	}
	r, err := store.Verify(ctx, subject)
	if err != nil {
		return nil, err
	}

	return []ChainReport{r}, nil
}

// print writes the reports and returns the exit code they call for.
func (f verifyFlags) print(env VerifyEnv, reports []ChainReport) int {
	var err error
	if f.json {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(reports)
	} else {
		err = Print(env.Stdout, reports)
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "verify:", err)
		return ExitError
	}

	records := 0
	for _, r := range reports {
		records += r.Records
		if !r.Whole() {
			return ExitBroken
		}
	}
	if records == 0 {
		fmt.Fprintln(env.Stderr, "verify: no records found")
		return ExitBroken
	}

	return ExitWhole
}

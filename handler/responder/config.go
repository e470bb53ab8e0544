package responder

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is the handler's configuration, read from its environment. Every
// variable is listed in the README.
type Config struct {
	// TopicARN is where reports go (SNS_TOPIC_ARN, required).
	TopicARN string

	// DryRun plans and reports, and changes nothing (DRY_RUN, default false).
	DryRun bool

	// DisassociateInstanceProfile (DISASSOCIATE_INSTANCE_PROFILE, default true).
	DisassociateInstanceProfile bool

	// RemoveLoginProfile removes the console password of a compromised IAM
	// user (REMOVE_LOGIN_PROFILE, default true).
	RemoveLoginProfile bool

	// BreakGlass are IAM principal ARNs never acted on
	// (BREAK_GLASS_PRINCIPALS, comma-separated).
	BreakGlass []string

	// MemberRoleName is the role assumed in member accounts
	// (MEMBER_ROLE_NAME, default guardduty-responder).
	MemberRoleName string

	// MemberExternalID is presented when assuming it (MEMBER_EXTERNAL_ID).
	MemberExternalID string

	// DeployerARN is the principal that deploys the stack, never acted on
	// (DEPLOYER_ARN, set by the Pulumi program).
	DeployerARN string

	// LeaseTable is the DynamoDB table that keeps two invocations from
	// responding to one resource at once (LEASE_TABLE). Without it,
	// concurrent deliveries can act twice.
	LeaseTable string

	// EvidenceBucket is the S3 bucket each response's evidence record goes
	// to (EVIDENCE_BUCKET). Without it, no record is written.
	EvidenceBucket string

	// DeadlineReserve is the time kept back before the Lambda's deadline to
	// report and release: no step starts later (DEADLINE_RESERVE, a Go
	// duration, default 10s).
	DeadlineReserve time.Duration
}

// ConfigFromEnv reads the configuration through getenv (os.Getenv in the
// Lambda). A value that cannot be understood is an error naming the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		TopicARN:         strings.TrimSpace(getenv("SNS_TOPIC_ARN")),
		MemberRoleName:   strings.TrimSpace(getenv("MEMBER_ROLE_NAME")),
		MemberExternalID: getenv("MEMBER_EXTERNAL_ID"),
		DeployerARN:      strings.TrimSpace(getenv("DEPLOYER_ARN")),
		LeaseTable:       strings.TrimSpace(getenv("LEASE_TABLE")),
		EvidenceBucket:   strings.TrimSpace(getenv("EVIDENCE_BUCKET")),
		BreakGlass:       splitList(getenv("BREAK_GLASS_PRINCIPALS")),
	}
	if cfg.MemberRoleName == "" {
		cfg.MemberRoleName = "guardduty-responder"
	}

	if !strings.HasPrefix(cfg.TopicARN, "arn:") || strings.Count(cfg.TopicARN, ":") != 5 {
		return Config{}, fmt.Errorf("SNS_TOPIC_ARN %q is not an SNS topic ARN", cfg.TopicARN)
	}

	flags := []struct {
		name  string
		value *bool
		def   bool
	}{
		{"DRY_RUN", &cfg.DryRun, false},
		{"DISASSOCIATE_INSTANCE_PROFILE", &cfg.DisassociateInstanceProfile, true},
		{"REMOVE_LOGIN_PROFILE", &cfg.RemoveLoginProfile, true},
	}
	for _, f := range flags {
		v, err := parseBool(getenv(f.name), f.def)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.value = v
	}

	reserve, err := parseDuration(getenv("DEADLINE_RESERVE"), 10*time.Second)
	if err != nil {
		return Config{}, fmt.Errorf("DEADLINE_RESERVE: %w", err)
	}
	cfg.DeadlineReserve = reserve

	for _, arn := range cfg.BreakGlass {
		if !strings.HasPrefix(arn, "arn:") {
			return Config{}, fmt.Errorf("BREAK_GLASS_PRINCIPALS: %q is not an ARN", arn)
		}
	}

	return cfg, nil
}

func parseBool(s string, def bool) (bool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}

	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%q is not true or false", s)
	}

	return v, nil
}

func parseDuration(s string, def time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}

	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 10s", s)
	}

	return d, nil
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}

	return out
}

package responder

import (
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) string {
	return func(key string) string { return vars[key] }
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := ConfigFromEnv(env(map[string]string{
		"SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:111122223333:alerts",
	}))
	if err != nil {
		t.Fatal(err)
	}

	switch {
	case cfg.DryRun:
		t.Error("dry run on by default")
	case !cfg.DisassociateInstanceProfile || !cfg.RemoveLoginProfile:
		t.Error("profile disassociation and login-profile removal must default to on")
	case cfg.MemberRoleName != "guardduty-responder":
		t.Errorf("member role %q", cfg.MemberRoleName)
	case cfg.DeadlineReserve != 10*time.Second:
		t.Errorf("deadline reserve %v", cfg.DeadlineReserve)
	}
}

func TestConfigParsesValues(t *testing.T) {
	t.Parallel()
	cfg, err := ConfigFromEnv(env(map[string]string{
		"SNS_TOPIC_ARN":                 "arn:aws:sns:us-east-1:111122223333:alerts",
		"DRY_RUN":                       "true",
		"DISASSOCIATE_INSTANCE_PROFILE": "false",
		"BREAK_GLASS_PRINCIPALS":        " arn:aws:iam::111122223333:role/breakglass , arn:aws:iam::111122223333:user/root-admin,",
		"LEASE_TABLE":                   "leases",
		"DEADLINE_RESERVE":              "4s",
	}))
	if err != nil {
		t.Fatal(err)
	}

	if !cfg.DryRun || cfg.DisassociateInstanceProfile || len(cfg.BreakGlass) != 2 ||
		cfg.BreakGlass[0] != "arn:aws:iam::111122223333:role/breakglass" ||
		cfg.LeaseTable != "leases" || cfg.DeadlineReserve != 4*time.Second {
		t.Errorf("got %+v", cfg)
	}
}

func TestConfigRefusesWhatItCannotUnderstand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"no topic", map[string]string{}, "SNS_TOPIC_ARN"},
		{"topic name only", map[string]string{"SNS_TOPIC_ARN": "alerts"}, "SNS_TOPIC_ARN"},
		{"dry run typo", map[string]string{"DRY_RUN": "yes please"}, "DRY_RUN"},
		{"flag typo", map[string]string{"REMOVE_LOGIN_PROFILE": "ture"}, "REMOVE_LOGIN_PROFILE"},
		{"break glass name", map[string]string{"BREAK_GLASS_PRINCIPALS": "admin"}, "BREAK_GLASS_PRINCIPALS"},
		{"reserve without unit", map[string]string{"DEADLINE_RESERVE": "10"}, "DEADLINE_RESERVE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, ok := tt.vars["SNS_TOPIC_ARN"]; !ok && tt.name != "no topic" {
				tt.vars["SNS_TOPIC_ARN"] = "arn:aws:sns:us-east-1:111122223333:alerts"
			}

			_, err := ConfigFromEnv(env(tt.vars))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

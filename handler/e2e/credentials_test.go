package e2e

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
	"github.com/guardduty-response/guardduty-response/policies"
)

func TestUserLosesOnlyTheFindingsKey(t *testing.T) {
	w := newWorld(t)
	p := w.accountIAM()
	alice := p.createUser("alice", 2, true)
	bob := p.createUser("bob", 1, true)
	compromised, other := alice.keys[0], alice.keys[1]

	w.mustInvoke(suite.fn, w.userFinding(emulator.DefaultAccount, alice, compromised))

	keys := p.keyStatus(alice.name)
	if keys[compromised] != iamtypes.StatusTypeInactive {
		t.Errorf("the finding's key %s is %s, want Inactive", compromised, keys[compromised])
	}
	if keys[other] != iamtypes.StatusTypeActive {
		t.Errorf("alice's other key %s is %s, want Active", other, keys[other])
	}
	if len(keys) != 2 {
		t.Errorf("alice has %d keys, want both kept: a key is deactivated, never deleted", len(keys))
	}
	w.checkDenyAll(p, alice.name)
	if p.hasLoginProfile(alice.name) {
		t.Error("alice still has a console password")
	}
	tags := p.userTags(alice.name)
	if tags["guardduty-response:status"] != "quarantined" ||
		tags["guardduty-response:finding-type"] != userFindingType ||
		tags["guardduty-response:finding-id"] == "" {
		t.Errorf("alice's tags %v do not record the quarantine", tags)
	}
	p.checkUserUntouched(bob, true)

	n, r := w.onlyNotification()
	if !strings.Contains(n.Subject, "CONTAINED") || !strings.Contains(n.Subject, "alice") ||
		!strings.Contains(n.Subject, compromised) {
		t.Errorf("subject %q does not say alice's key was contained", n.Subject)
	}
	checkContained(t, r, "deactivate access key", "attach deny-all policy",
		"remove console password", "mark user quarantine started")
}

func TestUserWithoutConsolePasswordOrWithRemovalOff(t *testing.T) {
	tests := []struct {
		name     string
		password bool
		env      []string
		kept     bool // whether the password must still be there
		detail   string
	}{
		{name: "no password to remove", detail: "no console password"},
		{name: "removal turned off", password: true, env: []string{"REMOVE_LOGIN_PROFILE=false"},
			kept: true, detail: "turned off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			p := w.accountIAM()
			carol := p.createUser("carol", 1, tt.password)
			fn := w.startTestFunction(tt.env...)

			w.mustInvoke(fn, w.userFinding(emulator.DefaultAccount, carol, carol.keys[0]))

			if got := p.hasLoginProfile(carol.name); got != tt.kept {
				t.Errorf("console password there: %v, want %v", got, tt.kept)
			}
			if p.keyStatus(carol.name)[carol.keys[0]] != iamtypes.StatusTypeInactive {
				t.Error("the finding's key is still active")
			}
			w.checkDenyAll(p, carol.name)
			_, r := w.onlyNotification()
			if r.Outcome != "contained" {
				t.Errorf("outcome %q, want contained", r.Outcome)
			}
			if s := stepOf(r, "remove console password"); s.Status != "skipped" ||
				!strings.Contains(s.Detail, tt.detail) {
				t.Errorf("console password step %+v, want skipped: %s", s, tt.detail)
			}
		})
	}
}

func TestRoleSessionsAreRevokedAsOfNow(t *testing.T) {
	w := newWorld(t)
	p := w.accountIAM()
	app := p.createRole("app", "")
	other := p.createRole("other", "")
	before := time.Now().Truncate(time.Second)

	w.mustInvoke(suite.fn, w.roleFinding(emulator.DefaultAccount, app))

	cutoff := p.revocationCutoff(app.name)
	if cutoff.Before(before) || cutoff.After(time.Now().Add(2*time.Second)) {
		t.Errorf("sessions revoked before %s, want within seconds of %s", cutoff, before)
	}
	if status := p.roleTags(app.name)["guardduty-response:status"]; status != "sessions-revoked" {
		t.Errorf("status tag %q, want sessions-revoked", status)
	}
	p.checkRoleUntouched(other.name)

	n, r := w.onlyNotification()
	if !strings.Contains(n.Subject, "CONTAINED") || !strings.Contains(n.Subject, "role app") {
		t.Errorf("subject %q does not say role app was contained", n.Subject)
	}
	checkContained(t, r, "revoke role sessions")
}

func TestRedeliveredCredentialFindingChangesNothingMore(t *testing.T) {
	w := newWorld(t)
	p := w.accountIAM()
	alice := p.createUser("alice", 2, true)
	app := p.createRole("app", "")
	userFinding := w.userFinding(emulator.DefaultAccount, alice, alice.keys[0])
	roleFinding := w.roleFinding(emulator.DefaultAccount, app)

	w.mustInvoke(suite.fn, userFinding)
	w.mustInvoke(suite.fn, roleFinding)
	cutoff := p.revocationCutoff(app.name)
	if n := w.notifications(); len(n) != 2 {
		t.Fatalf("got %d notifications for two responses, want 2", len(n))
	}
	suite.recorder.Reset()

	w.mustInvoke(suite.fn, userFinding)
	w.mustInvoke(suite.fn, roleFinding)

	if n := w.notifications(); len(n) != 0 {
		t.Errorf("got %d notifications for redeliveries, want none: %+v", len(n), n)
	}
	if got := p.revocationCutoff(app.name); !got.Equal(cutoff) {
		t.Errorf("redelivery moved the cut-off from %s to %s", cutoff, got)
	}
	for _, c := range suite.recorder.Calls() {
		if c.Service == "iam" && !isRead(c.Action) {
			t.Errorf("redelivery changed something: %s", c)
		}
	}
}

func TestLeavesPrincipalsAloneAndSaysWhy(t *testing.T) {
	const (
		breakGlassRole = "break-glass"
		deployerRole   = "deployer"
	)
	tests := []struct {
		name    string
		finding func(w *world, p *principals) (map[string]any, func())
		env     []string
		outcome string
		reason  string
	}{
		{
			name: "user tagged protected",
			finding: func(w *world, p *principals) (map[string]any, func()) {
				u := p.createUser("admin", 1, true, tag("guardduty-response:protected", "true"))
				return w.userFinding(emulator.DefaultAccount, u, u.keys[0]),
					func() { p.checkUserUntouched(u, true) }
			},
			outcome: "not-acted", reason: "protected",
		},
		{
			name: "role tagged protected",
			finding: func(w *world, p *principals) (map[string]any, func()) {
				r := p.createRole("pipeline", "", tag("guardduty-response:protected", "true"))
				return w.roleFinding(emulator.DefaultAccount, r), func() { p.checkRoleUntouched(r.name) }
			},
			outcome: "not-acted", reason: "protected",
		},
		{
			name: "break-glass role",
			finding: func(w *world, p *principals) (map[string]any, func()) {
				r := p.createRole(breakGlassRole, "/emergency/")
				return w.roleFinding(emulator.DefaultAccount, r), func() { p.checkRoleUntouched(r.name) }
			},
			env: []string{"BREAK_GLASS_PRINCIPALS=arn:aws:iam::" + emulator.DefaultAccount +
				":role/" + breakGlassRole},
			outcome: "not-acted", reason: "break-glass",
		},
		{
			name: "break-glass user",
			finding: func(w *world, p *principals) (map[string]any, func()) {
				u := p.createUser("firefighter", 1, true)
				return w.userFinding(emulator.DefaultAccount, u, u.keys[0]),
					func() { p.checkUserUntouched(u, true) }
			},
			env: []string{"BREAK_GLASS_PRINCIPALS=arn:aws:iam::111111111111:role/x," +
				"arn:aws:iam::" + emulator.DefaultAccount + ":user/firefighter"},
			outcome: "not-acted", reason: "break-glass",
		},
		{
			name: "the deployer's role",
			finding: func(w *world, p *principals) (map[string]any, func()) {
				r := p.createRole(deployerRole, "")
				return w.roleFinding(emulator.DefaultAccount, r), func() { p.checkRoleUntouched(r.name) }
			},
			env: []string{"DEPLOYER_ARN=arn:aws:sts::" + emulator.DefaultAccount +
				":assumed-role/" + deployerRole + "/pulumi-up"},
			outcome: "not-acted", reason: "deploys",
		},
		{
			name: "the responder's own user",
			finding: func(w *world, p *principals) (map[string]any, func()) {
				out := p.keyStatus(emulator.ResponderUser)
				u := user{name: emulator.ResponderUser, arn: suite.principals.ResponderARN}
				for id := range out {
					u.keys = append(u.keys, id)
				}
				f := w.accessKeyFinding(emulator.DefaultAccount, userFindingType, "IAMUser",
					u.name, "", suite.principals.Responder.AccessKeyID)
				return f, func() { p.checkUserUntouched(u, false) }
			},
			outcome: "not-acted", reason: "responder's own identity",
		},
		{
			name: "service-linked role",
			finding: func(w *world, p *principals) (map[string]any, func()) {
				r := p.createRole("AWSServiceRoleForSupport", "/aws-service-role/support.amazonaws.com/")
				return w.roleFinding(emulator.DefaultAccount, r), func() { p.checkRoleUntouched(r.name) }
			},
			outcome: "not-acted", reason: "service-linked",
		},
		{
			name: "user deleted and made again under the same name",
			finding: func(w *world, p *principals) (map[string]any, func()) {
				u := p.createUser("dave", 1, true)
				f := w.userFinding(emulator.DefaultAccount, u, u.keys[0])
				f["resource"].(map[string]any)["accessKeyDetails"].(map[string]any)["principalId"] =
					"AIDAOLDUSERBEFORE0001"
				return f, func() { p.checkUserUntouched(u, true) }
			},
			outcome: "not-acted", reason: "not the same user",
		},
		{
			name: "GuardDuty's sample finding",
			finding: func(w *world, p *principals) (map[string]any, func()) {
				return w.fixture(emulator.SampleAccessKey), func() {}
			},
			outcome: "dry-run", reason: "sample",
		},
		{
			name: "sample flag on a real user",
			finding: func(w *world, p *principals) (map[string]any, func()) {
				u := p.createUser("erin", 1, true)
				f := w.userFinding(emulator.DefaultAccount, u, u.keys[0])
				f["service"].(map[string]any)["additionalInfo"] = map[string]any{"sample": true}
				return f, func() { p.checkUserUntouched(u, true) }
			},
			outcome: "dry-run", reason: "sample",
		},
		{
			name: "dry-run mode",
			finding: func(w *world, p *principals) (map[string]any, func()) {
				u := p.createUser("frank", 1, true)
				return w.userFinding(emulator.DefaultAccount, u, u.keys[0]),
					func() { p.checkUserUntouched(u, true) }
			},
			env:     []string{"DRY_RUN=true"},
			outcome: "dry-run",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			fn := suite.fn
			if len(tt.env) > 0 {
				fn = w.startTestFunction(tt.env...)
			}
			f, checkUntouched := tt.finding(w, w.accountIAM())

			w.mustInvoke(fn, f)

			checkUntouched()
			_, r := w.onlyNotification()
			if r.Outcome != tt.outcome || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("outcome %q, reason %q; want %q and a reason naming %q",
					r.Outcome, r.Reason, tt.outcome, tt.reason)
			}
			if tt.outcome == "dry-run" && !hasStatus(r, "planned") {
				t.Errorf("dry run reports no planned step: %+v", r.Steps)
			}
		})
	}
}

func TestResponderNeverRevokesItsOwnRole(t *testing.T) {
	w := newWorld(t)
	p := w.accountIAM()
	own := w.responderRole(p, "guardduty-response-lambda")
	creds := w.assumeRole(own.arn)
	fn := w.startTestFunction("AWS_ACCESS_KEY_ID="+creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey, "AWS_SESSION_TOKEN="+creds.SessionToken)

	w.mustInvoke(fn, w.roleFinding(emulator.DefaultAccount, own))

	p.checkRoleUntouched(own.name)
	_, r := w.onlyNotification()
	if r.Outcome != "not-acted" || !strings.Contains(r.Reason, "responder's own identity") {
		t.Errorf("outcome %q, reason %q; want not-acted as the responder's own role",
			r.Outcome, r.Reason)
	}
}

func TestNotifiesOnlyWhatCannotBeContained(t *testing.T) {
	tests := []struct {
		name     string
		userType string
		userName string
		subject  string
		outcome  string
		reason   string
	}{
		{"root", "Root", "root", "ROOT CREDENTIALS IN USE", "not-acted", "root user"},
		{"federated user", "FederatedUser", "contractor", "NOT ACTED ON", "not-acted", "federated"},
		{"AWS service", "AWSService", "ec2.amazonaws.com", "NOT ACTED ON", "not-acted", "AWS service"},
		{"unknown user type", "Alien", "x", "NOT ACTED ON", "not-acted", "no playbook"},
		{"user name IAM would refuse", "IAMUser", "bad\nname", "NOT ACTED ON", "not-acted", "not a user name"},
		{"role name IAM would refuse", "AssumedRole", "role/../x", "NOT ACTED ON", "not-acted", "not a role name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)

			w.mustInvoke(suite.fn, w.accessKeyFinding(emulator.DefaultAccount,
				"Policy:IAMUser/RootCredentialUsage", tt.userType, tt.userName,
				"AIDAEXAMPLEPRINCIPAL1", "AKIAEXAMPLEKEY000001"))

			n, r := w.onlyNotification()
			if !strings.Contains(n.Subject, tt.subject) {
				t.Errorf("subject %q, want it to say %q", n.Subject, tt.subject)
			}
			if r.Outcome != tt.outcome || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("outcome %q, reason %q; want %q naming %q", r.Outcome, r.Reason,
					tt.outcome, tt.reason)
			}
			for _, c := range suite.recorder.Calls() {
				if c.Service == "iam" {
					t.Errorf("called IAM for a finding to notify only: %s", c)
				}
			}
		})
	}
}

// responderRole makes a role that holds the responder's policy and that the
// administrator may assume, as the Lambda's role.
func (w *world) responderRole(p *principals, name string) role {
	w.t.Helper()
	admin := "arn:aws:iam::" + emulator.DefaultAccount + ":user/" + emulator.AdminUser
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
		`"Principal":{"AWS":"` + admin + `"},"Action":"sts:AssumeRole"}]}`
	doc, err := responderPolicy()
	if err != nil {
		w.t.Fatal(err)
	}
	permissions, err := emulator.MotoPolicy(doc, emulator.DefaultAccount)
	if err != nil {
		w.t.Fatal(err)
	}

	id, arn, err := emulator.CreateRole(w.ctx, p.iam, name, trust, permissions)
	if err != nil {
		w.t.Fatal(err)
	}

	return role{name: name, id: id, arn: arn}
}

// checkDenyAll checks that the user has the deny-all policy of package
// policies.
func (w *world) checkDenyAll(p *principals, userName string) {
	w.t.Helper()
	got := p.userPolicy(userName, "guardduty-response-deny-all")
	doc, err := policies.Document(policies.DenyAll)
	if err != nil {
		w.t.Fatal(err)
	}
	want, err := policies.Parse(doc)
	if err != nil {
		w.t.Fatal(err)
	}

	if got == nil {
		w.t.Errorf("%s has no deny-all policy", userName)
		return
	}
	if !reflect.DeepEqual(got, want) {
		w.t.Errorf("%s's deny-all policy is\n%+v\nwant\n%s", userName, got, doc)
	}
}

// checkContained checks a report of a complete containment with the given
// steps done.
func checkContained(t *testing.T, r report, done ...string) {
	t.Helper()
	if r.Outcome != "contained" {
		t.Errorf("outcome %q, want contained (reason %q)", r.Outcome, r.Reason)
	}
	for _, s := range r.Steps {
		if s.Status == "failed" {
			t.Errorf("step %s %s failed: %s", s.Action, s.Target, s.Error)
		}
	}
	for _, action := range done {
		if s := stepOf(r, action); s.Status != "done" {
			t.Errorf("step %q is %q, want done", action, s.Status)
		}
	}
}

// stepView is one step of a report.
type stepView struct{ Action, Target, Status, Detail, Error string }

// stepOf returns the report's step for action, the last if there are more.
func stepOf(r report, action string) stepView {
	var s stepView
	for _, step := range r.Steps {
		if step.Action == action {
			s = stepView{step.Action, step.Target, step.Status, step.Detail, step.Error}
		}
	}

	return s
}

// isRead reports whether an API action only reads.
func isRead(action string) bool {
	return slices.ContainsFunc([]string{"Get", "List", "Describe"}, func(prefix string) bool {
		return strings.HasPrefix(action, prefix)
	})
}

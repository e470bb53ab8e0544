package e2e

import (
	"bytes"
	"context"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/guardduty-response/guardduty-response/handler/evidence"
	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
	"github.com/guardduty-response/guardduty-response/handler/lease"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
	"github.com/guardduty-response/guardduty-response/handler/release"
)

// evidenceProfile is the profile name the release tests give for the
// evidence bucket, which lives on the evidence S3.
const evidenceProfile = "evidence"

// releaseRun is one run of the release command.
type releaseRun struct {
	code           int
	stdout, stderr string
}

// runRelease runs the release command as the administrator, answering the
// prompt with answer, at the time now.
func (w *world) runRelease(s3 *evidenceS3, answer string, now time.Time,
	args ...string) releaseRun {
	w.t.Helper()
	var stdout, stderr bytes.Buffer
	env := release.Env{
		Stdin: strings.NewReader(answer), Stdout: &stdout, Stderr: &stderr,
		LoadConfig: func(_ context.Context, profile, _ string) (aws.Config, error) {
			if profile == evidenceProfile {
				return s3.cfg, nil
			}
			return suite.moto.Config(emulator.TestAccessKey, emulator.TestSecretKey), nil
		},
		Now:       func() time.Time { return now },
		LeaseWait: time.Second,
	}
	args = append(args, "-bucket", emulator.EvidenceBucket, "-evidence-profile", evidenceProfile)
	code := release.Command(w.ctx, args, env)

	return releaseRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// instanceSetup is everything about an instance that a quarantine changes
// and a release puts back.
type instanceSetup struct {
	groups           map[string][]string // by interface
	autoScalingGroup string
	profile          string
	termination      bool
	shutdown         string
	deleteVolumes    map[string]bool // DeleteOnTermination by volume
	tags             map[string]map[string]string
}

// setup reads an instance's setup. Tags of the responder are left out.
func (w *world) setup(id string, interfaces []string) instanceSetup {
	w.t.Helper()
	s := instanceSetup{groups: w.interfaceGroups(interfaces...), deleteVolumes: map[string]bool{},
		tags: map[string]map[string]string{}}

	for _, resource := range append([]string{id}, interfaces...) {
		tags := w.tags(resource)
		maps.DeleteFunc(tags, func(k, _ string) bool { return strings.HasPrefix(k, playbook.TagPrefix) })
		s.tags[resource] = tags
	}
	asg, err := w.asg.DescribeAutoScalingInstances(w.ctx,
		&autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, i := range asg.AutoScalingInstances {
		s.autoScalingGroup = aws.ToString(i.AutoScalingGroupName)
	}
	s.profile = w.associatedProfile(id)
	s.termination = aws.ToBool(w.attribute(id,
		ec2types.InstanceAttributeNameDisableApiTermination).DisableApiTermination.Value)
	shutdown := w.attribute(id, ec2types.InstanceAttributeNameInstanceInitiatedShutdownBehavior)
	s.shutdown = aws.ToString(shutdown.InstanceInitiatedShutdownBehavior.Value)
	for _, m := range w.instance(id).BlockDeviceMappings {
		s.deleteVolumes[aws.ToString(m.Ebs.VolumeId)] = aws.ToBool(m.Ebs.DeleteOnTermination)
	}

	return s
}

func (w *world) associatedProfile(id string) string {
	w.t.Helper()
	out, err := w.ec2.DescribeIamInstanceProfileAssociations(w.ctx,
		&ec2.DescribeIamInstanceProfileAssociationsInput{
			Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: []string{id}}},
		})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, a := range out.IamInstanceProfileAssociations {
		if a.State == ec2types.IamInstanceProfileAssociationStateAssociated {
			return aws.ToString(a.IamInstanceProfile.Arn)
		}
	}

	return ""
}

// TestReleaseUndoesQuarantine quarantines the web instance through the
// compiled responder, releases it with the release command, and finds it as
// it was, but for the snapshots, which stay, and its target group
// registration, which release leaves to a person.
func TestReleaseUndoesQuarantine(t *testing.T) {
	w := newWorld(t)
	s3 := w.evidenceBucket()
	e := w.estate
	before := w.setup(e.Web, e.WebInterfaces)

	w.mustInvoke(w.startRecordingFunction(s3), w.finding(e.Web))
	quarantined := w.setup(e.Web, e.WebInterfaces)
	if quarantined.autoScalingGroup != "" || quarantined.profile != "" ||
		!quarantined.termination {
		t.Fatalf("the quarantine did not take: %+v", quarantined)
	}

	run := w.runRelease(s3, "", time.Now(), "-instance", e.Web, "-reason", "INC-42 closed", "-yes")
	if run.code != release.ExitOK {
		t.Fatalf("release exited %d\nstdout:\n%s\nstderr:\n%s", run.code, run.stdout, run.stderr)
	}

	after := w.setup(e.Web, e.WebInterfaces)
	checkSameSetup(t, before, after)
	w.checkReleasedTags(e.Web, e.WebInterfaces)
	w.checkSnapshotSet(e.Web, e.WebVolumes)
	if !strings.Contains(run.stdout, e.TargetGroupARN) {
		t.Errorf("the plan does not point at target group %s, which it leaves:\n%s",
			e.TargetGroupARN, run.stdout)
	}

	records := w.history(s3.store, webSubject(e))
	if len(records) != 2 {
		t.Fatalf("%d records, want the response's and the release's", len(records))
	}
	checkReleaseRecord(t, records[1], "INC-42 closed")
}

func checkSameSetup(t *testing.T, before, after instanceSetup) {
	t.Helper()
	checks := []struct {
		what          string
		before, after any
	}{
		{"security groups", before.groups, after.groups},
		{"auto scaling group", before.autoScalingGroup, after.autoScalingGroup},
		{"instance profile", before.profile, after.profile},
		{"termination protection", before.termination, after.termination},
		{"shutdown behaviour", before.shutdown, after.shutdown},
		{"delete volumes on termination", before.deleteVolumes, after.deleteVolumes},
		{"tags", before.tags, after.tags},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.before, c.after) {
			t.Errorf("%s after release = %v, before the quarantine %v", c.what, c.after, c.before)
		}
	}
}

// checkReleasedTags checks the instance is marked released and carries no
// record of the quarantine's originals, so that a later quarantine records
// its own.
func (w *world) checkReleasedTags(id string, interfaces []string) {
	w.t.Helper()
	if status := w.tags(id)[playbook.TagStatus]; status != playbook.StatusReleased {
		w.t.Errorf("status %q, want %s", status, playbook.StatusReleased)
	}
	for _, resource := range append([]string{id}, interfaces...) {
		for k := range w.tags(resource) {
			if strings.HasPrefix(k, playbook.TagPrefix+"original-") {
				w.t.Errorf("%s still tagged %s after release", resource, k)
			}
		}
	}
}

func checkReleaseRecord(t *testing.T, rec evidence.Record, reason string) {
	t.Helper()
	if rec.Kind != evidence.KindRelease || rec.Outcome != release.Released ||
		rec.Reason != reason || rec.Actor == "" || rec.Build.Program != "release" {
		t.Errorf("release record = kind %s, outcome %s, reason %q, actor %q, program %s",
			rec.Kind, rec.Outcome, rec.Reason, rec.Actor, rec.Build.Program)
	}
	for _, s := range rec.Steps {
		if s.Status != playbook.Done || len(s.RequestIDs) == 0 {
			t.Errorf("release step %s %s: %s, request ids %v", s.Action, s.Target, s.Status,
				s.RequestIDs)
		}
	}
}

// TestReleaseRefusesInstanceNotQuarantined proves release leaves alone, and
// records nothing for, an instance the responder never quarantined.
func TestReleaseRefusesInstanceNotQuarantined(t *testing.T) {
	w := newWorld(t)
	s3 := w.evidenceBucket()
	e := w.estate
	before := w.setup(e.Worker, nil)

	run := w.runRelease(s3, "", time.Now(), "-instance", e.Worker, "-reason", "x", "-yes")

	if run.code != release.ExitFailed || !strings.Contains(run.stderr, "not quarantined") {
		t.Errorf("release exited %d, stderr %q; want a refusal", run.code, run.stderr)
	}
	checkSameSetup(t, before, w.setup(e.Worker, nil))
	if status := w.tags(e.Worker)[playbook.TagStatus]; status != "" {
		t.Errorf("worker tagged %s", status)
	}
	subject := evidence.InstanceSubject(emulator.DefaultAccount, emulator.Region, e.Worker)
	if n := len(w.history(s3.store, subject)); n != 0 {
		t.Errorf("%d records of a refused release", n)
	}
}

// TestReleaseAsksFirst proves that without -yes nothing changes unless the
// person types yes.
func TestReleaseAsksFirst(t *testing.T) {
	w := newWorld(t)
	s3 := w.evidenceBucket()
	e := w.estate
	w.mustInvoke(w.startRecordingFunction(s3), w.finding(e.Web))
	quarantined := w.setup(e.Web, e.WebInterfaces)

	for _, answer := range []string{"", "no\n", "y\n"} {
		run := w.runRelease(s3, answer, time.Now(), "-instance", e.Web, "-reason", "x")
		if run.code != release.ExitFailed || !strings.Contains(run.stdout, "Type yes") {
			t.Errorf("answer %q: exit %d, stdout:\n%s", answer, run.code, run.stdout)
		}
	}

	checkSameSetup(t, quarantined, w.setup(e.Web, e.WebInterfaces))
	if status := w.tags(e.Web)[playbook.TagStatus]; status != playbook.StatusQuarantined {
		t.Errorf("status %q after declined releases", status)
	}
	if n := len(w.history(s3.store, webSubject(e))); n != 1 {
		t.Errorf("%d records, want only the response's", n)
	}
}

// TestReleaseWaitsForTheResponderLease proves a release does not act while
// a response holds the instance's lease, under the key the responder uses.
func TestReleaseWaitsForTheResponderLease(t *testing.T) {
	w := newWorld(t)
	s3 := w.evidenceBucket()
	e := w.estate
	w.mustInvoke(w.startRecordingFunction(s3), w.finding(e.Web))
	if err := emulator.CreateLeaseTable(w.ctx, s3.cfg); err != nil {
		t.Fatal(err)
	}
	table := lease.NewTable(dynamodb.NewFromConfig(s3.cfg), emulator.LeaseTable)
	key := emulator.DefaultAccount + "/" + emulator.Region + "/instance/" + e.Web
	held, err := table.Acquire(w.ctx, key, "a response", time.Now().Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}

	run := w.runRelease(s3, "", time.Now(), "-instance", e.Web, "-reason", "x", "-yes",
		"-lease-table", emulator.LeaseTable)
	if run.code != release.ExitFailed || !strings.Contains(run.stderr, "lease") {
		t.Errorf("release under a held lease exited %d, stderr %q", run.code, run.stderr)
	}
	if status := w.tags(e.Web)[playbook.TagStatus]; status != playbook.StatusQuarantined {
		t.Errorf("status %q: the release acted under another holder's lease", status)
	}

	if err := held.Release(w.ctx); err != nil {
		t.Fatal(err)
	}
	run = w.runRelease(s3, "", time.Now(), "-instance", e.Web, "-reason", "x", "-yes",
		"-lease-table", emulator.LeaseTable)
	if run.code != release.ExitOK {
		t.Errorf("release after the lease was given back exited %d: %s", run.code, run.stderr)
	}
}

// TestReleaseOfUserNeverReactivatesItsKey quarantines a user through the
// compiled responder and releases it: the deny-all policy stays while
// temporary credentials from before may still be valid, then comes off; the
// deactivated key stays inactive; everything else is as it was.
func TestReleaseOfUserNeverReactivatesItsKey(t *testing.T) {
	w := newWorld(t)
	s3 := w.evidenceBucket()
	p := w.accountIAM()
	alice := p.createUser("alice", 2, false)
	compromised, other := alice.keys[0], alice.keys[1]
	beforeTags := p.userTags(alice.name)

	w.mustInvoke(w.startRecordingFunction(s3), w.userFinding(emulator.DefaultAccount, alice,
		compromised))
	w.checkDenyAll(p, alice.name)

	run := w.runRelease(s3, "", time.Now(), "-user", alice.name, "-reason", "INC-7", "-yes")
	if run.code != release.ExitOK || !strings.Contains(run.stdout, "Nothing to change") {
		t.Errorf("release within the credentials' lifetime: exit %d\n%s%s", run.code,
			run.stdout, run.stderr)
	}
	if p.userPolicy(alice.name, playbook.DenyAllPolicyName) == nil {
		t.Fatal("the deny-all policy came off while temporary credentials may be valid")
	}

	run = w.runRelease(s3, "", time.Now().Add(37*time.Hour), "-user", alice.name, "-reason",
		"INC-7", "-yes")
	if run.code != release.ExitOK {
		t.Fatalf("release exited %d\n%s%s", run.code, run.stdout, run.stderr)
	}

	if p.userPolicy(alice.name, playbook.DenyAllPolicyName) != nil {
		t.Error("the deny-all policy is still on")
	}
	keys := p.keyStatus(alice.name)
	if keys[compromised] != iamtypes.StatusTypeInactive || keys[other] != iamtypes.StatusTypeActive {
		t.Errorf("keys after release = %v: the finding's key must stay inactive, the other active",
			keys)
	}
	w.checkPrincipalReleased(p.userTags(alice.name), beforeTags)
	w.checkOnlyPolicies(p, alice.name, nil)

	records := w.history(s3.store, evidence.UserSubject(emulator.DefaultAccount, alice.name))
	if len(records) != 2 {
		t.Fatalf("%d records of alice, want the response's and the release's", len(records))
	}
	checkReleaseRecord(t, records[1], "INC-7")
}

// TestReleaseOfRoleAfterItsSessionsExpired revokes a role's sessions
// through the compiled responder and releases it once every session issued
// before has expired.
func TestReleaseOfRoleAfterItsSessionsExpired(t *testing.T) {
	w := newWorld(t)
	s3 := w.evidenceBucket()
	p := w.accountIAM()
	app := p.createRole("app", "")
	beforeTags := p.roleTags(app.name)

	w.mustInvoke(w.startRecordingFunction(s3), w.roleFinding(emulator.DefaultAccount, app))
	cutoff := p.revocationCutoff(app.name)

	run := w.runRelease(s3, "", cutoff.Add(time.Hour), "-role", app.name, "-reason", "x", "-yes")
	if run.code != release.ExitOK || p.rolePolicy(app.name, playbook.RevokeSessionsPolicyName) == nil {
		t.Errorf("the revocation came off an hour after its cut-off, while sessions from before "+
			"may be valid: exit %d\n%s", run.code, run.stdout)
	}

	run = w.runRelease(s3, "", cutoff.Add(13*time.Hour), "-role", app.name, "-reason", "x", "-yes")
	if run.code != release.ExitOK {
		t.Fatalf("release exited %d\n%s%s", run.code, run.stdout, run.stderr)
	}
	if p.rolePolicy(app.name, playbook.RevokeSessionsPolicyName) != nil {
		t.Error("the revocation policy is still on")
	}
	w.checkPrincipalReleased(p.roleTags(app.name), beforeTags)

	records := w.history(s3.store, evidence.RoleSubject(emulator.DefaultAccount, app.name))
	if len(records) != 2 {
		t.Fatalf("%d records of role app, want the response's and the release's", len(records))
	}
	checkReleaseRecord(t, records[1], "x")
}

// checkPrincipalReleased checks a principal's tags: marked released, and
// otherwise those it had before.
func (w *world) checkPrincipalReleased(tags, before map[string]string) {
	w.t.Helper()
	if tags[playbook.TagStatus] != playbook.StatusReleased {
		w.t.Errorf("status %q, want %s", tags[playbook.TagStatus], playbook.StatusReleased)
	}
	maps.DeleteFunc(tags, func(k, _ string) bool { return strings.HasPrefix(k, playbook.TagPrefix) })
	if !maps.Equal(tags, before) {
		w.t.Errorf("tags %v, want %v besides the responder's", tags, before)
	}
}

// checkOnlyPolicies checks a user's inline policies are exactly want.
func (w *world) checkOnlyPolicies(p *principals, name string, want []string) {
	w.t.Helper()
	out, err := p.iam.ListUserPolicies(w.ctx, &iam.ListUserPoliciesInput{UserName: aws.String(name)})
	if err != nil {
		w.t.Fatal(err)
	}
	if !slices.Equal(out.PolicyNames, want) {
		w.t.Errorf("%s has inline policies %v, want %v", name, out.PolicyNames, want)
	}
}

// TestInstanceReleasePointsAtItsRevokedRole proves that releasing an
// instance whose quarantine revoked its role's sessions leaves the role,
// which a fleet may share, to a release of its own, and says so.
func TestInstanceReleasePointsAtItsRevokedRole(t *testing.T) {
	w := newWorld(t)
	s3 := w.evidenceBucket()
	p := w.accountIAM()
	e := w.estate
	f := w.finding(e.Web)
	f["type"] = "UnauthorizedAccess:EC2/MetadataDNSRebind"
	w.mustInvoke(w.startRecordingFunction(s3), f)

	run := w.runRelease(s3, "", time.Now(), "-instance", e.Web, "-reason", "x", "-yes")
	if run.code != release.ExitOK {
		t.Fatalf("release exited %d\n%s%s", run.code, run.stdout, run.stderr)
	}
	if !strings.Contains(run.stdout, "release -role "+webRole) {
		t.Errorf("the plan does not point at role %s:\n%s", webRole, run.stdout)
	}
	if p.revocationCutoff(webRole).IsZero() {
		t.Error("releasing the instance lifted its role's session revocation")
	}
}

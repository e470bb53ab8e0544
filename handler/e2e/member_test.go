package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// memberRoleName is the role the responder enters member accounts through.
const memberRoleName = "guardduty-responder"

// member sets up the second account with its member role, trusting the
// responder, and returns the IAM view of it.
func (w *world) member() (*emulator.Member, *principals) {
	w.t.Helper()
	m, err := suite.moto.CreateMember(w.ctx, memberAccount, memberRoleName,
		suite.principals.ResponderARN)
	if err != nil {
		w.t.Fatal(err)
	}

	return m, &principals{t: w.t, ctx: w.ctx, account: memberAccount,
		iam: iam.NewFromConfig(m.Config(suite.moto))}
}

func TestMemberAccountFindingChangesOnlyThatAccount(t *testing.T) {
	w := newWorld(t)
	_, inMember := w.member()
	home := w.accountIAM()
	// The same name in both accounts: only the finding's account may change.
	homeAlice := home.createUser("alice", 1, true)
	alice := inMember.createUser("alice", 2, true)
	homeApp := home.createRole("app", "")
	app := inMember.createRole("app", "")
	fn := w.startTestFunction()

	w.mustInvoke(fn, w.userFinding(memberAccount, alice, alice.keys[0]))
	w.mustInvoke(fn, w.roleFinding(memberAccount, app))

	keys := inMember.keyStatus(alice.name)
	if keys[alice.keys[0]] != iamtypes.StatusTypeInactive ||
		keys[alice.keys[1]] != iamtypes.StatusTypeActive {
		t.Errorf("member alice's keys %v, want only %s inactive", keys, alice.keys[0])
	}
	w.checkDenyAll(inMember, alice.name)
	if inMember.hasLoginProfile(alice.name) {
		t.Error("member alice still has a console password")
	}
	if inMember.revocationCutoff(app.name).IsZero() {
		t.Error("member role app's sessions were not revoked")
	}
	home.checkUserUntouched(homeAlice, true)
	home.checkRoleUntouched(homeApp.name)

	all := w.notifications()
	if len(all) != 2 {
		t.Fatalf("got %d notifications, want 2", len(all))
	}
	for _, n := range all {
		if !strings.Contains(n.Subject, "CONTAINED") || !strings.Contains(n.Message, memberAccount) {
			t.Errorf("notification %q does not report a containment in %s", n.Subject, memberAccount)
		}
	}
}

func TestMemberAccountInstanceIsQuarantinedThere(t *testing.T) {
	w := newWorld(t)
	m, _ := w.member()
	cfg := m.Config(suite.moto)
	estate, err := emulator.BuildEstate(w.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fn := w.startTestFunction()
	f, err := emulator.InstanceFinding(estate.Web, memberAccount)
	if err != nil {
		t.Fatal(err)
	}

	w.mustInvoke(fn, f)

	memberEC2 := ec2.NewFromConfig(cfg)
	out, err := memberEC2.DescribeNetworkInterfaces(w.ctx, &ec2.DescribeNetworkInterfacesInput{
		NetworkInterfaceIds: estate.WebInterfaces,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range out.NetworkInterfaces {
		if len(n.Groups) != 1 || aws.ToString(n.Groups[0].GroupId) != estate.IsolationA {
			t.Errorf("member interface %s in %v, want only %s", aws.ToString(n.NetworkInterfaceId),
				n.Groups, estate.IsolationA)
		}
	}
	w.checkUntouched(w.estate.Web, w.estate.WebInterfaces, w.estate.AppGroupA)
	_, r := w.onlyNotification()
	checkContained(t, r, "move to isolation group", "snapshot volumes")
}

func TestMemberSessionIsReusedAcrossFindings(t *testing.T) {
	w := newWorld(t)
	_, inMember := w.member()
	fn := w.startTestFunction()
	suite.recorder.Reset()

	for _, name := range []string{"alice", "bob", "carol"} {
		u := inMember.createUser(name, 1, false)
		w.mustInvoke(fn, w.userFinding(memberAccount, u, u.keys[0]))
	}

	if n := suite.recorder.Count("sts", "AssumeRole"); n != 1 {
		t.Errorf("entered the member account %d times for three findings, want once", n)
	}
	if n := len(w.notifications()); n != 3 {
		t.Errorf("got %d notifications, want 3", n)
	}
}

func TestAccountThatCannotBeEnteredIsReportedAndRetried(t *testing.T) {
	w := newWorld(t)
	_, inMember := w.member()
	alice := inMember.createUser("alice", 1, true)
	// The responder's policy lets it assume only the member role's name.
	fn := w.startTestFunction("MEMBER_ROLE_NAME=not-the-member-role")

	err := w.invoke(fn, w.userFinding(memberAccount, alice, alice.keys[0]))

	if err == nil || !strings.Contains(err.Error(), "entering account "+memberAccount) {
		t.Errorf("function error %v, want one saying the account could not be entered", err)
	}
	inMember.checkUserUntouched(alice, true)
	n, r := w.onlyNotification()
	if r.Outcome != "failed" || !strings.Contains(r.Reason, "entering account "+memberAccount) ||
		!strings.Contains(n.Subject, "RESPONSE FAILED") {
		t.Errorf("subject %q, outcome %q, reason %q; want a failure to enter %s",
			n.Subject, r.Outcome, r.Reason, memberAccount)
	}
}

func TestMemberRoleOfTheResponderIsLeftAlone(t *testing.T) {
	w := newWorld(t)
	_, inMember := w.member()
	responder := inMember.getRole(memberRoleName)
	fn := w.startTestFunction()

	w.mustInvoke(fn, w.roleFinding(memberAccount, responder))

	inMember.checkRoleUntouched(memberRoleName)
	_, r := w.onlyNotification()
	if r.Outcome != "not-acted" || !strings.Contains(r.Reason, "acts through") {
		t.Errorf("outcome %q, reason %q; want not-acted as the responder's way in",
			r.Outcome, r.Reason)
	}
	if got := suite.recorder.Count("iam", "PutRolePolicy"); got != 0 {
		t.Errorf("%d PutRolePolicy calls", got)
	}
}

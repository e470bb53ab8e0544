package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// webRole is the role of the estate's web instance profile.
const webRole = "web"

func TestCredentialTheftFromInstanceRevokesItsRoleToo(t *testing.T) {
	w := newWorld(t)
	p := w.accountIAM()
	f := w.finding(w.estate.Web)
	f["type"] = "UnauthorizedAccess:EC2/MetadataDNSRebind"

	w.mustInvoke(suite.fn, f)

	if p.revocationCutoff(webRole).IsZero() {
		t.Error("the web role's sessions were not revoked")
	}
	if status := p.roleTags(webRole)["guardduty-response:status"]; status != "sessions-revoked" {
		t.Errorf("web role status tag %q, want sessions-revoked", status)
	}
	w.checkDetached()
	_, r := w.onlyNotification()
	checkContained(t, r, "revoke role sessions", "move to isolation group")
}

func TestOtherInstanceFindingsLeaveTheInstanceRoleAlone(t *testing.T) {
	w := newWorld(t)
	p := w.accountIAM()

	w.mustInvoke(suite.fn, w.finding(w.estate.Web))

	p.checkRoleUntouched(webRole)
	_, r := w.onlyNotification()
	if s := stepOf(r, "revoke role sessions"); s.Status != "" {
		t.Errorf("a cryptocurrency finding has a role step: %+v", s)
	}
}

func TestFindingOfAnotherResourceTypeNamingARoleRevokesIt(t *testing.T) {
	w := newWorld(t)
	p := w.accountIAM()
	app := p.createRole("app", "")
	f := w.fixture(emulator.SampleS3Finding)
	f["id"] = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
	f["accountId"], f["region"] = emulator.DefaultAccount, emulator.Region
	f["service"].(map[string]any)["additionalInfo"] = map[string]any{}
	resource := f["resource"].(map[string]any)
	delete(resource, "instanceDetails")
	resource["accessKeyDetails"] = map[string]any{
		"accessKeyId": "ASIAEXAMPLESESSION02", "principalId": app.id + ":exfiltrator",
		"userType": "AssumedRole", "userName": app.name,
	}

	w.mustInvoke(suite.fn, f)

	if p.revocationCutoff(app.name).IsZero() {
		t.Error("the role's sessions were not revoked")
	}
	n, r := w.onlyNotification()
	if !strings.Contains(n.Subject, "role app") {
		t.Errorf("subject %q does not name the role", n.Subject)
	}
	checkContained(t, r, "revoke role sessions")
}

func TestIsolationGroupThatGainedRulesIsEmptied(t *testing.T) {
	w := newWorld(t)
	e := w.estate
	if _, err := w.ec2.AuthorizeSecurityGroupIngress(w.ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(e.IsolationA),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"),
			FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}},
	}); err != nil {
		t.Fatal(err)
	}

	w.mustInvoke(suite.fn, w.finding(e.Web))

	iso, _ := w.quarantineGroups(e.VPCA)
	if len(iso.IpPermissions) != 0 || len(iso.IpPermissionsEgress) != 0 {
		t.Errorf("isolation group still has rules: in %v, out %v", iso.IpPermissions,
			iso.IpPermissionsEgress)
	}
	_, r := w.onlyNotification()
	checkContained(t, r, "remove rules from isolation group")
}

func TestQuarantineRecordsWhatAReleaseRestores(t *testing.T) {
	w := newWorld(t)
	e := w.estate

	w.mustInvoke(suite.fn, w.finding(e.Web))

	tags := w.tags(e.Web)
	want := map[string]string{
		"guardduty-response:original-termination-protection": "false",
		"guardduty-response:original-shutdown-behavior":      "stop",
		"guardduty-response:original-asg":                    e.AutoScalingGroup,
		"guardduty-response:original-instance-profile":       e.InstanceProfileARN,
	}
	for key, value := range want {
		if tags[key] != value {
			t.Errorf("tag %s = %q, want %q", key, tags[key], value)
		}
	}
}

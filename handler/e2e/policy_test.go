package e2e

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/guardduty-response/guardduty-response/policies"
)

// proofEnv turns on TestEveryResponderActionIsNeeded, which takes minutes.
const proofEnv = "E2E_POLICY_PROOF"

// proofTests are the tests run without each action in turn: between them
// they make every call the playbooks make. They are run in file order, and
// the run stops at the first failure.
var proofTests = []string{
	"TestUserLosesOnlyTheFindingsKey",
	"TestRoleSessionsAreRevokedAsOfNow",
	"TestRedeliveredCredentialFindingChangesNothingMore",
	"TestCreatesQuarantineGroupsInVPCWithoutThem",
	"TestRedeliveredAndUpdatedFindingChangesNothingMore",
	"TestQuarantinesInstanceWithTwoInterfacesAndTwoVolumes",
	"TestCredentialTheftFromInstanceRevokesItsRoleToo",
	"TestIsolationGroupThatGainedRulesIsEmptied",
	"TestQuarantineRecordsWhatAReleaseRestores",
	"TestMemberAccountFindingChangesOnlyThatAccount",
}

// unprovable are the actions the emulator cannot show to be needed, and why.
// The static tests of package policies check how they are scoped.
var unprovable = map[string]string{
	"kms:Decrypt":         "moto's SNS does not encrypt messages, so never calls KMS",
	"kms:GenerateDataKey": "moto's SNS does not encrypt messages, so never calls KMS",
}

// TestEveryResponderActionIsNeeded proves policies/responder.json holds no
// action more than the responder needs: for each action, it runs the proof
// tests again in a process whose responder user lacks just that action, and
// at least one of them must fail. The whole suite passing with the full
// document proves it holds no action less.
func TestEveryResponderActionIsNeeded(t *testing.T) {
	if os.Getenv(proofEnv) == "" {
		t.Skipf("takes minutes; set %s=1 to run it", proofEnv)
	}
	if os.Getenv(policyWithoutEnv) != "" {
		t.Skip("already a run without an action")
	}
	doc, err := policies.Document(policies.Responder)
	if err != nil {
		t.Fatal(err)
	}
	p, err := policies.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	for _, action := range p.AllowedActions() {
		if why, ok := unprovable[action]; ok {
			t.Logf("%-50s not provable here: %s", action, why)
			continue
		}
		began := time.Now()
		failed, output, err := runWithout(t, action)
		switch {
		case err == nil:
			t.Errorf("without %s every proof test passes: the action is not needed, "+
				"or no test shows it\n%s", action, tail(output, 2000))
			continue
		case failed == "":
			t.Errorf("the run without %s broke without a failing test: %v\n%s", action, err,
				tail(output, 2000))
			continue
		}
		t.Logf("%-50s needed: %s fails (%s)", action, failed, time.Since(began).Round(time.Second))
	}
	t.Logf("%d actions, %d of them provable here, in %s", len(p.AllowedActions()),
		len(p.AllowedActions())-len(unprovable), time.Since(start).Round(time.Second))
}

// runWithout runs the proof tests with the responder lacking action, and
// returns the first test that failed, the run's output, and its error.
func runWithout(t *testing.T, action string) (string, string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0],
		"-test.run=^("+strings.Join(proofTests, "|")+")$", "-test.failfast", "-test.count=1",
		"-test.v", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), policyWithoutEnv+"="+action)
	out, err := cmd.CombinedOutput()

	scanner := bufio.NewScanner(bytes.NewReader(out))
	for err != nil && scanner.Scan() {
		if name, ok := strings.CutPrefix(scanner.Text(), "--- FAIL: "); ok {
			return strings.Fields(name)[0], string(out), err
		}
	}

	return "", string(out), err
}

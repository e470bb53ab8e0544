package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
	"github.com/guardduty-response/guardduty-response/policies"
)

// policyWithoutEnv names one action to take out of the responder's policy
// for a whole run: TestEveryResponderActionIsNeeded sets it for the runs it
// starts, each of which must then fail.
const policyWithoutEnv = "E2E_POLICY_WITHOUT"

// responderPolicy is policies/responder.json, less the action named by
// policyWithoutEnv when it is set.
func responderPolicy() (string, error) {
	doc, err := policies.Document(policies.Responder)
	if err != nil {
		return "", err
	}
	without := os.Getenv(policyWithoutEnv)
	if without == "" {
		return doc, nil
	}

	p, err := policies.Parse(doc)
	if err != nil {
		return "", err
	}
	if !slices.Contains(p.AllowedActions(), without) {
		return "", fmt.Errorf("%s=%s: the responder's policy has no such action",
			policyWithoutEnv, without)
	}

	return p.WithoutAction(without).JSON()
}

// enforceIAM makes moto check every call from here on, with the responder as
// a user holding exactly its policy, and starts the recorder every function
// talks to moto through.
func enforceIAM(ctx context.Context) error {
	policy, err := responderPolicy()
	if err != nil {
		return err
	}
	if suite.principals, err = suite.moto.EnforceIAM(ctx, policy); err != nil {
		return fmt.Errorf("enforcing IAM: %w", err)
	}
	suite.recorder, err = emulator.NewRecorder(suite.moto.Endpoint)

	return err
}

// resetEmulator forgets everything moto holds and creates its users again,
// with the same keys, so that the functions started once keep working.
func resetEmulator(t testing.TB) {
	t.Helper()
	ctx := t.Context()
	if err := suite.moto.Reset(ctx); err != nil {
		t.Fatal(err)
	}

	policy, err := responderPolicy()
	if err != nil {
		t.Fatal(err)
	}
	p, err := suite.moto.EnforceIAM(ctx, policy)
	if err != nil {
		t.Fatal(err)
	}
	if *p != *suite.principals {
		t.Fatalf("the emulator's users came back with other keys after a reset: %s, was %s",
			p.ResponderARN, suite.principals.ResponderARN)
	}
	suite.recorder.Reset()
}

// Package e2e runs the compiled bootstrap under the Lambda Runtime Interface
// Emulator against moto_server, posts finding events to it the way Lambda
// would, and checks the emulator's state afterwards with the SDK.
package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// topicName is the inbox every test recreates after a reset; its ARN, and so
// the functions' SNS_TOPIC_ARN, stays the same.
const topicName = "security-alerts"

var suite struct {
	moto      *emulator.Moto
	bootstrap string
	fn        *emulator.Function // the responder as deployed
	dryRun    *emulator.Function // the same with DRY_RUN=true

	// principals are moto's users: the tests act as its administrator, the
	// responder as a user holding exactly policies/responder.json.
	principals *emulator.Principals
	// recorder is between every function and moto, recording their calls.
	recorder *emulator.Recorder
}

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	ctx := context.Background()

	root, err := emulator.ModuleRoot()
	if err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp("", "e2e-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)

	if suite.bootstrap, err = emulator.BuildBootstrap(root, dir); err != nil {
		return 0, err
	}
	if suite.moto, err = emulator.StartMoto(ctx, emulator.MotoOptions{AuthAfter: 1}); err != nil {
		return 0, err
	}
	defer suite.moto.Stop()
	if err := enforceIAM(ctx); err != nil {
		return 0, err
	}
	defer suite.recorder.Close()

	if suite.fn, err = startFunction(ctx, "DRY_RUN=false"); err != nil {
		return 0, err
	}
	defer suite.fn.Stop()
	if suite.dryRun, err = startFunction(ctx, "DRY_RUN=true"); err != nil {
		return 0, err
	}
	defer suite.dryRun.Stop()

	return m.Run(), nil
}

func startFunction(ctx context.Context, extra ...string) (*emulator.Function, error) {
	env := append([]string{
		"AWS_ENDPOINT_URL=" + suite.recorder.URL,
		"AWS_ACCESS_KEY_ID=" + suite.principals.Responder.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + suite.principals.Responder.SecretAccessKey,
		"AWS_REGION=" + emulator.Region,
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"SNS_TOPIC_ARN=" + topicARN(emulator.DefaultAccount),
		"LEASE_TABLE=" + emulator.LeaseTable,
	}, extra...)

	return emulator.StartFunction(ctx, suite.bootstrap, env)
}

func topicARN(account string) string {
	return "arn:aws:sns:" + emulator.Region + ":" + account + ":" + topicName
}

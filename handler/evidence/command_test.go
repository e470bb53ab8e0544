package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/guardduty-response/guardduty-response/handler/internal/emulator"
)

// verifyRun runs the verify command against bucket b.
func verifyRun(t *testing.T, b *bucket, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := VerifyEnv{Stdout: &stdout, Stderr: &stderr,
		LoadConfig: func(context.Context, string, string) (aws.Config, error) {
			return moto.Config(emulator.TestAccessKey, emulator.TestSecretKey), nil
		}}
	code := VerifyCommand(t.Context(), append([]string{"-bucket", b.name}, args...), env)

	return code, stdout.String(), stderr.String()
}

func TestVerifyCommand(t *testing.T) {
	t.Parallel()
	b := newBucket(t)
	written := b.appendN(2)
	instance := []string{"-instance", "i-0123456789abcdef0", "-account", "123456789012",
		"-region", "us-east-1"}

	code, out, _ := verifyRun(t, b, instance...)
	if code != ExitWhole || !strings.Contains(out, testSubject+": 2 records") ||
		!strings.Contains(out, "whole") {
		t.Errorf("whole chain: exit %d, output %q", code, out)
	}

	code, out, _ = verifyRun(t, b, "-from", time.Now().Add(-time.Hour).Format(time.RFC3339),
		"-json")
	var reports []ChainReport
	if err := json.Unmarshal([]byte(out), &reports); err != nil || code != ExitWhole ||
		len(reports) != 1 || reports[0].Records != 2 {
		t.Errorf("range as JSON: exit %d, %v, output %q", code, err, out)
	}

	code, _, errOut := verifyRun(t, b, "-user", "nobody", "-account", "123456789012")
	if code != ExitBroken || !strings.Contains(errOut, "no records") {
		t.Errorf("chain with no records: exit %d, stderr %q", code, errOut)
	}

	b.delete(written[0].Key, "")
	code, out, _ = verifyRun(t, b, instance...)
	if code != ExitBroken || !strings.Contains(out, "BROKEN") || !strings.Contains(out, written[0].Key) {
		t.Errorf("chain with a hidden record: exit %d, output %q", code, out)
	}
}

// TestBadVerifyCommandLines proves a command line verify cannot use stops
// before any AWS configuration is loaded.
func TestBadVerifyCommandLines(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		args []string
		says string
	}{
		{"no bucket", []string{"-subject", testSubject}, "-bucket is required"},
		{"nothing to walk", []string{"-bucket", "b"}, "exactly one of"},
		{"two things to walk", []string{"-bucket", "b", "-subject", testSubject, "-from",
			"2026-01-01"}, "exactly one of"},
		{"instance without account", []string{"-bucket", "b", "-instance", "i-1"},
			"-account is required"},
		{"end without start", []string{"-bucket", "b", "-subject", testSubject, "-to",
			"2026-01-01"}, "-to needs -from"},
		{"time that is not one", []string{"-bucket", "b", "-from", "yesterday"}, "not a time"},
		{"stray argument", []string{"-bucket", "b", "-subject", testSubject, "x"},
			"unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			env := VerifyEnv{Stdout: &stdout, Stderr: &stderr,
				LoadConfig: func(context.Context, string, string) (aws.Config, error) {
					t.Error("AWS configuration loaded for a bad command line")
					return aws.Config{}, nil
				}}

			if code := VerifyCommand(t.Context(), tt.args, env); code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(stderr.String(), tt.says) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tt.says)
			}
		})
	}
}

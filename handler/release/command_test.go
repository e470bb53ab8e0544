package release

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestBadCommandLinesChangeNothing proves a command line release cannot use
// stops with a message before any AWS configuration is even loaded.
func TestBadCommandLinesChangeNothing(t *testing.T) {
	t.Parallel()

	base := []string{"-bucket", "b", "-reason", "INC-1"}
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"nothing named", base, "exactly one of -instance"},
		{"two resources", append([]string{"-instance", "i-0123456789abcdef0", "-user", "a"},
			base...), "exactly one of -instance"},
		{"no bucket", []string{"-instance", "i-0123456789abcdef0", "-reason", "x"},
			"-bucket is required"},
		{"no reason", []string{"-instance", "i-0123456789abcdef0", "-bucket", "b"},
			"-reason is required"},
		{"blank reason", []string{"-instance", "i-0123456789abcdef0", "-bucket", "b",
			"-reason", "  "}, "-reason is required"},
		{"reason on two lines", []string{"-instance", "i-0123456789abcdef0", "-bucket", "b",
			"-reason", "a\nb"}, "one line"},
		{"lease for a user", append([]string{"-user", "a", "-lease-table", "t"}, base...),
			"-instance only"},
		{"stray argument", append([]string{"-instance", "i-0123456789abcdef0", "now"}, base...),
			"unexpected argument"},
		{"unknown flag", append([]string{"-force"}, base...), "not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			env := Env{Stdin: strings.NewReader("yes\n"), Stdout: &stdout, Stderr: &stderr,
				LoadConfig: func(context.Context, string, string) (aws.Config, error) {
					t.Error("AWS configuration loaded for a bad command line")
					return aws.Config{}, nil
				}}

			if code := Command(t.Context(), tt.args, env); code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(stderr.String(), tt.says) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tt.says)
			}
		})
	}
}

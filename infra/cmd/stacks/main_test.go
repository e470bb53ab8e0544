package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		github      bool
		environment string
		wave        int
		want        []string
	}{
		{"table", false, "", 0, []string{
			"admin-us-east-1  222222222222  us-east-1  delegated-admin  production   2",
			"member-eu-west-1 333333333333  eu-west-1  member           staging      3",
		}},
		{"matrix of every stack", true, "", 0, []string{"count=2"}},
		{"matrix of one wave", true, "staging", 3, []string{"count=1", `"stack":"member-eu-west-1"`}},
		{"empty wave", true, "production", 1, []string{`matrix={"include":[]}`, "count=0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			var out bytes.Buffer
			if err := run(&out, "testdata", tt.github, tt.environment, tt.wave); err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.want {
				if !strings.Contains(normalizeSpaces(out.String()), normalizeSpaces(want)) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			if tt.github {
				checkMatrixLine(t, out.String())
			}
		})
	}
}

// checkMatrixLine asserts the matrix line is JSON GitHub can read.
func checkMatrixLine(t *testing.T, out string) {
	t.Helper()

	line, _, _ := strings.Cut(out, "\n")
	var matrix struct {
		Include []map[string]any `json:"include"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "matrix=")), &matrix); err != nil {
		t.Errorf("matrix line %q is not JSON: %v", line, err)
	}
}

func normalizeSpaces(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func TestRunRejectsBadStacks(t *testing.T) {
	t.Parallel()

	var out bytes.Buffer
	if err := run(&out, t.TempDir(), false, "", 0); err == nil {
		t.Error("run accepted a folder without stack files")
	}
}

package demo

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestDemo runs `make demo` as a newcomer would see it and checks that the
// story it tells is the one the README promises.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := Run(t.Context(), &out); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}

	text := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`held back the other`),
		regexp.MustCompile(`\*\s+groups of eni-\w+\s+app\s+guardduty-response-isolation`),
		regexp.MustCompile(`\*\s+termination protection\s+false\s+true`),
		regexp.MustCompile(`\*\s+auto scaling group\s+web\s+none`),
		regexp.MustCompile(`\*\s+registered in target group web\s+yes\s+no`),
		regexp.MustCompile(`tag guardduty-response:status\s+-\s+quarantined`),
		regexp.MustCompile(`Notifications sent to the security team \(1\)`),
		regexp.MustCompile(`Subject: GuardDuty CONTAINED: instance i-\w+`),
		regexp.MustCompile(`records/\d{12}/us-east-1/instance/i-\w+/0000000001\.json`),
	} {
		if !want.MatchString(text) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if n := strings.Count(text, " of vol-"); n != 2 {
		t.Errorf("demo shows %d snapshots, want one per volume (2)", n)
	}
}

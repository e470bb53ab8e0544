package component

import (
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/guardduty-response/guardduty-response/infra/artifact"
)

// counter is a mock engine that only counts registrations.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()

	return args.Name + "-id", args.Inputs, nil
}

func (c *counter) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

// TestConstructorsCheckArgsFirst proves each constructor refuses bad args
// before it registers anything.
func TestConstructorsCheckArgsFirst(t *testing.T) {
	t.Parallel()

	arn := pulumi.String("arn:aws:iam::111111111111:role/x")
	tests := []struct {
		name string
		make func(*pulumi.Context) error
		says string
	}{
		{"detector without frequency", func(ctx *pulumi.Context) error {
			_, err := NewDetector(ctx, "d", DetectorArgs{})
			return err
		}, "Frequency"},
		{"adopted detector without ARN", func(ctx *pulumi.Context) error {
			_, err := NewDetector(ctx, "d", DetectorArgs{Existing: &ExistingDetector{ID: "x"}})
			return err
		}, "id and ARN"},
		{"export without account", func(ctx *pulumi.Context) error {
			_, err := NewExport(ctx, "e", ExportArgs{DetectorID: arn, DetectorARN: arn,
				Partition: "aws"})
			return err
		}, "AccountID"},
		{"organization with both modes", func(ctx *pulumi.Context) error {
			_, err := NewOrganization(ctx, "o", OrganizationArgs{AdminAccountID: "1",
				DetectorID: arn})
			return err
		}, "exactly one"},
		{"organization with bad auto-enable", func(ctx *pulumi.Context) error {
			_, err := NewOrganization(ctx, "o", OrganizationArgs{DetectorID: arn,
				AutoEnable: "SOME"})
			return err
		}, "AutoEnable"},
		{"quarantine with empty VPC id", func(ctx *pulumi.Context) error {
			_, err := NewQuarantine(ctx, "q", QuarantineArgs{VPCIDs: []string{""}})
			return err
		}, "empty VPC id"},
		{"notifications without publisher", func(ctx *pulumi.Context) error {
			_, err := NewNotifications(ctx, "n", NotificationsArgs{AccountID: "1",
				Partition: "aws"})
			return err
		}, "PublisherRoleARN"},
		{"role with a policy that is not JSON", func(ctx *pulumi.Context) error {
			_, err := NewRole(ctx, "r", RoleArgs{RoleName: "r", TrustPolicy: arn,
				Policy: "{"})
			return err
		}, "not a JSON document"},
		{"responder without artifact", func(ctx *pulumi.Context) error {
			_, err := NewResponder(ctx, "r", ResponderArgs{RoleARN: arn, RoleName: arn,
				TopicARN: arn, Environment: pulumi.StringMap{}, LogRetentionDays: 1,
				ReservedConcurrency: -1, Artifact: artifact.Artifact{}})
			return err
		}, "Artifact"},
		{"rules with severity 0", func(ctx *pulumi.Context) error {
			_, err := NewRules(ctx, "r", RulesArgs{FunctionARN: arn, TopicARN: arn,
				DeadLetterARN: arn, DeadLetterURL: arn, ResponseSeverity: 0, NotifySeverity: 4})
			return err
		}, "outside 1 to 10"},
		{"evidence without retention", func(ctx *pulumi.Context) error {
			_, err := NewEvidence(ctx, "e", EvidenceArgs{AccountID: "1", Partition: "aws",
				LockMode: "COMPLIANCE"})
			return err
		}, "RetentionDays"},
		{"evidence with an unknown lock mode", func(ctx *pulumi.Context) error {
			_, err := NewEvidence(ctx, "e", EvidenceArgs{AccountID: "1", Partition: "aws",
				RetentionDays: 1, LockMode: "compliance"})
			return err
		}, "LockMode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			mocks := &counter{}
			err := pulumi.RunErr(func(ctx *pulumi.Context) error { return tt.make(ctx) },
				pulumi.WithMocks("project", "stack", mocks))
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error = %v, want one mentioning %q", err, tt.says)
			}
			if mocks.n != 0 {
				t.Errorf("%d resources registered before the args were refused", mocks.n)
			}
		})
	}
}

// TestRulePattern proves the rules deploy the handler's pattern, encoded as
// before it moved there, so that existing stacks preview no change.
func TestRulePattern(t *testing.T) {
	t.Parallel()

	got, err := rulePattern(7)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"detail":{"severity":[{"numeric":[">=",7]}]},` +
		`"detail-type":["GuardDuty Finding"],"source":["aws.guardduty"]}`
	if got != want {
		t.Errorf("rulePattern(7) = %s, want %s", got, want)
	}
}

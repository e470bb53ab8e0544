package playbook_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/guardduty-response/guardduty-response/handler/account"
	"github.com/guardduty-response/guardduty-response/handler/finding"
	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

// What AWS accepts as the identity of the resources the playbooks act on,
// written here from AWS's documentation rather than taken from the code
// under test.
var (
	instanceID = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	iamName    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	keyID      = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
)

// FuzzChoose feeds arbitrary events to the decoder and, for every finding it
// accepts, checks the playbook Choose picks:
//
//   - the instance playbook only for an Instance finding naming an instance
//     id or a sample's placeholder;
//   - the access-key playbook only for an AccessKey finding;
//   - the role playbook only when accessKeyDetails names an assumed role;
//   - a notification alone only when no playbook applies.
//
// It then runs the chosen playbook, outside dry-run mode, on AWS clients that
// refuse and count every request, whenever the finding gives it nothing it
// may call AWS about: a sample, or a credential finding naming no principal
// IAM could hold. The playbook must make no request and change nothing.
func FuzzChoose(f *testing.F) {
	for _, event := range seedEvents(f) {
		f.Add(event)
	}

	f.Fuzz(func(t *testing.T, event []byte) {
		got, err := finding.Decode(event)
		if err != nil {
			return
		}

		kind := playbook.Choose(got)
		checkChoice(t, got, kind)
		if !mayCallAWS(got, kind) {
			checkNoCall(t, got, kind)
		}
	})
}

// checkChoice checks that kind is the playbook the finding's resource calls
// for, and the only one.
func checkChoice(t *testing.T, f *finding.Finding, kind playbook.Kind) {
	t.Helper()
	res := f.Resource
	assumedRole := res.AccessKey != nil && res.AccessKey.UserType == finding.UserAssumedRole

	switch kind {
	case playbook.KindInstance:
		if res.Type != finding.ResourceInstance || res.Instance == nil {
			t.Fatalf("instance playbook for resource type %q", res.Type)
		}
		if !instanceID.MatchString(res.Instance.ID) && !f.IsSample() {
			t.Fatalf("instance playbook for instance id %q of a real finding", res.Instance.ID)
		}
	case playbook.KindAccessKey:
		if res.Type != finding.ResourceAccessKey {
			t.Fatalf("access-key playbook for resource type %q", res.Type)
		}
	case playbook.KindRole:
		if !assumedRole {
			t.Fatalf("role playbook for accessKeyDetails %+v", res.AccessKey)
		}
	case playbook.KindNotify:
		actionable := res.Type == finding.ResourceInstance || res.Type == finding.ResourceAccessKey
		if actionable || assumedRole {
			t.Fatalf("notify only for resource type %q, accessKeyDetails %+v",
				res.Type, res.AccessKey)
		}
	default:
		t.Fatalf("Choose returned %q, which is no playbook", kind)
	}
}

// mayCallAWS reports whether the chosen playbook has anything real to look
// up: a finding that is not a sample and names a resource AWS could hold.
func mayCallAWS(f *finding.Finding, kind playbook.Kind) bool {
	if f.IsSample() {
		return false
	}

	k := f.Resource.AccessKey
	switch kind {
	case playbook.KindInstance:
		return true
	case playbook.KindRole:
		return iamName.MatchString(k.UserName)
	case playbook.KindAccessKey:
		if k == nil {
			return false
		}
		switch k.UserType {
		case finding.UserIAMUser:
			return iamName.MatchString(k.UserName) && keyID.MatchString(k.AccessKeyID)
		case finding.UserAssumedRole:
			return iamName.MatchString(k.UserName)
		}
	}

	return false
}

// checkNoCall runs the chosen playbook, not in dry-run mode, with clients
// that refuse every request, and checks that it made none and changed
// nothing.
func checkNoCall(t *testing.T, f *finding.Finding, kind playbook.Kind) {
	t.Helper()
	tw := &tripwire{}
	clients := tw.clients(f.AccountID, f.Region)
	opts := playbook.Options{Log: slog.New(slog.DiscardHandler)}

	var report *playbook.Report
	switch kind {
	case playbook.KindInstance:
		report = playbook.Instance(t.Context(), clients, f, opts)
	case playbook.KindAccessKey:
		report = playbook.AccessKey(t.Context(), clients, f, opts)
	case playbook.KindRole:
		report = playbook.Role(t.Context(), clients, f, opts)
	default:
		return
	}

	if n := tw.requests.Load(); n > 0 {
		t.Fatalf("%s playbook made %d AWS requests for a finding (sample %v) naming %s",
			kind, n, f.IsSample(), report.Resource)
	}
	for _, s := range report.Steps() {
		if s.Status == playbook.Done || s.Status == playbook.Failed {
			t.Fatalf("%s playbook step %q on %q is %s", kind, s.Action, s.Target, s.Status)
		}
	}
	if report.Outcome != playbook.DryRun && report.Outcome != playbook.NotActed {
		t.Fatalf("%s playbook outcome %q (%s), want dry-run or not-acted",
			kind, report.Outcome, report.Reason)
	}
	if err := report.Finish(t.Context()); err != nil || tw.requests.Load() > 0 {
		t.Fatalf("finishing a response that changed nothing called AWS: %v", err)
	}
}

// errTripped is every answer of the tripwire.
var errTripped = errors.New("tripwire: no AWS request may be made here")

// tripwire is an HTTP client that refuses every request and counts it.
type tripwire struct{ requests atomic.Int64 }

func (tw *tripwire) Do(*http.Request) (*http.Response, error) {
	tw.requests.Add(1)
	return nil, errTripped
}

// clients returns service clients that send every request to the tripwire,
// once: no retries.
func (tw *tripwire) clients(accountID, region string) *account.Clients {
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTRIPWIRE0000", "secret", ""),
		HTTPClient:  tw,
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}

	return &account.Clients{
		AccountID:   accountID,
		Region:      region,
		EC2:         ec2.NewFromConfig(cfg),
		AutoScaling: autoscaling.NewFromConfig(cfg),
		ELB:         elb.NewFromConfig(cfg),
		IAM:         iam.NewFromConfig(cfg),
	}
}

// seedEvents are the fixtures as EventBridge events, and small findings
// that reach every playbook and every way of leaving a principal alone: small,
// so that the fuzzer's changes land on the fields that matter.
func seedEvents(tb testing.TB) [][]byte {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("..", "testdata", "*.json"))
	if err != nil || len(names) == 0 {
		tb.Fatalf("no fixtures in ../testdata: %v", err)
	}

	var events [][]byte
	for _, name := range names {
		events = append(events, wrap(tb, readDetail(tb, name)))
	}
	for _, sample := range []bool{false, true} {
		for _, id := range []string{"i-0123456789abcdef0", "i-99999999",
			"GeneratedFindingInstanceId", "vol-0123456789abcdef0", "i-0123abcd,i-4567cdef", ""} {
			events = append(events, wrap(tb, smallFinding(sample, map[string]any{
				"resourceType": "Instance", "instanceDetails": map[string]any{"instanceId": id},
			})))
		}
		for _, p := range []struct{ resourceType, userType, name, key string }{
			{"AccessKey", "IAMUser", "alice", "AKIAEXAMPLEEXAMPLE12"},
			{"AccessKey", "IAMUser", "alice\nBcc: x", "AKIAEXAMPLEEXAMPLE12"},
			{"AccessKey", "IAMUser", "alice", "../AKIA"},
			{"AccessKey", "AssumedRole", "app", "ASIAEXAMPLESESSION01"},
			{"AccessKey", "AssumedRole", "role/../x", "ASIAEXAMPLESESSION01"},
			{"AccessKey", "Root", "root", "AKIAEXAMPLEEXAMPLE12"},
			{"AccessKey", "FederatedUser", "contractor", "ASIAEXAMPLESESSION01"},
			{"S3Bucket", "AssumedRole", "app", "ASIAEXAMPLESESSION01"},
			{"S3Bucket", "AssumedRole", "", "ASIAEXAMPLESESSION01"},
			{"Instance", "AssumedRole", "app", "ASIAEXAMPLESESSION01"},
		} {
			events = append(events, wrap(tb, smallFinding(sample, map[string]any{
				"resourceType":    p.resourceType,
				"instanceDetails": map[string]any{"instanceId": "i-0123abcd"},
				"accessKeyDetails": map[string]any{"userType": p.userType, "userName": p.name,
					"accessKeyId": p.key, "principalId": "AIDAEXAMPLEPRINCIPAL1"},
			})))
		}
	}

	return events
}

// smallFinding is a finding with only the fields the decoder requires, about
// resource.
func smallFinding(sample bool, resource map[string]any) map[string]any {
	return map[string]any{
		"id": "5eed01", "type": "Recon:IAMUser/MaliciousIPCaller", "severity": 5,
		"accountId": "111122223333", "region": "us-east-1", "resource": resource,
		"service": map[string]any{"additionalInfo": map[string]any{"sample": sample}},
	}
}

// readDetail reads a fixture's finding, whatever the fixture's shape, with
// the account and region its publisher blanked out put back.
func readDetail(tb testing.TB, path string) map[string]any {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}

	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		tb.Fatalf("decoding %s: %v", path, err)
	}
	detail, ok := doc["detail"].(map[string]any)
	if !ok {
		detail = doc
	}
	if a, _ := detail["accountId"].(string); !regexp.MustCompile(`^[0-9]{12}$`).MatchString(a) {
		detail["accountId"] = "111122223333"
	}
	if r, _ := detail["region"].(string); r == "" {
		detail["region"] = "us-east-1"
	}

	return detail
}

// wrap puts a finding in the EventBridge envelope.
func wrap(tb testing.TB, detail map[string]any) []byte {
	tb.Helper()
	event, err := json.Marshal(map[string]any{
		"source": finding.Source, "detail-type": finding.DetailType, "detail": detail,
	})
	if err != nil {
		tb.Fatal(err)
	}

	return event
}

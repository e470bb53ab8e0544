package finding

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture returns a testdata document as an EventBridge event, with the
// account id the real event's author blanked out put back.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}

	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	detail, ok := doc["detail"].(map[string]any)
	if !ok {
		detail = doc
	}
	if a, _ := detail["accountId"].(string); a == "" || a == "XXXXXXXXXXXX" {
		detail["accountId"] = "111122223333"
	}
	if r, _ := detail["region"].(string); r == "" {
		detail["region"] = "us-east-1"
	}

	event, err := json.Marshal(map[string]any{
		"source": Source, "detail-type": DetailType, "detail": detail,
	})
	if err != nil {
		t.Fatal(err)
	}

	return event
}

func TestDecodeFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file         string
		resourceType string
		sample       bool
		severity     float64
		instanceID   string
		interfaces   int
		accessKey    string
		userType     string
		count        int
	}{
		{file: "Instance_CryptoCurrency-EC2-BitcoinTool.B-DNS_real.event.json",
			resourceType: ResourceInstance, severity: 8, instanceID: "i-00aa97663294ffbbd",
			interfaces: 1, count: 278},
		{file: "Instance_UnauthorizedAccess-EC2-SSHBruteForce_sample.detailwrapper.json",
			resourceType: ResourceInstance, sample: true, severity: 2, instanceID: "i-99999999",
			interfaces: 1, count: 1},
		{file: "AccessKey_Recon-IAMUser-MaliciousIPCaller.Custom_sample.detail.json",
			resourceType: ResourceAccessKey, sample: true, severity: 5,
			instanceID: "i-99999999", interfaces: 1,
			accessKey: "GeneratedFindingAccessKeyId", userType: UserIAMUser, count: 1},
		{file: "S3Bucket_PenTest-S3-ParrotLinux_sample.detail.json",
			resourceType: "S3Bucket", sample: true, severity: 5,
			accessKey: "GeneratedFindingAccessKeyId", userType: UserIAMUser, count: 1},
		{file: "EKSCluster_Persistence-Kubernetes-SuccessfulAnonymousAccess_sample.detail.json",
			resourceType: "EKSCluster", sample: true, severity: 8, count: 2},
		{file: "RDSDBInstance_CredentialAccess-RDS-AnomalousBehavior.SuccessfulLogin_sample.detail.json",
			resourceType: "RDSDBInstance", sample: true, severity: 8, count: 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			f, err := Decode(fixture(t, tt.file))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}

			if f.Resource.Type != tt.resourceType || f.IsSample() != tt.sample ||
				f.Severity != tt.severity || f.Count != tt.count {
				t.Errorf("got type %q sample %v severity %v count %d; want %q %v %v %d",
					f.Resource.Type, f.IsSample(), f.Severity, f.Count,
					tt.resourceType, tt.sample, tt.severity, tt.count)
			}
			if tt.instanceID != "" {
				i := f.Resource.Instance
				if i == nil || i.ID != tt.instanceID || len(i.Interfaces) != tt.interfaces {
					t.Errorf("instance %+v, want %s with %d interfaces", i, tt.instanceID, tt.interfaces)
				}
			}
			if tt.accessKey != "" {
				k := f.Resource.AccessKey
				if k == nil || k.AccessKeyID != tt.accessKey || k.UserType != tt.userType {
					t.Errorf("access key %+v, want %s of a %s", k, tt.accessKey, tt.userType)
				}
			}
		})
	}
}

func TestDecodeRealFindingFields(t *testing.T) {
	t.Parallel()
	f, err := Decode(fixture(t, "Instance_CryptoCurrency-EC2-BitcoinTool.B-DNS_real.event.json"))
	if err != nil {
		t.Fatal(err)
	}

	ni := f.Resource.Instance.Interfaces[0]
	switch {
	case f.ID != "92c1a1d65b221e96d6a6fae27aaaae43":
		t.Errorf("id %q", f.ID)
	case f.Type != "CryptoCurrency:EC2/BitcoinTool.B!DNS":
		t.Errorf("type %q", f.Type)
	case f.AccountID != "111122223333" || f.Region != "us-east-1" || f.Partition != "aws":
		t.Errorf("account %q region %q partition %q", f.AccountID, f.Region, f.Partition)
	case ni.ID != "eni-0b2a816e2859d3b70" || ni.VPCID != "vpc-dd59d8a0" ||
		len(ni.SecurityGroups) != 1 || ni.SecurityGroups[0] != "sg-2f266b2f":
		t.Errorf("interface %+v", ni)
	case !f.UpdatedAt.IsZero():
		t.Errorf("updatedAt %v parsed from a blanked-out timestamp", f.UpdatedAt)
	}
}

func TestDecodeRefusesBadEvents(t *testing.T) {
	t.Parallel()
	valid := func() map[string]any {
		return map[string]any{
			"id": "abc123", "type": "Backdoor:EC2/C&CActivity.B", "severity": 8.0,
			"accountId": "111122223333", "region": "eu-west-1",
			"resource": map[string]any{
				"resourceType":    "Instance",
				"instanceDetails": map[string]any{"instanceId": "i-0123456789abcdef0"},
			},
		}
	}
	event := func(mutate func(d map[string]any)) []byte {
		d := valid()
		mutate(d)
		b, _ := json.Marshal(map[string]any{"source": Source, "detail-type": DetailType, "detail": d})
		return b
	}

	tests := []struct {
		name  string
		event []byte
		want  string
	}{
		{"not JSON", []byte(`{"source":`), "decoding event"},
		{"wrong source", []byte(`{"source":"aws.ec2","detail-type":"GuardDuty Finding","detail":{}}`),
			"not a GuardDuty finding"},
		{"forged detail-type", []byte(`{"source":"aws.guardduty","detail-type":"Finding","detail":{}}`),
			"not a GuardDuty finding"},
		{"null detail", []byte(`{"source":"aws.guardduty","detail-type":"GuardDuty Finding","detail":null}`),
			"detail is missing"},
		{"detail not an object", []byte(`{"source":"aws.guardduty","detail-type":"GuardDuty Finding","detail":[1]}`),
			"decoding finding"},
		{"no id", event(func(d map[string]any) { delete(d, "id") }), "not a finding id"},
		{"id with slash", event(func(d map[string]any) { d["id"] = "../x" }), "not a finding id"},
		{"huge id", event(func(d map[string]any) { d["id"] = strings.Repeat("a", 200_000) }), "not a finding id"},
		{"type with newline", event(func(d map[string]any) { d["type"] = "a\nb" }), "not a finding type"},
		{"severity as string", event(func(d map[string]any) { d["severity"] = "8" }), "severity"},
		{"severity null", event(func(d map[string]any) { d["severity"] = nil }), "severity is missing"},
		{"severity 11", event(func(d map[string]any) { d["severity"] = 11 }), "outside 0-10"},
		{"short account", event(func(d map[string]any) { d["accountId"] = "1234" }), "12-digit"},
		{"account as number", event(func(d map[string]any) { d["accountId"] = 111122223333 }), "accountId"},
		{"bad region", event(func(d map[string]any) { d["region"] = "moon" }), "region"},
		{"no resource", event(func(d map[string]any) { delete(d, "resource") }), "resource is missing"},
		{"instance without details", event(func(d map[string]any) {
			d["resource"] = map[string]any{"resourceType": "Instance"}
		}), "instanceDetails is missing"},
		{"instance id of another kind", event(func(d map[string]any) {
			d["resource"].(map[string]any)["instanceDetails"] = map[string]any{"instanceId": "vol-0123456789abcdef0"}
		}), "not an instance id"},
		{"instance id with a list", event(func(d map[string]any) {
			d["resource"].(map[string]any)["instanceDetails"] = map[string]any{"instanceId": "i-01234567,i-89abcdef"}
		}), "not an instance id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Decode(tt.event)
			if err == nil {
				t.Fatalf("Decode accepted it: %+v", f)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error of %d bytes quotes too much input", len(err.Error()))
			}
		})
	}
}

func TestNotAFindingIsDistinguishable(t *testing.T) {
	t.Parallel()
	_, err := Decode([]byte(`{"source":"aws.s3","detail-type":"Object Created","detail":{}}`))
	if !errors.Is(err, ErrNotAFinding) {
		t.Errorf("got %v, want ErrNotAFinding", err)
	}
}

func TestIsSample(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    Finding
		want bool
	}{
		{"flagged", Finding{ID: "a", Sample: true}, true},
		{"placeholder instance", Finding{ID: "a", Resource: Resource{Instance: &Instance{ID: "i-99999999"}}}, true},
		{"placeholder key", Finding{ID: "a", Resource: Resource{
			AccessKey: &AccessKey{AccessKeyID: "GeneratedFindingAccessKeyId"}}}, true},
		{"placeholder user", Finding{ID: "a", Resource: Resource{
			AccessKey: &AccessKey{AccessKeyID: "AKIAEXAMPLEEXAMPLE12", UserName: "GeneratedFindingUserName"}}}, true},
		{"real instance", Finding{ID: "a", Resource: Resource{Instance: &Instance{ID: "i-0123456789abcdef0"}}}, false},
		{"real key", Finding{ID: "a", Resource: Resource{
			AccessKey: &AccessKey{AccessKeyID: "AKIAEXAMPLEEXAMPLE12", UserName: "alice"}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.f.IsSample(); got != tt.want {
				t.Errorf("IsSample() = %v, want %v", got, tt.want)
			}
		})
	}
}

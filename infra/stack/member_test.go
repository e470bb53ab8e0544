package stack

import (
	"strings"
	"testing"

	"github.com/guardduty-response/guardduty-response/policies"
)

func memberConfig(extra map[string]string) map[string]string {
	config := map[string]string{
		"accountId": testAccount, "role": "member", "adminAccountId": testAdmin,
	}
	for k, v := range extra {
		config[k] = v
	}

	return config
}

func TestMemberAdoptsOrganizationDetector(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.detector = "org-made-detector"
	e.mustRun(t, memberConfig(map[string]string{"adoptDetector": "true"}))

	if n := len(e.ofType(detectorType)); n != 0 {
		t.Errorf("member created %d detectors beside the organisation's", n)
	}
	if n := len(e.ofType(featureType)); n != 0 {
		t.Errorf("member declared %d features the administrator owns", n)
	}
	for _, token := range []string{functionType, topicType, orgConfigType, destinationType} {
		if n := len(e.ofType(token)); n != 0 {
			t.Errorf("member stack created %d %s", n, token)
		}
	}
	if n := len(e.ofType(securityGroupType)); n != 4 {
		t.Errorf("member has %d quarantine groups, want a pair in each of 2 VPCs", n)
	}
}

func TestMemberCreatesDetectorWhenNotAdopting(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, memberConfig(nil))

	e.one(t, detectorType)
	if n := len(e.ofType(featureType)); n != 6 {
		t.Errorf("%d features on the member's own detector, want 6", n)
	}
}

func TestMemberRole(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		externalID string
	}{
		{"without external id", ""},
		{"with external id", "org-shared-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			e := newEngine()
			extra := map[string]string{"memberRoleName": "responder-here"}
			if tt.externalID != "" {
				extra["memberExternalId"] = tt.externalID
			}
			e.mustRun(t, memberConfig(extra))

			role := e.named(t, roleType, "member-role")
			if got := text(role.Inputs, "name"); got != "responder-here" {
				t.Errorf("member role name = %s", got)
			}

			trust, err := policies.MemberTrustPolicy(
				"arn:aws:iam::"+testAdmin+":role/guardduty-response-lambda", tt.externalID)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, text(role.Inputs, "assumeRolePolicy"), trust) {
				t.Errorf("trust policy = %s\nwant %s", text(role.Inputs, "assumeRolePolicy"), trust)
			}
			secret := containsSecret(role.Raw["assumeRolePolicy"])
			if secret != (tt.externalID != "") {
				t.Errorf("trust policy secret = %v, want it secret only with an external id", secret)
			}

			checkMemberPermissions(t, e)
		})
	}
}

func checkMemberPermissions(t *testing.T, e *engine) {
	t.Helper()

	want, err := policies.Document(policies.Member)
	if err != nil {
		t.Fatal(err)
	}
	got := text(e.named(t, rolePolicyType, "member-role-permissions").Inputs, "policy")
	if !sameJSON(t, got, want) {
		t.Errorf("member permissions = %s\nwant the document of package policies: %s", got, want)
	}
}

func TestExportBucket(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{"accountId": testAccount})

	keyARN := "arn:aws:kms:us-east-1:111111111111:findings-export-key"
	bucketARN := "arn:aws:s3:::findings-export-findings"

	destination := e.one(t, destinationType)
	if text(destination.Inputs, "destinationArn") != bucketARN ||
		text(destination.Inputs, "kmsKeyArn") != keyARN {
		t.Errorf("publishing destination = %v", destination.Inputs)
	}

	const bucket = "findings-export-findings"
	versioning := e.named(t, bucketVersionType, bucket).Inputs
	if got := text(versioning, "versioningConfiguration", "status"); got != "Enabled" {
		t.Errorf("versioning = %q", got)
	}
	block := e.named(t, publicAccessType, bucket).Inputs
	for _, key := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
		"restrictPublicBuckets"} {
		if block[key] != true {
			t.Errorf("public access block %s = %v", key, block[key])
		}
	}

	rules, _ := e.named(t, bucketEncryptType, bucket).Inputs["rules"].([]any)
	if len(rules) != 1 ||
		text(rules[0], "applyServerSideEncryptionByDefault", "kmsMasterKeyId") != keyARN {
		t.Errorf("default encryption = %v, want SSE-KMS with the export key", rules)
	}

	checkExportPolicies(t, e)
}

func checkExportPolicies(t *testing.T, e *engine) {
	t.Helper()

	detectorARN := "arn:aws:guardduty:us-east-1:111111111111:detector/detector-id"

	key := text(e.named(t, keyType, "findings-export-key").Inputs, "policy")
	if !strings.Contains(key, `"guardduty.amazonaws.com"`) || !strings.Contains(key, detectorARN) {
		t.Errorf("export key policy does not let this detector's GuardDuty use it: %s", key)
	}

	bucket := text(e.named(t, bucketPolicyType, "findings-export-findings").Inputs, "policy")
	for _, want := range []string{
		`"s3:PutObject"`, `"s3:GetBucketLocation"`, detectorARN, `"aws:SecureTransport":"false"`,
		`"s3:x-amz-server-side-encryption-aws-kms-key-id"`,
	} {
		if !strings.Contains(bucket, want) {
			t.Errorf("bucket policy lacks %s: %s", want, bucket)
		}
	}

	days := field(e.one(t, lifecycleType).Inputs["rules"].([]any)[0], "expiration", "days")
	if days != 365.0 {
		t.Errorf("findings expire after %v days, want the default 365", days)
	}
}

func TestExportSwitchedOff(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{"accountId": testAccount, "exportFindings": "false"})

	if n := len(e.ofType(destinationType)); n != 0 {
		t.Errorf("%d publishing destinations with exportFindings false", n)
	}
	for _, b := range e.ofType(bucketType) {
		if b.Name != "evidence" {
			t.Errorf("bucket %s created with exportFindings false", b.Name)
		}
	}
}

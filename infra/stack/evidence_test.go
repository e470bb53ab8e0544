package stack

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/guardduty-response/guardduty-response/handler/lease"
)

const (
	tableType      = "aws:dynamodb/table:Table"
	objectLockType = "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2"

	evidenceBucketARN = "arn:aws:s3:::evidence"
	evidenceKeyARN    = "arn:aws:kms:us-east-1:111111111111:evidence-key"
)

func TestLeaseTable(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{"accountId": testAccount})

	table := e.one(t, tableType).Inputs
	checks := map[string]any{
		"hashKey":     lease.KeyAttribute,
		"billingMode": "PAY_PER_REQUEST",
		"attributes":  []any{map[string]any{"name": lease.KeyAttribute, "type": "S"}},
		"ttl":         map[string]any{"attributeName": lease.ExpiresAttribute, "enabled": true},
	}
	for key, want := range checks {
		if got := table[key]; !reflect.DeepEqual(got, want) {
			t.Errorf("lease table %s = %v, want %v", key, got, want)
		}
	}
	if field(table, "serverSideEncryption", "enabled") != true {
		t.Errorf("lease table encryption = %v, want enabled", table["serverSideEncryption"])
	}

	vars := field(e.one(t, functionType).Inputs, "environment", "variables")
	if got := text(vars, "LEASE_TABLE"); got != "guardduty-response-leases" {
		t.Errorf("LEASE_TABLE = %q, want the stack's table guardduty-response-leases", got)
	}
}

// TestLeasesAreGrantedByTheResponderDocumentOnly proves the lease table
// carries the name policies/responder.json grants, and that the stack's
// runtime policy adds nothing in DynamoDB.
func TestLeasesAreGrantedByTheResponderDocumentOnly(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{"accountId": testAccount})

	if name := text(e.one(t, tableType).Inputs, "name"); name != "guardduty-response-leases" {
		t.Errorf("lease table named %q, outside the responder's grant table/guardduty-response-*", name)
	}
	runtime := statements(t, text(e.named(t, rolePolicyType, "responder-runtime").Inputs, "policy"))
	for _, s := range runtime {
		for _, action := range listOf(s["Action"]) {
			if strings.HasPrefix(action, "dynamodb:") {
				t.Errorf("runtime policy grants %s on %v", action, s["Resource"])
			}
		}
	}
}

func TestEvidenceBucket(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		config map[string]string
		mode   string
		days   float64
	}{
		{"defaults", nil, "COMPLIANCE", 365},
		{"configured", map[string]string{"evidenceRetentionDays": "2555",
			"evidenceLockMode": "GOVERNANCE"}, "GOVERNANCE", 2555},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			config := map[string]string{"accountId": testAccount}
			for k, v := range tt.config {
				config[k] = v
			}
			e := newEngine()
			e.mustRun(t, config)

			bucket := e.named(t, bucketType, "evidence")
			if bucket.Inputs["objectLockEnabled"] != true {
				t.Error("the evidence bucket is created without Object Lock")
			}
			if !bucket.RetainOnDelete {
				t.Error("pulumi destroy would delete the evidence bucket")
			}

			retention := field(e.named(t, objectLockType, "evidence").Inputs, "rule",
				"defaultRetention")
			if text(retention, "mode") != tt.mode || field(retention, "days") != tt.days {
				t.Errorf("default retention = %v, want %s for %v days", retention, tt.mode, tt.days)
			}

			checkEvidenceSettings(t, e)
		})
	}
}

// checkEvidenceSettings asserts versioning, blocked public access and
// encryption with the evidence key.
func checkEvidenceSettings(t *testing.T, e *engine) {
	t.Helper()

	if got := text(e.named(t, bucketVersionType, "evidence").Inputs, "versioningConfiguration",
		"status"); got != "Enabled" {
		t.Errorf("evidence versioning = %q", got)
	}
	block := e.named(t, publicAccessType, "evidence").Inputs
	for _, key := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
		"restrictPublicBuckets"} {
		if block[key] != true {
			t.Errorf("evidence public access block %s = %v", key, block[key])
		}
	}
	rules, _ := e.named(t, bucketEncryptType, "evidence").Inputs["rules"].([]any)
	if len(rules) != 1 ||
		text(rules[0], "applyServerSideEncryptionByDefault", "kmsMasterKeyId") != evidenceKeyARN {
		t.Errorf("evidence encryption = %v, want SSE-KMS with %s", rules, evidenceKeyARN)
	}
	if rotation := e.named(t, keyType, "evidence-key").Inputs["enableKeyRotation"]; rotation != true {
		t.Errorf("evidence key rotation = %v", rotation)
	}
}

// TestEvidenceBucketPolicy proves that nobody may write a record without
// If-None-Match, delete one, or reach the bucket over plain HTTP.
func TestEvidenceBucketPolicy(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{"accountId": testAccount})

	bySid := map[string]map[string]any{}
	for _, s := range statements(t, text(e.named(t, bucketPolicyType, "evidence").Inputs,
		"policy")) {
		if s["Effect"] != "Deny" || s["Principal"] != "*" {
			t.Errorf("statement %v is not a deny for everyone", s["Sid"])
		}
		bySid[text(s, "Sid")] = s
	}

	overwrite := bySid["DenyWritesThatCouldReplace"]
	if text(overwrite, "Condition", "Null", "s3:if-none-match") != "true" ||
		!slices.Equal(listOf(overwrite["Action"]), []string{"s3:PutObject"}) {
		t.Errorf("writes without If-None-Match are not refused: %v", overwrite)
	}
	deletes := listOf(bySid["DenyDeletes"]["Action"])
	if !slices.Contains(deletes, "s3:DeleteObject") ||
		!slices.Contains(deletes, "s3:DeleteObjectVersion") {
		t.Errorf("deleting records is not refused: %v", deletes)
	}
	if text(bySid["DenyPlainHTTP"], "Condition", "Bool", "aws:SecureTransport") != "false" {
		t.Errorf("plain HTTP is not refused: %v", bySid["DenyPlainHTTP"])
	}
	if text(bySid["DenyOtherKeys"], "Condition", "StringNotEquals",
		"s3:x-amz-server-side-encryption-aws-kms-key-id") != evidenceKeyARN {
		t.Errorf("records under other keys are not refused: %v", bySid["DenyOtherKeys"])
	}
}

// TestResponderEvidenceGrants proves the function may list, read and add
// records and use the key, and may not delete, change retention or write
// outside the records prefix.
func TestResponderEvidenceGrants(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{"accountId": testAccount})

	vars := field(e.one(t, functionType).Inputs, "environment", "variables")
	if got := text(vars, "EVIDENCE_BUCKET"); got != "evidence" {
		t.Errorf("EVIDENCE_BUCKET = %q, want the stack's bucket", got)
	}

	got := map[string][]string{}
	for _, s := range statements(t, text(e.named(t, rolePolicyType, "responder-runtime").Inputs,
		"policy")) {
		for _, action := range listOf(s["Action"]) {
			if strings.HasPrefix(action, "s3:") || strings.HasPrefix(action, "kms:") {
				got[action] = listOf(s["Resource"])
			}
		}
	}
	records := []string{evidenceBucketARN + "/records/*"}
	want := map[string][]string{
		"s3:ListBucketVersions": {evidenceBucketARN},
		"s3:GetObject":          records,
		"s3:GetObjectVersion":   records,
		"s3:PutObject":          records,
		"kms:GenerateDataKey":   {evidenceKeyARN},
		"kms:Decrypt":           {evidenceKeyARN},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("evidence grants = %v\nwant %v", got, want)
	}
}

func TestMemberHasNoEvidenceOrLeases(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{"accountId": testAccount, "role": "member",
		"adminAccountId": testAdmin})

	for _, token := range []string{tableType, bucketType, objectLockType} {
		if n := len(e.ofType(token)); n != 0 {
			t.Errorf("member stack created %d %s", n, token)
		}
	}
}

// statements decodes the statements of a policy document.
func statements(t *testing.T, raw string) []map[string]any {
	t.Helper()

	var out []map[string]any
	list, _ := document(t, raw)["Statement"].([]any)
	for _, s := range list {
		m, _ := s.(map[string]any)
		out = append(out, m)
	}

	return out
}

// listOf reads a policy element that is a string or a list of strings.
func listOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			s, _ := item.(string)
			out = append(out, s)
		}
		return out
	}

	return nil
}

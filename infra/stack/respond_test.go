package stack

import (
	"crypto/sha256"
	"encoding/base64"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/guardduty-response/guardduty-response/infra/component"
	"github.com/guardduty-response/guardduty-response/policies"
)

func TestQuarantineGroups(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		config map[string]string
		want   []string
	}{
		{"every VPC of the region", nil,
			[]string{"vpc-0aaaaaaaaaaaaaaaa", "vpc-0bbbbbbbbbbbbbbbb"}},
		{"narrowed by config", map[string]string{"quarantineVpcIds": `["vpc-0bbbbbbbbbbbbbbbb"]`},
			[]string{"vpc-0bbbbbbbbbbbbbbbb"}},
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

			groups := e.ofType(securityGroupType)
			if len(groups) != 2*len(tt.want) {
				t.Fatalf("%d security groups, want a pair in each of %v", len(groups), tt.want)
			}
			for _, vpc := range tt.want {
				checkIsolation(t, e.named(t, securityGroupType, "quarantine-"+vpc+"-isolation"), vpc)
				checkTransition(t, e.named(t, securityGroupType, "quarantine-"+vpc+"-transition"), vpc)
			}
		})
	}
}

// checkIsolation asserts a group with explicitly empty rule lists, which is
// what removes the default egress rule.
func checkIsolation(t *testing.T, sg record, vpc string) {
	t.Helper()

	if text(sg.Inputs, "name") != component.IsolationGroupName || text(sg.Inputs, "vpcId") != vpc {
		t.Errorf("isolation group = %v", sg.Inputs)
	}
	if got := text(sg.Inputs, "tags", component.QuarantineTag); got != "isolation" {
		t.Errorf("isolation group tag %s = %q", component.QuarantineTag, got)
	}
	for _, key := range []resource.PropertyKey{"ingress", "egress"} {
		v, ok := sg.Raw[key]
		if !ok || !v.IsArray() || len(v.ArrayValue()) != 0 {
			t.Errorf("isolation group %s = %v, want an explicit empty list", key, v)
		}
	}
	if sg.Inputs["revokeRulesOnDelete"] != true {
		t.Error("isolation group does not revoke rules on delete")
	}
}

func checkTransition(t *testing.T, sg record, vpc string) {
	t.Helper()

	if text(sg.Inputs, "name") != component.TransitionGroupName || text(sg.Inputs, "vpcId") != vpc {
		t.Errorf("transition group = %v", sg.Inputs)
	}
	if got := text(sg.Inputs, "tags", component.QuarantineTag); got != "transition" {
		t.Errorf("transition group tag %s = %q", component.QuarantineTag, got)
	}
	for _, key := range []string{"ingress", "egress"} {
		rules, _ := sg.Inputs[key].([]any)
		if len(rules) != 1 {
			t.Fatalf("transition group has %d %s rules, want 1", len(rules), key)
		}
		rule := rules[0]
		if text(rule, "protocol") != "-1" ||
			!reflect.DeepEqual(field(rule, "cidrBlocks"), []any{"0.0.0.0/0"}) ||
			!reflect.DeepEqual(field(rule, "ipv6CidrBlocks"), []any{"::/0"}) {
			t.Errorf("transition %s rule = %v, want all traffic for 0.0.0.0/0 and ::/0", key, rule)
		}
	}
}

func TestResponderFunction(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{
		"accountId": testAccount, "role": "delegated-admin", "logRetentionDays": "90",
		"reservedConcurrency": "3",
	})

	fn := e.one(t, functionType)
	checks := map[string]any{
		"runtime":                      "provided.al2023",
		"handler":                      "bootstrap",
		"architectures":                []any{"arm64"},
		"reservedConcurrentExecutions": 3.0,
	}
	for key, want := range checks {
		if got := fn.Inputs[key]; !reflect.DeepEqual(got, want) {
			t.Errorf("function %s = %v, want %v", key, got, want)
		}
	}
	if got := text(fn.Inputs, "loggingConfig", "logFormat"); got != "JSON" {
		t.Errorf("log format = %s, want JSON", got)
	}

	checkArtifact(t, fn)

	logs := e.one(t, logGroupType)
	if logs.Inputs["retentionInDays"] != 90.0 {
		t.Errorf("log retention = %v, want 90", logs.Inputs["retentionInDays"])
	}
	if got, want := text(fn.Inputs, "loggingConfig", "logGroup"), "responder"; got != want {
		t.Errorf("function logs to %s, want the stack's log group %s", got, want)
	}
}

// checkArtifact asserts the function ships the built zip with its hash.
func checkArtifact(t *testing.T, fn record) {
	t.Helper()

	code := fn.Raw["code"]
	if !code.IsArchive() {
		t.Fatalf("code = %v, want an archive", code)
	}
	path := code.ArchiveValue().Path
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the function's archive: %v", err)
	}

	sum := sha256.Sum256(data)
	if got, want := text(fn.Inputs, "sourceCodeHash"),
		base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("sourceCodeHash = %s, want %s, the hash of %s", got, want, path)
	}
}

func TestResponderEnvironment(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{
		"accountId": testAccount, "dryRun": "true", "removeLoginProfile": "false",
		"breakGlassPrincipals": `["arn:aws:iam::111111111111:role/a",` +
			`"arn:aws:iam::111111111111:user/b"]`,
		"memberRoleName":   "responder-x",
		"memberExternalId": "shared-secret",
	})

	fn := e.one(t, functionType)
	vars, _ := field(fn.Inputs, "environment", "variables").(map[string]any)
	want := map[string]any{
		"SNS_TOPIC_ARN":                 "arn:aws:sns:us-east-1:111111111111:notifications",
		"DRY_RUN":                       "true",
		"DISASSOCIATE_INSTANCE_PROFILE": "true",
		"REMOVE_LOGIN_PROFILE":          "false",
		"BREAK_GLASS_PRINCIPALS": "arn:aws:iam::111111111111:role/a," +
			"arn:aws:iam::111111111111:user/b",
		"MEMBER_ROLE_NAME":   "responder-x",
		"MEMBER_EXTERNAL_ID": "shared-secret",
		"DEPLOYER_ARN":       "arn:aws:iam::111111111111:role/deployer",
		"LEASE_TABLE":        "guardduty-response-leases",
		"EVIDENCE_BUCKET":    "evidence",
	}
	if !reflect.DeepEqual(vars, want) {
		t.Errorf("environment = %v\nwant %v", vars, want)
	}

	if !containsSecret(fn.Raw["environment"]) {
		t.Error("the external id reaches the function without being marked secret")
	}
}

// containsSecret reports whether a secret sits anywhere inside v.
func containsSecret(v resource.PropertyValue) bool {
	found := false
	v.MapRepl(nil, func(v resource.PropertyValue) (any, bool) {
		if v.IsSecret() || (v.IsOutput() && v.OutputValue().Secret) {
			found = true
		}
		return nil, false
	})

	return found
}

func TestResponderRolePolicy(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{"accountId": testAccount, "role": "delegated-admin"})

	role := e.named(t, roleType, "responder-role")
	if got := text(role.Inputs, "name"); got != "guardduty-response-lambda" {
		t.Errorf("responder role name = %s", got)
	}
	if !sameJSON(t, text(role.Inputs, "assumeRolePolicy"), component.LambdaTrustPolicy) {
		t.Errorf("responder trust policy = %s", text(role.Inputs, "assumeRolePolicy"))
	}

	want, err := policies.Document(policies.Responder)
	if err != nil {
		t.Fatal(err)
	}
	permissions := e.named(t, rolePolicyType, "responder-role-permissions")
	if !sameJSON(t, text(permissions.Inputs, "policy"), want) {
		t.Errorf("responder policy = %s\nwant the document of package policies: %s",
			text(permissions.Inputs, "policy"), want)
	}

	runtime := e.named(t, rolePolicyType, "responder-runtime")
	if !strings.Contains(text(runtime.Inputs, "policy"),
		`"arn:aws:iam::*:role/guardduty-responder"`) {
		t.Errorf("an administrator's responder cannot assume member roles: %s",
			text(runtime.Inputs, "policy"))
	}
}

func TestNotificationKeyPrincipals(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{
		"accountId": testAccount, "notificationEmails": `["a@example.com","b@example.com"]`,
		"notificationHttpsEndpoint": "https://hooks.example.com/x",
	})

	topic := e.one(t, topicType)
	key := e.named(t, keyType, "notifications-key")
	want := "arn:aws:kms:us-east-1:111111111111:notifications-key"
	if got := text(topic.Inputs, "kmsMasterKeyId"); got != want {
		t.Errorf("topic key = %q, want the customer key %s", got, want)
	}

	principals := principalsOf(t, text(key.Inputs, "policy"))
	for _, want := range []string{
		"events.amazonaws.com", "cloudwatch.amazonaws.com",
		"arn:aws:iam::111111111111:role/guardduty-response-lambda",
		"arn:aws:iam::111111111111:root",
	} {
		if !slices.Contains(principals, want) {
			t.Errorf("key policy principals %v lack %s", principals, want)
		}
	}

	policy := e.one(t, topicPolicyType)
	p := principalsOf(t, text(policy.Inputs, "policy"))
	if !slices.Contains(p, "events.amazonaws.com") {
		t.Errorf("topic policy principals %v lack EventBridge", p)
	}

	checkSubscriptions(t, e)
}

func checkSubscriptions(t *testing.T, e *engine) {
	t.Helper()

	got := map[string]string{}
	for _, s := range e.ofType(subscriptionType) {
		got[text(s.Inputs, "endpoint")] = text(s.Inputs, "protocol")
	}
	want := map[string]string{
		"a@example.com": "email", "b@example.com": "email",
		"https://hooks.example.com/x": "https",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("subscriptions = %v, want %v", got, want)
	}
}

// principalsOf lists every principal of an IAM policy document.
func principalsOf(t *testing.T, raw string) []string {
	t.Helper()

	var out []string
	statements, _ := document(t, raw)["Statement"].([]any)
	for _, s := range statements {
		principal, _ := field(s, "Principal").(map[string]any)
		for _, v := range principal {
			switch v := v.(type) {
			case string:
				out = append(out, v)
			case []any:
				for _, p := range v {
					out = append(out, p.(string))
				}
			}
		}
	}

	return out
}

package stack

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/guardduty-response/guardduty-response/infra/protection"
)

// Resource types the tests look for.
const (
	detectorType       = "aws:guardduty/detector:Detector"
	featureType        = "aws:guardduty/detectorFeature:DetectorFeature"
	orgConfigType      = "aws:guardduty/organizationConfiguration:OrganizationConfiguration"
	orgFeatureType     = "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature"
	adminAccountType   = "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount"
	destinationType    = "aws:guardduty/publishingDestination:PublishingDestination"
	securityGroupType  = "aws:ec2/securityGroup:SecurityGroup"
	functionType       = "aws:lambda/function:Function"
	permissionType     = "aws:lambda/permission:Permission"
	invokeConfigType   = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
	roleType           = "aws:iam/role:Role"
	rolePolicyType     = "aws:iam/rolePolicy:RolePolicy"
	keyType            = "aws:kms/key:Key"
	topicType          = "aws:sns/topic:Topic"
	topicPolicyType    = "aws:sns/topicPolicy:TopicPolicy"
	subscriptionType   = "aws:sns/topicSubscription:TopicSubscription"
	ruleType           = "aws:cloudwatch/eventRule:EventRule"
	targetType         = "aws:cloudwatch/eventTarget:EventTarget"
	alarmType          = "aws:cloudwatch/metricAlarm:MetricAlarm"
	logGroupType       = "aws:cloudwatch/logGroup:LogGroup"
	queueType          = "aws:sqs/queue:Queue"
	queuePolicyType    = "aws:sqs/queuePolicy:QueuePolicy"
	bucketType         = "aws:s3/bucketV2:BucketV2"
	bucketPolicyType   = "aws:s3/bucketPolicy:BucketPolicy"
	bucketEncryptType  = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	bucketVersionType  = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	publicAccessType   = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	lifecycleType      = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	componentTypeStart = "guardduty-response:index:"
)

// field walks nested maps.
func field(v any, path ...string) any {
	for _, key := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[key]
	}

	return v
}

func text(v any, path ...string) string {
	s, _ := field(v, path...).(string)
	return s
}

// document decodes a JSON policy or pattern input.
func document(t *testing.T, raw string) map[string]any {
	t.Helper()

	var doc map[string]any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("decoding %q: %v", raw, err)
	}

	return doc
}

// sameJSON compares two JSON documents by meaning, not layout.
func sameJSON(t *testing.T, got, want string) bool {
	t.Helper()

	return reflect.DeepEqual(document(t, got), document(t, want))
}

func featureStatuses(e *engine) map[string]string {
	statuses := map[string]string{}
	for _, f := range e.ofType(featureType) {
		statuses[text(f.Inputs, "name")] = text(f.Inputs, "status")
	}

	return statuses
}

func TestStandaloneDetector(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{"accountId": testAccount})

	d := e.one(t, detectorType)
	frequency := text(d.Inputs, "findingPublishingFrequency")
	if d.Inputs["enable"] != true || frequency != "FIFTEEN_MINUTES" {
		t.Errorf("detector inputs = %v", d.Inputs)
	}
	if _, ok := d.Inputs["datasources"]; ok {
		t.Error("detector uses the deprecated datasources block")
	}

	want := map[string]string{}
	for _, plan := range protection.DefaultPlans() {
		want[plan] = "ENABLED"
	}
	if got := featureStatuses(e); !reflect.DeepEqual(got, want) {
		t.Errorf("features = %v, want %v", got, want)
	}

	runtime := e.named(t, featureType, "detector-runtime-monitoring")
	checkAgents(t, runtime.Inputs, "status", "ENABLED")
	if len(e.ofType(orgConfigType)) != 0 || len(e.ofType(adminAccountType)) != 0 {
		t.Error("a standalone stack touched the organisation")
	}
}

// checkAgents asserts the three agent settings of RUNTIME_MONITORING.
func checkAgents(t *testing.T, inputs map[string]any, key, want string) {
	t.Helper()

	configs, _ := inputs["additionalConfigurations"].([]any)
	got := map[string]string{}
	for _, c := range configs {
		got[text(c, "name")] = text(c, key)
	}

	expected := map[string]string{}
	for _, agent := range protection.Agents() {
		expected[agent] = want
	}
	if !reflect.DeepEqual(got, expected) {
		t.Errorf("agent settings = %v, want %v", got, expected)
	}
}

func TestFeatureSwitches(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		plans  string
		agents string
		want   map[string]string
	}{
		{
			name:   "plans switched off are declared disabled",
			plans:  `["S3_DATA_EVENTS","RUNTIME_MONITORING"]`,
			agents: `[]`,
			want: map[string]string{
				"S3_DATA_EVENTS": "ENABLED", "EKS_AUDIT_LOGS": "DISABLED",
				"EBS_MALWARE_PROTECTION": "DISABLED", "RDS_LOGIN_EVENTS": "DISABLED",
				"LAMBDA_NETWORK_LOGS": "DISABLED", "RUNTIME_MONITORING": "ENABLED",
			},
		},
		{
			name:   "the older EKS runtime plan replaces RUNTIME_MONITORING",
			plans:  `["EKS_RUNTIME_MONITORING"]`,
			agents: `["EKS_ADDON_MANAGEMENT"]`,
			want: map[string]string{
				"S3_DATA_EVENTS": "DISABLED", "EKS_AUDIT_LOGS": "DISABLED",
				"EBS_MALWARE_PROTECTION": "DISABLED", "RDS_LOGIN_EVENTS": "DISABLED",
				"LAMBDA_NETWORK_LOGS": "DISABLED", "EKS_RUNTIME_MONITORING": "ENABLED",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			e := newEngine()
			e.mustRun(t, map[string]string{
				"accountId": testAccount, "protectionPlans": tt.plans,
				"runtimeAgentManagement": tt.agents,
			})

			if got := featureStatuses(e); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("features = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDelegatedAdminOrganization(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		autoEnable string
		want       string
	}{
		{"default", "", "ALL"},
		{"new accounts only", "NEW", "NEW"},
		{"none", "NONE", "NONE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			config := map[string]string{"accountId": testAccount, "role": "delegated-admin"}
			if tt.autoEnable != "" {
				config["autoEnableOrganizationMembers"] = tt.autoEnable
			}
			e := newEngine()
			e.mustRun(t, config)

			org := e.one(t, orgConfigType)
			if got := text(org.Inputs, "autoEnableOrganizationMembers"); got != tt.want {
				t.Errorf("autoEnableOrganizationMembers = %s, want %s", got, tt.want)
			}
			if text(org.Inputs, "detectorId") != "detector-id" {
				t.Errorf("organisation configured on detector %v", org.Inputs["detectorId"])
			}

			checkOrgFeatures(t, e, tt.want)
		})
	}
}

func checkOrgFeatures(t *testing.T, e *engine, want string) {
	t.Helper()

	features := e.ofType(orgFeatureType)
	if len(features) != len(protection.DefaultPlans()) {
		t.Fatalf("%d organisation features, want %d", len(features),
			len(protection.DefaultPlans()))
	}
	for _, f := range features {
		if got := text(f.Inputs, "autoEnable"); got != want {
			t.Errorf("organisation feature %s autoEnable = %s, want %s",
				text(f.Inputs, "name"), got, want)
		}
		if text(f.Inputs, "name") == protection.RuntimeMonitoring {
			checkAgents(t, f.Inputs, "autoEnable", want)
		}
	}
}

func TestManagementDesignatesAdministrator(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.mustRun(t, map[string]string{
		"accountId": testAccount, "role": "management", "adminAccountId": testAdmin,
	})

	admin := e.one(t, adminAccountType)
	if got := text(admin.Inputs, "adminAccountId"); got != testAdmin {
		t.Errorf("adminAccountId = %s, want %s", got, testAdmin)
	}
	for _, token := range []string{functionType, securityGroupType, orgConfigType, topicType} {
		if n := len(e.ofType(token)); n != 0 {
			t.Errorf("management stack created %d %s", n, token)
		}
	}
}

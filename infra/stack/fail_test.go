package stack

import (
	"strings"
	"testing"
)

// TestBadStacksCreateNothing proves that a stack the program cannot deploy
// stops before the first resource, with a message naming the key.
func TestBadStacksCreateNothing(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		config  map[string]string
		prepare func(*engine)
		says    string
	}{
		{"unknown role", map[string]string{"role": "root"}, nil, "role:"},
		{"account id not 12 digits", map[string]string{"accountId": "1234"}, nil, "accountId:"},
		{"threshold above 10", map[string]string{"responseSeverity": "11"}, nil,
			"responseSeverity:"},
		{"unknown feature", map[string]string{"protectionPlans": `["MALWARE"]`}, nil,
			"protectionPlans:"},
		{"both runtime features", map[string]string{
			"protectionPlans": `["RUNTIME_MONITORING","EKS_RUNTIME_MONITORING"]`}, nil,
			"protectionPlans:"},
		{"management without administrator", map[string]string{"role": "management"}, nil,
			"adminAccountId:"},
		{"credentials of another account", nil,
			func(e *engine) { e.account = "999999999999" }, "accountId: the stack is for"},
		{"VPC not in the region", map[string]string{
			"quarantineVpcIds": `["vpc-0cccccccccccccccc"]`}, nil, "is not a VPC of this account"},
		{"no detector to adopt", map[string]string{"adoptDetector": "true"}, nil,
			"adoptDetector:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			config := map[string]string{"accountId": testAccount}
			for k, v := range tt.config {
				config[k] = v
			}
			e := newEngine()
			if tt.prepare != nil {
				tt.prepare(e)
			}

			err := e.run(t, config)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error = %v, want one saying %q", err, tt.says)
			}
			if n := e.count(); n != 0 {
				t.Errorf("%d resources registered before the error", n)
			}
		})
	}
}

// TestBrokenHandlerCreatesNothing proves a handler that does not compile
// stops the stack before anything is created.
func TestBrokenHandlerCreatesNothing(t *testing.T) {
	t.Parallel()

	e := newEngine()
	e.handler = "./infra/artifact/testdata/broken"
	err := e.run(t, map[string]string{"accountId": testAccount})
	if err == nil || !strings.Contains(err.Error(), "building the responder") {
		t.Fatalf("error = %v, want a build failure", err)
	}
	if n := e.count(); n != 0 {
		t.Errorf("%d resources registered before the error", n)
	}
}

func TestChildrenAreParented(t *testing.T) {
	t.Parallel()

	roles := []map[string]string{
		{"role": "delegated-admin"},
		{"role": "member", "adminAccountId": testAdmin},
		{"role": "management", "adminAccountId": testAdmin},
	}
	for _, config := range roles {
		t.Run(config["role"], func(t *testing.T) {
			t.Parallel()

			config["accountId"] = testAccount
			e := newEngine()
			e.mustRun(t, config)

			for _, r := range e.resources {
				if r.Custom && !strings.Contains(r.Parent, componentTypeStart) {
					t.Errorf("%s %s is parented to %s, not to a component", r.Type, r.Name, r.Parent)
				}
			}
		})
	}
}

func TestDeployerARN(t *testing.T) {
	t.Parallel()

	tests := []struct {
		caller, want string
	}{
		{"arn:aws:sts::111111111111:assumed-role/deployer/session-1",
			"arn:aws:iam::111111111111:role/deployer"},
		{"arn:aws-us-gov:sts::111111111111:assumed-role/ci/GitHubActions",
			"arn:aws-us-gov:iam::111111111111:role/ci"},
		{"arn:aws:iam::111111111111:user/alice", "arn:aws:iam::111111111111:user/alice"},
		{"arn:aws:iam::111111111111:root", "arn:aws:iam::111111111111:root"},
		{"arn:aws:sts::111111111111:federated-user/bob",
			"arn:aws:sts::111111111111:federated-user/bob"},
	}
	for _, tt := range tests {
		t.Run(tt.caller, func(t *testing.T) {
			t.Parallel()

			if got := DeployerARN(tt.caller); got != tt.want {
				t.Errorf("DeployerARN(%s) = %s, want %s", tt.caller, got, tt.want)
			}
		})
	}
}

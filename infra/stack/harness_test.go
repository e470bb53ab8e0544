package stack

import (
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	testAccount = "111111111111"
	testAdmin   = "222222222222"
	testRegion  = "us-east-1"
)

// record is one resource the program registered with the mock engine.
type record struct {
	Type   string
	Name   string
	Parent string
	Custom bool
	Raw    resource.PropertyMap
	Inputs map[string]any
	// RetainOnDelete is set when `pulumi destroy` leaves the resource.
	RetainOnDelete bool
}

// engine is Pulumi's mock engine with a fake account: the caller, the
// region's VPCs and, when set, an existing detector.
type engine struct {
	callerARN string
	account   string
	vpcs      []string
	detector  string
	handler   string

	mu        sync.Mutex
	resources []record
}

func newEngine() *engine {
	return &engine{
		account:   testAccount,
		callerARN: "arn:aws:sts::" + testAccount + ":assumed-role/deployer/ci-session",
		vpcs:      []string{"vpc-0bbbbbbbbbbbbbbbb", "vpc-0aaaaaaaaaaaaaaaa"},
		handler:   "./infra/stack/testdata/handler",
	}
}

func (e *engine) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	parent, retain := "", false
	if args.RegisterRPC != nil {
		parent, retain = args.RegisterRPC.GetParent(), args.RegisterRPC.GetRetainOnDelete()
	}

	e.mu.Lock()
	e.resources = append(e.resources, record{
		Type: args.TypeToken, Name: args.Name, Parent: parent, Custom: args.Custom,
		Raw: args.Inputs, Inputs: plainMap(args.Inputs), RetainOnDelete: retain,
	})
	e.mu.Unlock()

	return args.Name + "-id", e.state(args), nil
}

// state echoes the inputs and adds what AWS would compute: ARNs, names and
// queue URLs.
func (e *engine) state(args pulumi.MockResourceArgs) resource.PropertyMap {
	state := maps.Clone(args.Inputs)
	name := args.Name
	if v, ok := args.Inputs["name"]; ok && v.IsString() {
		name = v.StringValue()
	}

	service := strings.SplitN(strings.TrimPrefix(args.TypeToken, "aws:"), "/", 2)[0]
	arn := fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, testRegion, e.account, name)
	switch args.TypeToken {
	case "aws:iam/role:Role":
		arn = fmt.Sprintf("arn:aws:iam::%s:role/%s", e.account, name)
	case "aws:guardduty/detector:Detector":
		arn = fmt.Sprintf("arn:aws:guardduty:%s:%s:detector/%s-id", testRegion, e.account,
			args.Name)
	case "aws:cloudwatch/eventRule:EventRule":
		arn = fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", testRegion, e.account, name)
	case "aws:s3/bucketV2:BucketV2":
		state["bucket"] = resource.NewStringProperty(name)
		arn = "arn:aws:s3:::" + name
	case "aws:sqs/queue:Queue":
		state["url"] = resource.NewStringProperty(
			fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", testRegion, e.account, name))
	}

	state["arn"] = resource.NewStringProperty(arn)
	if _, ok := state["name"]; !ok {
		state["name"] = resource.NewStringProperty(name)
	}
	state["keyId"] = resource.NewStringProperty(name + "-key-id")

	return state
}

func (e *engine) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": e.account, "arn": e.callerARN, "id": e.account, "userId": "AROA:x",
		}), nil
	case "aws:ec2/getVpcs:getVpcs":
		return resource.NewPropertyMapFromMap(map[string]any{"ids": e.vpcs, "id": testRegion}), nil
	case "aws:guardduty/getDetector:getDetector":
		if e.detector == "" {
			return nil, fmt.Errorf("no matching GuardDuty Detector found")
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": e.detector,
			"arn": fmt.Sprintf("arn:aws:guardduty:%s:%s:detector/%s",
				testRegion, e.account, e.detector),
		}), nil
	}

	return nil, fmt.Errorf("the mock engine has no answer for %s", args.Token)
}

// run executes the program against the engine with the given configuration,
// keys without the project prefix and values as Pulumi passes them.
func (e *engine) run(t *testing.T, config map[string]string) error {
	t.Helper()

	full := map[string]string{}
	for k, v := range config {
		if !strings.Contains(k, ":") {
			k = "guardduty-response:" + k
		}
		full[k] = v
	}

	opts := Options{
		RootDir:        "../..",
		HandlerPackage: e.handler,
		BuildDir:       t.TempDir(),
	}
	withConfig := func(info *pulumi.RunInfo) {
		info.Config = full
		info.ConfigSecretKeys = []string{"guardduty-response:memberExternalId"}
	}

	return pulumi.RunErr(Program(opts),
		pulumi.WithMocks("guardduty-response", "test", e), withConfig)
}

// mustRun is run for configurations that must succeed.
func (e *engine) mustRun(t *testing.T, config map[string]string) {
	t.Helper()

	if err := e.run(t, config); err != nil {
		t.Fatalf("program failed: %v", err)
	}
}

// ofType returns the resources of one type token.
func (e *engine) ofType(token string) []record {
	e.mu.Lock()
	defer e.mu.Unlock()

	var out []record
	for _, r := range e.resources {
		if r.Type == token {
			out = append(out, r)
		}
	}

	return out
}

// one returns the only resource of a type, failing the test otherwise.
func (e *engine) one(t *testing.T, token string) record {
	t.Helper()

	found := e.ofType(token)
	if len(found) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(found), token)
	}

	return found[0]
}

// named returns the resource of a type with a logical name.
func (e *engine) named(t *testing.T, token, name string) record {
	t.Helper()

	for _, r := range e.ofType(token) {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s named %s", token, name)

	return record{}
}

func (e *engine) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()

	return len(e.resources)
}

// plainMap turns inputs into plain Go values, unwrapping secrets.
func plainMap(m resource.PropertyMap) map[string]any {
	out, _ := plain(resource.NewObjectProperty(m)).(map[string]any)
	return out
}

func plain(v resource.PropertyValue) any {
	return v.MapRepl(nil, func(v resource.PropertyValue) (any, bool) {
		switch {
		case v.IsSecret():
			return plain(v.SecretValue().Element), true
		case v.IsOutput():
			return plain(v.OutputValue().Element), true
		}
		return nil, false
	})
}

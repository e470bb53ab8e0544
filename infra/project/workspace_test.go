package project

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/guardduty-response/guardduty-response/infra/settings"
)

const (
	projectFile = "../../Pulumi.yaml"
	stacksDir   = "../../stacks"
)

func loadProject(t *testing.T) *workspace.Project {
	t.Helper()

	p, err := workspace.LoadProject(projectFile)
	if err != nil {
		t.Fatalf("loading %s with Pulumi's loader: %v", projectFile, err)
	}

	return p
}

func stackFiles(t *testing.T) []string {
	t.Helper()

	files, err := filepath.Glob(filepath.Join(stacksDir, "Pulumi.*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no stack files in %s (%v)", stacksDir, err)
	}

	return files
}

func TestProjectFile(t *testing.T) {
	t.Parallel()

	p := loadProject(t)
	if p.Name != Name || p.Runtime.Name() != "go" || p.Main != "infra/" ||
		p.StackConfigDir != "stacks" {
		t.Errorf("project = name %s, runtime %s, main %s, stackConfigDir %s",
			p.Name, p.Runtime.Name(), p.Main, p.StackConfigDir)
	}

	var declared []string
	for key, c := range p.Config {
		declared = append(declared, key)
		if c.Type == nil || c.Description == "" || c.Default == nil {
			t.Errorf("config %s lacks a type, a description or a default", key)
		}
	}

	want := settings.Keys()
	slices.Sort(declared)
	slices.Sort(want)
	if !slices.Equal(declared, want) {
		t.Errorf("Pulumi.yaml declares %v\nthe program reads %v", declared, want)
	}
}

// TestProjectDefaultsMatchProgram proves the defaults users read in
// Pulumi.yaml are the ones the program applies by itself.
func TestProjectDefaultsMatchProgram(t *testing.T) {
	t.Parallel()

	defaults := map[string]string{}
	for key, c := range loadProject(t).Config {
		defaults[key] = engineText(t, c.Default)
	}
	defaults[settings.KeyAccountID] = "111111111111"

	fromProject, err := settings.Load(lookupIn(defaults))
	if err != nil {
		t.Fatalf("the defaults of Pulumi.yaml do not load: %v", err)
	}
	builtIn, err := settings.Load(lookupIn(map[string]string{
		settings.KeyAccountID: "111111111111",
	}))
	if err != nil {
		t.Fatal(err)
	}

	if !reflect.DeepEqual(normalize(fromProject), normalize(builtIn)) {
		t.Errorf("Pulumi.yaml defaults give %+v\nthe program's own give %+v", fromProject, builtIn)
	}
}

// normalize treats an empty list and no list alike.
func normalize(s settings.Settings) settings.Settings {
	for _, list := range []*[]string{&s.QuarantineVPCIDs, &s.NotificationEmails,
		&s.BreakGlassPrincipals, &s.Plans, &s.RuntimeAgents} {
		if len(*list) == 0 {
			*list = nil
		}
	}

	return s
}

// engineText renders a value the way the engine passes it to a program.
func engineText(t *testing.T, v any) string {
	t.Helper()

	if s, ok := v.(string); ok {
		return s
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding %v: %v", v, err)
	}

	return string(data)
}

func lookupIn(values map[string]string) settings.Lookup {
	return func(key string) (string, bool) {
		v, ok := values[key]
		return v, ok
	}
}

// TestStackFiles loads every stack with Pulumi's loader and checks each
// value against the type Pulumi.yaml declares, which the loader alone does
// not do, then checks what the stack's role needs.
func TestStackFiles(t *testing.T) {
	t.Parallel()

	p := loadProject(t)
	for _, file := range stackFiles(t) {
		t.Run(StackName(file), func(t *testing.T) {
			t.Parallel()

			ps, err := workspace.LoadProjectStack(nil, p, file)
			if err != nil {
				t.Fatalf("loading with Pulumi's loader: %v", err)
			}

			values := checkTypes(t, p, ps.Config)
			checkRoleNeeds(t, values)
		})
	}
}

// checkTypes returns the stack's values of the project namespace.
func checkTypes(t *testing.T, p *workspace.Project, stack config.Map) map[string]string {
	t.Helper()

	values := map[string]string{}
	region := false
	for key, value := range stack {
		if key.Namespace() == "aws" && key.Name() == "region" {
			region = true
		}
		if key.Namespace() != Name {
			continue
		}

		declared, ok := p.Config[key.Name()]
		if !ok {
			t.Errorf("%s is not declared in Pulumi.yaml", key)
			continue
		}
		object, err := value.ToObject()
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		if !workspace.ValidateConfigValue(*declared.Type, declared.Items, object) {
			t.Errorf("%s = %v is not of the declared type %s", key, object,
				workspace.InferFullTypeName(*declared.Type, declared.Items))
		}
		text, err := value.Value(config.NopDecrypter)
		if err != nil {
			t.Errorf("%s: %v", key, err)
		}
		values[key.Name()] = text
	}

	if !region {
		t.Error("the stack names no aws:region")
	}

	return values
}

// checkRoleNeeds asserts a valid role and the accounts that role needs, and
// that the program accepts the whole configuration.
func checkRoleNeeds(t *testing.T, values map[string]string) {
	t.Helper()

	role, ok := values[settings.KeyRole]
	if !ok {
		t.Fatal("the stack names no role")
	}
	if _, ok := values[settings.KeyAccountID]; !ok {
		t.Error("the stack names no accountId")
	}
	needsAdmin := role == string(settings.Management) || role == string(settings.Member)
	if _, ok := values[settings.KeyAdminAccountID]; needsAdmin && !ok {
		t.Errorf("a %s stack must name adminAccountId", role)
	}

	if _, err := settings.Load(lookupIn(values)); err != nil {
		t.Errorf("the program rejects the stack: %v", err)
	}
}

// TestLoadMatchesWorkspace proves Load, which CI uses to list stacks, reads
// every file the same as Pulumi's loader does.
func TestLoadMatchesWorkspace(t *testing.T) {
	t.Parallel()

	stacks, err := Load(stacksDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(stacks) != len(stackFiles(t)) {
		t.Fatalf("Load found %d stacks, the folder has %d files", len(stacks), len(stackFiles(t)))
	}

	p := loadProject(t)
	for _, s := range stacks {
		file := filepath.Join(stacksDir, "Pulumi."+s.Name+".yaml")
		ps, err := workspace.LoadProjectStack(nil, p, file)
		if err != nil {
			t.Fatal(err)
		}
		region := valueOf(t, ps.Config, "aws", "region")
		account := valueOf(t, ps.Config, Name, "accountId")
		if s.Region != region || s.AccountID != account {
			t.Errorf("Load read %s as %s/%s, Pulumi as %s/%s", s.Name, s.AccountID, s.Region,
				account, region)
		}
	}
}

func valueOf(t *testing.T, m config.Map, namespace, name string) string {
	t.Helper()

	v, err := m[config.MustMakeKey(namespace, name)].Value(config.NopDecrypter)
	if err != nil {
		t.Fatalf("%s:%s: %v", namespace, name, err)
	}

	return v
}

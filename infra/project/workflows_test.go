package project

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const workflowsDir = "../../.github/workflows"

// workflow is the part of a GitHub Actions workflow these tests read.
type workflow struct {
	Jobs map[string]job `yaml:"jobs"`
}

type job struct {
	Uses        string         `yaml:"uses"`
	With        map[string]any `yaml:"with"`
	Needs       any            `yaml:"needs"`
	Environment any            `yaml:"environment"`
	Strategy    struct {
		Matrix any `yaml:"matrix"`
	} `yaml:"strategy"`
	Concurrency map[string]any    `yaml:"concurrency"`
	Env         map[string]string `yaml:"env"`
	Steps       []step            `yaml:"steps"`
}

type step struct {
	Uses string         `yaml:"uses"`
	Run  string         `yaml:"run"`
	With map[string]any `yaml:"with"`
}

func readWorkflow(t *testing.T, name string) workflow {
	t.Helper()

	data, err := os.ReadFile(filepath.Join(workflowsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(data, &w); err != nil {
		t.Fatalf("parsing %s: %v", name, err)
	}

	return w
}

const derivedMatrix = "${{ fromJSON(needs.stacks.outputs.matrix) }}"

// checkDerivedMatrix asserts a job whose matrix comes from the stacks job,
// which lists the folder with cmd/stacks, and that is locked per stack.
func checkDerivedMatrix(t *testing.T, w workflow, jobName, listFlags string) {
	t.Helper()

	j, ok := w.Jobs[jobName]
	if !ok {
		t.Fatalf("no job %s", jobName)
	}
	if j.Strategy.Matrix != derivedMatrix {
		t.Errorf("job %s matrix = %v, want %s", jobName, j.Strategy.Matrix, derivedMatrix)
	}
	if group, _ := j.Concurrency["group"].(string); !strings.Contains(group, "${{ matrix.stack }}") {
		t.Errorf("job %s concurrency group %q is not per stack", jobName, group)
	}

	listed := false
	for _, s := range w.Jobs["stacks"].Steps {
		if strings.Contains(s.Run, "go run ./infra/cmd/stacks -github"+listFlags) {
			listed = true
		}
	}
	if !listed {
		t.Errorf("the stacks job does not list the folder with cmd/stacks -github%s", listFlags)
	}
}

// TestPreviewCoversEveryStack: the preview matrix is every stack Load finds,
// and Load finds every file of the folder.
func TestPreviewCoversEveryStack(t *testing.T) {
	t.Parallel()

	w := readWorkflow(t, "pull-request.yml")
	checkDerivedMatrix(t, w, "preview", " >>")

	stacks, err := Load(stacksDir)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, s := range stacks {
		listed[s.Name] = true
	}
	for _, file := range stackFiles(t) {
		if !listed[StackName(file)] {
			t.Errorf("%s is missing from the preview matrix", file)
		}
	}

	checkPulumiStep(t, w.Jobs["preview"], "preview")
}

// TestDeployCoversEveryStack: every stack's environment and wave is rolled
// out by deploy.yml, through the GitHub environment of that name.
func TestDeployCoversEveryStack(t *testing.T) {
	t.Parallel()

	rollOut := readWorkflow(t, "roll-out.yml")
	checkDerivedMatrix(t, rollOut, "up", " -environment")
	if env := rollOut.Jobs["up"].Environment; env != "${{ inputs.environment }}" {
		t.Errorf("up job environment = %v, want the input environment", env)
	}
	checkPulumiStep(t, rollOut.Jobs["up"], "up")

	called := map[string]bool{}
	for _, j := range readWorkflow(t, "deploy.yml").Jobs {
		if j.Uses == "./.github/workflows/roll-out.yml" {
			called[waveKey(j.With["environment"], j.With["wave"])] = true
		}
	}

	stacks, err := Load(stacksDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stacks {
		if !called[waveKey(s.Environment, s.Wave)] {
			t.Errorf("stack %s (environment %s, wave %d) is never deployed by deploy.yml",
				s.Name, s.Environment, s.Wave)
		}
	}
}

func waveKey(environment, wave any) string {
	return strings.TrimSpace(strings.Join([]string{toText(environment), toText(wave)}, "/"))
}

func toText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	default:
		return ""
	}
}

// checkPulumiStep asserts the official action runs the command on the
// matrix's stack, with credentials from OIDC.
func checkPulumiStep(t *testing.T, j job, command string) {
	t.Helper()

	var pulumi, aws *step
	for i, s := range j.Steps {
		switch {
		case strings.HasPrefix(s.Uses, "pulumi/actions@"):
			pulumi = &j.Steps[i]
		case strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@"):
			aws = &j.Steps[i]
		}
	}
	if pulumi == nil || aws == nil {
		t.Fatalf("the %s job lacks the Pulumi action or the AWS credentials action", command)
	}

	if pulumi.With["command"] != command || pulumi.With["diff"] != true {
		t.Errorf("Pulumi step runs %v (diff %v), want %s --diff", pulumi.With["command"],
			pulumi.With["diff"], command)
	}
	name, _ := pulumi.With["stack-name"].(string)
	if name != "${{ env.STACK }}" || !strings.Contains(j.Env["STACK"], "matrix.stack") {
		t.Errorf("Pulumi step stack-name %q (STACK %q) does not come from the matrix",
			name, j.Env["STACK"])
	}
	role, _ := aws.With["role-to-assume"].(string)
	if !strings.HasPrefix(role, "arn:aws:iam::${{ matrix.account }}:role/") ||
		aws.With["aws-access-key-id"] != nil {
		t.Errorf("credentials are not an OIDC role of the stack's account: %v", aws.With)
	}
}

var pinned = regexp.MustCompile(`^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$`)

// TestActionsArePinned: every third-party action is pinned to a commit.
func TestActionsArePinned(t *testing.T) {
	t.Parallel()

	files, err := filepath.Glob(filepath.Join(workflowsDir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows (%v)", err)
	}
	for _, file := range files {
		for name, j := range readWorkflow(t, filepath.Base(file)).Jobs {
			for _, s := range j.Steps {
				if s.Uses != "" && !pinned.MatchString(s.Uses) {
					t.Errorf("%s job %s uses %s, not pinned to a commit", file, name, s.Uses)
				}
			}
		}
	}
}

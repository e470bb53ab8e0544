package stack

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// TestEveryStackFileRuns runs the program on each file under stacks/, with
// the configuration Pulumi would pass: the project's defaults overlaid with
// the stack's values, both read by Pulumi's own loader.
func TestEveryStackFileRuns(t *testing.T) {
	t.Parallel()

	project, err := workspace.LoadProject("../../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../../stacks/Pulumi.*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no stack files (%v)", err)
	}

	for _, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "Pulumi."), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			values := stackConfig(t, project, file)
			e := newEngine()
			e.account = values["guardduty-response:accountId"]
			e.callerARN = "arn:aws:sts::" + e.account + ":assumed-role/deploy/ci"
			e.detector = "org-detector"
			e.mustRun(t, values)

			if e.count() == 0 {
				t.Error("the stack registered nothing")
			}
		})
	}
}

func stackConfig(t *testing.T, project *workspace.Project, file string) map[string]string {
	t.Helper()

	values := map[string]string{}
	for key, declared := range project.Config {
		text, ok := declared.Default.(string)
		if !ok {
			data, err := json.Marshal(declared.Default)
			if err != nil {
				t.Fatal(err)
			}
			text = string(data)
		}
		values[project.Name.String()+":"+key] = text
	}

	stack, err := workspace.LoadProjectStack(nil, project, file)
	if err != nil {
		t.Fatalf("loading %s: %v", file, err)
	}
	for key, value := range stack.Config {
		text, err := value.Value(config.NopDecrypter)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		values[key.String()] = text
	}

	return values
}

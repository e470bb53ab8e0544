// Package project reads the stack files under stacks/ the way CI and the
// Makefile need them: which account, region, role and environment each
// stack deploys, and in which wave of a roll-out.
package project

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/guardduty-response/guardduty-response/infra/settings"
)

// Name is the Pulumi project name, the namespace of the program's keys.
const Name = "guardduty-response"

// Stack is one stack file, checked.
type Stack struct {
	Name        string `json:"stack"`
	File        string `json:"file"`
	AccountID   string `json:"account"`
	Region      string `json:"region"`
	Role        string `json:"role"`
	Environment string `json:"environment"`
	Wave        int    `json:"wave"`
}

// Wave orders a roll-out: the management account designates the delegated
// administrator, the administrator configures the organisation, and only
// then can member accounts trust its responder.
func Wave(role settings.Role) int {
	switch role {
	case settings.Management:
		return 1
	case settings.Member:
		return 3
	default:
		return 2
	}
}

// Waves lists every wave, in order.
func Waves() []int {
	return []int{1, 2, 3}
}

// Load reads every Pulumi.<stack>.yaml in dir, sorted by wave and name.
func Load(dir string) ([]Stack, error) {
	files, err := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("listing stack files in %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("listing stack files in %s: none found", dir)
	}

	stacks := make([]Stack, 0, len(files))
	for _, file := range files {
		s, err := read(file)
		if err != nil {
			return nil, err
		}
		stacks = append(stacks, s)
	}

	slices.SortFunc(stacks, func(a, b Stack) int {
		if a.Wave != b.Wave {
			return a.Wave - b.Wave
		}
		return strings.Compare(a.Name, b.Name)
	})

	return stacks, nil
}

// read checks one stack file with the program's own settings rules.
func read(file string) (Stack, error) {
	config, err := Config(file)
	if err != nil {
		return Stack{}, err
	}

	region := config["aws:region"]
	if region == "" {
		return Stack{}, fmt.Errorf("reading %s: aws:region is not set", file)
	}

	s, err := settings.Load(func(key string) (string, bool) {
		v, ok := config[Name+":"+key]
		return v, ok
	})
	if err != nil {
		return Stack{}, fmt.Errorf("reading %s: %w", file, err)
	}

	return Stack{
		Name:        StackName(file),
		File:        filepath.ToSlash(file),
		AccountID:   s.AccountID,
		Region:      region,
		Role:        string(s.Role),
		Environment: s.Environment,
		Wave:        Wave(s.Role),
	}, nil
}

// StackName is the stack a file configures: Pulumi.<stack>.yaml.
func StackName(file string) string {
	base := filepath.Base(file)
	return strings.TrimSuffix(strings.TrimPrefix(base, "Pulumi."), ".yaml")
}

// Config returns a stack file's configuration as Pulumi hands it to the
// program: namespaced keys, scalars as text, lists as JSON.
func Config(file string) (map[string]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}

	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", file, err)
	}

	config := make(map[string]string, len(doc.Config))
	for key, value := range doc.Config {
		if !strings.Contains(key, ":") {
			key = Name + ":" + key
		}
		text, err := configText(value)
		if err != nil {
			return nil, fmt.Errorf("reading %s: key %s: %w", file, key, err)
		}
		config[key] = text
	}

	return config, nil
}

func configText(value any) (string, error) {
	switch v := value.(type) {
	case string:
		return v, nil
	case []any, map[string]any:
		data, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("encoding: %w", err)
		}
		return string(data), nil
	default:
		return fmt.Sprint(v), nil
	}
}

// Select keeps the stacks of one environment and wave.
func Select(stacks []Stack, environment string, wave int) []Stack {
	var out []Stack
	for _, s := range stacks {
		if s.Environment == environment && s.Wave == wave {
			out = append(out, s)
		}
	}

	return out
}

// Matrix is a GitHub Actions matrix with one job per stack.
func Matrix(stacks []Stack) (string, error) {
	include := stacks
	if include == nil {
		include = []Stack{}
	}

	data, err := json.Marshal(map[string]any{"include": include})
	if err != nil {
		return "", fmt.Errorf("encoding matrix: %w", err)
	}

	return string(data), nil
}

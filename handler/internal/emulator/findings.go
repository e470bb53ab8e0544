package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Fixture names in handler/testdata.
const (
	RealInstanceFinding   = "Instance_CryptoCurrency-EC2-BitcoinTool.B-DNS_real.event.json"
	SampleInstanceFinding = "Instance_UnauthorizedAccess-EC2-SSHBruteForce_sample.detailwrapper.json"
	SampleAccessKey       = "AccessKey_Recon-IAMUser-MaliciousIPCaller.Custom_sample.detail.json"
	SampleS3Finding       = "S3Bucket_PenTest-S3-ParrotLinux_sample.detail.json"
)

// ModuleRoot finds the folder holding go.mod, upwards from the working
// directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}

	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// LoadFinding reads a fixture and returns the finding it holds (the event's
// detail), whatever the fixture's shape.
func LoadFinding(name string) (map[string]any, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}

	data, err := os.ReadFile(filepath.Join(root, "handler", "testdata", name))
	if err != nil {
		return nil, fmt.Errorf("reading fixture: %w", err)
	}

	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decoding fixture %s: %w", name, err)
	}
	if detail, ok := doc["detail"].(map[string]any); ok {
		return detail, nil
	}

	return doc, nil
}

// InstanceFinding is the real cryptocurrency finding, rewritten to name an
// instance of the emulator's estate in account.
func InstanceFinding(instanceID, account string) (map[string]any, error) {
	f, err := LoadFinding(RealInstanceFinding)
	if err != nil {
		return nil, err
	}

	now := time.Now().UTC().Format(time.RFC3339)
	f["accountId"] = account
	f["region"] = Region
	f["updatedAt"], f["createdAt"] = now, now
	f["arn"] = strings.ReplaceAll(f["arn"].(string), "XXXXXXXXXXXX", account)
	details := f["resource"].(map[string]any)["instanceDetails"].(map[string]any)
	original, _ := details["instanceId"].(string)
	details["instanceId"] = instanceID
	for _, key := range []string{"title", "description"} {
		if text, ok := f[key].(string); ok {
			f[key] = strings.ReplaceAll(text, original, instanceID)
		}
	}

	return f, nil
}

// Event wraps a finding in the EventBridge envelope GuardDuty findings come in.
func Event(detail map[string]any) ([]byte, error) {
	account, _ := detail["accountId"].(string)
	region, _ := detail["region"].(string)

	return json.Marshal(map[string]any{
		"version":     "0",
		"id":          fmt.Sprintf("event-%d", time.Now().UnixNano()),
		"detail-type": "GuardDuty Finding",
		"source":      "aws.guardduty",
		"account":     account,
		"time":        time.Now().UTC().Format(time.RFC3339),
		"region":      region,
		"resources":   []any{},
		"detail":      detail,
	})
}

package finding

import (
	"encoding/json"
	"fmt"
)

// EventPattern returns the EventBridge pattern that matches GuardDuty
// findings of at least minSeverity. GuardDuty's severities run from 1 to
// 10; High starts at 7 and Critical at 9.
func EventPattern(minSeverity float64) (string, error) {
	if minSeverity < 1 || minSeverity > 10 {
		return "", fmt.Errorf("minimum severity %v is outside 1-10", minSeverity)
	}

	pattern := map[string]any{
		"source":      []string{Source},
		"detail-type": []string{DetailType},
		"detail": map[string]any{
			"severity": []any{map[string]any{"numeric": []any{">=", minSeverity}}},
		},
	}
	data, err := json.Marshal(pattern)
	if err != nil {
		return "", fmt.Errorf("encoding event pattern: %w", err)
	}

	return string(data), nil
}

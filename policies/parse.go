package policies

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// Version is the only policy language version the documents use; policy
// variables such as ${aws:PrincipalAccount} need it.
const Version = "2012-10-17"

var (
	sidPattern      = regexp.MustCompile(`^[A-Za-z0-9]*$`)
	actionPattern   = regexp.MustCompile(`^(\*|[a-z0-9-]+:[A-Za-z0-9*]+)$`)
	operatorPattern = regexp.MustCompile(`^(ForAllValues:|ForAnyValue:)?[A-Za-z]+$`)
)

// Policy is an IAM policy document.
type Policy struct {
	Version   string
	ID        string `json:"Id,omitempty"`
	Statement []Statement
}

// Statement is one statement of a policy. Elements that IAM accepts as a
// string or a list of strings are read as lists.
type Statement struct {
	Sid          string                        `json:"Sid,omitempty"`
	Effect       string                        `json:"Effect"`
	Principal    json.RawMessage               `json:"Principal,omitempty"`
	NotPrincipal json.RawMessage               `json:"NotPrincipal,omitempty"`
	Action       Strings                       `json:"Action,omitempty"`
	NotAction    Strings                       `json:"NotAction,omitempty"`
	Resource     Strings                       `json:"Resource,omitempty"`
	NotResource  Strings                       `json:"NotResource,omitempty"`
	Condition    map[string]map[string]Strings `json:"Condition,omitempty"`
}

// Strings is a policy element that is a string or a list of strings.
type Strings []string

// UnmarshalJSON reads a string or a list of strings.
func (s *Strings) UnmarshalJSON(data []byte) error {
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*s = Strings{one}
		return nil
	}

	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*s = many

	return nil
}

// Parse reads a policy document and checks that it has the IAM grammar's
// shape: known elements only, a version, and statements that each have an
// effect, actions, and resources or a principal.
func Parse(doc string) (*Policy, error) {
	var wire struct {
		Version   string
		ID        string `json:"Id"`
		Statement json.RawMessage
	}
	if err := strictUnmarshal([]byte(doc), &wire); err != nil {
		return nil, fmt.Errorf("decoding policy: %w", err)
	}

	p := &Policy{Version: wire.Version, ID: wire.ID}
	statements, err := splitStatements(wire.Statement)
	if err != nil {
		return nil, err
	}
	for i, raw := range statements {
		var s Statement
		if err := strictUnmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("decoding statement %d: %w", i, err)
		}
		p.Statement = append(p.Statement, s)
	}

	if err := p.Validate(); err != nil {
		return nil, err
	}

	return p, nil
}

// splitStatements accepts one statement object or a list of them.
func splitStatements(raw json.RawMessage) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(raw)
	switch {
	case len(trimmed) == 0:
		return nil, errors.New("policy has no Statement")
	case trimmed[0] == '{':
		return []json.RawMessage{trimmed}, nil
	}

	var list []json.RawMessage
	if err := json.Unmarshal(trimmed, &list); err != nil {
		return nil, fmt.Errorf("decoding Statement: %w", err)
	}

	return list, nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}

	return nil
}

// Validate checks the policy's shape; it does not check that actions or
// resources exist.
func (p *Policy) Validate() error {
	if p.Version != Version {
		return fmt.Errorf("policy version %q, want %s", p.Version, Version)
	}
	if len(p.Statement) == 0 {
		return errors.New("policy has no statements")
	}

	for i, s := range p.Statement {
		if err := s.validate(); err != nil {
			return fmt.Errorf("statement %d (%s): %w", i, s.Sid, err)
		}
	}

	return nil
}

func (s *Statement) validate() error {
	trust := len(s.Principal) > 0 || len(s.NotPrincipal) > 0
	switch {
	case s.Effect != "Allow" && s.Effect != "Deny":
		return fmt.Errorf("effect %q is neither Allow nor Deny", s.Effect)
	case !sidPattern.MatchString(s.Sid):
		return fmt.Errorf("sid %q has characters other than letters and digits", s.Sid)
	case (len(s.Action) == 0) == (len(s.NotAction) == 0):
		return errors.New("want exactly one of Action and NotAction")
	case len(s.Resource) > 0 && len(s.NotResource) > 0:
		return errors.New("want at most one of Resource and NotResource")
	case !trust && len(s.Resource) == 0 && len(s.NotResource) == 0:
		return errors.New("want Resource or NotResource")
	case len(s.Principal) > 0 && len(s.NotPrincipal) > 0:
		return errors.New("want at most one of Principal and NotPrincipal")
	}

	for _, a := range slices.Concat(s.Action, s.NotAction) {
		if !actionPattern.MatchString(a) {
			return fmt.Errorf("action %q is not service:Action", a)
		}
	}
	for _, r := range slices.Concat(s.Resource, s.NotResource) {
		if r == "" {
			return errors.New("empty resource")
		}
	}

	return validateCondition(s.Condition)
}

func validateCondition(c map[string]map[string]Strings) error {
	for op, keys := range c {
		if !operatorPattern.MatchString(op) || len(keys) == 0 {
			return fmt.Errorf("condition operator %q is malformed or empty", op)
		}
		for key, values := range keys {
			if key == "" || len(values) == 0 {
				return fmt.Errorf("condition %s has an empty key or no values", op)
			}
		}
	}

	return nil
}

// JSON encodes the policy, indented.
func (p *Policy) JSON() (string, error) {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding policy: %w", err)
	}

	return string(data), nil
}

// AllowedActions lists the actions of the policy's Allow statements, sorted,
// each once.
func (p *Policy) AllowedActions() []string {
	var actions []string
	for _, s := range p.Statement {
		if s.Effect == "Allow" {
			actions = append(actions, s.Action...)
		}
	}
	slices.Sort(actions)

	return slices.Compact(actions)
}

// WithoutAction returns a copy of the policy without action in any statement;
// a statement left with no action is dropped.
func (p *Policy) WithoutAction(action string) *Policy {
	out := &Policy{Version: p.Version, ID: p.ID}
	for _, s := range p.Statement {
		s.Action = slices.DeleteFunc(slices.Clone(s.Action), func(a string) bool { return a == action })
		if len(s.Action) > 0 || len(s.NotAction) > 0 {
			out.Statement = append(out.Statement, s)
		}
	}

	return out
}

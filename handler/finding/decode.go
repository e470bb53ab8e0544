package finding

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// The envelope EventBridge puts around every GuardDuty finding.
const (
	Source     = "aws.guardduty"
	DetailType = "GuardDuty Finding"
)

// Limits on what a finding may carry before it is refused.
const (
	maxIDLength   = 128
	maxTypeLength = 256
)

var (
	findingIDPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	findingTypeChars  = regexp.MustCompile(`^[\x21-\x7e]+$`)
	accountIDPattern  = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)
)

// ErrNotAFinding is returned for events that are not GuardDuty findings.
var ErrNotAFinding = errors.New("not a GuardDuty finding event")

type wireEvent struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
}

type wireFinding struct {
	ID        string        `json:"id"`
	Type      string        `json:"type"`
	Title     string        `json:"title"`
	Desc      string        `json:"description"`
	Severity  *float64      `json:"severity"`
	AccountID string        `json:"accountId"`
	Region    string        `json:"region"`
	Partition string        `json:"partition"`
	UpdatedAt string        `json:"updatedAt"`
	Resource  *wireResource `json:"resource"`
	Service   *wireService  `json:"service"`
}

type wireResource struct {
	ResourceType     string         `json:"resourceType"`
	InstanceDetails  *wireInstance  `json:"instanceDetails"`
	AccessKeyDetails *wireAccessKey `json:"accessKeyDetails"`
}

type wireInstance struct {
	InstanceID         string `json:"instanceId"`
	IAMInstanceProfile *struct {
		ARN string `json:"arn"`
	} `json:"iamInstanceProfile"`
	NetworkInterfaces []*wireInterface `json:"networkInterfaces"`
	Tags              []*struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"tags"`
}

type wireInterface struct {
	NetworkInterfaceID string `json:"networkInterfaceId"`
	VPCID              string `json:"vpcId"`
	SubnetID           string `json:"subnetId"`
	SecurityGroups     []*struct {
		GroupID string `json:"groupId"`
	} `json:"securityGroups"`
}

type wireAccessKey struct {
	AccessKeyID string `json:"accessKeyId"`
	PrincipalID string `json:"principalId"`
	UserType    string `json:"userType"`
	UserName    string `json:"userName"`
}

type wireService struct {
	Count          *int `json:"count"`
	AdditionalInfo *struct {
		Sample json.RawMessage `json:"sample"`
	} `json:"additionalInfo"`
}

// Decode reads an EventBridge event and returns the GuardDuty finding it
// carries. It refuses, with an error naming the field, any event that is not
// a GuardDuty finding or whose identifying fields are missing or malformed, so
// that no playbook ever runs on a finding it cannot trust to name a resource.
func Decode(event []byte) (*Finding, error) {
	var envelope wireEvent
	if err := json.Unmarshal(event, &envelope); err != nil {
		return nil, fmt.Errorf("decoding event: %w", err)
	}
	if envelope.Source != Source || envelope.DetailType != DetailType {
		return nil, fmt.Errorf("%w: source %q, detail-type %q",
			ErrNotAFinding, clip(envelope.Source), clip(envelope.DetailType))
	}
	if len(bytes.TrimSpace(envelope.Detail)) == 0 || bytes.Equal(envelope.Detail, []byte("null")) {
		return nil, fmt.Errorf("decoding event: detail is missing")
	}

	var wire wireFinding
	if err := json.Unmarshal(envelope.Detail, &wire); err != nil {
		return nil, fmt.Errorf("decoding finding: %w", err)
	}

	f, err := wire.finding()
	if err != nil {
		return nil, fmt.Errorf("decoding finding %s: %w", clip(wire.ID), err)
	}
	f.Detail = envelope.Detail

	return f, nil
}

// finding checks the wire form and converts it to the model.
func (w *wireFinding) finding() (*Finding, error) {
	if err := w.validate(); err != nil {
		return nil, err
	}

	f := &Finding{
		ID:          w.ID,
		Type:        w.Type,
		Title:       w.Title,
		Description: w.Desc,
		Severity:    *w.Severity,
		AccountID:   w.AccountID,
		Region:      w.Region,
		Partition:   w.Partition,
		Resource:    w.Resource.model(),
	}
	if f.Partition == "" {
		f.Partition = "aws"
	}
	if t, err := time.Parse(time.RFC3339Nano, w.UpdatedAt); err == nil {
		f.UpdatedAt = t
	}
	if w.Service != nil {
		f.Sample = w.Service.sample()
		if w.Service.Count != nil {
			f.Count = *w.Service.Count
		}
	}

	if err := f.validateResource(); err != nil {
		return nil, err
	}

	return f, nil
}

func (w *wireFinding) validate() error {
	switch {
	case w.ID == "" || len(w.ID) > maxIDLength || !findingIDPattern.MatchString(w.ID):
		return fmt.Errorf("id %q is not a finding id", clip(w.ID))
	case len(w.Type) > maxTypeLength || !findingTypeChars.MatchString(w.Type):
		return fmt.Errorf("type %q is not a finding type", clip(w.Type))
	case w.Severity == nil:
		return errors.New("severity is missing")
	case *w.Severity < 0 || *w.Severity > 10:
		return fmt.Errorf("severity %v is outside 0-10", *w.Severity)
	case !accountIDPattern.MatchString(w.AccountID):
		return fmt.Errorf("accountId %q is not a 12-digit account id", clip(w.AccountID))
	case !regionPattern.MatchString(w.Region):
		return fmt.Errorf("region %q is not a region name", clip(w.Region))
	case w.Resource == nil:
		return errors.New("resource is missing")
	}

	return nil
}

// validateResource checks the identity of the resource a playbook would act
// on. Placeholders of sample findings pass: they are never acted on.
func (f *Finding) validateResource() error {
	if f.Resource.Type != ResourceInstance {
		return nil
	}

	i := f.Resource.Instance
	switch {
	case i == nil:
		return errors.New("instanceDetails is missing for an Instance finding")
	case isPlaceholderInstance(i.ID):
		return nil
	case !instanceIDPattern.MatchString(i.ID):
		return fmt.Errorf("instanceId %q is not an instance id", clip(i.ID))
	}

	return nil
}

func (r *wireResource) model() Resource {
	res := Resource{Type: r.ResourceType}
	if r.InstanceDetails != nil {
		res.Instance = r.InstanceDetails.model()
	}
	if k := r.AccessKeyDetails; k != nil {
		res.AccessKey = &AccessKey{
			AccessKeyID: k.AccessKeyID,
			PrincipalID: k.PrincipalID,
			UserType:    k.UserType,
			UserName:    k.UserName,
		}
	}

	return res
}

func (w *wireInstance) model() *Instance {
	i := &Instance{ID: w.InstanceID, Tags: map[string]string{}}
	if w.IAMInstanceProfile != nil {
		i.InstanceProfileARN = w.IAMInstanceProfile.ARN
	}
	for _, tag := range w.Tags {
		if tag != nil {
			i.Tags[tag.Key] = tag.Value
		}
	}
	for _, n := range w.NetworkInterfaces {
		if n == nil {
			continue
		}
		ni := NetworkInterface{ID: n.NetworkInterfaceID, VPCID: n.VPCID, SubnetID: n.SubnetID}
		for _, g := range n.SecurityGroups {
			if g != nil {
				ni.SecurityGroups = append(ni.SecurityGroups, g.GroupID)
			}
		}
		i.Interfaces = append(i.Interfaces, ni)
	}

	return i
}

// sample reads additionalInfo.sample, which GuardDuty writes as a boolean
// and some tools as the string "true".
func (s *wireService) sample() bool {
	if s.AdditionalInfo == nil {
		return false
	}

	switch string(bytes.TrimSpace(s.AdditionalInfo.Sample)) {
	case "true", `"true"`:
		return true
	}

	return false
}

// clip shortens untrusted text quoted in an error message.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}

	return s[:max] + "…"
}

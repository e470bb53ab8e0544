// Package finding decodes the EventBridge events that carry GuardDuty findings
// into a typed model holding the fields the playbooks act on.
//
// Nothing in a finding is trusted as a description of the live estate: the
// playbooks take only the identity of the resource from it (which instance,
// which access key, which account) and read everything else from AWS.
package finding

import (
	"encoding/json"
	"strings"
	"time"
)

// Resource types the playbooks know, as GuardDuty writes them in
// resource.resourceType.
const (
	ResourceInstance  = "Instance"
	ResourceAccessKey = "AccessKey"
)

// User types of accessKeyDetails.userType.
const (
	UserIAMUser     = "IAMUser"
	UserAssumedRole = "AssumedRole"
	UserRoot        = "Root"
	UserFederated   = "FederatedUser"
	UserAWSService  = "AWSService"
)

// samplePrefix starts the placeholder values of GuardDuty's sample findings.
const samplePrefix = "GeneratedFinding"

// Finding is one GuardDuty finding, as far as the playbooks need it.
type Finding struct {
	ID          string
	Type        string
	Title       string
	Severity    float64
	AccountID   string
	Region      string
	Partition   string
	UpdatedAt   time.Time // zero when GuardDuty's timestamp did not parse
	Resource    Resource
	Sample      bool // service.additionalInfo.sample
	Count       int  // service.count: how often GuardDuty has seen the activity
	Description string

	// Detail is the finding as GuardDuty wrote it, kept for the evidence
	// record; nothing in it is trusted beyond the fields above.
	Detail json.RawMessage
}

// Resource is the resource the finding is about.
type Resource struct {
	Type      string
	Instance  *Instance  // set when the finding carries instanceDetails
	AccessKey *AccessKey // set when the finding carries accessKeyDetails
}

// Instance is resource.instanceDetails.
type Instance struct {
	ID                 string
	InstanceProfileARN string
	Interfaces         []NetworkInterface
	Tags               map[string]string
}

// NetworkInterface is one entry of instanceDetails.networkInterfaces.
type NetworkInterface struct {
	ID             string
	VPCID          string
	SubnetID       string
	SecurityGroups []string
}

// AccessKey is resource.accessKeyDetails.
type AccessKey struct {
	AccessKeyID string
	PrincipalID string
	UserType    string
	UserName    string
}

// IsSample reports whether the finding is one of GuardDuty's generated
// samples: flagged as such, or naming a placeholder instead of a resource.
// Sample findings must never cause a destructive action.
func (f *Finding) IsSample() bool {
	if f.Sample || strings.HasPrefix(f.ID, samplePrefix) {
		return true
	}

	if i := f.Resource.Instance; i != nil && isPlaceholderInstance(i.ID) {
		return true
	}
	if k := f.Resource.AccessKey; k != nil {
		for _, v := range []string{k.AccessKeyID, k.PrincipalID, k.UserName} {
			if strings.HasPrefix(v, samplePrefix) {
				return true
			}
		}
	}

	return false
}

// isPlaceholderInstance reports the instance ids GuardDuty's samples use.
func isPlaceholderInstance(id string) bool {
	return strings.HasPrefix(id, samplePrefix) || id == "i-99999999"
}

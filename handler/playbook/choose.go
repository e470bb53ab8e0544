package playbook

import "github.com/guardduty-response/guardduty-response/handler/finding"

// Kind names a playbook.
type Kind string

// The playbooks, and the absence of one.
const (
	KindInstance  Kind = "instance"   // quarantine the instance the finding names
	KindAccessKey Kind = "access-key" // contain the principal of accessKeyDetails
	KindRole      Kind = "role"       // revoke the sessions of the role it names
	KindNotify    Kind = "notify"     // no playbook: report only
)

// Choose picks the playbook for a decoded finding: by resource type, and for
// other types by whether accessKeyDetails names an assumed role. It reads
// nothing but the finding and changes nothing, so that the choice can be
// tested on any input.
func Choose(f *finding.Finding) Kind {
	switch {
	case f.Resource.Type == finding.ResourceInstance && f.Resource.Instance != nil:
		return KindInstance
	case f.Resource.Type == finding.ResourceAccessKey:
		return KindAccessKey
	case NamesRole(f):
		return KindRole
	default:
		return KindNotify
	}
}

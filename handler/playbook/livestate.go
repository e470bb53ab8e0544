package playbook

import (
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ActionDeregister names the EC2 playbook's step that takes an instance out
// of a target group, for tools that read reports: a release does not restore
// target group registrations, and points at these steps instead.
const ActionDeregister = actionDeregister

// InstanceState is the live state of an instance as the EC2 playbook read it
// before acting: what the evidence record keeps, and what a release can
// compare with.
type InstanceState struct {
	InstanceID string            `json:"instanceId"`
	Exists     bool              `json:"exists"`
	State      string            `json:"state,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`

	Interfaces []InterfaceState `json:"networkInterfaces,omitempty"`
	Volumes    []VolumeState    `json:"volumes,omitempty"`

	InstanceProfileARN    string  `json:"instanceProfileArn,omitempty"`
	AutoScalingGroup      string  `json:"autoScalingGroup,omitempty"`
	TerminationProtection *bool   `json:"terminationProtection,omitempty"`
	ShutdownBehavior      *string `json:"shutdownBehavior,omitempty"`

	// Snapshots are the responder's earlier snapshots of the instance.
	Snapshots []string `json:"snapshots,omitempty"`

	// ReadErrors are the reads that failed, by what was being read.
	ReadErrors map[string]string `json:"readErrors,omitempty"`
}

// InterfaceState is one network interface of the instance.
type InterfaceState struct {
	ID         string   `json:"id"`
	VPCID      string   `json:"vpcId,omitempty"`
	SubnetID   string   `json:"subnetId,omitempty"`
	Groups     []string `json:"groups"`
	PrivateIPs []string `json:"privateIps,omitempty"`
}

// VolumeState is one EBS volume attached to the instance.
type VolumeState struct {
	ID                  string `json:"id"`
	Device              string `json:"device,omitempty"`
	DeleteOnTermination bool   `json:"deleteOnTermination"`
}

// export copies the state read into its exported form.
func (s *instanceState) export(id string) InstanceState {
	out := InstanceState{
		InstanceID:            id,
		Exists:                !s.gone,
		Tags:                  maps.Clone(s.tags),
		AutoScalingGroup:      s.autoScalingGroup,
		TerminationProtection: s.terminationProtected,
		ShutdownBehavior:      s.shutdownBehavior,
	}
	if st := s.instance.State; st != nil {
		out.State = string(st.Name)
	}
	if s.profile != nil && s.profile.IamInstanceProfile != nil {
		out.InstanceProfileARN = aws.ToString(s.profile.IamInstanceProfile.Arn)
	}
	for _, eni := range s.instance.NetworkInterfaces {
		out.Interfaces = append(out.Interfaces, exportInterface(eni))
	}
	for _, m := range s.instance.BlockDeviceMappings {
		if m.Ebs != nil {
			out.Volumes = append(out.Volumes, VolumeState{ID: aws.ToString(m.Ebs.VolumeId),
				Device:              aws.ToString(m.DeviceName),
				DeleteOnTermination: aws.ToBool(m.Ebs.DeleteOnTermination)})
		}
	}
	for _, snap := range s.snapshots {
		out.Snapshots = append(out.Snapshots, aws.ToString(snap.SnapshotId))
	}
	out.ReadErrors = s.readErrors()

	return out
}

func exportInterface(eni ec2types.InstanceNetworkInterface) InterfaceState {
	out := InterfaceState{
		ID:       aws.ToString(eni.NetworkInterfaceId),
		VPCID:    aws.ToString(eni.VpcId),
		SubnetID: aws.ToString(eni.SubnetId),
		Groups:   groupIDs(eni.Groups),
	}
	for _, ip := range eni.PrivateIpAddresses {
		out.PrivateIPs = append(out.PrivateIPs, aws.ToString(ip.PrivateIpAddress))
	}

	return out
}

func (s *instanceState) readErrors() map[string]string {
	errs := map[string]string{}
	for what, err := range map[string]error{
		"quarantineGroups": s.groupsErr,
		"snapshots":        s.snapshotsErr,
		"instanceProfile":  s.profileErr,
		"autoScalingGroup": s.autoScalingErr,
		"targetGroups":     s.targetGroupsErr,
	} {
		if err != nil {
			errs[what] = err.Error()
		}
	}
	if len(errs) == 0 {
		return nil
	}

	return errs
}

// Package protection is the catalogue of GuardDuty protection plans and the
// runtime-monitoring agent settings, and turns a choice of them into the list
// of features a detector or an organisation configuration declares.
package protection

import "slices"

// Protection plans, as the GuardDuty feature API names them.
const (
	S3DataEvents         = "S3_DATA_EVENTS"
	EKSAuditLogs         = "EKS_AUDIT_LOGS"
	EBSMalwareProtection = "EBS_MALWARE_PROTECTION"
	RDSLoginEvents       = "RDS_LOGIN_EVENTS"
	LambdaNetworkLogs    = "LAMBDA_NETWORK_LOGS"
	RuntimeMonitoring    = "RUNTIME_MONITORING"

	// EKSRuntimeMonitoring is the older, EKS-only runtime plan. GuardDuty
	// refuses a detector that declares it beside RuntimeMonitoring.
	EKSRuntimeMonitoring = "EKS_RUNTIME_MONITORING"
)

// Agent management settings of the runtime plans.
const (
	EKSAddonManagement        = "EKS_ADDON_MANAGEMENT"
	ECSFargateAgentManagement = "ECS_FARGATE_AGENT_MANAGEMENT"
	EC2AgentManagement        = "EC2_AGENT_MANAGEMENT"
)

// Plans lists every protection plan a stack may name, in declaration order.
func Plans() []string {
	return []string{
		S3DataEvents, EKSAuditLogs, EBSMalwareProtection, RDSLoginEvents,
		LambdaNetworkLogs, RuntimeMonitoring, EKSRuntimeMonitoring,
	}
}

// DefaultPlans is every plan turned on, with the current runtime plan.
func DefaultPlans() []string {
	return []string{
		S3DataEvents, EKSAuditLogs, EBSMalwareProtection, RDSLoginEvents,
		LambdaNetworkLogs, RuntimeMonitoring,
	}
}

// Agents lists every agent management setting of RuntimeMonitoring.
func Agents() []string {
	return []string{EKSAddonManagement, ECSFargateAgentManagement, EC2AgentManagement}
}

// AgentsOf lists the agent management settings that plan accepts; it is
// empty for plans without any.
func AgentsOf(plan string) []string {
	switch plan {
	case RuntimeMonitoring:
		return Agents()
	case EKSRuntimeMonitoring:
		return []string{EKSAddonManagement}
	default:
		return nil
	}
}

// Feature is one protection plan as a detector declares it.
type Feature struct {
	Name    string
	Enabled bool
	Agents  []Agent
}

// Agent is one agent management setting of a runtime plan.
type Agent struct {
	Name    string
	Enabled bool
}

// Plan returns the features to declare for the enabled plans and agent
// settings: every plan, on or off, so that a plan switched off in config is
// switched off in the account too. Exactly one runtime plan is declared:
// EKSRuntimeMonitoring when it is enabled, RuntimeMonitoring otherwise. The
// caller validates names first; Plan ignores names it does not know.
func Plan(enabled, agents []string) []Feature {
	runtime := RuntimeMonitoring
	if slices.Contains(enabled, EKSRuntimeMonitoring) {
		runtime = EKSRuntimeMonitoring
	}

	features := make([]Feature, 0, len(Plans())-1)
	for _, name := range Plans() {
		if isRuntime(name) && name != runtime {
			continue
		}
		features = append(features, feature(name, enabled, agents))
	}

	return features
}

func feature(name string, enabled, agents []string) Feature {
	f := Feature{Name: name, Enabled: slices.Contains(enabled, name)}
	for _, agent := range AgentsOf(name) {
		f.Agents = append(f.Agents, Agent{Name: agent, Enabled: slices.Contains(agents, agent)})
	}

	return f
}

func isRuntime(name string) bool {
	return name == RuntimeMonitoring || name == EKSRuntimeMonitoring
}

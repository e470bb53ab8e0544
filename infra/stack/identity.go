package stack

import (
	"fmt"
	"strings"
)

// identity is who runs `pulumi up`, as STS reports it.
type identity struct {
	AccountID string
	ARN       string
}

// partition returns the ARN partition of the caller: aws, aws-cn or
// aws-us-gov.
func (id identity) partition() (string, error) {
	parts := strings.SplitN(id.ARN, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" {
		return "", fmt.Errorf("reading the partition of caller %q: not an ARN", id.ARN)
	}

	return parts[1], nil
}

// DeployerARN returns the IAM ARN of the identity behind callerARN. An
// assumed-role session, arn:aws:sts::A:assumed-role/R/session, becomes the
// role arn:aws:iam::A:role/R, which a policy can name; any other ARN is
// returned as it is.
//
// TODO: a session ARN does not carry the role's path, so a role under a path
// (arn:aws:iam::A:role/team/R) comes back without it; resolve it with
// iam:GetRole if the handler must match such roles exactly.
func DeployerARN(callerARN string) string {
	parts := strings.SplitN(callerARN, ":", 6)
	if len(parts) != 6 || parts[2] != "sts" {
		return callerARN
	}

	resource := strings.Split(parts[5], "/")
	if len(resource) < 3 || resource[0] != "assumed-role" {
		return callerARN
	}

	return fmt.Sprintf("arn:%s:iam::%s:role/%s", parts[1], parts[4], resource[1])
}

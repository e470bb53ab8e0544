// Command infra is the Pulumi program that deploys GuardDuty and the
// automatic response to one account and region. Pulumi.yaml at the
// repository root points here; run it with `pulumi up` from the root.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/guardduty-response/guardduty-response/infra/stack"
)

func main() {
	pulumi.Run(stack.Program(stack.Options{}))
}

// Command demo is `make demo`: one GuardDuty finding answered end to end on
// the local emulators, with no AWS account.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/guardduty-response/guardduty-response/handler/internal/demo"
)

func main() {
	if err := demo.Run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

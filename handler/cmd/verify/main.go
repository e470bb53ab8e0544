// Command verify walks the evidence records of a resource, or of every
// resource written to in a time range, and reports whether each chain is
// whole. See package evidence.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/guardduty-response/guardduty-response/handler/account"
	"github.com/guardduty-response/guardduty-response/handler/evidence"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	env := evidence.VerifyEnv{Stdout: os.Stdout, Stderr: os.Stderr, LoadConfig: account.LoadProfile}

	code := evidence.VerifyCommand(ctx, os.Args[1:], env)
	stop()
	os.Exit(code)
}

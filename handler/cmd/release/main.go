// Command release lifts a quarantine of the GuardDuty responder from an
// instance, an IAM user or a role, after showing its plan and asking, and
// records what it did in the evidence bucket. See package release.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/guardduty-response/guardduty-response/handler/account"
	"github.com/guardduty-response/guardduty-response/handler/release"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	env := release.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		LoadConfig: account.LoadProfile}

	code := release.Command(ctx, os.Args[1:], env)
	stop()
	os.Exit(code)
}

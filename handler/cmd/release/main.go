// Command release lifts a quarantine of the GuardDuty responder from an
// instance, an IAM user or a role, after showing its plan and asking, and
// records what it did in the evidence bucket. See package release.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/guardduty-response/guardduty-response/handler/release"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	env := release.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		LoadConfig: loadConfig}

	code := release.Command(ctx, os.Args[1:], env)
	stop()
	os.Exit(code)
}

// loadConfig loads a configuration the way the AWS CLI would.
func loadConfig(ctx context.Context, profile, region string) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile(profile),
		config.WithRegion(region))
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}

	return cfg, nil
}

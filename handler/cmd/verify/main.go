// Command verify walks the evidence records of a resource, or of every
// resource written to in a time range, and reports whether each chain is
// whole. See package evidence.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/guardduty-response/guardduty-response/handler/evidence"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	env := evidence.VerifyEnv{Stdout: os.Stdout, Stderr: os.Stderr, LoadConfig: loadConfig}

	code := evidence.VerifyCommand(ctx, os.Args[1:], env)
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

// Command bootstrap is the response Lambda: a thin shell that reads the
// configuration and hands every event to the responder.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/guardduty-response/guardduty-response/handler/responder"
)

// maxAttempts bounds the SDK's retries of one call; the adaptive mode also
// slows down when AWS throttles.
const maxAttempts = 5

func main() {
	log := slog.New(lambdacontext.NewLogHandler())
	slog.SetDefault(log)
	ctx := context.Background()

	cfg, err := responder.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Error("reading configuration", "error", err)
		os.Exit(1)
	}

	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer {
		return retry.AddWithMaxAttempts(retry.NewAdaptiveMode(), maxAttempts)
	}))
	if err != nil {
		log.Error("loading AWS configuration", "error", err)
		os.Exit(1)
	}

	r, err := responder.New(ctx, awsCfg, cfg, log)
	if err != nil {
		log.Error("starting responder", "error", err)
		os.Exit(1)
	}

	lambda.Start(r)
}

package stack

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/guardduty-response/guardduty-response/infra/artifact"
	"github.com/guardduty-response/guardduty-response/infra/component"
	"github.com/guardduty-response/guardduty-response/infra/settings"
)

// Options adjust where the program finds and builds the handler. The zero
// value is what `pulumi up` uses; tests point it at a fixture.
type Options struct {
	// RootDir holds go.mod and Pulumi.yaml. By default it is the root
	// Pulumi reports, or the nearest directory above the working directory
	// with a go.mod.
	RootDir string
	// HandlerPackage is the responder's main package, relative to RootDir.
	HandlerPackage string
	// BuildDir receives responder.zip; RootDir/build by default.
	BuildDir string
}

// Program returns the Pulumi program.
func Program(opts Options) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		return deploy(ctx, opts)
	}
}

// deploy checks everything it can before it creates the first resource.
func deploy(ctx *pulumi.Context, opts Options) error {
	s, err := settings.Load(lookup(ctx))
	if err != nil {
		return err
	}

	opts, err = opts.withDefaults(ctx)
	if err != nil {
		return err
	}

	f, err := gather(ctx, s, opts)
	if err != nil {
		return err
	}

	return create(ctx, s, f)
}

// lookup reads the project's own configuration keys.
func lookup(ctx *pulumi.Context) settings.Lookup {
	return func(key string) (string, bool) {
		return ctx.GetConfig(ctx.Project() + ":" + key)
	}
}

func (o Options) withDefaults(ctx *pulumi.Context) (Options, error) {
	if o.RootDir == "" {
		o.RootDir = ctx.RootDirectory()
	}
	if o.RootDir == "" {
		root, err := moduleRoot()
		if err != nil {
			return o, err
		}
		o.RootDir = root
	}
	if o.HandlerPackage == "" {
		o.HandlerPackage = "./handler"
	}
	if o.BuildDir == "" {
		o.BuildDir = filepath.Join(o.RootDir, "build")
	}

	return o, nil
}

// moduleRoot walks up from the working directory to the nearest go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the project root: %w", err)
	}

	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("finding the project root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// tags go on every resource that takes them.
func tags(ctx *pulumi.Context, s settings.Settings) map[string]string {
	return map[string]string{
		component.TagPrefix + "stack":       ctx.Stack(),
		component.TagPrefix + "environment": s.Environment,
	}
}

// buildArtifact compiles the handler into BuildDir/responder.zip.
func buildArtifact(ctx *pulumi.Context, opts Options) (artifact.Artifact, error) {
	a, err := artifact.Build(ctx.Context(), artifact.Spec{
		ModuleDir: opts.RootDir,
		Package:   opts.HandlerPackage,
		Out:       filepath.Join(opts.BuildDir, "responder.zip"),
	})
	if err != nil {
		return artifact.Artifact{}, fmt.Errorf("building the responder: %w", err)
	}

	return a, nil
}

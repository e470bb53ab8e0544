// Command package builds the responder Lambda's zip the same way `pulumi up`
// does, for inspection or upload outside Pulumi:
//
//	go run ./infra/cmd/package -out build/responder.zip
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/guardduty-response/guardduty-response/infra/artifact"
)

func main() {
	out := flag.String("out", "build/responder.zip", "path of the zip to write")
	pkg := flag.String("pkg", "./handler", "main package to build, relative to -module")
	module := flag.String("module", ".", "directory of the go.mod holding the package")
	flag.Parse()

	spec := artifact.Spec{ModuleDir: *module, Package: *pkg, Out: *out}
	a, err := artifact.Build(context.Background(), spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(1)
	}

	fmt.Printf("%s sha256:%s\n", a.Path, a.SHA256)
}

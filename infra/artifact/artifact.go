// Package artifact builds the responder Lambda's deployment package: the
// handler compiled for provided.al2023 on arm64, zipped as a single
// "bootstrap" entry. Two builds of the same source with the same Go toolchain
// give the same bytes, so an unchanged handler shows no diff in a preview.
package artifact

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Entry is the name Lambda's provided runtimes execute.
const Entry = "bootstrap"

// modified is the fixed time stamped on the zip entry; a real clock would
// change the bytes on every build.
var modified = time.Date(2020, time.January, 1, 0, 0, 0, 0, time.UTC)

// Spec says what to build and where to put it.
type Spec struct {
	// ModuleDir is the directory of the go.mod that holds Package.
	ModuleDir string
	// Package is the main package, relative to ModuleDir, e.g. "./handler".
	Package string
	// Out is the path of the zip to write.
	Out string
}

// Artifact is a built deployment package.
type Artifact struct {
	// Path is the absolute path of the zip.
	Path string
	// SHA256 is the base64 SHA-256 of the zip, as Lambda reports CodeSha256.
	SHA256 string
}

// Build compiles spec.Package and writes the zip to spec.Out.
func Build(ctx context.Context, spec Spec) (Artifact, error) {
	tmp, err := os.MkdirTemp("", "artifact-")
	if err != nil {
		return Artifact{}, fmt.Errorf("making build directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	binary := filepath.Join(tmp, Entry)
	if err := compile(ctx, spec, binary); err != nil {
		return Artifact{}, err
	}

	archive, err := zipBinary(binary)
	if err != nil {
		return Artifact{}, err
	}

	return write(archive, spec.Out)
}

// compile runs the Go toolchain for Lambda's arm64 Linux, without the RPC
// shim, and strips everything that varies between machines: paths, symbol
// tables, the build id and version-control stamps.
//
// TODO: the bytes still depend on the Go toolchain's version, so a machine
// with another Go release previews a change to the function; go.mod's
// toolchain line is what keeps CI and laptops alike.
func compile(ctx context.Context, spec Spec, binary string) error {
	cmd := exec.CommandContext(ctx, "go", "build",
		"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w -buildid=", "-o", binary, spec.Package)
	cmd.Dir = spec.ModuleDir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")

	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("compiling %s in %s: %w\n%s", spec.Package, spec.ModuleDir,
			err, stderr.String())
	}

	return nil
}

// zipBinary wraps the binary as the archive's only entry, executable, with a
// fixed time stamp.
func zipBinary(binary string) ([]byte, error) {
	content, err := os.ReadFile(binary)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", binary, err)
	}

	header := &zip.FileHeader{Name: Entry, Method: zip.Deflate, Modified: modified}
	header.SetMode(0o755)

	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	entry, err := w.CreateHeader(header)
	if err != nil {
		return nil, fmt.Errorf("adding %s to the zip: %w", Entry, err)
	}
	if _, err := entry.Write(content); err != nil {
		return nil, fmt.Errorf("writing %s to the zip: %w", Entry, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("closing the zip: %w", err)
	}

	return buf.Bytes(), nil
}

// write puts the archive at out through a rename, so a reader never sees half
// a zip, and returns its hash.
func write(archive []byte, out string) (Artifact, error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return Artifact{}, fmt.Errorf("resolving %s: %w", out, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return Artifact{}, fmt.Errorf("making %s: %w", filepath.Dir(abs), err)
	}

	tmp, err := os.CreateTemp(filepath.Dir(abs), ".artifact-*.zip")
	if err != nil {
		return Artifact{}, fmt.Errorf("creating %s: %w", abs, err)
	}
	defer os.Remove(tmp.Name())

	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return Artifact{}, fmt.Errorf("setting the mode of %s: %w", tmp.Name(), err)
	}
	if _, err := tmp.Write(archive); err != nil {
		tmp.Close()
		return Artifact{}, fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return Artifact{}, fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), abs); err != nil {
		return Artifact{}, fmt.Errorf("moving the zip to %s: %w", abs, err)
	}

	sum := sha256.Sum256(archive)

	return Artifact{Path: abs, SHA256: base64.StdEncoding.EncodeToString(sum[:])}, nil
}

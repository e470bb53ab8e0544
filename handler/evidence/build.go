package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
)

// Build identifies the program that wrote a record.
type Build struct {
	// Program is "responder" or "release".
	Program string `json:"program"`
	// SHA256 is the hex SHA-256 of the running executable. The responder is
	// built reproducibly, so building the same source with the same Go gives
	// the same hash.
	SHA256 string `json:"sha256,omitempty"`
	// Revision is the version-control commit, when the build recorded one.
	Revision string `json:"revision,omitempty"`
	// Module is the main module's version as the build recorded it.
	Module string `json:"module,omitempty"`
	Go     string `json:"go"`
}

// executable is read and hashed once per process.
var executable = sync.OnceValue(func() build {
	b := build{Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		b.module = info.Main.Version
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				b.revision = s.Value
			}
		}
	}
	b.sha256 = hashExecutable()

	return b
})

type build struct {
	Go, module, revision, sha256 string
}

// CurrentBuild describes the running program under the given name.
func CurrentBuild(program string) Build {
	b := executable()

	return Build{Program: program, SHA256: b.sha256, Revision: b.revision, Module: b.module,
		Go: b.Go}
}

// hashExecutable returns the hash of the running binary, or "" when it
// cannot be read; the record then carries the rest of the build.
func hashExecutable() string {
	path, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()

	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}

	return hex.EncodeToString(h.Sum(nil))
}

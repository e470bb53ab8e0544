package artifact

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// moduleDir is the repository root, seen from this package's directory.
const moduleDir = "../.."

const fixture = "./infra/artifact/testdata/hello"

func build(t *testing.T, spec Spec) Artifact {
	t.Helper()

	a, err := Build(context.Background(), spec)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}

	return a
}

func read(t *testing.T, path string) []byte {
	t.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}

	return data
}

func TestBuildIsReproducible(t *testing.T) {
	t.Parallel()

	first := build(t, Spec{moduleDir, fixture, filepath.Join(t.TempDir(), "a.zip")})
	second := build(t, Spec{moduleDir, fixture, filepath.Join(t.TempDir(), "b.zip")})

	if !bytes.Equal(read(t, first.Path), read(t, second.Path)) {
		t.Error("two builds of the same source differ")
	}
	if first.SHA256 != second.SHA256 {
		t.Errorf("hashes differ: %s and %s", first.SHA256, second.SHA256)
	}
}

func TestBuildHashMatchesFile(t *testing.T) {
	t.Parallel()

	a := build(t, Spec{moduleDir, fixture, filepath.Join(t.TempDir(), "out", "r.zip")})

	sum := sha256.Sum256(read(t, a.Path))
	if want := base64.StdEncoding.EncodeToString(sum[:]); a.SHA256 != want {
		t.Errorf("SHA256 = %s, want %s", a.SHA256, want)
	}
	if !filepath.IsAbs(a.Path) {
		t.Errorf("Path %s is not absolute", a.Path)
	}
}

func TestBuildZipLayout(t *testing.T) {
	t.Parallel()

	a := build(t, Spec{moduleDir, fixture, filepath.Join(t.TempDir(), "r.zip")})

	r, err := zip.OpenReader(a.Path)
	if err != nil {
		t.Fatalf("opening zip: %v", err)
	}
	t.Cleanup(func() { r.Close() })

	if len(r.File) != 1 || r.File[0].Name != Entry {
		t.Fatalf("zip holds %d entries, want the single entry %q", len(r.File), Entry)
	}
	entry := r.File[0]
	if mode := entry.Mode(); mode.Perm() != 0o755 || !mode.IsRegular() {
		t.Errorf("mode = %v, want a regular file with 0755", mode)
	}
	if !entry.Modified.Equal(modified) {
		t.Errorf("modified = %v, want %v", entry.Modified, modified)
	}

	checkLambdaBinary(t, entry)
}

// checkLambdaBinary proves the entry is a static arm64 Linux executable.
func checkLambdaBinary(t *testing.T, entry *zip.File) {
	t.Helper()

	rc, err := entry.Open()
	if err != nil {
		t.Fatalf("opening %s: %v", entry.Name, err)
	}
	defer rc.Close()
	content, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", entry.Name, err)
	}

	binary, err := elf.NewFile(bytes.NewReader(content))
	if err != nil {
		t.Fatalf("%s is not an ELF binary: %v", entry.Name, err)
	}
	if binary.Machine != elf.EM_AARCH64 {
		t.Errorf("machine = %v, want %v", binary.Machine, elf.EM_AARCH64)
	}
	for _, p := range binary.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary asks for a dynamic loader; CGO must be off")
		}
	}
}

// TestBuildTracksSource copies a module to two places: the same source
// builds to the same bytes wherever it lives, and a changed source does not.
func TestBuildTracksSource(t *testing.T) {
	t.Parallel()

	source := read(t, filepath.Join("testdata", "hello", "main.go"))
	here := writeModule(t, source)
	there := writeModule(t, source)
	changed := writeModule(t, bytes.Replace(source, []byte("hello from"), []byte("howdy from"), 1))

	a := build(t, Spec{here, ".", filepath.Join(t.TempDir(), "a.zip")})
	b := build(t, Spec{there, ".", filepath.Join(t.TempDir(), "b.zip")})
	c := build(t, Spec{changed, ".", filepath.Join(t.TempDir(), "c.zip")})

	if a.SHA256 != b.SHA256 {
		t.Error("the same source in two directories built to different zips")
	}
	if a.SHA256 == c.SHA256 {
		t.Error("a changed source built to the same zip")
	}
}

func writeModule(t *testing.T, main []byte) string {
	t.Helper()

	dir := t.TempDir()
	files := map[string][]byte{
		"go.mod":  []byte("module example.test/handler\n\ngo 1.22\n"),
		"main.go": main,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatalf("writing %s: %v", name, err)
		}
	}

	return dir
}

func TestBuildReportsCompileErrors(t *testing.T) {
	t.Parallel()

	out := filepath.Join(t.TempDir(), "r.zip")
	_, err := Build(context.Background(), Spec{moduleDir, "./infra/artifact/testdata/broken", out})
	if err == nil {
		t.Fatal("Build succeeded on a package that does not compile")
	}
	if !strings.Contains(err.Error(), "undefinedFunction") {
		t.Errorf("error %q does not carry the compiler's message", err)
	}
	if _, statErr := os.Stat(out); !os.IsNotExist(statErr) {
		t.Errorf("a failed build left %s behind", out)
	}
}

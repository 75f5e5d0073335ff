// Package testbin builds the innosandbox command once for the tests that run
// it as a process, and shares the result: between the test binaries of one
// `go test ./...` run (each package is its own process), and between runs
// and clones of the same source. Linking the command is most of the cost of
// such a test package from a fresh clone; the go command's own cache keeps
// compiled packages but not the linked binary.
//
// A binary is kept under the system's temporary folder, in a folder named
// by a hash of everything that decides its bytes: the Go version, the build
// flags and environment, and the content of every file of the module's
// packages the command links (their Go and embedded files; dependencies by
// module version). A file lock makes concurrent callers wait for the one
// that builds. Binaries unused for a day are removed.
package testbin

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Options are the go build flags that change the binary.
type Options struct {
	// Package is the main package to build, relative to the module root
	// (./cmd/innosandbox when empty).
	Package string
	// Ldflags is passed to -ldflags (e.g. "-X main.version=test").
	Ldflags string
	// Trimpath builds with -trimpath.
	Trimpath bool
	// Env is added to the go command's environment (e.g. CGO_ENABLED=0).
	Env []string
}

// keepFor is how long an unused cached binary stays.
const keepFor = 24 * time.Hour

// Build returns the path of the binary built from the module at root with
// opts, building it only when no binary of the same source and options is
// cached. root is the module's root folder (the one holding go.mod).
func Build(root string, opts Options) (string, error) {
	if opts.Package == "" {
		opts.Package = "./cmd/innosandbox"
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	args := []string{"build"}
	if opts.Trimpath {
		args = append(args, "-trimpath")
	}
	if opts.Ldflags != "" {
		args = append(args, "-ldflags", opts.Ldflags)
	}
	env := append(os.Environ(), opts.Env...)
	key, err := sourceKey(root, opts.Package, opts.Trimpath, env, args)
	if err != nil {
		return "", err
	}
	cache := filepath.Join(os.TempDir(), fmt.Sprintf("innosandbox-testbin-%d", os.Getuid()))
	dir := filepath.Join(cache, key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lock(filepath.Join(dir, "lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	bin := filepath.Join(dir, "innosandbox")
	if _, err := os.Stat(bin); err == nil {
		now := time.Now()
		_ = os.Chtimes(dir, now, now) // in use: not pruned
		return bin, nil
	}
	// Build beside, then rename: a binary that is there is complete.
	tmp := bin + ".tmp"
	cmd := exec.Command("go", append(args, "-o", tmp, opts.Package)...)
	cmd.Dir = root
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	prune(cache, key)
	return bin, nil
}

// sourceKey hashes what decides the binary's bytes. go list names the
// packages the command links: the module's own are hashed by content (Go,
// cgo and embedded files), the others by module path and version (the
// module cache does not change under a version).
func sourceKey(root, pkg string, trimpath bool, env, buildArgs []string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), strings.Join(buildArgs, " "))
	for _, kv := range env {
		for _, name := range []string{"CGO_ENABLED=", "GOOS=", "GOARCH=", "GOAMD64=", "GOFLAGS=", "GOEXPERIMENT=", "CC="} {
			if strings.HasPrefix(kv, name) {
				fmt.Fprintln(h, kv)
			}
		}
	}
	// One line a package: import path | module@version | local | dir | files,
	// where local says that the files may change under the same version
	// (the main module, or a replacement by a folder).
	const format = `{{if not .Standard}}{{.ImportPath}}|{{with .Module}}{{.Path}}@{{.Version}}|{{if .Main}}local{{else}}{{with .Replace}}{{.Path}}@{{.Version}}{{if not .Version}}local{{end}}{{end}}{{end}}{{end}}|{{.Dir}}|{{join .GoFiles " "}} {{join .CgoFiles " "}} {{join .EmbedFiles " "}}{{end}}`
	cmd := exec.Command("go", "list", "-deps", "-f", format, pkg)
	cmd.Dir = root
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w\n%s", pkg, err, stderr.Bytes())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if trimpath {
			// The binary does not depend on where the clone is: neither
			// does the key, so every clone of one commit shares it.
			line = strings.ReplaceAll(line, root, ".")
		}
		fmt.Fprintln(h, line)
		f := strings.Split(line, "|")
		if len(f) != 5 || !strings.HasSuffix(f[2], "local") {
			continue // a dependency: its module version is in the line
		}
		dir := f[3]
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(root, dir)
		}
		for _, name := range strings.Fields(f[4]) {
			if err := hashFile(h, filepath.Join(dir, name)); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32], sc.Err()
}

func hashFile(h io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(h, f)
	return err
}

// lock takes an exclusive lock on path, waiting for another process that
// holds it (one that is building the same binary).
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// prune removes the cached binaries of other sources unused for keepFor.
func prune(cache, keep string) {
	entries, err := os.ReadDir(cache)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Name() == keep || !e.IsDir() {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > keepFor {
			_ = os.RemoveAll(filepath.Join(cache, e.Name()))
		}
	}
}

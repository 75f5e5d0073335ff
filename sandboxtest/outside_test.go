package sandboxtest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outsideTest is a test of a module that is not this one: it may import
// the public package only.
const outsideTest = `package outside

import (
	"testing"
	"time"

	"github.com/innosandbox/innosandbox/sandboxtest"
)

func TestFromAnotherModule(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.New(t)
	rcv := sb.NewReceiver(t, "whatsapp")
	sb.Trigger(t, sandboxtest.Event{Type: "whatsapp_template_status_updated"})
	p := rcv.WaitFor(t, "whatsapp_template_status_updated", 5*time.Second)
	if p.Header.Get("Content-Type") != "application/json;charset=utf-8" {
		t.Fatalf("Content-Type %q", p.Header.Get("Content-Type"))
	}
	sb.Advance(t, time.Minute)
}
`

// internalImport would use the in-process entry this package wraps.
const internalImport = `package bad

import _ "github.com/innosandbox/innosandbox/internal/localsandbox"
`

// TestAModuleOutsideUsesThePublicPackage builds and tests a throw-away
// module that requires this one through a replace directive, offline (no
// proxy, no checksum database: the module cache and this module's go.sum
// as they are), and checks that the internal package stays out of its reach.
func TestAModuleOutsideUsesThePublicPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds another module; skipped with -short")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not available:", err)
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	goLine := regexp.MustCompile(`(?m)^go [0-9.]+$`).Find(gomod)
	require.NotNil(t, goLine, "the go line of go.mod")

	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	write("go.mod", "module example.com/outside\n\n"+string(goLine)+"\n\n"+
		"require github.com/innosandbox/innosandbox v0.0.0-00010101000000-000000000000\n\n"+
		"replace github.com/innosandbox/innosandbox => "+root+"\n")
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	write("go.sum", string(sum))
	write("outside_test.go", outsideTest)

	run := func(args ...string) (string, error) {
		cmd := exec.Command(goCmd, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off", "GOTOOLCHAIN=local")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("test", "-count=1", ".")
	require.NoError(t, err, "the outside module's test:\n%s", out)
	assert.Contains(t, out, "ok  \texample.com/outside")

	write("bad/bad.go", internalImport)
	out, err = run("build", "./bad")
	require.Error(t, err, "another module imported the internal package:\n%s", out)
	assert.True(t, strings.Contains(out, "use of internal package") && strings.Contains(out, "not allowed"), out)
}

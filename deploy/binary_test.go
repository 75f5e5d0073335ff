package deploy

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/testbin"
)

// The binary is built once, by TestMain, the way the Dockerfile builds it
// (version stamped through the same -X flag), and asked for its --help;
// package testbin keeps it for the next run of the same source.
var (
	binPath   string
	versionX  string // the -X target read from the Dockerfile, e.g. main.version
	stampedAs = "deploytest"
	repoRoot  = ".."
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	df, err := readDockerfile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	versionX = df.versionVar()
	if versionX == "" {
		fmt.Fprintln(os.Stderr, "Dockerfile: no `-X pkg.var=${VERSION}` in the go build line")
		return 1
	}
	// Built as the Dockerfile builds it, once per source: a run from
	// another clone of the same commit (or the next run) reuses it.
	binPath, err = testbin.Build(repoRoot, testbin.Options{Trimpath: true, Ldflags: "-X " + versionX + "=" + stampedAs, Env: []string{"CGO_ENABLED=0"}})
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the binary: %v\n", err)
		return 1
	}
	return m.Run()
}

// runBinary runs the built binary with args and a clean environment, so no
// INNOSANDBOX_* variable of the machine running the tests changes its answer.
func runBinary(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "innosandbox %s\n%s", strings.Join(args, " "), out)
	return string(out)
}

var (
	helpMu      sync.Mutex
	helpCache   = map[string]string{}
	flagPattern = regexp.MustCompile(`^\s+(?:-\w, )?--([a-z0-9][a-z0-9-]*)\b`)
)

func help(t *testing.T, args ...string) string {
	t.Helper()
	key := strings.Join(args, " ")
	helpMu.Lock()
	defer helpMu.Unlock()
	if h, ok := helpCache[key]; ok {
		return h
	}
	h := runBinary(t, append(args, "--help")...)
	helpCache[key] = h
	return h
}

// subcommands returns the names under "Available Commands:" in the root help.
func subcommands(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	in := false
	sc := bufio.NewScanner(strings.NewReader(help(t)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "Available Commands:":
			in = true
		case in && strings.TrimSpace(line) == "":
			in = false
		case in:
			out[strings.Fields(line)[0]] = true
		}
	}
	require.NotEmpty(t, out, "no subcommands in the root help:\n%s", help(t))
	return out
}

// flagsOf returns the long flag names a subcommand's help lists.
func flagsOf(t *testing.T, sub string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(help(t, sub)))
	for sc.Scan() {
		if m := flagPattern.FindStringSubmatch(sc.Text()); m != nil {
			out[m[1]] = true
		}
	}
	return out
}

// envVarFlag maps INNOSANDBOX_ADMIN_TOKEN to admin-token, the way the
// binary's environment fallback maps flags to variables.
func envVarFlag(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "INNOSANDBOX_")
	if !ok {
		return "", false
	}
	return strings.ToLower(strings.ReplaceAll(rest, "_", "-")), true
}

// flagArgs returns the --names in an argument list (--name value or --name=value).
func flagArgs(args []string) []string {
	var out []string
	for _, a := range args {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			out = append(out, name)
		}
	}
	return out
}

// flagValue returns the value of --name in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// checkInvocation fails the test unless args (a subcommand and its flags)
// is something the binary accepts.
func checkInvocation(t *testing.T, where string, args []string) {
	t.Helper()
	if !assert.NotEmpty(t, args, "%s: no subcommand", where) ||
		!assert.True(t, subcommands(t)[args[0]], "%s: subcommand %q is not one of the binary's %v", where, args[0], keys(subcommands(t))) {
		return
	}
	flags := flagsOf(t, args[0])
	for _, f := range flagArgs(args[1:]) {
		assert.True(t, flags[f], "%s: `%s` has no flag --%s", where, args[0], f)
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestBinaryVersionIsStampedAsTheDockerfileDoes(t *testing.T) {
	assert.Contains(t, runBinary(t, "--version"), stampedAs, "-X %s=%s did not reach `innosandbox --version`", versionX, stampedAs)
}

func TestBinaryHasTheJobsThePackagingRuns(t *testing.T) {
	for _, sub := range []string{"serve", "listen", "healthcheck"} {
		assert.True(t, subcommands(t)[sub], "no %q subcommand", sub)
	}
}

package deploy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int    // where it starts
	cmd  string // upper case: FROM, RUN, USER, ...
	args string
}

// dockerfile is a Dockerfile split into its stages. Instructions before the
// first FROM (global ARGs) are not kept.
type dockerfile struct {
	stages [][]instruction
}

// readDockerfile parses the subset of the Dockerfile syntax the project's
// file uses: comments, blank lines and backslash continuations. It is no
// general parser; the tests only need to find instructions and their words.
func readDockerfile(path string) (*dockerfile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	df := &dockerfile{}
	var cur strings.Builder
	start := 0
	flush := func() error {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return nil
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			df.stages = append(df.stages, nil)
		}
		if len(df.stages) == 0 {
			if in.cmd != "ARG" {
				return fmt.Errorf("%s:%d: %s before the first FROM", path, in.line, in.cmd)
			}
			return nil
		}
		df.stages[len(df.stages)-1] = append(df.stages[len(df.stages)-1], in)
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() > 0) {
			continue // comments, and blank lines inside a continuation
		}
		if cur.Len() == 0 {
			start = n
		}
		if body, cont := strings.CutSuffix(line, `\`); cont {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("%s: ends inside a continuation", path)
	}
	if len(df.stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM", path)
	}
	return df, nil
}

// final returns the last stage: the image that runs.
func (df *dockerfile) final() []instruction { return df.stages[len(df.stages)-1] }

// all returns the instructions named cmd in a stage.
func all(stage []instruction, cmd string) []instruction {
	var out []instruction
	for _, in := range stage {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// one returns the last instruction named cmd in a stage (the one in force).
func one(t *testing.T, stage []instruction, cmd string) instruction {
	t.Helper()
	ins := all(stage, cmd)
	require.NotEmpty(t, ins, "the final stage has no %s", cmd)
	return ins[len(ins)-1]
}

// execForm decodes the JSON form of ENTRYPOINT, CMD and HEALTHCHECK CMD. The
// shell form would need a shell, which the final stage does not have.
func execForm(t *testing.T, in instruction, args string) []string {
	t.Helper()
	var out []string
	require.NoError(t, json.Unmarshal([]byte(args), &out),
		"Dockerfile:%d: %s must use the exec form [\"...\"] (no shell in the image)", in.line, in.cmd)
	return out
}

var versionXFlag = regexp.MustCompile(`-X\s+([A-Za-z0-9_./-]+)=\$\{?VERSION\}?`)

// versionVar returns the -X target the go build line stamps VERSION into.
func (df *dockerfile) versionVar() string {
	for _, st := range df.stages {
		for _, in := range all(st, "RUN") {
			if m := versionXFlag.FindStringSubmatch(in.args); m != nil && strings.Contains(in.args, "go build") {
				return m[1]
			}
		}
	}
	return ""
}

// declaresArg tells whether any stage declares ARG name.
func (df *dockerfile) declaresArg(name string) bool {
	for _, st := range df.stages {
		for _, in := range all(st, "ARG") {
			if n, _, _ := strings.Cut(in.args, "="); n == name {
				return true
			}
		}
	}
	return false
}

func loadDockerfile(t *testing.T) *dockerfile {
	t.Helper()
	df, err := readDockerfile(filepath.Join(repoRoot, "Dockerfile"))
	require.NoError(t, err)
	return df
}

// imageUser returns the UID and GID of the final stage's USER.
func imageUser(t *testing.T, df *dockerfile) (uid, gid string) {
	t.Helper()
	user := one(t, df.final(), "USER") // the last one is the one the container runs as
	uid, gid, _ = strings.Cut(user.args, ":")
	return uid, gid
}

func TestDockerfileFinalStageRunsAsNonRoot(t *testing.T) {
	uid, gid := imageUser(t, loadDockerfile(t))
	n, err := strconv.Atoi(uid)
	require.NoError(t, err, "USER %q: use a numeric UID, so the engine can tell it is not root without a passwd file", uid)
	assert.NotZero(t, n, "USER 0 is root")
	if gid != "" {
		g, err := strconv.Atoi(gid)
		assert.NoError(t, err, "USER group %q: use a numeric GID", gid)
		assert.NotZero(t, g, "USER group 0 is root's")
	}
}

func TestDockerfileBuildsAStaticStampedBinary(t *testing.T) {
	df := loadDockerfile(t)
	require.GreaterOrEqual(t, len(df.stages), 2, "want a multi-stage build: a build stage and a minimal final stage")
	var build *instruction
	for _, st := range df.stages[:len(df.stages)-1] {
		for _, in := range all(st, "RUN") {
			if strings.Contains(in.args, "go build") {
				build = &in
			}
		}
	}
	require.NotNil(t, build, "no RUN with `go build` before the final stage")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w", "./cmd/innosandbox"} {
		assert.Contains(t, build.args, want, "Dockerfile:%d: the go build line", build.line)
	}
	base := strings.Fields(one(t, df.final(), "FROM").args)
	image := base[len(base)-1]
	assert.True(t, image == "scratch" || strings.Contains(image, "distroless"),
		"final stage FROM %s: want scratch or a distroless static base (nothing but the binary)", image)
}

func TestDockerfileRunsTheSandbox(t *testing.T) {
	df := loadDockerfile(t)
	final := df.final()

	ep := one(t, final, "ENTRYPOINT")
	entry := execForm(t, ep, ep.args)
	require.Equal(t, []string{"/innosandbox"}, entry, "ENTRYPOINT")
	assert.True(t, slices.ContainsFunc(all(final, "COPY"), func(in instruction) bool {
		f := strings.Fields(in.args)
		return f[len(f)-1] == entry[0]
	}), "nothing is copied to %s in the final stage", entry[0])

	ci := one(t, final, "CMD")
	cmd := execForm(t, ci, ci.args)
	checkInvocation(t, "Dockerfile CMD", cmd)
	require.Equal(t, "serve", cmd[0], "the image's default job")
	addr, _ := flagValue(cmd, "addr")
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err, "CMD --addr %q", addr)
	assert.Equal(t, "0.0.0.0", host, "CMD --addr: listen beyond loopback, or nothing outside the container reaches it")
	assert.Equal(t, port, strings.TrimSuffix(one(t, final, "EXPOSE").args, "/tcp"), "EXPOSE the port the sandbox listens on")
	assert.NotContains(t, cmd, "--control-open", "the image must not publish an open control API: it makes up an admin token instead")
	assert.NotContains(t, cmd, "--admin-token", "a token in the image is everyone's token: it comes from the environment")

	volume := one(t, final, "VOLUME").args
	store, _ := flagValue(cmd, "store")
	assert.True(t, strings.HasPrefix(store, "sqlite:"+volume+"/"), "CMD --store %q: the state file must live on the VOLUME %s", store, volume)
	uid, _ := imageUser(t, df)
	assert.True(t, slices.ContainsFunc(all(final, "COPY"), func(in instruction) bool {
		f := strings.Fields(in.args)
		return f[len(f)-1] == volume && slices.ContainsFunc(f, func(s string) bool {
			return strings.HasPrefix(s, "--chown="+uid+":") || s == "--chown="+uid
		})
	}), "VOLUME %s is not created owned by the runtime user %s (COPY --chown=%s:... %s)", volume, uid, uid, volume)

	hc := one(t, final, "HEALTHCHECK")
	_, hcCmd, ok := strings.Cut(hc.args, "CMD ")
	require.True(t, ok, "Dockerfile:%d: HEALTHCHECK without CMD", hc.line)
	probe := execForm(t, hc, strings.TrimSpace(hcCmd))
	require.GreaterOrEqual(t, len(probe), 2, "HEALTHCHECK %v", probe)
	require.Equal(t, []string{entry[0], "healthcheck"}, probe[:2], "HEALTHCHECK runs the binary's healthcheck")
	checkInvocation(t, "Dockerfile HEALTHCHECK", probe[1:])
	if url, given := flagValue(probe, "url"); given {
		assert.Contains(t, url, ":"+port+"/", "HEALTHCHECK --url: the sandbox listens on %s", port)
	} else {
		// The healthcheck subcommand's default URL must fit the default CMD.
		assert.Contains(t, help(t, "healthcheck"), `"http://127.0.0.1:`+port+`/healthz"`, "healthcheck's default --url")
	}
}

func TestReadDockerfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Dockerfile")
	text := "# syntax=docker/dockerfile:1\nARG V=1\nFROM a AS b\nRUN one \\\n  # a comment inside\n\n  two\nfrom scratch\nUSER 10:10\n"
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	df, err := readDockerfile(path)
	require.NoError(t, err)
	assert.Equal(t, [][]instruction{
		{{line: 3, cmd: "FROM", args: "a AS b"}, {line: 4, cmd: "RUN", args: "one  two"}},
		{{line: 8, cmd: "FROM", args: "scratch"}, {line: 9, cmd: "USER", args: "10:10"}},
	}, df.stages)

	_, err = readDockerfile(writeFile(t, "RUN x\n"))
	assert.ErrorContains(t, err, "RUN before the first FROM")
	_, err = readDockerfile(writeFile(t, "FROM a\nRUN x \\\n"))
	assert.ErrorContains(t, err, "ends inside a continuation")
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "Dockerfile")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

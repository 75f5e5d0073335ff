package deploy

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v4"
)

// The snippets for other languages' CI (README, "Test against the sandbox
// from any language"): a GitHub Actions service container and a compose
// file for Testcontainers' compose modules. They are checked against the
// Dockerfile and the binary's flags, like docker-compose.yml; no engine runs.
const (
	actionsSnippet = "examples/ci/github-actions.yml"
	composeSnippet = "examples/ci/compose.yml"
)

// expressions are GitHub Actions' ${{ … }}, filled in by the runner.
var expressions = regexp.MustCompile(`\$\{\{[^}]*\}\}`)

// webhookAllow is the variable that lets pushes reach private addresses.
// A sandbox in a container reaches receivers on the host through
// host.docker.internal, a private address, and a sandbox listening beyond
// loopback refuses those unless told (--webhook-allow). A build without
// that guard pushes anywhere and ignores the variable, so the snippets
// set it whichever build runs them.
const webhookAllow = "INNOSANDBOX_WEBHOOK_ALLOW"

// checkEnv: each variable names a serve flag (webhookAllow also while this
// build lacks its flag), none a flag the command sets (it would lose), and
// webhookAllow allows private addresses.
func checkEnv(t *testing.T, where string, env map[string]string, command []string) {
	t.Helper()
	serveFlags := flagsOf(t, "serve")
	set := flagArgs(command[1:])
	for v := range env {
		f, ok := envVarFlag(v)
		if !assert.True(t, ok, "%s: variable %s: the binary reads only INNOSANDBOX_* variables", where, v) {
			continue
		}
		assert.True(t, serveFlags[f] || v == webhookAllow, "%s: variable %s: serve has no flag --%s", where, v, f)
		assert.False(t, slices.Contains(set, f), "%s: variable %s: the command sets --%s, which wins", where, v, f)
	}
	assert.Contains(t, strings.Split(env[webhookAllow], ","), "private", "%s: %s=private, for host.docker.internal", where, webhookAllow)
}

// imageCommand is the final stage's CMD: the serve flags the image sets,
// which win over INNOSANDBOX_* variables.
func imageCommand(t *testing.T) []string {
	t.Helper()
	cmd := one(t, loadDockerfile(t).final(), "CMD")
	return execForm(t, cmd, cmd.args)
}

// imagePort is the port the image's command listens on; the Dockerfile
// must EXPOSE it.
func imagePort(t *testing.T) string {
	t.Helper()
	addr, ok := flagValue(imageCommand(t), "addr")
	require.True(t, ok, "the Dockerfile's CMD sets no --addr")
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	assert.Equal(t, port, one(t, loadDockerfile(t).final(), "EXPOSE").args, "EXPOSE the port CMD listens on")
	return port
}

// imageRepo is the repository part of an image reference, without
// registry, owner or tag: what `docker build -t innosandbox` names.
func imageRepo(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	ref, _, _ = strings.Cut(ref, ":")
	return ref
}

func TestGitHubActionsServiceSnippet(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, actionsSnippet))
	require.NoError(t, err)
	var wf struct {
		Jobs map[string]struct {
			Services map[string]struct {
				Image   string            `yaml:"image"`
				Ports   []string          `yaml:"ports"`
				Env     map[string]string `yaml:"env"`
				Options string            `yaml:"options"`
			} `yaml:"services"`
			Env   map[string]string `yaml:"env"`
			Steps []map[string]any  `yaml:"steps"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &wf), actionsSnippet)
	require.Len(t, wf.Jobs, 1)
	for _, job := range wf.Jobs {
		svc, ok := job.Services["innosandbox"]
		require.True(t, ok, "a service named innosandbox")

		// GitHub expressions in the image name are filled in by the runner.
		image := expressions.ReplaceAllString(svc.Image, "owner")
		assert.Equal(t, "innosandbox", imageRepo(image), "the image the Dockerfile builds: %s", svc.Image)

		port := imagePort(t)
		require.Len(t, svc.Ports, 1)
		host, container, ok := strings.Cut(svc.Ports[0], ":")
		require.True(t, ok, "host:container, got %q", svc.Ports[0])
		assert.Equal(t, port, container, "the port the image's command listens on")
		assert.Contains(t, job.Env["INNOPAAS_BASE_URL"], "localhost:"+host, "the steps call the published port")

		// A service runs the image's command: a variable for a flag that
		// command sets would be ignored.
		checkEnv(t, actionsSnippet, svc.Env, imageCommand(t))
		set := flagArgs(imageCommand(t)[1:])
		// The steps call the control API from outside the container: not
		// loopback, so it takes a token (or the image opens it).
		token := svc.Env["INNOSANDBOX_ADMIN_TOKEN"]
		if !slices.Contains(set, "control-open") || token != "" {
			assert.GreaterOrEqual(t, len(expressions.ReplaceAllString(token, "1234567890")), 16, "an admin token of 16 characters or more")
			assert.Equal(t, token, job.Env["INNOSANDBOX_ADMIN_TOKEN"], "the steps have the service's token")
		}

		opts := strings.Fields(svc.Options)
		assert.Contains(t, opts, "--add-host=host.docker.internal:host-gateway", "the sandbox must reach receivers on the runner")
		for _, o := range opts {
			name, _, _ := strings.Cut(o, "=")
			assert.Contains(t, []string{"--add-host", "--health-interval", "--health-timeout", "--health-retries", "--health-start-period"}, name,
				"option %s: the image's HEALTHCHECK runs the binary; do not replace it", o)
		}
		assert.Contains(t, one(t, loadDockerfile(t).final(), "HEALTHCHECK").args, `"healthcheck"`, "the image checks its own health")

		var reset bool
		for _, st := range job.Steps {
			run, _ := st["run"].(string)
			if strings.Contains(run, "/_sandbox/") && svc.Env["INNOSANDBOX_ADMIN_TOKEN"] != "" {
				assert.Contains(t, run, `-H "X-Sandbox-Admin-Token: $INNOSANDBOX_ADMIN_TOKEN"`, "a control call carries the token: %s", run)
			}
			if strings.Contains(run, "/_sandbox/reset") {
				reset = true
				assert.Contains(t, run, "localhost:"+host)
			}
		}
		assert.True(t, reset, "a step resets the sandbox to its seed")
	}
}

func TestTestcontainersComposeSnippet(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	path := filepath.Join(root, composeSnippet)
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  filepath.Dir(path),
		ConfigFiles: []types.ConfigFile{{Filename: path, Content: content}},
		Environment: map[string]string{},
	}, func(o *loader.Options) { o.SetProjectName("snippet", true) })
	require.NoError(t, err, "%s does not load", composeSnippet)
	s := service(t, p, "sandbox")

	assert.Equal(t, "innosandbox", imageRepo(s.Image), "the image the Dockerfile builds")
	checkInvocation(t, composeSnippet, s.Command)
	assert.Equal(t, "serve", s.Command[0])
	ep := one(t, loadDockerfile(t).final(), "ENTRYPOINT")
	entry := execForm(t, ep, ep.args)
	_, port := listenPort(t, s)
	assert.Equal(t, imagePort(t), strconv.Itoa(int(port)), "the port the Dockerfile exposes")
	require.Len(t, s.Ports, 1)
	assert.Equal(t, port, s.Ports[0].Target)
	assert.Equal(t, "127.0.0.1", s.Ports[0].HostIP, "the control API is open: loopback only")
	assert.Empty(t, s.Ports[0].Published, "a free host port, which Testcontainers looks up")
	assert.Contains(t, s.ExtraHosts["host.docker.internal"], "host-gateway", "the sandbox must reach receivers on the host")

	hc := s.HealthCheck
	require.NotNil(t, hc)
	require.GreaterOrEqual(t, len(hc.Test), 3)
	assert.Equal(t, []string{"CMD", entry[0], "healthcheck"}, []string(hc.Test[:3]), "exec form, the image's binary")
	checkInvocation(t, composeSnippet+" healthcheck", hc.Test[2:])
	raw, ok := flagValue(hc.Test, "url")
	require.True(t, ok)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(int(port)), u.Port())
	assert.Equal(t, "/healthz", u.Path)
	env := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	checkEnv(t, composeSnippet, env, s.Command)
}

// TestREADMEShowsTheCheckedSnippets: the README's copies are the files
// checked above, word for word.
func TestREADMEShowsTheCheckedSnippets(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	for _, f := range []string{actionsSnippet, composeSnippet} {
		raw, err := os.ReadFile(filepath.Join(repoRoot, f))
		require.NoError(t, err)
		marker := "<!-- " + f + " -->\n```yaml\n"
		i := strings.Index(string(readme), marker)
		if !assert.GreaterOrEqual(t, i, 0, "README.md has no block after %q", strings.TrimSpace(marker)) {
			continue
		}
		rest := string(readme)[i+len(marker):]
		end := strings.Index(rest, "```\n")
		require.GreaterOrEqual(t, end, 0)
		assert.Equal(t, string(raw), rest[:end], "README.md's copy of %s", f)
	}
}

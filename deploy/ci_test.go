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

// checkWebhookAllow: a sandbox in a container reaches receivers on the
// host through host.docker.internal, a private address. Once the binary
// guards where pushes go (--webhook-allow), a container listening beyond
// loopback refuses private addresses unless told, so the snippet must
// allow them; value reads the setting from the snippet.
func checkWebhookAllow(t *testing.T, where string, serveFlags map[string]bool, value func(flag string) (string, bool)) {
	t.Helper()
	if !serveFlags["webhook-allow"] {
		return // this build pushes anywhere
	}
	v, ok := value("webhook-allow")
	if assert.True(t, ok, "%s: allow the host's receivers: --webhook-allow private (INNOSANDBOX_WEBHOOK_ALLOW)", where) {
		assert.Contains(t, strings.Split(v, ","), "private", "%s: host.docker.internal is a private address", where)
	}
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
		serveFlags := flagsOf(t, "serve")
		set := flagArgs(imageCommand(t)[1:])
		for v := range svc.Env {
			f, ok := envVarFlag(v)
			if assert.True(t, ok, "variable %s: the binary reads only INNOSANDBOX_* variables", v) {
				assert.True(t, serveFlags[f], "variable %s: serve has no flag --%s", v, f)
				assert.False(t, slices.Contains(set, f), "variable %s: the image's CMD sets --%s, which wins", v, f)
			}
		}
		// The steps call the control API from outside the container: not
		// loopback, so it takes a token (or the image opens it).
		token := svc.Env["INNOSANDBOX_ADMIN_TOKEN"]
		if !slices.Contains(set, "control-open") || token != "" {
			assert.GreaterOrEqual(t, len(expressions.ReplaceAllString(token, "1234567890")), 16, "an admin token of 16 characters or more")
			assert.Equal(t, token, job.Env["INNOSANDBOX_ADMIN_TOKEN"], "the steps have the service's token")
		}
		checkWebhookAllow(t, actionsSnippet, serveFlags, func(f string) (string, bool) {
			v, ok := svc.Env["INNOSANDBOX_"+strings.ToUpper(strings.ReplaceAll(f, "-", "_"))]
			return v, ok
		})

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
	for v := range s.Environment {
		_, ok := envVarFlag(v)
		assert.True(t, ok, "variable %s", v)
	}
	checkWebhookAllow(t, composeSnippet, flagsOf(t, "serve"), func(f string) (string, bool) { return flagValue(s.Command, f) })
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

package deploy

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadCompose loads docker-compose.yml as `docker compose` would, with env as
// the only environment (not the machine's), so the defaults in ${VAR:-x} are
// what is checked unless a test sets a variable. Services of profiles are
// left out unless named.
func loadCompose(t *testing.T, env map[string]string, profiles ...string) *types.Project {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	path := filepath.Join(root, "docker-compose.yml")
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: path, Content: content}},
		Environment: env,
	}, loader.WithProfiles(profiles))
	require.NoError(t, err, "docker-compose.yml does not load (profiles %v)", profiles)
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	require.True(t, ok, "no service %q in docker-compose.yml (it has %v)", name, p.ServiceNames())
	return s
}

// listenPort returns the port a service's command listens on (--addr).
func listenPort(t *testing.T, s types.ServiceConfig) (host string, port uint32) {
	t.Helper()
	addr, ok := flagValue(s.Command, "addr")
	require.True(t, ok, "service %s: command %v sets no --addr", s.Name, s.Command)
	h, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	n, err := strconv.ParseUint(p, 10, 16)
	require.NoError(t, err)
	return h, uint32(n)
}

// checkEnvironmentNamesFlags: every INNOSANDBOX_* variable of a service
// must name a flag of its job, or the binary silently ignores it.
func checkEnvironmentNamesFlags(t *testing.T, s types.ServiceConfig, job string) {
	t.Helper()
	flags := flagsOf(t, job)
	for v := range s.Environment {
		f, ok := envVarFlag(v)
		if assert.True(t, ok, "variable %s: the binary reads only INNOSANDBOX_* variables", v) {
			assert.True(t, flags[f], "variable %s: `%s` has no flag --%s", v, job, f)
		}
	}
}

// The two services and the job each one runs.
var composeJobs = map[string]string{"sandbox": "serve", "receiver": "listen"}

func TestComposeServicesRunJobsOfTheBinary(t *testing.T) {
	p := loadCompose(t, nil)
	df := loadDockerfile(t)
	for name, job := range composeJobs {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			require.NotNil(t, s.Build, "built from the Dockerfile")
			assert.Equal(t, "Dockerfile", s.Build.Dockerfile)
			assert.Empty(t, s.Entrypoint, "the image's ENTRYPOINT runs the binary")
			require.NotEmpty(t, s.Command)
			assert.Equal(t, job, s.Command[0])
			checkInvocation(t, "service "+name+" command", s.Command)

			checkEnvironmentNamesFlags(t, s, job)

			host, _ := listenPort(t, s)
			assert.Equal(t, "0.0.0.0", host, "listen beyond the container's loopback, or the published port leads nowhere")
			assert.Equal(t, p.Services["sandbox"].Image, s.Image, "one image for both services")
			for arg := range s.Build.Args {
				assert.True(t, df.declaresArg(arg), "build arg %s: the Dockerfile declares no ARG %s", arg, arg)
			}
		})
	}
}

func TestComposeHealthChecksUseTheBinary(t *testing.T) {
	p := loadCompose(t, nil)
	ep := one(t, loadDockerfile(t).final(), "ENTRYPOINT")
	entry := execForm(t, ep, ep.args)
	for name := range composeJobs {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			hc := s.HealthCheck
			require.NotNil(t, hc, "no healthcheck")
			assert.False(t, hc.Disable)
			require.GreaterOrEqual(t, len(hc.Test), 3, "test: %v", hc.Test)
			assert.Equal(t, "CMD", hc.Test[0], "exec form: the image has no shell for CMD-SHELL")
			assert.Equal(t, entry[0], hc.Test[1], "the binary the image's ENTRYPOINT names")
			assert.Equal(t, "healthcheck", hc.Test[2])
			checkInvocation(t, "service "+name+" healthcheck", hc.Test[2:])

			raw, ok := flagValue(hc.Test, "url")
			require.True(t, ok, "the healthcheck names its --url (the default fits only the sandbox)")
			u, err := url.Parse(raw)
			require.NoError(t, err)
			_, port := listenPort(t, s)
			assert.Equal(t, strconv.Itoa(int(port)), u.Port(), "the healthcheck asks the port the job listens on")
			assert.Equal(t, "/healthz", u.Path)
			if s.Command[0] == "listen" {
				// The listener answers its --health-path quietly; the default is /healthz.
				assert.Contains(t, help(t, "listen"), `--health-path string`)
				assert.Contains(t, help(t, "listen"), `(default "/healthz")`)
			}
			require.NotNil(t, hc.Interval)
			require.NotNil(t, hc.Timeout)
		})
	}
}

func TestComposePublishesPortsOnLoopback(t *testing.T) {
	p := loadCompose(t, nil)
	for name := range composeJobs {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			_, port := listenPort(t, s)
			i := slices.IndexFunc(s.Ports, func(pc types.ServicePortConfig) bool { return pc.Target == port })
			require.GreaterOrEqual(t, i, 0, "port %d is not published (ports: %+v)", port, s.Ports)
			pc := s.Ports[i]
			assert.Equal(t, strconv.Itoa(int(port)), pc.Published)
			// A sandbox for this machine's user; a shared one is put behind a
			// reverse proxy (docs/SECURITY.md).
			assert.Equal(t, "127.0.0.1", pc.HostIP, "publish on the host's loopback only")
		})
	}
}

func TestComposeSandboxKeepsStateOnANamedVolume(t *testing.T) {
	p := loadCompose(t, nil)
	s := service(t, p, "sandbox")
	i := slices.IndexFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == "/data" })
	require.GreaterOrEqual(t, i, 0, "nothing is mounted at /data: %+v", s.Volumes)
	v := s.Volumes[i]
	assert.Equal(t, types.VolumeTypeVolume, v.Type, "a named volume, not a bind mount (ownership comes from the image)")
	_, declared := p.Volumes[v.Source]
	assert.True(t, declared, "volume %q is not declared under the top-level volumes", v.Source)

	assert.Equal(t, one(t, loadDockerfile(t).final(), "VOLUME").args, v.Target, "the image's VOLUME")
	store := s.Environment["INNOSANDBOX_STORE"]
	require.NotNil(t, store, "the sandbox's store is set through INNOSANDBOX_STORE")
	assert.True(t, strings.HasPrefix(*store, "sqlite:/data/"), "the store %q lives on the volume", *store)
}

func TestComposeReceiverWaitsForAHealthySandbox(t *testing.T) {
	p := loadCompose(t, nil)
	dep, ok := service(t, p, "receiver").DependsOn["sandbox"]
	require.True(t, ok, "the receiver does not depend on the sandbox")
	assert.Equal(t, types.ServiceConditionHealthy, dep.Condition)
	assert.True(t, dep.Required)
}

func TestComposeTakesSettingsFromTheEnvironment(t *testing.T) {
	p := loadCompose(t, map[string]string{
		"INNOSANDBOX_ADMIN_TOKEN":              "s3cret",
		"INNOSANDBOX_RECEIVER_FORWARD":         "http://host.docker.internal:3000/hook",
		"INNOSANDBOX_VERSION":                  "1.2.3",
		"INNOSANDBOX_RECEIVER_EXPECT_USERNAME": "acme",
	})
	sandbox, receiver := service(t, p, "sandbox"), service(t, p, "receiver")
	assert.Equal(t, "s3cret", *sandbox.Environment["INNOSANDBOX_ADMIN_TOKEN"])
	assert.Equal(t, "http://host.docker.internal:3000/hook", *receiver.Environment["INNOSANDBOX_FORWARD"])
	assert.Equal(t, "acme", *receiver.Environment["INNOSANDBOX_EXPECT_USERNAME"])
	assert.Equal(t, "innosandbox:1.2.3", sandbox.Image)
	assert.Equal(t, "1.2.3", *sandbox.Build.Args["VERSION"], "the version reaches the image's -X flag")
}

// The postgres profile's replicas and the job each runs.
var replicaJobs = map[string]string{"sandbox-a": "serve", "sandbox-b": "serve"}

func TestComposeWithoutAProfileStartsTheSandboxAndReceiverOnly(t *testing.T) {
	p := loadCompose(t, nil)
	assert.ElementsMatch(t, []string{"sandbox", "receiver"}, p.ServiceNames(), "the postgres profile is optional")
}

func TestComposePostgresProfileRunsTwoReplicasOnOneDatabase(t *testing.T) {
	p := loadCompose(t, nil, "postgres")
	pg := service(t, p, "postgres")
	assert.Equal(t, []string{"postgres"}, pg.Profiles)
	require.NotNil(t, pg.HealthCheck, "the replicas wait for a healthy database")
	user, db := pg.Environment["POSTGRES_USER"], pg.Environment["POSTGRES_DB"]
	require.NotNil(t, user)
	require.NotNil(t, db)

	published := map[string]bool{}
	for name, job := range replicaJobs {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			assert.Equal(t, []string{"postgres"}, s.Profiles)
			require.NotEmpty(t, s.Command)
			assert.Equal(t, job, s.Command[0])
			checkInvocation(t, "service "+name+" command", s.Command)
			checkEnvironmentNamesFlags(t, s, job)
			assert.Equal(t, p.Services["sandbox"].Image, s.Image, "the same image as the sandbox")

			store := s.Environment["INNOSANDBOX_STORE"]
			require.NotNil(t, store, "the store is set through INNOSANDBOX_STORE")
			u, err := url.Parse(*store)
			require.NoError(t, err)
			assert.Equal(t, "postgres", u.Scheme)
			assert.Equal(t, "postgres:5432", u.Host, "the database service, by name")
			assert.Equal(t, *user, u.User.Username())
			assert.Equal(t, "/"+*db, u.Path)

			dep, ok := s.DependsOn["postgres"]
			require.True(t, ok, "%s does not wait for the database", name)
			assert.Equal(t, types.ServiceConditionHealthy, dep.Condition)

			_, port := listenPort(t, s)
			require.Len(t, s.Ports, 1)
			pc := s.Ports[0]
			assert.Equal(t, port, pc.Target)
			assert.Equal(t, "127.0.0.1", pc.HostIP, "publish on the host's loopback only")
			assert.False(t, published[pc.Published], "each replica on its own host port")
			published[pc.Published] = true

			hc := s.HealthCheck
			require.NotNil(t, hc)
			checkInvocation(t, "service "+name+" healthcheck", hc.Test[2:])
			raw, ok := flagValue(hc.Test, "url")
			require.True(t, ok)
			hu, err := url.Parse(raw)
			require.NoError(t, err)
			assert.Equal(t, "/readyz", hu.Path, "a replica is healthy while its store answers")
			assert.Equal(t, strconv.Itoa(int(port)), hu.Port())
		})
	}
	// The same database and credentials for both, so they are one sandbox.
	assert.Equal(t, *service(t, p, "sandbox-a").Environment["INNOSANDBOX_STORE"], *service(t, p, "sandbox-b").Environment["INNOSANDBOX_STORE"])
	for _, v := range pg.Volumes {
		_, declared := p.Volumes[v.Source]
		assert.True(t, declared, "volume %q is not declared", v.Source)
	}
}

func TestComposeControlAPIFailsClosed(t *testing.T) {
	p := loadCompose(t, map[string]string{"INNOSANDBOX_ADMIN_TOKEN": "from-the-environment-0123"}, "postgres")
	subnets := []string{}
	if n, ok := p.Networks["default"]; ok {
		for _, c := range n.Ipam.Config {
			subnets = append(subnets, c.Subnet)
		}
	}
	require.Len(t, subnets, 1, "the compose network has one fixed subnet, for --webhook-allow to name")
	for _, name := range []string{"sandbox", "sandbox-a", "sandbox-b"} {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			assert.NotContains(t, s.Command, "--control-open")
			assert.NotContains(t, s.Command, "--admin-token", "a token on a command line shows in ps and inspect")
			_, open := s.Environment["INNOSANDBOX_CONTROL_OPEN"]
			assert.False(t, open, "the control API is not opened to every caller")
			tok := s.Environment["INNOSANDBOX_ADMIN_TOKEN"]
			require.NotNil(t, tok, "the admin token comes from the environment")
			assert.Equal(t, "from-the-environment-0123", *tok)
			allow, ok := flagValue(s.Command, "webhook-allow")
			require.True(t, ok, "the receiver on the compose network is allowed explicitly")
			assert.Equal(t, subnets[0], allow, "--webhook-allow opens the compose network and nothing more")
		})
	}
}

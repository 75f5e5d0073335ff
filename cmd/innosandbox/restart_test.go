package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/testbin"
)

// The test binary doubles as the sandbox: with INNOSANDBOX_TEST_CHILD set it
// runs `innosandbox` with the rest of its arguments (TestNoGoCommandAtStartUp
// checks the test binary's own start-up that way).
func TestMain(m *testing.M) {
	if os.Getenv("INNOSANDBOX_TEST_CHILD") == "1" {
		os.Args = append([]string{"innosandbox"}, os.Args[1:]...)
		main()
		return
	}
	os.Exit(m.Run())
}

// child is a sandbox running in its own process.
type child struct {
	cmd  *exec.Cmd
	base string
	logs *bytes.Buffer
}

// startChild starts a sandbox process and waits until it is ready.
func startChild(t *testing.T, addr string, args ...string) *child {
	t.Helper()
	c := spawnChild(t, addr, args...)
	waitReady(t, c)
	return c
}

// sandboxBinary is the command built as `make build` builds it, once per
// source (package testbin shares it between runs and clones): the sandbox
// processes the tests start and kill are the real program, without the
// race detector that slows this test binary several times over (the code
// they run is raced in process by the other packages' tests).
var sandboxBinary = sync.OnceValues(func() (string, error) {
	return testbin.Build("../..", testbin.Options{Trimpath: true, Env: []string{"CGO_ENABLED=0"}})
})

// sandbox returns the path of the sandbox binary, building it on first use.
func sandbox(t *testing.T) string {
	t.Helper()
	bin, err := sandboxBinary()
	require.NoError(t, err)
	return bin
}

// spawnChild starts a sandbox process without waiting for it (startChild
// waits); several can then come up at once.
func spawnChild(t *testing.T, addr string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(sandbox(t), append([]string{"serve", "--addr", addr, "--quiet"}, args...)...)
	cmd.Env = os.Environ()
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return &child{cmd: cmd, base: "http://" + addr, logs: logs}
}

// waitReady waits until a child's /healthz answers 200.
func waitReady(t *testing.T, c *child) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(c.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		require.True(t, time.Now().Before(deadline), "the sandbox did not become ready: %s", c.logs)
		time.Sleep(10 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func (c *child) call(t *testing.T, method, path, body string, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

const (
	demoAppKey = "XFbZY1rtTKo3UD4n1"
	demoToken  = "YUIYIUIAIIASUDIAOSIDUOIWUOQWUEOIUWOEUQWOEUOQWUOUWOUWQOWU"
	sendBody   = `{"wabaId":"110129512080569","messageType":"text","sendNumber":"8618912123456","recipientNumber":"6285234567899","body":"hi"}`
)

func TestStateSurvivesKillNineAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sandbox processes")
	}
	db := filepath.Join(t.TempDir(), "sandbox.db")
	addr := freeAddr(t)
	c := startChild(t, addr, "--store", "sqlite:"+db)

	// A second app whose first token gets superseded, and a webhook.
	status, _, b := c.call(t, "POST", "/_sandbox/apps", `{"name":"orders"}`, nil)
	require.Equal(t, 201, status, "%s", b)
	var app struct{ AppKey string }
	require.NoError(t, json.Unmarshal(b, &app))
	issue := func() string {
		status, _, b := c.call(t, "POST", "/_sandbox/apps/"+app.AppKey+"/tokens", "", nil)
		require.Equal(t, 201, status, "%s", b)
		var tok struct{ Token string }
		require.NoError(t, json.Unmarshal(b, &tok))
		return tok.Token
	}
	old := issue()
	current := issue()
	status, _, b = c.call(t, "POST", "/_sandbox/apps/"+app.AppKey+"/webhooks",
		`{"product":"whatsapp","url":"https://example.com/hook","events":["whatsapp_mo_message_received"],"authorization":"s3cret-kept-WXYZ"}`, nil)
	require.Equal(t, 201, status, "%s", b)

	// SIGKILL: no shutdown, no flush.
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	_, _ = c.cmd.Process.Wait()

	c = startChild(t, addr, "--store", "sqlite:"+db)
	send := func(appKey, token string) (int, string) {
		status, h, _ := c.call(t, "POST", "/api/whatsapp/v3/msg/submit", sendBody, map[string]string{"AppKey": appKey, "Authorization": token})
		return status, h.Get("X-Sandbox-Auth-Reason")
	}
	st, _ := send(demoAppKey, demoToken)
	assert.Equal(t, 200, st, "the seed's demo token still works")
	st, _ = send(app.AppKey, current)
	assert.Equal(t, 200, st, "the current token still works")
	st, reason := send(app.AppKey, old)
	assert.Equal(t, 401, st, "a superseded token still fails")
	assert.Equal(t, "token-superseded", reason)
	status, _, b = c.call(t, "GET", "/_sandbox/apps/"+app.AppKey+"/webhooks/whatsapp", "", nil)
	assert.Equal(t, 200, status)
	assert.Contains(t, string(b), `"authorization":"****WXYZ"`, "kept, and shown masked")
}

func TestServeRefusesABrokenStoreOrSpecWithAClearMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sandbox processes")
	}
	dir := t.TempDir()
	notDB := filepath.Join(dir, "not.db")
	require.NoError(t, os.WriteFile(notDB, []byte("this is not a database"), 0o600))
	brokenSpec := filepath.Join(dir, "broken.yaml")
	require.NoError(t, os.WriteFile(brokenSpec, []byte("openapi: 3.0.3\ninfo: {title: x}\npaths: {}\n"), 0o600))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not a database", []string{"--store", "sqlite:" + notDB}, "not.db"},
		{"unknown store", []string{"--store", "mysql://x"}, `unsupported --store "mysql://x"`},
		{"broken spec", []string{"--store", "memory", "--spec", brokenSpec}, "broken.yaml"},
		{"bad log format", []string{"--store", "memory", "--log-format", "xml"}, `--log-format "xml"`},
		{"negative retention", []string{"--store", "memory", "--retention-count", "-1"}, "--retention-count -1"},
		{"no webhook workers", []string{"--store", "memory", "--webhook-workers", "0"}, "--webhook-workers 0"},
		{"more per receiver than in all", []string{"--store", "memory", "--webhook-workers", "4", "--webhook-per-destination", "8"}, "--webhook-per-destination 8: cannot exceed --webhook-workers 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(sandbox(t), append([]string{"serve", "--addr", freeAddr(t), "--quiet"}, tc.args...)...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, "serve must exit non-zero: %s", out)
			assert.Contains(t, string(out), tc.want)
		})
	}
}

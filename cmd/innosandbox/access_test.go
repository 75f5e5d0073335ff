package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/syncbuf"
)

// served is a serve command running in this process.
type served struct {
	stdout, stderr *syncbuf.Buffer
	done           chan error
}

// serveInProcess runs `serve` with args (and --store memory) until the test
// ends, waiting until its banner line matching ready has been printed.
func serveInProcess(t *testing.T, ready *regexp.Regexp, args ...string) *served {
	t.Helper()
	o := &serveOptions{}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	bindServeFlags(fs, o)
	require.NoError(t, fs.Parse(append([]string{"--store", "memory", "--shutdown-timeout", "2s"}, args...)))
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, done: make(chan error, 1)}
	go func() { s.done <- runServe(ctx, o, s.stdout, s.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for !ready.MatchString(s.stdout.String()) {
		select {
		case err := <-s.done:
			s.done <- err // for the cleanup
			require.FailNow(t, "serve ended early", "err: %v; stderr: %s", err, s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "no banner line %s; stdout: %s", ready, s.stdout)
	}
	return s
}

// find returns the first submatch of re in the serve's stdout.
func (s *served) find(t *testing.T, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s.stdout.String())
	require.Len(t, m, 2, "%s not in stdout: %s", re, s.stdout)
	return m[1]
}

func call(t *testing.T, method, url string, header http.Header) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

var listening = regexp.MustCompile(`listening on http://127\.0\.0\.1:\d+`)

func TestServeBeyondLoopbackWithoutATokenFailsClosed(t *testing.T) {
	// The sandbox listens on every address, as in a container; the test
	// talks to it on 127.0.0.1 only.
	s := serveInProcess(t, listening, "--addr", "0.0.0.0:0")
	base := "http://127.0.0.1:" + s.find(t, `listening on http://127\.0\.0\.1:(\d+)`)
	tok := s.find(t, `export INNOSANDBOX_ADMIN_TOKEN=(\S+)`)
	assert.GreaterOrEqual(t, len(tok), 32)
	assert.Equal(t, 1, strings.Count(s.stdout.String(), tok), "the made-up token is printed once")

	assert.Equal(t, 403, call(t, "POST", base+"/_sandbox/reset", nil), "a token-less reset is refused, even from loopback")
	assert.Equal(t, 403, call(t, "GET", base+"/metrics", nil))
	assert.Equal(t, 403, call(t, "POST", base+"/_sandbox/reset", http.Header{"X-Sandbox-Admin-Token": {tok + "0"}}))
	assert.Equal(t, 200, call(t, "POST", base+"/_sandbox/reset", http.Header{"X-Sandbox-Admin-Token": {tok}}), "the printed token is accepted")
	assert.Equal(t, 200, call(t, "GET", base+"/healthz", nil))
	assert.NotContains(t, s.stderr.String(), tok, "the token never goes to the log")
}

func TestServeQuietStillPrintsAMadeUpToken(t *testing.T) {
	s := serveInProcess(t, regexp.MustCompile(`INNOSANDBOX_ADMIN_TOKEN=\S+`), "--addr", "0.0.0.0:0", "--quiet")
	assert.NotContains(t, s.stdout.String(), "listening on")
}

func TestServeOnLoopbackNeedsNoToken(t *testing.T) {
	s := serveInProcess(t, listening, "--addr", "127.0.0.1:0")
	base := "http://127.0.0.1:" + s.find(t, `listening on http://127\.0\.0\.1:(\d+)`)
	assert.NotContains(t, s.stdout.String(), "made one up")
	assert.Equal(t, 200, call(t, "GET", base+"/_sandbox/accounts", nil), "local use stays one command")
	assert.Equal(t, 403, call(t, "GET", base+"/_sandbox/accounts", http.Header{"X-Forwarded-For": {"127.0.0.1"}}), "a proxied call is not the local user")
}

func TestServeControlAddrSplitsTheListeners(t *testing.T) {
	s := serveInProcess(t, regexp.MustCompile(`control API \(/_sandbox/, /metrics\) on http://127\.0\.0\.1:\d+`),
		"--addr", "127.0.0.1:0", "--control-addr", "127.0.0.1:0")
	public := "http://127.0.0.1:" + s.find(t, `listening on http://127\.0\.0\.1:(\d+)`)
	control := "http://127.0.0.1:" + s.find(t, `control API \(/_sandbox/, /metrics\) on http://127\.0\.0\.1:(\d+)`)
	require.NotEqual(t, public, control)

	assert.Equal(t, 404, call(t, "GET", public+"/_sandbox/accounts", nil))
	assert.Equal(t, 404, call(t, "POST", public+"/_sandbox/reset", nil))
	assert.Equal(t, 404, call(t, "GET", public+"/metrics", nil))
	assert.Equal(t, 200, call(t, "GET", public+"/healthz", nil))
	assert.Equal(t, 200, call(t, "GET", control+"/_sandbox/accounts", nil))
	assert.Equal(t, 200, call(t, "GET", control+"/metrics", nil))
	assert.Contains(t, s.stdout.String(), "curl -s "+control+"/_sandbox/deliveries", "the banner's control examples use the control listener")
}

func TestServeRefusesAShortAdminToken(t *testing.T) {
	o := &serveOptions{}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	bindServeFlags(fs, o)
	require.NoError(t, fs.Parse([]string{"--store", "memory", "--addr", "127.0.0.1:0", "--admin-token", "fifteen-chars.."}))
	err := runServe(context.Background(), o, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--admin-token")
	assert.Contains(t, err.Error(), "at least 16")
}

// adminCall makes a control call with the admin token and decodes the answer.
func adminCall(t *testing.T, base, token, method, path, body string, want int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Sandbox-Admin-Token", token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, want, resp.StatusCode, "%s", b)
	if out != nil {
		require.NoError(t, json.Unmarshal(b, out))
	}
}

func TestTriggerAndReplayWithAnAccountToken(t *testing.T) {
	const admin = "admin-token-for-tests-0123456789"
	url, pushes := triggerSandbox(t, admin)
	var acct struct{ Name, ControlToken string }
	adminCall(t, url, admin, "POST", "/_sandbox/accounts", `{"label":"partner"}`, 201, &acct)
	var seedEvent struct{ Delivery struct{ ID string } }
	adminCall(t, url, admin, "POST", "/_sandbox/events", `{"type":"whatsapp_mo_message_received","appKey":"`+demoAppKey+`"}`, 201, &seedEvent)
	waitPushes(t, pushes, 1)

	t.Setenv("INNOSANDBOX_ACCOUNT_TOKEN", acct.ControlToken)
	_, stderr, err := runCLI(t, "trigger", "whatsapp_mo_message_received", "--sandbox", url, "--app", demoAppKey)
	assert.Equal(t, exitError{code: 1}, err)
	assert.Contains(t, stderr, "HTTP 404", "another account's app does not exist for this token")
	_, stderr, err = runCLI(t, "replay", seedEvent.Delivery.ID, "--sandbox", url)
	assert.Equal(t, exitError{code: 1}, err)
	assert.Contains(t, stderr, "HTTP 404")
	assert.Len(t, pushes(), 1, "nothing more was pushed to the other account's receiver")

	// Its own account: trigger acts there without naming it.
	stdout, stderr, err := runCLI(t, "trigger", "whatsapp_mo_message_received", "--sandbox", url, "--json")
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, acct.Name)
}

func TestControlClientFollowsNoRedirect(t *testing.T) {
	var hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(201)
	}))
	t.Cleanup(elsewhere.Close)
	redirecting := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/_sandbox/events", http.StatusTemporaryRedirect))
	t.Cleanup(redirecting.Close)
	t.Setenv("INNOSANDBOX_ADMIN_TOKEN", "admin-token-for-tests-0123456789")
	_, _, err := runCLI(t, "trigger", "whatsapp_mo_message_received", "--sandbox", redirecting.URL)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "follows none")
	assert.Zero(t, hits.Load(), "the admin token's call went nowhere else")
}

func TestControlClientUsesNoProxy(t *testing.T) {
	// Go never sends a loopback request through a proxy, and a test may
	// reach nothing but loopback, so the setting is what can be checked:
	// HTTP_PROXY must not decide where the token goes.
	tr, ok := controlHTTP.Transport.(*http.Transport)
	require.True(t, ok)
	assert.Nil(t, tr.Proxy)
}

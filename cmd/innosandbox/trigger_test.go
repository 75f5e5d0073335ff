package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/spec"
)

// triggerSandbox serves a strict in-process sandbox with its dispatcher,
// and a receiver configured as the demo app's WhatsApp and SMS webhook.
func triggerSandbox(t *testing.T, adminToken string) (url string, pushes func() [][]byte) {
	t.Helper()
	hs := inProcessSandbox(t, adminToken)
	var mu sync.Mutex
	var got [][]byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	for _, product := range []string{"whatsapp", "sms"} {
		body := `{"product":"` + product + `","url":"` + recv.URL + `","events":["` + strings.Join(spec.MustLoadEmbedded().EventTypes(product), `","`) + `"]}`
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/_sandbox/apps/"+demoAppKey+"/webhooks", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Sandbox-Admin-Token", adminToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode)
	}
	return hs.URL, func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return append([][]byte(nil), got...)
	}
}

// inProcessSandbox serves a strict sandbox on a memory store, with its
// dispatcher, until the test ends.
func inProcessSandbox(t *testing.T, adminToken string) *httptest.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := mockserver.New(ctx, mockserver.Config{Spec: spec.MustLoadEmbedded(), Store: memstore.New(), Strict: true, AdminToken: adminToken,
		Dispatch: mockserver.DispatchConfig{PollInterval: 20 * time.Millisecond}})
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		cancel()
		<-done
		assert.Zero(t, srv.SchemaViolations())
	})
	return hs
}

func waitPushes(t *testing.T, pushes func() [][]byte, n int) [][]byte {
	t.Helper()
	var got [][]byte
	require.Eventually(t, func() bool { got = pushes(); return len(got) >= n }, 5*time.Second, 10*time.Millisecond, "wanted %d pushes", n)
	return got
}

func TestParseSets(t *testing.T) {
	got, err := parseSets([]string{"/body/status=read", "body/n=42", "/a=true", "/o={\"k\":[1]}", `/q="123"`, "/s=not json", "/e=", "/big=1234567890123456789"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"/body/status": "read", "/body/n": json.Number("42"), "/a": true, "/o": map[string]any{"k": []any{json.Number("1")}},
		"/q": "123", "/s": "not json", "/e": "", "/big": json.Number("1234567890123456789"),
	}, got)
	_, err = parseSets([]string{"/body/status"})
	assert.ErrorContains(t, err, `--set "/body/status": write it as /json/pointer=value`)
}

func TestTriggerCommand(t *testing.T) {
	url, pushes := triggerSandbox(t, "")

	t.Run("routed, with overrides, received", func(t *testing.T) {
		stdout, stderr, err := runCLI(t, "trigger", "whatsapp_message_status_updated", "--sandbox", url, "--app", demoAppKey,
			"--set", "/body/status=read", "--set", "body/uid=batch-9", "--unset", "/body/conversation")
		require.NoError(t, err, stderr)
		assert.Regexp(t, `^event [0-9a-f-]{36} \(whatsapp_message_status_updated\)\n  routed to app `+demoAppKey+` \(trigger\): POST http://`, stdout)
		assert.Contains(t, stdout, "pending, due ")
		got := waitPushes(t, pushes, 1)
		var ev struct{ Body map[string]any }
		require.NoError(t, json.Unmarshal(got[0], &ev))
		assert.Equal(t, "read", ev.Body["status"])
		assert.Equal(t, "batch-9", ev.Body["uid"])
		assert.NotContains(t, ev.Body, "conversation")
	})
	t.Run("to the default app, whole payload, JSON answer", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "mo.json")
		require.NoError(t, os.WriteFile(file, []byte(`{"receiver":"","pswd":"","moTime":"1749545600123","mobile":"8613800138000","msg":"TD","destcode":"10690000"}`), 0o600))
		stdout, stderr, err := runCLI(t, "trigger", "sms_mo_message_received", "--sandbox", url, "--payload", file, "--json")
		require.NoError(t, err, stderr)
		var a struct {
			Routed   bool
			Route    string
			Delivery struct{ Payload map[string]any }
		}
		require.NoError(t, json.Unmarshal([]byte(stdout), &a), stdout)
		assert.True(t, a.Routed)
		assert.Equal(t, "default-app", a.Route)
		assert.Equal(t, "TD", a.Delivery.Payload["msg"])
	})
	t.Run("refused with the sandbox's message", func(t *testing.T) {
		tests := []struct {
			name string
			args []string
			want string
		}{
			{"a value the schema refuses", []string{"whatsapp_message_status_updated", "--set", "/body/status=seen"}, `/body/status: value "seen" is not one of`},
			{"a member the schema does not define", []string{"whatsapp_message_status_updated", "--set", "/body/colour=red"}, "/body/colour: the contract defines no such field"},
			{"an unknown event type", []string{"whatsapp_message_sent"}, "known: chat_mo_message_notify"},
			{"an unknown app", []string{"otp_status_report", "--app", "NOSUCHAPPKEY00000"}, "HTTP 404"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, stderr, err := runCLI(t, append([]string{"trigger", "--sandbox", url}, tc.args...)...)
				assert.Equal(t, exitError{code: 1}, err)
				assert.Contains(t, stderr, "innosandbox trigger: the sandbox refused")
				assert.Contains(t, stderr, tc.want)
			})
		}
	})
	t.Run("dropped says why", func(t *testing.T) {
		resp, err := http.Post(url+"/_sandbox/accounts", "application/json", strings.NewReader(`{"label":"empty"}`))
		require.NoError(t, err)
		var acct struct{ Name string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&acct))
		resp.Body.Close()
		stdout, stderr, err := runCLI(t, "trigger", "whatsapp_template_status_updated", "--sandbox", url, "--account", acct.Name)
		require.NoError(t, err, stderr)
		assert.Contains(t, stdout, "dropped: no app was named and account "+acct.Name+" has no default app")
	})
	t.Run("flag mistakes and a sandbox that is not there", func(t *testing.T) {
		_, _, err := runCLI(t, "trigger", "x", "--sandbox", url, "--set", "nothing")
		assert.ErrorContains(t, err, "write it as /json/pointer=value")
		_, _, err = runCLI(t, "trigger")
		assert.Error(t, err, "the event type is required")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		closed := "http://" + ln.Addr().String()
		require.NoError(t, ln.Close())
		_, _, err = runCLI(t, "trigger", "otp_status_report", "--sandbox", closed)
		assert.ErrorContains(t, err, "is the sandbox running at "+closed)
	})
}

func TestTriggerCommandWithAnAdminToken(t *testing.T) {
	url, pushes := triggerSandbox(t, "let-me-in-0123456789")
	_, stderr, err := runCLI(t, "trigger", "whatsapp_mo_message_received", "--sandbox", url)
	assert.Equal(t, exitError{code: 1}, err)
	assert.Contains(t, stderr, "HTTP 403")
	t.Setenv("INNOSANDBOX_ADMIN_TOKEN", "let-me-in-0123456789")
	_, stderr, err = runCLI(t, "trigger", "whatsapp_mo_message_received", "--sandbox", url)
	require.NoError(t, err, stderr)
	waitPushes(t, pushes, 1)
}

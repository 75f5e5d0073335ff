package mockserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/spec"
)

// The seed's demo credentials (fixtures/seed.yaml).
const (
	demoAppKey  = "XFbZY1rtTKo3UD4n1"
	demoToken   = "YUIYIUIAIIASUDIAOSIDUOIWUOQWUEOIUWOEUQWOEUOQWUOUWOUWQOWU"
	demoNumber  = "8618912123456"
	demoWABA    = "110129512080569"
	demoAccount = "IW1000001"
	userNumber  = "6285234567899"
)

var loadSpec = sync.OnceValue(spec.MustLoadEmbedded)

// sandbox is a running in-process sandbox for one test.
type sandbox struct {
	t     *testing.T
	srv   *mockserver.Server
	url   string
	admin string // the admin token the sandbox was started with
}

// newSandbox starts a strict sandbox on a fresh memory store, with its
// dispatcher running until the test ends.
func newSandbox(t *testing.T, tweak ...func(*mockserver.Config)) *sandbox {
	t.Helper()
	return newSandboxOn(t, memstore.New(), tweak...)
}

func newSandboxOn(t *testing.T, store state.Store, tweak ...func(*mockserver.Config)) *sandbox {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := mockserver.Config{Spec: loadSpec(), Store: store, Strict: true,
		Dispatch: mockserver.DispatchConfig{PollInterval: 50 * time.Millisecond, Timeout: 2 * time.Second}}
	for _, f := range tweak {
		f(&cfg)
	}
	srv, err := mockserver.New(ctx, cfg)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	ts := httptest.NewServer(srv)
	srv.AddListener(ts.Listener.Addr()) // as serve does: pushes never reach the sandbox itself
	sb := &sandbox{t: t, srv: srv, url: ts.URL, admin: cfg.AdminToken}
	t.Cleanup(func() {
		ts.Close()
		cancel()
		<-done
		require.Zero(t, srv.SchemaViolations(), "the sandbox pushed payloads that break their schema")
	})
	// The demo app's user has written to the demo number, so that text
	// messages to them are inside the 24-hour window.
	sb.converse("", demoNumber, userNumber)
	return sb
}

// logTo is a Config tweak that sends the server's log, as JSON lines from
// level up, to logs.
func logTo(logs io.Writer, level slog.Level) func(*mockserver.Config) {
	return func(c *mockserver.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level}))
	}
}

// response is what a test looks at.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) envelope(t *testing.T) mockserver.Envelope {
	t.Helper()
	var e mockserver.Envelope
	require.NoError(t, json.Unmarshal(r.body, &e), "body: %s", r.body)
	return e
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

// do sends a request with exactly the given headers (each value list as is).
func (s *sandbox) do(method, path string, body string, header http.Header) response {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewBufferString(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	require.NoError(s.t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// control calls the control API with a JSON body (v marshalled unless it is a string).
func (s *sandbox) control(method, path string, v any, account string) response {
	s.t.Helper()
	var body string
	switch b := v.(type) {
	case nil:
	case string:
		body = b
	default:
		raw, err := json.Marshal(b)
		require.NoError(s.t, err)
		body = string(raw)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if account != "" {
		h["X-Sandbox-Account"] = []string{account}
	}
	return s.do(method, path, body, h)
}

// must requires a status and returns the response.
func (r response) must(t *testing.T, status int) response {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	return r
}

// refusal is a table test's case of a request the API refuses: the body
// sent, and the status, code and a part of the message expected.
type refusal struct {
	name   string
	body   string
	status int
	code   string
	want   string
}

// publicHeaders are the three headers of a valid public API call.
func publicHeaders(appKey, token string) http.Header {
	return http.Header{
		"Content-Type":  {"application/json;charset=utf-8"},
		"Appkey":        {appKey},
		"Authorization": {token},
	}
}

// textSend is a valid text message body (one recipient).
func textSend(recipients string) string {
	return `{"wabaId":"` + demoWABA + `","messageType":"text","sendNumber":"` + demoNumber + `","recipientNumber":"` + recipients + `","body":"Thanks for your reply."}`
}

// bodyWith is the JSON of base with field k set to v, or removed when v is
// nil: a valid request body with one thing changed.
func bodyWith(t *testing.T, base map[string]any, k string, v any) string {
	t.Helper()
	m := maps.Clone(base)
	if v == nil {
		delete(m, k)
	} else {
		m[k] = v
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

// account creates a fresh account with one app (made default when asked)
// and a token; it returns the account name, the AppKey and the token.
func (s *sandbox) account(makeDefault bool) (string, string, string) {
	s.t.Helper()
	var acct struct{ Name string }
	s.control("POST", "/_sandbox/accounts", map[string]any{"label": s.t.Name()}, "").must(s.t, 201).decode(s.t, &acct)
	var app struct{ AppKey string }
	s.control("POST", "/_sandbox/apps", map[string]any{"name": "app", "default": makeDefault}, acct.Name).must(s.t, 201).decode(s.t, &app)
	var tok struct{ Token string }
	s.control("POST", "/_sandbox/apps/"+app.AppKey+"/tokens", nil, "").must(s.t, 201).decode(s.t, &tok)
	s.converse(acct.Name, demoNumber, userNumber, otherUser)
	return acct.Name, app.AppKey, tok.Token
}

// otherUser is a second user the test accounts are in conversation with.
const otherUser = "6285234567800"

// converse has each user write to the business number (a simulated inbound
// message), which opens WhatsApp's 24-hour window for text messages to them.
func (s *sandbox) converse(account, business string, users ...string) {
	s.t.Helper()
	for _, u := range users {
		h := http.Header{"Content-Type": {"application/json"}, "X-Sandbox-Admin-Token": {s.admin}}
		if account != "" {
			h["X-Sandbox-Account"] = []string{account}
		}
		s.do("POST", "/_sandbox/events/inbound", `{"to":"`+business+`","from":"`+u+`","text":{"body":"hi"}}`, h).must(s.t, 201)
	}
}

// receiver records the pushes it gets and answers with the statuses queued
// (then 200).
type receiver struct {
	mu       sync.Mutex
	got      []received
	statuses []int
	header   http.Header // added to every answer
	srv      *httptest.Server
}

type received struct {
	method string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	return newReceiverOn(t, nil, statuses...)
}

// newReceiverOn is newReceiver serving on wrap(its listener) when wrap is set.
func newReceiverOn(t *testing.T, wrap func(net.Listener) net.Listener, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{method: req.Method, header: req.Header.Clone(), body: b})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		for k, vs := range r.header {
			w.Header()[k] = vs
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	if wrap != nil {
		r.srv.Listener = wrap(r.srv.Listener)
	}
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

// wait returns once n pushes arrived, failing the test after 5 s.
func (r *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		got := append([]received(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			require.FailNowf(t, "pushes missing", "wanted %d pushes, got %d", n, len(got))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339, s) }

// Package sandboxtest runs the InnoPaaS sandbox inside a Go test, the way
// net/http/httptest runs a server: one call, no process to start, no port
// to pick, closed when the test ends.
//
//	sb := sandboxtest.New(t)                     // memory store, 127.0.0.1:0, closed by t.Cleanup
//	client := myclient.New(sb.URL, sb.AppKey, sb.Authorization)
//	rcv := sb.NewReceiver(t, "whatsapp")         // the demo app's WhatsApp webhook, every event
//	sb.Inbound(t, sandboxtest.Inbound{Text: "hi"}) // the user writes first: WhatsApp's 24-hour window
//	msgID := client.SendText(...)
//	sb.Advance(t, 3*time.Second)                 // the demo account's clock: the reports come due
//	p := rcv.WaitFor(t, "whatsapp_message_status_updated", 5*time.Second)
//	p.Type; p.Header; p.Body                      // the push as the receiver got it
//
// Every New is a sandbox of its own (its own store, clock and port), so
// tests may run with t.Parallel() and -race. Options choose the store (a
// SQLite file survives Restart), the seed and the settings of `innosandbox
// serve` that change behaviour. The sandbox is strict by default: an
// answer or a push that breaks the contract fails the test.
//
// Waiting never polls: Receiver.WaitFor wakes when a push arrives, and
// WaitDelivery long-polls the delivery log (GET /_sandbox/deliveries with
// wait), which the sandbox answers as soon as a delivery matches.
package sandboxtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/fixtures"
	"github.com/innosandbox/innosandbox/internal/localsandbox"
	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/spec"
)

// TB is what the package needs of a test: *testing.T, *testing.B and
// *testing.F have it, and so does Standalone (for TestMain, examples and
// programs).
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// Sandbox is a sandbox running in this process for one test.
type Sandbox struct {
	// URL is the base URL of both APIs, e.g. http://127.0.0.1:41234: the
	// public API (/api/...) and the control API (/_sandbox/...).
	URL string
	// AppKey and Authorization are the demo app's credentials (the seed's
	// default app): the Appkey and Authorization headers of the public API.
	AppKey, Authorization string
	// Account is the demo app's account, whose clock Advance moves.
	Account string
	// Number and WABA are the demo account's first WhatsApp Business
	// Account and its first sending number (bound to the demo app).
	Number, WABA string

	local      *localsandbox.Sandbox
	spec       *spec.Spec
	adminToken string
	client     *http.Client
}

// loadSpec reads the embedded contract once for every sandbox of a process.
var loadSpec = sync.OnceValues(func() (*spec.Spec, error) { return spec.Load(context.Background(), spec.Sources{}) })

// New starts a sandbox and closes it when the test ends. It fails t when
// the sandbox cannot start.
func New(t TB, opts ...Option) *Sandbox {
	t.Helper()
	sb, err := start(t, opts)
	if err != nil {
		t.Fatalf("sandboxtest: starting the sandbox: %v", err)
		return nil
	}
	t.Cleanup(func() {
		if err := sb.local.Close(); err != nil {
			t.Fatalf("sandboxtest: closing the sandbox: %v", err)
		}
		if n := sb.local.SchemaViolations(); n > 0 {
			t.Fatalf("sandboxtest: the sandbox pushed %d payloads that break their schema (a bug of the sandbox)", n)
		}
	})
	return sb
}

func start(t TB, opts []Option) (*Sandbox, error) {
	o := options{strict: true}
	for _, opt := range opts {
		opt(&o)
	}
	sp, err := loadSpec()
	if err != nil {
		return nil, err
	}
	seed := o.seed
	if seed == nil {
		if seed, err = fixtures.LoadSeed(o.seedFile); err != nil {
			return nil, err
		}
	}
	open, err := o.storeOpener(t)
	if err != nil {
		return nil, err
	}
	build := func(ctx context.Context) (*mockserver.Server, io.Closer, error) {
		store, kind, err := open(ctx)
		if err != nil {
			return nil, nil, err
		}
		cfg := mockserver.Config{Spec: sp, Store: store, StoreKind: kind, Seed: seed, Strict: o.strict}
		for _, f := range o.config {
			f(&cfg)
		}
		srv, err := mockserver.New(ctx, cfg)
		if err != nil {
			_ = store.Close()
			return nil, nil, err
		}
		return srv, store, nil
	}
	local, err := localsandbox.Start(context.Background(), "127.0.0.1:0", build)
	if err != nil {
		return nil, err
	}
	sb := &Sandbox{URL: local.URL(), local: local, spec: sp, adminToken: o.adminToken, client: loopbackClient()}
	sb.demo(seed)
	return sb, nil
}

// loopbackClient calls the sandbox directly, never through a proxy.
func loopbackClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	return &http.Client{Transport: tr}
}

// demo takes the demo app and account from the seed: the first account,
// its default app (else its first), its first WABA and number.
func (sb *Sandbox) demo(seed *fixtures.Seed) {
	if len(seed.Accounts) == 0 {
		return
	}
	a := seed.Accounts[0]
	sb.Account = a.Name
	for i, app := range a.Apps {
		if app.Default || i == 0 {
			sb.AppKey, sb.Authorization = app.AppKey, app.Token
		}
		if app.Default {
			break
		}
	}
	if len(a.Wabas) > 0 {
		sb.WABA = a.Wabas[0].ID
		if len(a.Wabas[0].Numbers) > 0 {
			sb.Number = a.Wabas[0].Numbers[0]
		}
	}
}

// Server is the running server, for what the HTTP APIs do not offer (e.g.
// Server().WatchDeliveries). It changes at Restart.
func (sb *Sandbox) Server() *mockserver.Server { return sb.local.Server() }

// Spec is the contract the sandbox serves.
func (sb *Sandbox) Spec() *spec.Spec { return sb.spec }

// Restart stops the sandbox and starts it again at the same URL on the same
// state, as a process restart would: deliveries pending are pushed after it.
func (sb *Sandbox) Restart(t TB) {
	t.Helper()
	if err := sb.local.Restart(context.Background()); err != nil {
		t.Fatalf("sandboxtest: restarting the sandbox: %v", err)
	}
}

// Advance moves the demo account's sandbox clock forward by d: status
// reports, retries and token expiries due by then come due now. Pushes in
// flight are recorded first (for up to settleTimeout), so that the retry of
// a push the receiver just refused is moved too: a receiver sees a push
// before the sandbox has its answer.
func (sb *Sandbox) Advance(t TB, d time.Duration) {
	t.Helper()
	sb.settle()
	sb.Control(t, http.MethodPost, "/_sandbox/clock/advance", map[string]string{"by": d.String()}, nil)
}

// settleTimeout bounds how long Advance waits for pushes in flight.
const settleTimeout = 10 * time.Second

// settle waits until none of the demo account's deliveries is in flight
// (claimed by the dispatcher, its attempt not recorded yet), waking on the
// delivery log's changes.
func (sb *Sandbox) settle() {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	srv := sb.Server()
	w := srv.WatchDeliveries()
	for {
		list, err := srv.Sandbox().ListEvents(ctx, state.EventFilter{Account: sb.Account, Status: state.EventPending, Limit: 1000})
		if err != nil || !slices.ContainsFunc(list, inFlight) {
			return
		}
		if !w.Wait(ctx) {
			return
		}
	}
}

// inFlight says whether a dispatcher holds a delivery now.
func inFlight(e state.Event) bool { return e.LeaseOwner != "" && e.LeaseUntil.After(time.Now()) }

// Now is the demo account's sandbox time.
func (sb *Sandbox) Now(t TB) time.Time {
	t.Helper()
	var c struct {
		Now time.Time `json:"now"`
	}
	sb.Control(t, http.MethodGet, "/_sandbox/clock", nil, &c)
	return c.Now
}

// Control calls the control API on the demo account (X-Sandbox-Account)
// with body as JSON (nil: none) and decodes a 2xx answer into out (nil:
// ignored). A refusal fails t with the sandbox's message. It is the way to
// anything this package has no method for, e.g. templates or tokens.
func (sb *Sandbox) Control(t TB, method, path string, body, out any) {
	t.Helper()
	status, answer, err := sb.call(context.Background(), method, path, body)
	if err != nil {
		t.Fatalf("sandboxtest: %s %s: %v", method, path, err)
		return
	}
	if status < 200 || status > 299 {
		t.Fatalf("sandboxtest: %s %s: the sandbox refused (HTTP %d): %s", method, path, status, message(answer))
		return
	}
	if out != nil && status != http.StatusNoContent {
		if err := json.Unmarshal(answer, out); err != nil {
			t.Fatalf("sandboxtest: %s %s: decoding the answer: %v", method, path, err)
		}
	}
}

// call sends one control call and returns its status and body.
func (sb *Sandbox) call(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, sb.URL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if sb.Account != "" {
		req.Header.Set(mockserver.HeaderAccount, sb.Account)
	}
	if sb.adminToken != "" {
		req.Header.Set("X-Sandbox-Admin-Token", sb.adminToken)
	}
	resp, err := sb.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, answer, err
}

// message is a refusal's message (the envelope's), else the body.
func message(answer []byte) string {
	var env struct{ Message string }
	if json.Unmarshal(answer, &env) == nil && env.Message != "" {
		return env.Message
	}
	return strings.TrimSpace(string(answer))
}

// query is a filter as GET /_sandbox/deliveries takes it.
func (f Filter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"appKey": f.App, "type": f.Type, "status": f.Status, "messageId": f.MessageID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", fmt.Sprint(f.Limit))
	}
	return q
}

// Standalone is a TB for code outside a test function: TestMain (one
// sandbox for a package's tests), a godoc example or a program. Fatalf
// panics with the message; Close runs the cleanups, newest first.
type Standalone struct {
	mu       sync.Mutex
	cleanups []func()
}

// NewStandalone returns a Standalone; Close it when done.
func NewStandalone() *Standalone { return &Standalone{} }

// Helper implements TB.
func (*Standalone) Helper() {}

// Cleanup implements TB: f runs at Close.
func (s *Standalone) Cleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

// Fatalf implements TB: it panics with the message.
func (*Standalone) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// Logf implements TB: it writes the line to standard error.
func (*Standalone) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

// Close runs the cleanups, newest first.
func (s *Standalone) Close() {
	s.mu.Lock()
	list := s.cleanups
	s.cleanups = nil
	s.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		list[i]()
	}
}

package replicas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/postgres"
	"github.com/innosandbox/innosandbox/mockserver/state/postgres/pgtest"
	"github.com/innosandbox/innosandbox/spec"
)

// The seed's demo credentials and WhatsApp setup (fixtures/seed.yaml).
const (
	demoAppKey  = "XFbZY1rtTKo3UD4n1"
	demoToken   = "YUIYIUIAIIASUDIAOSIDUOIWUOQWUEOIUWOEUQWOEUOQWUOUWOUWQOWU"
	demoAccount = "IW1000001"
	demoWABA    = "110129512080569"
	demoNumber  = "8618912123456"
	userNumber  = "6285234567899"
)

// templateSend is a send the demo app may make at any time: an approved
// template, from the WABA's number.
const templateSend = `{"wabaId":"` + demoWABA + `","messageType":"template","sendNumber":"` + demoNumber +
	`","recipientNumber":"` + userNumber + `","templateName":"otp_login","language":"en_US","bodyParams":["245098"]}`

var loadSpec = sync.OnceValue(spec.MustLoadEmbedded)

// replica is one sandbox process, as far as the database can tell: its own
// store (pool), server, dispatcher and listener.
type replica struct {
	t    testing.TB
	name string
	url  string
	srv  *mockserver.Server
	sent atomic.Int64 // webhook requests its dispatcher made
}

// options tune the replicas a test starts.
type options struct {
	workers int // dispatcher workers per replica (the dispatcher's default when 0)
	// load tunes a replica for throughput (TestDeliveryLoad): reports due
	// at once, answers not checked against the spec, up to 64 attempts at
	// a time to one receiver.
	load bool
	// poll is the dispatchers' fallback poll interval (50ms when 0).
	poll time.Duration
}

// start starts a replica on dsn, stopped when the test ends.
func start(t testing.TB, name, dsn string, o options) *replica {
	t.Helper()
	r, err := tryStart(t, name, dsn, o)
	require.NoError(t, err)
	return r
}

// tryStart is start for goroutines other than the test's, which must not
// end the test themselves.
func tryStart(t testing.TB, name, dsn string, o options) (*replica, error) {
	ctx, cancel := context.WithCancel(context.Background())
	store, err := postgres.Open(ctx, dsn)
	if err != nil {
		cancel()
		return nil, err
	}
	r := &replica{t: t, name: name}
	cfg := mockserver.Config{Spec: loadSpec(), Store: store, StoreKind: "postgres", Strict: true,
		Dispatch: mockserver.DispatchConfig{Owner: name, PollInterval: 50 * time.Millisecond, Timeout: 5 * time.Second, Workers: o.workers}}
	if o.poll > 0 {
		cfg.Dispatch.PollInterval = o.poll
	}
	transport := http.DefaultTransport
	if o.load {
		cfg.Strict, cfg.DeliveredAfter, cfg.ReadAfter = false, time.Millisecond, 2*time.Millisecond
		cfg.Dispatch = mockserver.DispatchConfig{Owner: name, PerHost: 64}
		transport = &http.Transport{MaxIdleConnsPerHost: 64}
	}
	cfg.Dispatch.Client = &http.Client{Transport: countingTransport{&r.sent, transport}, Timeout: 5 * time.Second}
	srv, err := mockserver.New(ctx, cfg)
	if err != nil {
		cancel()
		_ = store.Close()
		return nil, err
	}
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	ts := httptest.NewServer(srv)
	r.url, r.srv = ts.URL, srv
	t.Cleanup(func() {
		ts.Close()
		cancel()
		<-done
		_ = store.Close()
		assert.Zero(t, srv.SchemaViolations(), "%s pushed payloads that break their schema", name)
	})
	return r, nil
}

// pair starts replicas A and B on one fresh schema, one after the other
// (TestReplicasStartAtOnce starts them together).
func pair(t testing.TB, o options) (a, b *replica) {
	t.Helper()
	dsn := pgtest.Schema(t, 8)
	return start(t, "replica-a", dsn, o), start(t, "replica-b", dsn, o)
}

type countingTransport struct {
	n    *atomic.Int64
	next http.RoundTripper
}

func (c countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(req)
}

// response is what a test looks at.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) must(t testing.TB, status int) response {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	return r
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

// code is the envelope's code.
func (r response) code(t testing.TB) string {
	t.Helper()
	var e struct{ Code string }
	r.decode(t, &e)
	return e.Code
}

func (r *replica) do(method, path, body string, header http.Header) response {
	r.t.Helper()
	req, err := http.NewRequest(method, r.url+path, bytes.NewBufferString(body))
	require.NoError(r.t, err)
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(r.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// control calls the control API for the demo account.
func (r *replica) control(method, path string, v any) response {
	r.t.Helper()
	body := ""
	if v != nil {
		b, err := json.Marshal(v)
		require.NoError(r.t, err)
		body = string(b)
	}
	return r.do(method, path, body, http.Header{"Content-Type": {"application/json"}, "X-Sandbox-Account": {demoAccount}})
}

// send makes a template send with the demo app and token.
func (r *replica) send(token string) response {
	r.t.Helper()
	return r.do("POST", "/api/whatsapp/v3/msg/submit", templateSend, http.Header{
		"Content-Type": {"application/json;charset=utf-8"}, "Appkey": {demoAppKey}, "Authorization": {token}})
}

// issue issues a new token for the demo app.
func (r *replica) issue() string {
	r.t.Helper()
	var tok struct{ Token string }
	r.control("POST", "/_sandbox/apps/"+demoAppKey+"/tokens", nil).must(r.t, 201).decode(r.t, &tok)
	return tok.Token
}

func TestTokensAcrossReplicas(t *testing.T) {
	a, b := pair(t, options{})
	b.send(demoToken).must(t, 200)

	t.Run("a token issued on A works on B at once", func(t *testing.T) {
		tok := a.issue()
		assert.Equal(t, "0", b.send(tok).must(t, 200).code(t))
	})
	t.Run("a token superseded on B fails on A at once", func(t *testing.T) {
		old := a.issue()
		a.send(old).must(t, 200)
		cur := b.issue()
		r := a.send(old).must(t, http.StatusUnauthorized)
		assert.Equal(t, "token-superseded", r.header.Get(mockserver.HeaderAuthReason))
		r = b.send(old).must(t, http.StatusUnauthorized)
		assert.Equal(t, "token-superseded", r.header.Get(mockserver.HeaderAuthReason))
		a.send(cur).must(t, 200)
	})
	t.Run("a token revoked on A fails on B at once", func(t *testing.T) {
		cur := b.issue()
		a.control("DELETE", "/_sandbox/apps/"+demoAppKey+"/tokens", nil).must(t, 204)
		r := b.send(cur).must(t, http.StatusUnauthorized)
		assert.Equal(t, "token-revoked", r.header.Get(mockserver.HeaderAuthReason))
	})
}

func TestClockAcrossReplicas(t *testing.T) {
	a, b := pair(t, options{})
	type clock struct {
		OffsetSeconds float64
	}
	var c clock
	a.control("POST", "/_sandbox/clock/advance", map[string]string{"by": "25h"}).must(t, 200).decode(t, &c)
	require.Equal(t, float64(25*3600), c.OffsetSeconds)
	b.control("GET", "/_sandbox/clock", nil).must(t, 200).decode(t, &c)
	assert.Equal(t, float64(25*3600), c.OffsetSeconds, "B reads the clock A advanced")

	// A token that expires in an hour on the sandbox clock expires for
	// both when B moves the clock past it.
	var tok struct{ Token string }
	var now struct{ Now time.Time }
	b.control("GET", "/_sandbox/clock", nil).must(t, 200).decode(t, &now)
	a.control("POST", "/_sandbox/apps/"+demoAppKey+"/tokens", map[string]string{"expiresAt": now.Now.Add(time.Hour).Format(time.RFC3339)}).
		must(t, 201).decode(t, &tok)
	a.send(tok.Token).must(t, 200)
	b.control("POST", "/_sandbox/clock/advance", map[string]string{"by": "2h"}).must(t, 200)
	r := a.send(tok.Token).must(t, http.StatusUnauthorized)
	assert.Equal(t, "token-expired", r.header.Get(mockserver.HeaderAuthReason))
}

// receiver records the event ids pushed to it, answering slowly enough that
// one replica's few workers cannot drain the outbox before the other's
// dispatcher joins in.
type receiver struct {
	mu   sync.Mutex
	ids  map[string]int
	srv  *httptest.Server
	wait time.Duration
}

func newReceiver(t *testing.T, wait time.Duration) *receiver {
	r := &receiver{ids: map[string]int{}, wait: wait}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var ev struct{ ID string }
		_ = json.NewDecoder(req.Body).Decode(&ev)
		time.Sleep(r.wait)
		r.mu.Lock()
		r.ids[ev.ID]++
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.ids))
	for k, v := range r.ids {
		out[k] = v
	}
	return out
}

// TestEachReportDeliveredOnce: sends on both replicas cause status reports
// that both dispatchers race for; the receiver gets each exactly once, none
// is lost, and both replicas take part.
func TestEachReportDeliveredOnce(t *testing.T) {
	a, b := pair(t, options{workers: 4})
	recv := newReceiver(t, 10*time.Millisecond)
	a.control("POST", "/_sandbox/apps/"+demoAppKey+"/webhooks", map[string]any{"product": "whatsapp", "url": recv.srv.URL,
		"events": []string{"whatsapp_message_status_updated"}}).must(t, 201)

	const sends = 100 // two reports each: delivered and read
	for i := range sends {
		r := a
		if i%2 == 1 {
			r = b
		}
		r.send(demoToken).must(t, 200)
	}
	// Everything comes due at once.
	b.control("POST", "/_sandbox/clock/advance", map[string]string{"by": "10s"}).must(t, 200)

	deadline := time.Now().Add(30 * time.Second)
	for len(recv.snapshot()) < 2*sends && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a duplicate would arrive in this time
	got := recv.snapshot()
	assert.Len(t, got, 2*sends, "every report arrived")
	for id, n := range got {
		assert.Equal(t, 1, n, "report %s arrived %d times", id, n)
	}
	var deliveries []struct{ Status string }
	a.control("GET", "/_sandbox/deliveries?status=pending&limit=1000", nil).must(t, 200).decode(t, &deliveries)
	assert.Empty(t, deliveries, "nothing left pending")
	t.Logf("pushes made by A: %d, by B: %d", a.sent.Load(), b.sent.Load())
	assert.Positive(t, a.sent.Load(), "A's dispatcher took part")
	assert.Positive(t, b.sent.Load(), "B's dispatcher took part")
	assert.Equal(t, int64(2*sends), a.sent.Load()+b.sent.Load(), "no report was pushed twice")
}

// TestTokenRotationRace: both replicas rotate the demo app's token 100
// times at once. Exactly one of the 200 tokens works at the end, on both.
func TestTokenRotationRace(t *testing.T) {
	a, b := pair(t, options{})
	const perReplica, workers = 100, 4
	var mu sync.Mutex
	var issued []string
	var wg sync.WaitGroup
	for _, r := range []*replica{a, b} {
		for range workers {
			wg.Go(func() {
				for range perReplica / workers {
					tok := r.issue()
					mu.Lock()
					issued = append(issued, tok)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	require.Len(t, issued, 2*perReplica)

	// Which tokens authenticate: a send with an empty body is refused with
	// 401 before its body is looked at, or gets past authentication to a
	// 400.
	authenticates := func(r *replica, tok string) bool {
		resp := r.do("POST", "/api/whatsapp/v3/msg/submit", "{}", http.Header{
			"Content-Type": {"application/json;charset=utf-8"}, "Appkey": {demoAppKey}, "Authorization": {tok}})
		switch resp.status {
		case http.StatusUnauthorized:
			assert.Equal(t, "token-superseded", resp.header.Get(mockserver.HeaderAuthReason))
			return false
		case http.StatusBadRequest:
			return true
		}
		t.Fatalf("unexpected answer %d: %s", resp.status, resp.body)
		return false
	}
	var valid []string
	for _, tok := range issued {
		onA, onB := authenticates(a, tok), authenticates(b, tok)
		assert.Equal(t, onA, onB, "A and B agree on a token")
		if onA {
			valid = append(valid, tok)
		}
	}
	require.Len(t, valid, 1, "exactly one token is valid")
	a.send(valid[0]).must(t, 200)
	b.send(valid[0]).must(t, 200)

	var tokens []struct{ State string }
	b.control("GET", "/_sandbox/apps/"+demoAppKey+"/tokens", nil).must(t, 200).decode(t, &tokens)
	current := 0
	for _, tok := range tokens {
		if tok.State == "current" {
			current++
		}
	}
	assert.Equal(t, 1, current, "one current token in the history")
	assert.Equal(t, "current", tokens[0].State, "the newest is the current one")
}

// TestReplicasStartAtOnce: two replicas started together on an empty
// database both come up (one migrates and seeds, the other finds that done
// or under way) and share the seeded demo app.
func TestReplicasStartAtOnce(t *testing.T) {
	dsn := pgtest.Schema(t, 8)
	rs := make([]*replica, 2)
	errs := make([]error, len(rs))
	var wg sync.WaitGroup
	for i := range rs {
		wg.Go(func() { rs[i], errs[i] = tryStart(t, fmt.Sprint("replica-", i), dsn, options{}) })
	}
	wg.Wait()
	for i := range rs {
		require.NoError(t, errs[i], "replica %d", i)
	}
	tok := rs[0].issue()
	rs[1].send(tok).must(t, 200)
	var accounts []struct{ Name string }
	rs[1].control("GET", "/_sandbox/accounts", nil).must(t, 200).decode(t, &accounts)
	assert.Len(t, accounts, 1, "seeded once")
}

// TestDatabaseDroppedAndRestored: a replica whose database connection is
// cut answers 503 (envelope code "503"), never a 401, on the public API,
// the control API and /healthz, and answers 200 again once the database is
// back, without a restart.
func TestDatabaseDroppedAndRestored(t *testing.T) {
	dsn := pgtest.Schema(t, 4)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	proxy := pgtest.NewProxy(t, u.Host)
	r := start(t, "replica-a", pgtest.WithHost(t, dsn, proxy.Addr()), options{})
	r.send(demoToken).must(t, 200)
	r.do("GET", "/healthz", "", nil).must(t, 200)

	proxy.Cut()
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		resp := r.send(demoToken)
		require.Equal(t, http.StatusServiceUnavailable, resp.status, "public API while the database is away: %s", resp.body)
		assert.Equal(t, "503", resp.code(t))
		assert.Empty(t, resp.header.Get(mockserver.HeaderAuthReason), "no authentication verdict without the store")
		resp = r.send("not-a-token")
		assert.Equal(t, http.StatusServiceUnavailable, resp.status, "a wrong token cannot be judged either: %s", resp.body)
		assert.Equal(t, http.StatusServiceUnavailable, r.do("GET", "/healthz", "", nil).status)
		assert.Equal(t, http.StatusServiceUnavailable, r.control("GET", "/_sandbox/clock", nil).status)
	}

	proxy.Restore()
	deadline := time.Now().Add(15 * time.Second)
	for r.send(demoToken).status != http.StatusOK {
		require.True(t, time.Now().Before(deadline), "the sandbox did not recover")
		time.Sleep(50 * time.Millisecond)
	}
	for range 20 {
		r.send(demoToken).must(t, 200)
	}
	r.do("GET", "/healthz", "", nil).must(t, 200)
	r.send("not-a-token").must(t, http.StatusUnauthorized)
}

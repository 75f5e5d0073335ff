package replicas_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state/postgres/pgtest"
)

// hookInbound points the demo app's WhatsApp webhook at url for users'
// messages (pushed as soon as they are raised).
func (r *replica) hookInbound(url string) {
	r.t.Helper()
	r.control("POST", "/_sandbox/apps/"+demoAppKey+"/webhooks", map[string]any{"product": "whatsapp", "url": url,
		"events": []string{"whatsapp_mo_message_received"}}).must(r.t, 201)
}

// inbound has the demo user write to the demo number: a push due now.
func (r *replica) inbound() {
	r.t.Helper()
	r.control("POST", "/_sandbox/events/inbound", map[string]any{"to": demoNumber, "from": userNumber,
		"text": map[string]any{"body": "hi"}}).must(r.t, 201)
}

// arrivals is a receiver that notes each push's event id as it arrives; the
// first 'hold' pushes get no answer until release is called.
type arrivals struct {
	ids     chan string
	hold    int
	mu      sync.Mutex
	held    int
	release chan struct{}
	once    sync.Once
	srv     *httptest.Server
}

func newArrivals(t testing.TB, hold int) *arrivals {
	a := &arrivals{ids: make(chan string, 100), hold: hold, release: make(chan struct{})}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var ev struct{ ID string }
		_ = json.NewDecoder(req.Body).Decode(&ev)
		a.mu.Lock()
		held := a.held < a.hold
		if held {
			a.held++
		}
		a.mu.Unlock()
		a.ids <- ev.ID
		if held {
			<-a.release
		}
	}))
	t.Cleanup(func() { a.free(); a.srv.Close() })
	return a
}

func (a *arrivals) free() { a.once.Do(func() { close(a.release) }) }

// next returns the next push's event id, failing the test after wait.
func (a *arrivals) next(t testing.TB, wait time.Duration, what string) string {
	t.Helper()
	select {
	case id := <-a.ids:
		return id
	case <-time.After(wait):
		require.FailNow(t, "no push arrived", what)
		return ""
	}
}

// TestADeliveryRaisedOnABusyReplicaIsTakenByAnother: replica A's
// dispatcher takes nothing (stopped, as if saturated); a push raised on A
// is delivered by B's, woken by A's notification: its dispatcher polls
// only every hour, so without the notification it would not look before
// the test gives up.
func TestADeliveryRaisedOnABusyReplicaIsTakenByAnother(t *testing.T) {
	a, b := pair(t, options{poll: time.Hour})
	recv := newArrivals(t, 0)
	a.hookInbound(recv.srv.URL)
	a.srv.StopDispatching()

	for i := range 3 {
		a.inbound()
		recv.next(t, 30*time.Second, "B was not woken to take the push raised on A")
		assert.Zero(t, a.sent.Load(), "A's dispatcher is stopped")
		assert.Equal(t, int64(i+1), b.sent.Load(), "B pushed it")
	}
}

// TestAKilledReplicasClaimsAreTakenByAnother: replica A claims pushes and
// is cut off from the database while its attempts hang (as a process
// killed with kill -9: no release, no renewal). Its leases are short and
// were only kept alive by renewal, so B takes the pushes once they end,
// without A ever handing them back.
func TestAKilledReplicasClaimsAreTakenByAnother(t *testing.T) {
	dsn := pgtest.Schema(t, 8)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	proxy := pgtest.NewProxy(t, u.Host)
	const pushes = 3
	recv := newArrivals(t, pushes)
	a := start(t, "replica-a", pgtest.WithHost(t, dsn, proxy.Addr()), options{})
	a.hookInbound(recv.srv.URL)
	held := map[string]bool{}
	for range pushes {
		a.inbound()
	}
	for range pushes {
		held[recv.next(t, 30*time.Second, "A did not push")] = true
	}
	// A's attempts hang, its leases renewed meanwhile; then A dies.
	time.Sleep(time.Second)
	proxy.Cut()
	cut := time.Now()

	b := start(t, "replica-b", dsn, options{poll: 100 * time.Millisecond})
	got := map[string]bool{}
	for range pushes {
		got[recv.next(t, 20*time.Second, "B did not take A's claims (a lease of the old 35s would end later)")] = true
	}
	t.Logf("B took A's %d claims %s after A was cut off", pushes, time.Since(cut).Round(10*time.Millisecond))
	assert.Equal(t, held, got, "B pushed exactly what A held")
	assert.Equal(t, int64(pushes), b.sent.Load())
	recv.free()
}

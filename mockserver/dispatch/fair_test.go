package dispatch_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/dispatch"
)

// hungReceiver holds every request until the test ends, counting those it
// holds at once.
type hungReceiver struct {
	srv           *httptest.Server
	holding, peak atomic.Int32
	release       chan struct{}
	releaseOnce   sync.Once
}

func newHungReceiver(t *testing.T) *hungReceiver {
	h := &hungReceiver{release: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := h.holding.Add(1)
		for {
			p := h.peak.Load()
			if n <= p || h.peak.CompareAndSwap(p, n) {
				break
			}
		}
		select {
		case <-h.release:
		case <-r.Context().Done():
		}
		h.holding.Add(-1)
	}))
	t.Cleanup(func() { h.releaseOnce.Do(func() { close(h.release) }); h.srv.Close() })
	return h
}

func TestHungReceiversOfOneAccountLeaveWorkersForOthers(t *testing.T) {
	const workers, perHost = 8, 2
	var hung []*hungReceiver
	var ds []dispatch.Delivery
	for i := range 4 { // 4 × perHost = every worker, were there no shares
		h := newHungReceiver(t)
		hung = append(hung, h)
		for j := range 3 {
			d := delivery(h.srv.URL, 1)
			d.ID, d.Account = fmt.Sprintf("a-%d-%d", i, j), "A"
			ds = append(ds, d)
		}
	}
	var fastHits atomic.Int32
	fast := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { fastHits.Add(1) }))
	defer fast.Close()
	q := newQueue(ds...)
	d := run(t, q, dispatch.Options{Workers: workers, PerHost: perHost, Timeout: time.Minute, Grace: 50 * time.Millisecond})
	holding := func() int32 {
		n := int32(0)
		for _, h := range hung {
			n += h.holding.Load()
		}
		return n
	}
	require.Eventually(t, func() bool { return holding() == workers/2 }, 5*time.Second, 5*time.Millisecond,
		"account A alone may hold half the workers")
	assert.Never(t, func() bool { return holding() > workers/2 }, 100*time.Millisecond, 5*time.Millisecond)

	for i := range 4 {
		b := delivery(fast.URL, 1)
		b.ID, b.Account = fmt.Sprintf("b-%d", i), "B"
		q.add(b)
	}
	d.Notify()
	for range 4 {
		r := q.next(t) // within seconds, while A's attempts hang for a minute
		assert.Equal(t, dispatch.OutcomeDelivered, r.Outcome)
		assert.Contains(t, r.DeliveryID, "b-")
	}
	assert.EqualValues(t, 4, fastHits.Load())
	assert.EqualValues(t, workers/2, holding(), "A's attempts are still hanging")
}

func TestOneReceiverSpeltSeveralWaysIsOneDestination(t *testing.T) {
	const perHost = 2
	h := newHungReceiver(t)
	u, err := url.Parse(h.srv.URL)
	require.NoError(t, err)
	var ds []dispatch.Delivery
	for i, host := range []string{"127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]", "0x7f.1"} {
		for j := range 2 {
			d := delivery("http://"+host+":"+u.Port()+"/hook", 1)
			d.ID = fmt.Sprintf("ev-%d-%d", i, j)
			ds = append(ds, d)
		}
	}
	run(t, newQueue(ds...), dispatch.Options{Workers: 64, PerHost: perHost, Timeout: time.Minute, Grace: 50 * time.Millisecond})
	require.Eventually(t, func() bool { return h.holding.Load() == perHost }, 5*time.Second, 5*time.Millisecond)
	assert.Never(t, func() bool { return h.peak.Load() > perHost }, 300*time.Millisecond, 5*time.Millisecond,
		"five spellings of one address share its %d slots", perHost)
}

package mockserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/mockserver/state/storetest"
)

// TestTheJanitorKeepsTheLogAndTheHeapBounded: round after round of pushes
// with large payloads, the delivery log never holds more than the
// retention count of finished events, and the heap after the last round is
// what it was after the first few: nothing accumulates.
func TestTheJanitorKeepsTheLogAndTheHeapBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes 6,000 webhooks")
	}
	const rounds, perRound, keep = 60, 100, 150
	// The memory store's own cap is set far out of reach: the janitor alone
	// bounds the log.
	store := memstore.NewWithOptions(memstore.Options{MaxEvents: 1 << 30, MaxMessages: 1 << 30})
	s := newSandboxOn(t, store, func(c *mockserver.Config) {
		c.Retention = mockserver.Retention{Keep: keep, MaxAge: time.Hour, Interval: time.Hour} // pruned by hand below
	})
	// A receiver that keeps nothing, so that the heap is the sandbox's.
	var pushes atomic.Int64
	recv := &receiver{srv: httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		pushes.Add(1)
	}))}
	t.Cleanup(recv.srv.Close)
	acct, appKey, _ := s.account(true) // the default app: inbound messages go to it
	hookAll(t, s, appKey, "whatsapp", recv, nil)
	// A 2 KiB text per push, so that what is kept weighs.
	text := fmt.Sprintf("%02048d", 0)

	var warm uint64
	for round := 1; round <= rounds; round++ {
		for range perRound {
			s.control("POST", "/_sandbox/events/inbound", map[string]any{"to": demoNumber, "from": userNumber, "text": map[string]any{"body": text}}, acct).must(t, 201)
		}
		require.Eventually(t, func() bool {
			var pending []json.RawMessage
			s.control("GET", "/_sandbox/deliveries?status=pending&limit=10", nil, acct).must(t, 200).decode(t, &pending)
			return pushes.Load() == int64(round*perRound) && len(pending) == 0
		}, 10*time.Second, time.Millisecond, "round %d delivered and recorded", round)
		_ = s.srv.Prune(context.Background())
		n := s.deliveryCount(acct)
		require.LessOrEqual(t, n, keep, "round %d: the log is bounded by the retention count", round)
		if round == 10 {
			warm = storetest.HeapInUse()
		}
	}
	final := storetest.HeapInUse()
	t.Logf("heap after round 10: %d KiB, after round %d: %d KiB", warm>>10, rounds, final>>10)
	// 50 rounds of 100 pushes of 2 KiB kept would add over 10 MiB; even
	// 80 bytes of bookkeeping left per push would add 400 KiB.
	assert.Less(t, final, warm+256<<10, "the heap does not grow with the number of rounds")
}

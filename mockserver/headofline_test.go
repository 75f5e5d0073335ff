package mockserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/mockserver/state/postgres"
	"github.com/innosandbox/innosandbox/mockserver/state/postgres/pgtest"
	"github.com/innosandbox/innosandbox/mockserver/state/sqlite"
)

// testStores open a fresh store of each kind.
var testStores = map[string]func(t *testing.T) state.Store{
	"memory": func(*testing.T) state.Store { return memstore.New() },
	"sqlite": func(t *testing.T) state.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sandbox.db"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	},
	// A schema of its own on INNOSANDBOX_TEST_POSTGRES_DSN; skipped without it.
	"postgres": func(t *testing.T) state.Store {
		s, err := postgres.Open(context.Background(), pgtest.Schema(t, 8))
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	},
}

// hangingReceiver takes pushes and answers none of them until released.
type hangingReceiver struct {
	mu      sync.Mutex
	holding int // requests it holds right now
	most    int // the most it held at once
	ids     map[string]int
	release chan struct{}
	srv     *httptest.Server
}

func newHangingReceiver(t *testing.T) *hangingReceiver {
	h := &hangingReceiver{ids: map[string]int{}, release: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ ID string }
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &ev)
		h.mu.Lock()
		h.holding++
		h.most = max(h.most, h.holding)
		h.mu.Unlock()
		select {
		case <-h.release:
		case <-r.Context().Done():
		}
		h.mu.Lock()
		h.holding--
		h.ids[ev.ID]++
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hangingReceiver) state() (holding, most, answered int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.holding, h.most, len(h.ids)
}

// ids returns the distinct event ids a receiver got.
func (r *receiver) ids(t *testing.T) map[string]int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, g := range r.got {
		var ev struct{ ID string }
		require.NoError(t, json.Unmarshal(g.body, &ev))
		out[ev.ID]++
	}
	return out
}

// TestAHungReceiverDoesNotHoldUpOthers: a receiver that answers nothing
// gets at most its per-destination share of the attempts; every delivery to
// another receiver arrives meanwhile, although the hung one's backlog is
// older and larger than all the workers.
func TestAHungReceiverDoesNotHoldUpOthers(t *testing.T) {
	const perDest, workers, backlog = 2, 6, 30
	for name, open := range testStores {
		t.Run(name, func(t *testing.T) {
			hung := newHangingReceiver(t)
			s := newSandboxOn(t, open(t), func(c *mockserver.Config) {
				// Attempts to the hung receiver would last far longer than the test.
				c.Dispatch.Timeout, c.Dispatch.PerHost, c.Dispatch.Workers = time.Minute, perDest, workers
			})
			// Answer the hung requests before the sandbox stops.
			t.Cleanup(func() {
				select {
				case <-hung.release:
				default:
					close(hung.release)
				}
			})
			fast := newReceiver(t)
			_, slowApp, _ := s.account(false)
			_, fastApp, _ := s.account(false)
			s.control("POST", "/_sandbox/apps/"+slowApp+"/webhooks", map[string]any{"product": "whatsapp", "url": hung.srv.URL,
				"events": []string{"whatsapp_template_status_updated"}}, "").must(t, 201)
			hookAll(t, s, fastApp, "whatsapp", fast, nil)

			for range backlog {
				s.fire(slowApp)
			}
			require.Eventually(t, func() bool { h, _, _ := hung.state(); return h == perDest }, 5*time.Second, 5*time.Millisecond,
				"the hung receiver gets its attempts")
			want := map[string]int{}
			for range backlog {
				want[s.fire(fastApp).Delivery.ID] = 1
			}
			require.Eventually(t, func() bool { return len(fast.ids(t)) == backlog }, 10*time.Second, 5*time.Millisecond,
				"every push to the other receiver arrives while the hung one holds its attempts")
			assert.Equal(t, want, fast.ids(t), "each once")
			holding, most, answered := hung.state()
			assert.Equal(t, perDest, holding, "the hung receiver still holds its attempts")
			assert.Equal(t, perDest, most, "never more than the per-destination bound at once")
			assert.Zero(t, answered)

			// Once it answers, its backlog drains too.
			close(hung.release)
			require.Eventually(t, func() bool { _, _, n := hung.state(); return n == backlog }, 20*time.Second, 5*time.Millisecond,
				"the hung receiver's backlog is delivered once it answers")
			_, most, _ = hung.state()
			assert.Equal(t, perDest, most)
		})
	}
}

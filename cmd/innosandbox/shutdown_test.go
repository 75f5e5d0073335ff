package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/postgres/pgtest"
	"github.com/innosandbox/innosandbox/mockserver/state/sqlite"
)

// idReceiver counts the pushes of each event id; while hold is set it keeps
// every request open until released.
type idReceiver struct {
	mu      sync.Mutex
	ids     map[string]int
	holding int
	hold    bool
	release chan struct{}
	srv     *httptest.Server
}

func newIDReceiver(t *testing.T, hold bool) *idReceiver {
	r := &idReceiver{ids: map[string]int{}, hold: hold, release: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var ev struct{ ID string }
		b, _ := io.ReadAll(req.Body)
		_ = json.Unmarshal(b, &ev)
		r.mu.Lock()
		hold := r.hold
		if hold {
			r.holding++
		}
		r.mu.Unlock()
		if hold {
			select {
			case <-r.release:
			case <-req.Context().Done():
				r.mu.Lock()
				r.holding--
				r.mu.Unlock()
				return // never answered: not received
			}
			r.mu.Lock()
			r.holding--
			r.mu.Unlock()
		}
		r.mu.Lock()
		r.ids[ev.ID]++
		r.mu.Unlock()
	}))
	t.Cleanup(func() { r.answer(); r.srv.Close() })
	return r
}

// answer lets held requests through and stops holding new ones.
func (r *idReceiver) answer() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold = false
	select {
	case <-r.release:
	default:
		close(r.release)
	}
}

func (r *idReceiver) counts() (holding int, ids map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids = make(map[string]int, len(r.ids))
	for k, v := range r.ids {
		ids[k] = v
	}
	return r.holding, ids
}

// hookedApp creates an app in the default account whose WhatsApp webhook
// pushes to url, and returns its AppKey.
func hookedApp(t *testing.T, c *child, url string) string {
	t.Helper()
	status, _, b := c.call(t, "POST", "/_sandbox/apps", `{"name":"shutdown"}`, nil)
	require.Equal(t, 201, status, "%s", b)
	var app struct{ AppKey string }
	require.NoError(t, json.Unmarshal(b, &app))
	status, _, b = c.call(t, "POST", "/_sandbox/apps/"+app.AppKey+"/webhooks",
		`{"product":"whatsapp","url":"`+url+`","events":["whatsapp_template_status_updated"]}`, nil)
	require.Equal(t, 201, status, "%s", b)
	return app.AppKey
}

// fire triggers n events at an app and returns their ids.
func fire(t *testing.T, c *child, appKey string, n int) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for range n {
		status, _, b := c.call(t, "POST", "/_sandbox/events", `{"type":"whatsapp_template_status_updated","appKey":"`+appKey+`"}`, nil)
		require.Equal(t, 201, status, "%s", b)
		var res struct{ Delivery struct{ ID string } }
		require.NoError(t, json.Unmarshal(b, &res))
		ids[res.Delivery.ID] = 1
	}
	return ids
}

// exited waits for a child to end (a guard against a hang, not a timing
// check) and returns its error: nil for exit status 0.
func (c *child) exited(t *testing.T) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		require.FailNow(t, "the sandbox did not exit", "%s", c.logs)
		return nil
	}
}

// eventsOf reads an app's events straight from a stopped sandbox's file.
func eventsOf(t *testing.T, db, appKey string) map[string]state.Event {
	t.Helper()
	s, err := sqlite.Open(context.Background(), db)
	require.NoError(t, err)
	defer s.Close()
	acct, err := s.GetApp(context.Background(), appKey)
	require.NoError(t, err)
	list, err := s.ListEvents(context.Background(), state.EventFilter{Account: acct.Account, AppKey: appKey, Limit: 1000})
	require.NoError(t, err)
	out := map[string]state.Event{}
	for _, e := range list {
		out[e.ID] = e
	}
	return out
}

// TestSIGTERMFinishesOrHandsBackWhatIsInFlight: on SIGTERM the sandbox stops
// accepting, lets its webhook attempts finish within --shutdown-timeout or
// hands them back to the outbox, exits 0, and the next process delivers
// everything that was due.
func TestSIGTERMFinishesOrHandsBackWhatIsInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sandbox processes")
	}
	const events, perDest = 12, 3
	for _, tc := range []struct {
		name          string
		answerOnTERM  bool // the receiver answers the held attempts once SIGTERM is sent
		wantDelivered int  // recorded delivered when the process has exited
	}{
		{"attempts that end within the timeout are recorded", true, perDest},
		{"attempts still hanging are cancelled and handed back", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "sandbox.db")
			addr := freeAddr(t)
			recv := newIDReceiver(t, true)
			args := []string{"--store", "sqlite:" + db, "--webhook-timeout", "1m", "--shutdown-timeout", "2s",
				"--webhook-per-destination", "3"}
			c := startChild(t, addr, args...)
			appKey := hookedApp(t, c, recv.srv.URL)
			want := fire(t, c, appKey, events)
			require.Eventually(t, func() bool { h, _ := recv.counts(); return h == perDest }, 10*time.Second, 5*time.Millisecond)

			require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
			require.Eventually(t, func() bool {
				resp, err := http.Get(c.base + "/healthz")
				if err == nil {
					resp.Body.Close()
				}
				return err != nil
			}, 10*time.Second, 5*time.Millisecond, "the sandbox stops accepting connections")
			if tc.answerOnTERM {
				recv.answer()
			} else {
				h, _ := recv.counts()
				assert.Equal(t, perDest, h, "connections refused while its attempts were still in flight")
			}
			err := c.exited(t)
			assert.NoError(t, err, "exit status 0: %s", c.logs)
			var ee interface{ ExitCode() int }
			if errors.As(err, &ee) {
				t.Logf("exit code %d", ee.ExitCode())
			}

			// What the next process finds in the file.
			evs := eventsOf(t, db, appKey)
			require.Len(t, evs, events, "every event is in the log")
			delivered := 0
			for id, e := range evs {
				switch e.Status {
				case state.EventDelivered:
					delivered++
					assert.Equal(t, 1, e.Attempts, id)
				case state.EventPending:
					assert.Empty(t, e.LeaseOwner, "%s is handed back, free to be claimed at once", id)
					assert.Zero(t, e.Attempts, "%s: a cancelled attempt is not the receiver's failure", id)
				default:
					assert.Failf(t, "unexpected status", "%s is %s", id, e.Status)
				}
			}
			assert.Equal(t, tc.wantDelivered, delivered)

			// Restarted, the sandbox delivers everything that was due.
			recv.answer()
			c = startChild(t, addr, args...)
			require.Eventually(t, func() bool { _, got := recv.counts(); return len(got) == events }, 20*time.Second, 10*time.Millisecond,
				"every event arrives after the restart: %s", c.logs)
			_, got := recv.counts()
			assert.Equal(t, want, got, "each event once")
		})
	}
}

// TestSIGTERMOneReplicaTheOtherDelivers: two sandboxes share one PostgreSQL;
// one is stopped with SIGTERM while its attempts hang. It exits 0 and hands
// its deliveries back, and the other replica delivers every event once.
func TestSIGTERMOneReplicaTheOtherDelivers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sandbox processes")
	}
	dsn := pgtest.Schema(t, 8)
	const events = 12
	recv := newIDReceiver(t, true)
	args := []string{"--store", dsn, "--webhook-timeout", "1m", "--shutdown-timeout", "1s", "--webhook-per-destination", "3"}
	a := startChild(t, freeAddr(t), args...)
	b := startChild(t, freeAddr(t), args...)
	appKey := hookedApp(t, a, recv.srv.URL)
	want := fire(t, a, appKey, events)
	require.Eventually(t, func() bool { h, _ := recv.counts(); return h >= 3 }, 10*time.Second, 5*time.Millisecond)

	require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
	assert.NoError(t, a.exited(t), "exit status 0: %s", a.logs)
	recv.answer()
	require.Eventually(t, func() bool { _, got := recv.counts(); return len(got) == events }, 30*time.Second, 10*time.Millisecond,
		"the other replica delivers everything: %s", b.logs)
	_, got := recv.counts()
	assert.Equal(t, want, got, "each event once: the stopped replica's cancelled attempts were never answered")
}

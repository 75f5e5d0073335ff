package mockserver_test

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// downListener is a receiver's socket that, while down, accepts and at once
// closes every connection: the push gets no answer at all.
type downListener struct {
	net.Listener
	down atomic.Bool
}

func (l *downListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.down.Load() {
			return c, err
		}
		_ = c.Close()
	}
}

// TestAReceiverDownForSeveralRetriesGetsEverythingOnSchedule: a receiver
// that answers nothing for three attempts, then comes back, gets every
// event exactly once at the fourth attempt, each attempt made when the
// schedule says on the sandbox clock (moved with /_sandbox/clock/advance,
// not waited for).
func TestAReceiverDownForSeveralRetriesGetsEverythingOnSchedule(t *testing.T) {
	const events = 20
	waits := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} // initial 1m, multiplier 2
	for name, open := range testStores {
		t.Run(name, func(t *testing.T) {
			s := newSandboxOn(t, open(t))
			var ln *downListener
			recv := newReceiverOn(t, func(l net.Listener) net.Listener {
				ln = &downListener{Listener: l}
				ln.down.Store(true)
				return ln
			})

			acct, appKey, _ := s.account(false)
			hookAll(t, s, appKey, "whatsapp", recv, map[string]any{
				"retry": map[string]any{"maxAttempts": 5, "initial": "1m", "multiplier": 2, "maxInterval": "10m"}})
			ids := map[string]bool{}
			for range events {
				res := s.fire(appKey)
				ids[res.Delivery.ID] = true
			}
			// attempts waits until every event has had n attempts and is in status.
			attempts := func(n int, status string) map[string]deliveryDetail {
				got := map[string]deliveryDetail{}
				require.Eventually(t, func() bool {
					for id := range ids {
						d := s.delivery(id)
						if d.Status != status || d.Attempts != n {
							return false
						}
						got[id] = d
					}
					return true
				}, 10*time.Second, 10*time.Millisecond, "every event at attempt %d, %s", n, status)
				return got
			}
			var clock struct{ OffsetSeconds float64 }
			for i, wait := range waits {
				n := i + 1
				for id, d := range attempts(n, "pending") {
					a := d.AttemptLog[n-1]
					require.NotNil(t, a.Error, "attempt %d of %s", n, id)
					assert.Contains(t, *a.Error, "connection error")
					assert.Equal(t, "retry", a.Outcome)
					// Due 'wait' after the attempt, on the sandbox clock.
					s.control("GET", "/_sandbox/clock", nil, acct).must(t, 200).decode(t, &clock)
					started, err := parseTime(a.StartedAt)
					require.NoError(t, err)
					next, err := parseTime(*d.NextAttemptAt)
					require.NoError(t, err)
					atSandbox := started.Add(time.Duration(clock.OffsetSeconds * float64(time.Second)))
					assert.GreaterOrEqual(t, next.Sub(atSandbox), wait, "attempt %d of %s: next attempt no earlier than the schedule", n, id)
				}
				assert.Zero(t, recv.count(), "nothing arrives while the receiver is down")
				if n == len(waits) {
					ln.down.Store(false) // back up before the fourth attempt
				}
				s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": wait.String()}, acct).must(t, 200)
			}
			for id, d := range attempts(len(waits)+1, "delivered") {
				assert.Equal(t, "delivered", d.AttemptLog[len(waits)].Outcome, id)
			}
			got := recv.ids(t)
			assert.Len(t, got, events)
			for id := range ids {
				assert.Equal(t, 1, got[id], "%s arrives once", id)
			}
		})
	}
}

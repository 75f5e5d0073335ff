package dispatch_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/mockserver/dispatch"
)

func TestChaosAttempts(t *testing.T) {
	var pushes atomic.Int32
	status := atomic.Int32{}
	status.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pushes.Add(1)
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fixed := clock.NewFake(now)
	with := func(attempt int, c dispatch.Chaos) dispatch.Delivery {
		d := delivery(srv.URL, attempt)
		d.Chaos = c
		d.Schedule = &dispatch.Schedule{MaxAttempts: 2, Initial: time.Minute, Multiplier: 2, MaxInterval: time.Hour}
		return d
	}
	tests := []struct {
		name    string
		status  int32
		del     dispatch.Delivery
		outcome dispatch.Outcome // the delivery's
		attempt dispatch.Outcome // the attempt's
		next    time.Duration
		reason  string
		pushed  int32
	}{
		{"a dropped attempt is recorded, not sent", 200, with(1, dispatch.Chaos{Drop: true}), "retry", "dropped", time.Second, "chaos: lost in transit", 0},
		{"a delivery with a duplicate to come stays due now", 200, with(1, dispatch.Chaos{DuplicateNext: true}), "retry", "delivered", 0, dispatch.ReasonDuplicateFollows, 1},
		{"a failure before the duplicate is retried as usual", 500, with(1, dispatch.Chaos{DuplicateNext: true}), "retry", "retry", time.Minute, "HTTP 500", 1},
		{"the duplicate ends the delivery", 200, with(2, dispatch.Chaos{Duplicate: true}), "delivered", "duplicate", 0, "", 1},
		{"a failed duplicate does not undo the delivery", 500, with(2, dispatch.Chaos{Duplicate: true}), "delivered", "duplicate", 0, "the duplicate push got HTTP 500", 1},
		{"a lost attempt does not count against the schedule", 500, with(2, dispatch.Chaos{Lost: 1}), "retry", "retry", time.Minute, "HTTP 500", 1},
		{"without the lost one, the schedule is used up", 500, with(2, dispatch.Chaos{}), "failed", "failed", 0, "gave up after 2 attempts", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pushes.Store(0)
			status.Store(tc.status)
			q := newQueue(tc.del)
			run(t, q, dispatch.Options{Clock: fixed})
			r := q.next(t)
			assert.Equal(t, tc.outcome, r.Outcome)
			assert.Equal(t, tc.attempt, r.Attempt.Outcome)
			if tc.outcome == "retry" {
				assert.Equal(t, now.Add(tc.next), r.NextAttemptAt)
			}
			assert.Contains(t, r.Reason, tc.reason)
			assert.Equal(t, tc.reason == dispatch.ReasonDuplicateFollows, r.DuplicateFollows, "only a delivery waiting for its duplicate says a duplicate follows")
			assert.Equal(t, tc.pushed, pushes.Load())
		})
	}
}

package mockserver

import (
	"context"
	"net/http"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/dispatch"
	"github.com/innosandbox/innosandbox/mockserver/state"
)

// outbox shows the store's events to the dispatcher as plain deliveries, so
// that dispatch never imports state. changed is called after attempts are
// recorded: the delivery log's waiters look again (deliverywait.go).
type outbox struct {
	store   state.Store
	changed func()
}

var (
	_ dispatch.Queue      = outbox{}
	_ dispatch.BatchQueue = batchOutbox{}
)

// newOutbox is the outbox over a store: one that records attempts in
// batches when the store can do so in one round trip (PostgreSQL). Others
// record each attempt on its own: SQLite's writer already puts concurrent
// writes into one transaction, and the memory store has no round trip.
func newOutbox(store state.Store, changed func()) dispatch.Queue {
	if b, ok := store.(state.AttemptBatcher); ok {
		return batchOutbox{outbox: outbox{store: store, changed: changed}, batcher: b}
	}
	return outbox{store: store, changed: changed}
}

// batchOutbox is an outbox whose store records attempts in batches.
type batchOutbox struct {
	outbox
	batcher state.AttemptBatcher
}

// Claim implements dispatch.Queue.
func (o outbox) Claim(ctx context.Context, now time.Time, limit int, owner string, leaseUntil time.Time, exclude []string) ([]dispatch.Delivery, error) {
	events, err := o.store.ClaimDue(ctx, now, limit, owner, leaseUntil, exclude)
	if err != nil {
		return nil, err
	}
	out := make([]dispatch.Delivery, 0, len(events))
	for _, e := range events {
		if e.Target == nil {
			continue // a pending event always has a target; nothing to send otherwise
		}
		h := http.Header{}
		// Exactly as configured, absent when not configured. Set directly:
		// canonicalising would turn "UserName" into "Username".
		if u := e.Target.Username; u != nil {
			h["UserName"] = []string{*u}
		}
		if a := e.Target.Authorization; a != nil {
			h["Authorization"] = []string{*a}
		}
		out = append(out, dispatch.Delivery{
			ID: e.ID, Account: e.Account, EventType: e.Type, Attempt: e.Attempts + 1,
			URL: e.Target.URL, Method: e.Target.Method, Header: h, Body: e.Payload,
			Schedule: scheduleOf(e.Target.Retry), Chaos: chaosOf(e), Dest: state.Destination(e.Target.URL),
		})
	}
	return out, nil
}

// scheduleOf is a webhook's own retry policy as a dispatch schedule (nil:
// the dispatcher's). No jitter, like the default, so runs repeat.
func scheduleOf(r *state.RetryPolicy) *dispatch.Schedule {
	if r == nil {
		return nil
	}
	return &dispatch.Schedule{MaxAttempts: r.MaxAttempts, Initial: r.Initial, Multiplier: r.Multiplier, MaxInterval: r.MaxInterval}
}

// chaosOf says what chaos asks of an event's next attempt: the first is
// lost when it drops; after a delivery that waits for its duplicate
// (dispatch.ReasonDuplicateFollows) comes the duplicate.
func chaosOf(e state.Event) dispatch.Chaos {
	c := e.Chaos
	if c == nil {
		return dispatch.Chaos{}
	}
	var out dispatch.Chaos
	if c.Drop {
		if e.Attempts == 0 {
			out.Drop = true
		} else {
			out.Lost = 1
		}
	}
	if c.Duplicate && !out.Drop {
		if e.Attempts > 0 && e.Reason == dispatch.ReasonDuplicateFollows {
			out.Duplicate = true
		} else {
			out.DuplicateNext = true
		}
	}
	return out
}

// NextDue implements dispatch.Queue.
func (o outbox) NextDue(ctx context.Context) (time.Time, bool, error) { return o.store.NextDue(ctx) }

// Release implements dispatch.Queue.
func (o outbox) Release(ctx context.Context, owner string) (int, error) {
	return o.store.ReleaseLeases(ctx, owner)
}

// Record implements dispatch.Queue.
func (o outbox) Record(ctx context.Context, r dispatch.Result) error {
	err := o.store.RecordAttempt(ctx, attemptResult(r))
	o.changed()
	return err
}

// RecordAll implements dispatch.BatchQueue, in one round trip.
func (o batchOutbox) RecordAll(ctx context.Context, rs []dispatch.Result) []error {
	in := make([]state.AttemptResult, len(rs))
	for i, r := range rs {
		in[i] = attemptResult(r)
	}
	errs := o.batcher.RecordAttempts(ctx, in)
	o.changed()
	return errs
}

// attemptResult is a dispatch result as the store records it.
func attemptResult(r dispatch.Result) state.AttemptResult {
	a := r.Attempt
	res := state.AttemptResult{
		Owner: r.Owner, Reason: r.Reason, NextAttemptAt: r.NextAttemptAt,
		Attempt: state.Attempt{
			EventID: r.DeliveryID, N: a.N, StartedAt: a.StartedAt, Latency: a.Latency, Method: a.Method, URL: a.URL,
			RequestHeaders: a.RequestHeader, RequestBody: a.RequestBody, ResponseStatus: a.ResponseStatus,
			ResponseHeaders: a.ResponseHeader, ResponseBody: a.ResponseExcerpt, Error: a.Error, Outcome: a.Outcome,
		},
	}
	switch r.Outcome {
	case "delivered":
		res.Status = state.EventDelivered
	case "retry":
		res.Status = state.EventPending
	default:
		res.Status = state.EventFailed
	}
	return res
}

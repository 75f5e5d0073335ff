package mockserver

import (
	"context"
	"net/http"
	"time"

	"github.com/innosandbox/innosandbox/internal/secret"
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
	_ dispatch.Queue        = outbox{}
	_ dispatch.BatchQueue   = batchOutbox{}
	_ dispatch.LeaseRenewer = outbox{}
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
		h := pushHeader(e.Target.Username, e.Target.Authorization)
		out = append(out, dispatch.Delivery{
			ID: e.ID, Account: e.Account, EventType: e.Type, Attempt: e.Attempts + 1,
			URL: e.Target.URL, Method: e.Target.Method, Header: h, Body: e.Payload,
			Schedule: scheduleOf(e.Target.Retry), Chaos: chaosOf(e), Dest: state.Destination(e.Target.URL),
		})
	}
	return out, nil
}

// pushHeader is the configured headers of a push: exactly as configured,
// absent when not configured. Set directly: canonicalising would turn
// "UserName" into "Username".
func pushHeader(username, authorization *string) http.Header {
	h := http.Header{}
	if username != nil {
		h["UserName"] = []string{*username}
	}
	if authorization != nil {
		h["Authorization"] = []string{*authorization}
	}
	return h
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
// (duplicateDue) comes the duplicate.
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
		if duplicateDue(e) {
			out.Duplicate = true
		} else {
			out.DuplicateNext = true
		}
	}
	return out
}

// duplicateDue tells whether an event was delivered and waits for its chaos
// duplicate (dispatch.Result.DuplicateFollows). The store keeps that as the
// event's reason, which the delivery log shows: attemptResult writes it,
// and this is the one place that reads it back.
func duplicateDue(e state.Event) bool {
	return e.Attempts > 0 && e.Reason == dispatch.ReasonDuplicateFollows
}

// NextDue implements dispatch.Queue.
func (o outbox) NextDue(ctx context.Context) (time.Time, bool, error) { return o.store.NextDue(ctx) }

// Release implements dispatch.Queue.
func (o outbox) Release(ctx context.Context, owner string) (int, error) {
	return o.store.ReleaseLeases(ctx, owner)
}

// Renew implements dispatch.LeaseRenewer.
func (o outbox) Renew(ctx context.Context, owner string, ids []string, until time.Time) (int, error) {
	return o.store.RenewLeases(ctx, owner, ids, until)
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

// attemptResult is a dispatch result as the store records it, its
// credentials masked (maskAttempt).
func attemptResult(r dispatch.Result) state.AttemptResult {
	a := maskAttempt(r.Attempt)
	reason := secret.MaskText(r.Reason, secret.FromHeader(r.Attempt.RequestHeader)...)
	if r.DuplicateFollows {
		reason = dispatch.ReasonDuplicateFollows // read back by duplicateDue
	}
	return state.AttemptResult{
		Owner: r.Owner, Status: eventStatus(r.Outcome), Reason: reason, NextAttemptAt: r.NextAttemptAt,
		Attempt: state.Attempt{
			EventID: r.DeliveryID, N: a.N, StartedAt: a.StartedAt, Latency: a.Latency, Method: a.Method, URL: a.URL,
			RequestHeaders: a.RequestHeader, RequestBody: a.RequestBody, ResponseStatus: a.ResponseStatus,
			ResponseHeaders: a.ResponseHeader, ResponseBody: a.ResponseExcerpt, Error: a.Error, Outcome: string(a.Outcome),
		},
	}
}

// eventStatus is the state a delivery's outcome leaves its event in: the
// one place dispatch's outcomes meet the store's statuses.
func eventStatus(o dispatch.Outcome) state.EventStatus {
	switch o {
	case dispatch.OutcomeDelivered:
		return state.EventDelivered
	case dispatch.OutcomeRetry:
		return state.EventPending
	default: // failed, gone
		return state.EventFailed
	}
}

// maskAttempt masks the credentials an attempt carried (its Authorization
// header, and the payload's copy of it, an SMS report's pswd) wherever the
// attempt would keep them: request headers and body, and the receiver's
// answer, which may echo them. Stored attempts never hold a secret.
func maskAttempt(a dispatch.Attempt) dispatch.Attempt {
	secrets := secret.FromHeader(a.RequestHeader)
	if len(secrets) == 0 {
		return a
	}
	a.RequestHeader = secret.MaskHeader(a.RequestHeader, secrets...)
	a.RequestBody = secret.MaskBytes(a.RequestBody, secrets...)
	a.ResponseHeader = secret.MaskHeader(a.ResponseHeader, secrets...)
	a.ResponseExcerpt = secret.MaskBytes(a.ResponseExcerpt, secrets...)
	a.Error = secret.MaskText(a.Error, secrets...)
	return a
}

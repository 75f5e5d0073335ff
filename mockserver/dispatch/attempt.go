package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/internal/clock"
)

// ErrPayloadSchema marks a payload that does not match its schema.
var ErrPayloadSchema = errors.New("payload does not match its schema")

// excerptLimit bounds the part of a response body kept in the attempt log.
const excerptLimit = 4 << 10

// MaxResponseHeader bounds the response headers a receiver may send (the
// transport refuses more); StoredHeaderLimit bounds what an attempt keeps.
const (
	MaxResponseHeader = 64 << 10
	StoredHeaderLimit = 4 << 10
)

// boundHeader keeps whole header fields, in name order, while their size
// ("Name: value" and CRLF each) stays within limit; the rest is dropped.
func boundHeader(h http.Header, limit int) http.Header {
	size := 0
	for k, vs := range h {
		for _, v := range vs {
			size += len(k) + len(v) + 4
		}
	}
	if size <= limit {
		return h
	}
	out := http.Header{}
	size = 0
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			if size+len(k)+len(v)+4 > limit {
				return out
			}
			size += len(k) + len(v) + 4
			out[k] = append(out[k], v)
		}
	}
	return out
}

// RequestExcerptLimit is the default Options.AttemptBodyLimit: together with
// the 4 KiB response excerpt, an attempt's record stays small however large
// the payload.
const RequestExcerptLimit = 16 << 10

func (d *Dispatcher) deliver(del Delivery, key string) {
	defer d.wg.Done()
	defer d.finished(del.ID)
	// The destination's slot is freed as soon as the receiver has answered
	// (or not), before the attempt is recorded.
	sent := sync.OnceFunc(func() { d.sent(key, del.Account) })
	defer sent()
	// A panic (in a Queue, a callback) loses this attempt only: it is
	// logged, the slot and worker are freed by the calls above, and the
	// delivery comes back when its lease ends.
	defer func() {
		if v := recover(); v != nil {
			d.logPanic("a delivery attempt", v)
		}
	}()
	res := d.judge(del, sent)
	if d.abortCtx.Err() != nil && res.Attempt.ResponseStatus == 0 && res.Attempt.Outcome != OutcomeDropped && res.Outcome != OutcomeFailed {
		// Cancelled by shutdown: not the receiver's failure. Nothing is
		// recorded; the delivery is released and made again.
		return
	}
	if d.o.OnAttempt != nil {
		d.o.OnAttempt(del, res.Attempt)
	}
	if len(res.Attempt.RequestBody) > d.o.AttemptBodyLimit {
		res.Attempt.RequestBody = res.Attempt.RequestBody[:d.o.AttemptBodyLimit]
	}
	// Judged on the whole answer (Retry-After), stored within bounds.
	res.Attempt.ResponseHeader = boundHeader(res.Attempt.ResponseHeader, StoredHeaderLimit)
	var err error
	if d.records != nil {
		req := recordReq{res: res, done: make(chan error, 1)}
		d.records <- req
		err = <-req.done
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = d.q.Record(ctx, res)
		cancel()
	}
	if err != nil {
		d.o.Logger.Error("recording a delivery attempt failed", "event", del.ID, "attempt", del.Attempt, "err", err)
	}
}

// judge makes the attempt (or, for chaos, pretends to) and decides what
// becomes of the delivery.
func (d *Dispatcher) judge(del Delivery, sent func()) Result {
	if del.Chaos.Drop {
		a := Attempt{N: del.Attempt, Method: del.Method, URL: del.URL, RequestHeader: d.header(del), RequestBody: del.Body,
			StartedAt: d.o.Clock.Now(), Error: MsgLostInTransit, Outcome: OutcomeDropped}
		return Result{DeliveryID: del.ID, Owner: d.o.Owner, Attempt: a, Outcome: OutcomeRetry,
			NextAttemptAt: a.StartedAt.Add(d.o.Redeliver), Reason: MsgLostInTransit + "; redelivered shortly"}
	}
	a := d.attempt(del, sent)
	res := Result{DeliveryID: del.ID, Owner: d.o.Owner, Attempt: a}
	sched := d.o.Schedule
	if del.Schedule != nil {
		sched = *del.Schedule
	}
	// Attempts chaos lost are not the receiver's failures.
	n := del.Attempt - del.Chaos.Lost
	verdict := Judge(a.ResponseStatus, errOrNil(a.Error))
	switch {
	case a.Outcome == OutcomeFailed: // refused before sending (payload schema, egress guard)
		res.Outcome, res.Reason = OutcomeFailed, a.Error
	case del.Chaos.Duplicate:
		res.Outcome, res.Attempt.Outcome = OutcomeDelivered, OutcomeDuplicate
		if verdict != Delivered {
			res.Reason = "chaos: the duplicate push got " + describe(a) + " (the payload was delivered before)"
		}
	case verdict == Delivered && del.Chaos.DuplicateNext:
		// Delivered; the event stays due, now, for its duplicate.
		res.Outcome, res.Attempt.Outcome = OutcomeRetry, OutcomeDelivered
		res.NextAttemptAt, res.Reason, res.DuplicateFollows = d.o.Clock.Now(), ReasonDuplicateFollows, true
	case verdict == Delivered:
		res.Outcome = OutcomeDelivered
	case verdict == Gone:
		res.Outcome, res.Reason = OutcomeGone, "the receiver answered 410 Gone; no more attempts"
	case n >= sched.MaxAttempts:
		res.Outcome = OutcomeFailed
		res.Reason = fmt.Sprintf("gave up after %d attempts; last: %s", n, describe(a))
	default:
		wait := sched.Wait(n)
		if ra, ok := RetryAfter(a.ResponseStatus, a.ResponseHeader, d.o.Clock.Now()); ok {
			wait = ra
		}
		res.Outcome = OutcomeRetry
		res.NextAttemptAt = d.o.Clock.Now().Add(wait)
		res.Reason = describe(a)
	}
	if res.Attempt.Outcome == "" {
		res.Attempt.Outcome = res.Outcome
	}
	return res
}

func errOrNil(s string) error {
	if s == "" {
		return nil
	}
	return errors.New(s)
}

func describe(a Attempt) string {
	if a.Error != "" {
		return a.Error
	}
	return fmt.Sprintf("HTTP %d", a.ResponseStatus)
}

// header is what a push of del carries: the content type, the user agent
// and exactly the configured headers.
func (d *Dispatcher) header(del Delivery) http.Header {
	header := http.Header{}
	header.Set("Content-Type", "application/json;charset=utf-8")
	header.Set("User-Agent", d.o.UserAgent)
	for k, vs := range del.Header {
		// Keep the configured spelling (UserName, not Username): HTTP names
		// are case-insensitive, but a receiver may compare them exactly.
		header[k] = append(header[k], vs...)
	}
	return header
}

// attempt makes one HTTP request and records it. It never logs header values
// (they may carry the configured secrets).
func (d *Dispatcher) attempt(del Delivery, sent func()) Attempt {
	a := Attempt{N: del.Attempt, Method: del.Method, URL: del.URL, RequestBody: del.Body}
	header := d.header(del)
	a.RequestHeader = header
	a.StartedAt = d.o.Clock.Now()
	log := d.o.Logger.With("event", del.ID, "type", del.EventType, "attempt", del.Attempt, "method", del.Method, "url", redactURL(del.URL))

	if d.o.ValidatePayload != nil {
		if err := d.o.ValidatePayload(del.EventType, del.Body); err != nil {
			d.schemaViolations.Add(1)
			log.Error("BUG: the sandbox built a payload that breaks the contract", "err", err)
			if d.o.StrictPayloads {
				a.Error = fmt.Sprintf("%v: %v", ErrPayloadSchema, err)
				a.Outcome = OutcomeFailed
				return a
			}
		}
	}

	d.send(d.abortCtx, &a, del, header, log, sent)
	return a
}

// Probe makes one request as a push of del would be made (the same client,
// so the same network rules, headers and timeout), records nothing and
// returns what happened: a webhook configuration's connectivity check.
func (d *Dispatcher) Probe(ctx context.Context, del Delivery) Attempt {
	a := Attempt{N: 1, Method: del.Method, URL: del.URL, RequestBody: del.Body}
	header := d.header(del)
	a.RequestHeader = header
	a.StartedAt = d.o.Clock.Now()
	log := d.o.Logger.With("probe", true, "method", del.Method, "url", redactURL(del.URL))
	d.send(ctx, &a, del, header, log, func() {})
	return a
}

// send makes the HTTP request of an attempt within the timeout and fills
// in its answer (or its error).
func (d *Dispatcher) send(ctx context.Context, a *Attempt, del Delivery, header http.Header, log *slog.Logger, sent func()) {
	actx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, del.Method, del.URL, bytes.NewReader(del.Body))
	if err != nil {
		a.Error = "building the request: " + err.Error()
		log.Warn("delivery attempt", "outcome", "error", "err", a.Error)
		return
	}
	req.Header = header
	sw := clock.Start()
	resp, err := d.o.Client.Do(req)
	if err != nil {
		sent()
		a.Latency = sw.Elapsed()
		if re, ok := refused(err); ok {
			// Not the receiver's failure, and trying again changes
			// nothing: a dead letter at once.
			a.Error, a.Outcome = re.Error(), OutcomeFailed
			log.Warn("delivery attempt refused by the egress guard", "addr", re.Addr.String(), "class", string(re.Class))
			return
		}
		a.Error = classify(err, d.o.Timeout)
		log.Info("delivery attempt", "status", 0, "latency_ms", ms(a.Latency), "err", a.Error)
		return
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, excerptLimit))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	_ = resp.Body.Close()
	sent()
	a.Latency = sw.Elapsed()
	a.ResponseStatus = resp.StatusCode
	a.ResponseHeader = resp.Header
	a.ResponseExcerpt = excerpt
	log.Info("delivery attempt", "status", resp.StatusCode, "latency_ms", ms(a.Latency))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func classify(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("timeout: no answer within %s", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return fmt.Sprintf("timeout: no answer within %s", timeout)
	}
	if errors.As(err, &ue) {
		return "connection error: " + ue.Err.Error()
	}
	return err.Error()
}

// Package dispatch pushes webhook deliveries. It claims due deliveries from a
// Queue (the store's outbox, seen through plain values: dispatch never imports
// state), sends each with its configured method and headers, records every
// attempt, and decides by its Schedule whether and when to try again.
package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/innosandbox/innosandbox/internal/clock"
)

// Delivery is one attempt to be made.
type Delivery struct {
	ID        string // the event id; the same for every attempt
	Account   string
	EventType string
	Attempt   int // the number of the attempt about to be made, 1-based
	URL       string
	Method    string
	Header    http.Header // the configured UserName / Authorization, nothing else
	Body      []byte
	Schedule  *Schedule // nil: the dispatcher's schedule
	Chaos     Chaos     // misbehaviour asked for by the webhook's configuration
}

// Chaos is what a webhook's chaos settings ask of one delivery attempt.
type Chaos struct {
	// Drop loses this attempt in transit: it is recorded (outcome
	// "dropped"), nothing is sent, and the delivery is tried again after
	// Options.Redeliver.
	Drop bool
	// DuplicateNext: after a 2xx, push the same payload once more, at once.
	DuplicateNext bool
	// Duplicate: this attempt is that second push (outcome "duplicate");
	// whatever its answer, the delivery stays delivered.
	Duplicate bool
	// Lost counts earlier attempts lost to Drop; they do not use up the
	// schedule's attempts.
	Lost int
}

// Attempt outcomes beyond the Result outcomes.
const (
	OutcomeDropped   = "dropped"   // lost in transit on purpose (chaos), redelivered
	OutcomeDuplicate = "duplicate" // the second push of a delivered payload (chaos)
)

// ReasonDuplicateFollows is the Reason of a delivery that was delivered and
// waits for its chaos duplicate; a Queue tells the duplicate by it.
const ReasonDuplicateFollows = "chaos: delivered; the same payload is pushed once more"

// MsgLostInTransit is the error recorded for an attempt chaos dropped.
const MsgLostInTransit = "chaos: lost in transit"

// Attempt is the record of one try.
type Attempt struct {
	N               int
	StartedAt       time.Time
	Latency         time.Duration
	Method          string
	URL             string
	RequestHeader   http.Header
	RequestBody     []byte
	ResponseStatus  int // 0: no answer
	ResponseHeader  http.Header
	ResponseExcerpt []byte
	Error           string
	Outcome         string // delivered, retry, failed, gone
}

// Result is what becomes of a delivery after an attempt.
type Result struct {
	DeliveryID    string
	Owner         string
	Attempt       Attempt
	Outcome       string    // "delivered", "retry", "failed" or "gone"
	NextAttemptAt time.Time // when Outcome is "retry"
	Reason        string
}

// Queue is the outbox as the dispatcher sees it.
type Queue interface {
	// Claim leases up to limit due deliveries to owner until leaseUntil.
	Claim(ctx context.Context, now time.Time, limit int, owner string, leaseUntil time.Time) ([]Delivery, error)
	// NextDue tells when the earliest unclaimed delivery comes due.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// Record stores an attempt and the delivery's new state.
	Record(ctx context.Context, r Result) error
}

// Options configure a Dispatcher. Zero values take the defaults in parentheses.
type Options struct {
	Owner        string        // lease owner name, unique per process ("dispatcher")
	Clock        clock.Clock   // (clock.Real)
	Client       *http.Client  // (one that never follows redirects; Timeout applies)
	Timeout      time.Duration // per attempt (5s)
	Schedule     Schedule      // (DefaultSchedule)
	Workers      int           // attempts in flight at once (64)
	PerHost      int           // attempts in flight per destination host (8)
	Batch        int           // deliveries claimed at once (128)
	Lease        time.Duration // how long a claim lasts (Timeout + 30s)
	PollInterval time.Duration // look for due work at least this often (1s)
	Logger       *slog.Logger  // (slog.Default)
	UserAgent    string        // ("innosandbox")
	// ValidatePayload checks a payload against its event type's schema
	// before it is sent. A mismatch is a sandbox bug: it is logged at error
	// level and counted; with StrictPayloads the delivery is failed instead
	// of sent.
	ValidatePayload func(eventType string, body []byte) error
	StrictPayloads  bool
	// OnAttempt, if set, is called after every attempt (for metrics).
	OnAttempt func(d Delivery, a Attempt)
	// Redeliver is how long after an attempt chaos dropped the delivery is
	// tried again (1s).
	Redeliver time.Duration
}

// Dispatcher sends due deliveries until its context ends.
type Dispatcher struct {
	q       Queue
	o       Options
	wake    chan struct{}
	slots   chan struct{}
	hostsMu sync.Mutex
	hosts   map[string]chan struct{}
	wg      sync.WaitGroup
	// SchemaViolations counts payloads that did not match their schema.
	schemaViolations atomic.Int64
}

// ErrPayloadSchema marks a payload that does not match its schema.
var ErrPayloadSchema = errors.New("payload does not match its schema")

// New returns a Dispatcher over q.
func New(q Queue, o Options) *Dispatcher {
	if o.Owner == "" {
		o.Owner = "dispatcher"
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Schedule.MaxAttempts == 0 {
		o.Schedule = DefaultSchedule
	}
	if o.Workers <= 0 {
		o.Workers = 64
	}
	if o.PerHost <= 0 {
		o.PerHost = 8
	}
	if o.Batch <= 0 {
		o.Batch = 128
	}
	if o.Lease <= 0 {
		o.Lease = o.Timeout + 30*time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.UserAgent == "" {
		o.UserAgent = "innosandbox"
	}
	if o.Redeliver <= 0 {
		o.Redeliver = time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{
			// A webhook is pushed to the configured URL only; a redirect is an
			// answer like any other non-2xx, never followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{
				Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: o.PerHost,
				IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: o.Timeout,
			},
		}
	}
	return &Dispatcher{q: q, o: o, wake: make(chan struct{}, 1), slots: make(chan struct{}, o.Workers), hosts: map[string]chan struct{}{}}
}

// Notify tells the dispatcher that work may have come due earlier than it
// planned (new events, a clock moved forward, a replay).
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// SchemaViolations returns how many payloads failed their schema check.
func (d *Dispatcher) SchemaViolations() int64 { return d.schemaViolations.Load() }

// Run claims and sends due deliveries until ctx ends, then waits for the
// attempts in flight (each bounded by Timeout) and returns.
func (d *Dispatcher) Run(ctx context.Context) {
	defer d.wg.Wait()
	for {
		n := d.claimAndSend(ctx)
		if ctx.Err() != nil {
			return
		}
		if n > 0 {
			continue // there may be more due right now
		}
		wait := d.o.PollInterval
		if at, ok, err := d.q.NextDue(ctx); err == nil && ok {
			if until := at.Sub(d.o.Clock.Now()); until < wait {
				wait = max(until, time.Millisecond)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// claimAndSend claims as many due deliveries as there are free workers and
// starts them; it returns how many it started.
func (d *Dispatcher) claimAndSend(ctx context.Context) int {
	free := cap(d.slots) - len(d.slots)
	if free <= 0 {
		// All workers busy: wait for one to finish before claiming more.
		select {
		case d.slots <- struct{}{}:
			<-d.slots
		case <-ctx.Done():
		}
		return 0
	}
	now := d.o.Clock.Now()
	batch, err := d.q.Claim(ctx, now, min(free, d.o.Batch), d.o.Owner, now.Add(d.o.Lease))
	if err != nil {
		if ctx.Err() == nil {
			d.o.Logger.Error("claiming due deliveries failed", "err", err)
		}
		return 0
	}
	for _, del := range batch {
		d.slots <- struct{}{}
		d.wg.Add(1)
		go func(del Delivery) {
			defer d.wg.Done()
			defer func() { <-d.slots }()
			d.deliver(ctx, del)
		}(del)
	}
	return len(batch)
}

// hostSlot bounds the attempts in flight to one destination, so that a slow
// receiver ties up at most PerHost workers.
func (d *Dispatcher) hostSlot(rawURL string) chan struct{} {
	host := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		host = u.Host
	}
	d.hostsMu.Lock()
	defer d.hostsMu.Unlock()
	c, ok := d.hosts[host]
	if !ok {
		c = make(chan struct{}, d.o.PerHost)
		d.hosts[host] = c
	}
	return c
}

// excerptLimit bounds the part of a response body kept in the attempt log.
const excerptLimit = 4 << 10

func (d *Dispatcher) deliver(ctx context.Context, del Delivery) {
	hs := d.hostSlot(del.URL)
	select {
	case hs <- struct{}{}:
	case <-ctx.Done():
		return // the lease ends and another run takes it over
	}
	defer func() { <-hs }()

	res := d.judge(ctx, del)
	if d.o.OnAttempt != nil {
		d.o.OnAttempt(del, res.Attempt)
	}
	// Record even when ctx has ended: the attempt happened.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := d.q.Record(rctx, res); err != nil {
		d.o.Logger.Error("recording a delivery attempt failed", "event", del.ID, "attempt", del.Attempt, "err", err)
	}
}

// judge makes the attempt (or, for chaos, pretends to) and decides what
// becomes of the delivery.
func (d *Dispatcher) judge(ctx context.Context, del Delivery) Result {
	if del.Chaos.Drop {
		a := Attempt{N: del.Attempt, Method: del.Method, URL: del.URL, RequestHeader: d.header(del), RequestBody: del.Body,
			StartedAt: d.o.Clock.Now(), Error: MsgLostInTransit, Outcome: OutcomeDropped}
		return Result{DeliveryID: del.ID, Owner: d.o.Owner, Attempt: a, Outcome: "retry",
			NextAttemptAt: a.StartedAt.Add(d.o.Redeliver), Reason: MsgLostInTransit + "; redelivered shortly"}
	}
	a := d.attempt(ctx, del)
	res := Result{DeliveryID: del.ID, Owner: d.o.Owner, Attempt: a}
	sched := d.o.Schedule
	if del.Schedule != nil {
		sched = *del.Schedule
	}
	// Attempts chaos lost are not the receiver's failures.
	n := del.Attempt - del.Chaos.Lost
	verdict := Judge(a.ResponseStatus, errOrNil(a.Error))
	switch {
	case a.Outcome == "failed": // refused before sending (payload schema)
		res.Outcome, res.Reason = "failed", a.Error
	case del.Chaos.Duplicate:
		res.Outcome, res.Attempt.Outcome = "delivered", OutcomeDuplicate
		if verdict != Delivered {
			res.Reason = "chaos: the duplicate push got " + describe(a) + " (the payload was delivered before)"
		}
	case verdict == Delivered && del.Chaos.DuplicateNext:
		// Delivered; the event stays due, now, for its duplicate.
		res.Outcome, res.Attempt.Outcome = "retry", "delivered"
		res.NextAttemptAt, res.Reason = d.o.Clock.Now(), ReasonDuplicateFollows
	case verdict == Delivered:
		res.Outcome = "delivered"
	case verdict == Gone:
		res.Outcome, res.Reason = "gone", "the receiver answered 410 Gone; no more attempts"
	case n >= sched.MaxAttempts:
		res.Outcome = "failed"
		res.Reason = fmt.Sprintf("gave up after %d attempts; last: %s", n, describe(a))
	default:
		wait := sched.Wait(n)
		if ra, ok := RetryAfter(a.ResponseStatus, a.ResponseHeader, d.o.Clock.Now()); ok {
			wait = ra
		}
		res.Outcome = "retry"
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
func (d *Dispatcher) attempt(ctx context.Context, del Delivery) Attempt {
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
				a.Outcome = "failed"
				return a
			}
		}
	}

	actx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, del.Method, del.URL, bytes.NewReader(del.Body))
	if err != nil {
		a.Error = "building the request: " + err.Error()
		log.Warn("delivery attempt", "outcome", "error", "err", a.Error)
		return a
	}
	req.Header = header
	sw := clock.Start()
	resp, err := d.o.Client.Do(req)
	if err != nil {
		a.Latency = sw.Elapsed()
		a.Error = classify(err, d.o.Timeout)
		log.Info("delivery attempt", "status", 0, "latency_ms", ms(a.Latency), "err", a.Error)
		return a
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, excerptLimit))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	_ = resp.Body.Close()
	a.Latency = sw.Elapsed()
	a.ResponseStatus = resp.StatusCode
	a.ResponseHeader = resp.Header
	a.ResponseExcerpt = excerpt
	log.Info("delivery attempt", "status", resp.StatusCode, "latency_ms", ms(a.Latency))
	return a
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

// redactURL drops user info and query values from a URL for logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "redacted"
	}
	return u.String()
}

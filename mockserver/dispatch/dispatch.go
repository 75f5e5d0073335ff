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
	"maps"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
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
	// Dest names the receiver (scheme://host:port) for the per-destination
	// limit and the claims' exclude list; "" takes the URL's scheme and host.
	Dest string
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
	// Claim leases up to limit due deliveries to owner until leaseUntil,
	// leaving aside those whose destination is in exclude.
	Claim(ctx context.Context, now time.Time, limit int, owner string, leaseUntil time.Time, exclude []string) ([]Delivery, error)
	// NextDue tells when the earliest unclaimed delivery comes due.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// Record stores an attempt and the delivery's new state.
	Record(ctx context.Context, r Result) error
	// Release frees every lease owner holds, so that others can take its
	// deliveries at once; it returns how many it freed.
	Release(ctx context.Context, owner string) (int, error)
}

// BatchQueue is a Queue that records several results in one go, cheaper
// than one Record each (a server database: one round trip). The dispatcher
// then hands it the results of the attempts that ended meanwhile, together.
type BatchQueue interface {
	Queue
	// RecordAll records each result as Record would, returning one error
	// per result.
	RecordAll(ctx context.Context, rs []Result) []error
}

// LeaseRenewer is a Queue that can extend leases. The dispatcher then keeps
// its leases short (DefaultRenewedLease) and renews, every RenewEvery, those
// of the deliveries it holds (claimed, queued or being sent): a process that
// dies holding claims lets others take them within one short lease, while
// an attempt that takes longer than the lease keeps its claim.
type LeaseRenewer interface {
	// Renew extends to until the leases owner holds on the deliveries ids
	// names, and returns how many it extended (a delivery another owner
	// took, or that was recorded meanwhile, is left alone).
	Renew(ctx context.Context, owner string, ids []string, until time.Time) (int, error)
}

// DefaultRenewedLease is the default Options.Lease over a LeaseRenewer:
// a dead replica's claims return to the others within this.
const DefaultRenewedLease = 4 * time.Second

// maxRecordBatch bounds the results recorded in one RecordAll.
const maxRecordBatch = 64

// Options configure a Dispatcher. Zero values take the defaults in parentheses.
type Options struct {
	Owner string      // lease owner name, unique per process ("dispatcher")
	Clock clock.Clock // (clock.Real)
	// Client makes the attempts (one that never follows redirects). Its
	// transport, when an *http.Transport, is cloned to dial through Guard,
	// use no proxy and bound response headers (MaxResponseHeader); any
	// other RoundTripper is used as it is, unguarded (tests only).
	Client  *http.Client
	Timeout time.Duration // per attempt (5s)
	// Guard decides which addresses a push may connect to (nil: loopback,
	// private and public addresses, as for a sandbox on loopback).
	Guard *Guard
	// Schedule is the retry schedule of deliveries without their own (DefaultSchedule).
	Schedule Schedule
	// Workers bounds the attempts in flight at once, all destinations
	// together (DefaultWorkers).
	Workers int
	// PerHost bounds the attempts in flight to one destination (scheme,
	// host and port) (DefaultPerDestination). A destination whose slots
	// have all been busy for Stall without an answer is saturated: its
	// deliveries are no longer claimed, and those already claimed wait on
	// their own, so a slow or hung receiver never holds up the others.
	PerHost int
	// Stall is how long a destination's slots may all be busy without an
	// answer before it counts as saturated (200ms).
	Stall        time.Duration
	Batch        int           // deliveries claimed at once (128)
	Lease        time.Duration // how long a claim lasts (Timeout + 30s; DefaultRenewedLease over a LeaseRenewer)
	RenewEvery   time.Duration // over a LeaseRenewer, how often held leases are renewed (Lease/4)
	PollInterval time.Duration // look for due work at least this often (1s)
	// Grace is how long, once Run's context ends, the attempts in flight
	// may take to finish before they are cancelled and their deliveries
	// handed back (Timeout). Shutdown takes its deadline from its context.
	Grace     time.Duration
	Logger    *slog.Logger // (slog.Default)
	UserAgent string       // ("innosandbox")
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
	// AttemptBodyLimit bounds the part of a pushed body recorded with each
	// attempt (RequestExcerptLimit); the whole payload stays with its event.
	AttemptBodyLimit int
}

// Defaults of Options.
const (
	DefaultWorkers        = 64
	DefaultPerDestination = 16
	// DefaultTimeout is how long one attempt may take: 3 s, the only
	// figure anyone states (a public integration's notes say InnoPaaS
	// wants an HTTP 200 within 3 seconds), and certify's default limit.
	DefaultTimeout = 3 * time.Second
)

// Dispatcher sends due deliveries until its context ends.
//
// One goroutine (Run) claims; each attempt runs in a goroutine of its own.
// Claimed deliveries wait in a queue per destination until that destination
// has a free slot (at most PerHost attempts each) and a worker is free (at
// most Workers in all). A saturated destination (every slot busy, no answer
// for Stall) is excluded from claims, and its queue no longer counts against
// the workers, so the others keep being claimed and sent.
type Dispatcher struct {
	q    Queue
	o    Options
	wake chan struct{}

	mu      sync.Mutex
	running int                     // attempts in flight, from start to recorded
	closing bool                    // Stop was called: nothing more is claimed or started
	dests   map[string]*destination // by resolved address (destKeys)
	// accounts with deliveries in flight or waiting, for fair shares.
	accounts map[string]*accountLoad
	keys     *destKeys
	wg       sync.WaitGroup

	// held names the deliveries claimed and not yet finished (queued or
	// being sent): their leases are renewed over a LeaseRenewer, and a
	// claim that hands one back again (its lease ended while it waited) is
	// not sent twice.
	held map[string]struct{}

	// records carries results to the recorder goroutine when q is a
	// BatchQueue (nil otherwise).
	records chan recordReq

	// abort cancels attempts still in flight when the grace period ends.
	abortCtx context.Context
	abort    context.CancelFunc

	stopOnce   sync.Once
	stopping   chan struct{} // closed by Shutdown
	stopCtx    context.Context
	started    atomic.Bool
	done       chan struct{} // closed when Run has handed everything back
	releaseErr error

	// SchemaViolations counts payloads that did not match their schema.
	schemaViolations atomic.Int64
}

// destination is the dispatcher's view of one receiver: one address and
// port, however its URLs spell it.
type destination struct {
	sending   int       // attempts being sent to it
	queue     []claimed // claimed, waiting for a slot
	fullSince time.Time // when sending last reached PerHost
	lastDone  time.Time // when an attempt to it last ended
	// names are the queue's names (Delivery.Dest) that reach it, which
	// claims leave aside when it is saturated.
	names map[string]struct{}
	// accounts counts its deliveries queued or being sent, per account.
	accounts map[string]int
}

// accountLoad is what one account has claimed: attempts waiting for their
// receiver's answer and deliveries waiting to start.
type accountLoad struct {
	running, queued int
}

// recordReq is one result waiting to be recorded in a batch.
type recordReq struct {
	res  Result
	done chan error
}

// claimed is a delivery leased to this dispatcher until 'until'.
type claimed struct {
	del   Delivery
	until time.Time
	key   string // its destination (destKeys)
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
		o.Timeout = DefaultTimeout
	}
	if o.Schedule.MaxAttempts == 0 {
		o.Schedule = DefaultSchedule
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.PerHost <= 0 {
		o.PerHost = DefaultPerDestination
	}
	if o.Stall <= 0 {
		o.Stall = 200 * time.Millisecond
	}
	if o.Batch <= 0 {
		o.Batch = 128
	}
	_, renews := q.(LeaseRenewer)
	if o.Lease <= 0 {
		o.Lease = o.Timeout + 30*time.Second
		if renews {
			o.Lease = DefaultRenewedLease
		}
	}
	if o.RenewEvery <= 0 {
		o.RenewEvery = o.Lease / 4
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Grace <= 0 {
		o.Grace = o.Timeout
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
	if o.AttemptBodyLimit <= 0 {
		o.AttemptBodyLimit = RequestExcerptLimit
	}
	if o.Guard == nil {
		o.Guard = NewGuard(DefaultPolicy(nil))
	}
	if o.Client == nil {
		o.Client = &http.Client{
			// A webhook is pushed to the configured URL only; a redirect is an
			// answer like any other non-2xx, never followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{
				MaxIdleConnsPerHost: o.PerHost,
				// HTTP/1.1: with the guard's dialer the transport no longer
				// offers HTTP/2 by itself, and forcing it cost deliveries per
				// second in BenchmarkDeliveries.
				IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: o.Timeout,
			},
		}
	}
	if tr, ok := o.Client.Transport.(*http.Transport); ok {
		c := *o.Client
		tr = tr.Clone()
		// Every connection passes the guard after DNS. No proxy: through
		// one, the guard would see the proxy's address, not the receiver's.
		tr.DialContext, tr.DialTLSContext, tr.Proxy = o.Guard.DialContext(o.Timeout), nil, nil
		tr.MaxResponseHeaderBytes = MaxResponseHeader
		c.Transport = tr
		o.Client = &c
	}
	abortCtx, abort := context.WithCancel(context.Background())
	return &Dispatcher{q: q, o: o, wake: make(chan struct{}, 1), dests: map[string]*destination{}, held: map[string]struct{}{},
		accounts: map[string]*accountLoad{}, keys: newDestKeys(),
		abortCtx: abortCtx, abort: abort, stopping: make(chan struct{}), done: make(chan struct{})}
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

// Run claims and sends due deliveries until ctx ends or Shutdown is called.
// Then it stops claiming, lets the attempts in flight finish (for Grace, or
// until Shutdown's context ends), cancels those still running without
// recording them, hands every delivery it still holds back to the queue
// (Queue.Release) and returns.
//
// It starts by releasing every lease its Owner holds: a process that died
// holding claims and comes back under the same name takes them back at
// once instead of waiting for the leases to end. Owner must therefore be
// unique among live processes sharing a queue.
func (d *Dispatcher) Run(ctx context.Context) {
	d.started.Store(true)
	defer close(d.done)
	if bq, ok := d.q.(BatchQueue); ok {
		d.records = make(chan recordReq)
		recorded := make(chan struct{})
		go func() { d.recorder(bq); close(recorded) }()
		// After drain: no attempt is left to send a result.
		defer func() { close(d.records); <-recorded }()
	}
	if n, err := d.release(ctx); err != nil {
		d.o.Logger.Warn("taking back claims of an earlier run failed; they return when their leases end", "err", err)
	} else if n > 0 {
		d.o.Logger.Info("took back deliveries claimed by an earlier run", "deliveries", n)
	}
	if r, ok := d.q.(LeaseRenewer); ok {
		// Until Run returns: attempts finishing during the drain still
		// hold their leases.
		rctx, stop := context.WithCancel(context.Background())
		renewed := make(chan struct{})
		go func() { d.renewer(rctx, r); close(renewed) }()
		defer func() { stop(); <-renewed }()
	}
	for {
		select {
		case <-ctx.Done():
		case <-d.stopping:
		default:
			d.cycle(ctx)
			continue
		}
		break
	}
	var gctx context.Context
	select {
	case <-d.stopping:
		gctx = d.stopCtx
	default:
		var cancel context.CancelFunc
		gctx, cancel = context.WithTimeout(context.Background(), d.o.Grace)
		defer cancel()
	}
	d.releaseErr = d.drain(gctx)
}

// cycle claims and starts what is due, then sleeps until more may be due
// (at once when a full batch was claimed). A panic in it (a Queue's, say)
// is logged with its stack and the loop goes on after a pause.
func (d *Dispatcher) cycle(ctx context.Context) {
	defer func() {
		if v := recover(); v != nil {
			d.logPanic("the claim loop", v)
			t := time.NewTimer(min(d.o.PollInterval, time.Second))
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-d.stopping:
			case <-t.C:
			}
		}
	}()
	if d.step(ctx) {
		return // there may be more due right now
	}
	d.sleep(ctx)
}

// logPanic logs a panic one of the dispatcher's goroutines recovered, with
// its stack: a bug to fix, never a reason to stop pushing.
func (d *Dispatcher) logPanic(where string, v any) {
	d.o.Logger.Error("BUG: panic in the webhook dispatcher, recovered; it carries on",
		"in", where, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
}

// release hands back every lease this dispatcher's owner holds; a panic in
// the Queue is an error here.
func (d *Dispatcher) release(ctx context.Context) (n int, err error) {
	defer func() {
		if v := recover(); v != nil {
			d.logPanic("releasing claims", v)
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return d.q.Release(ctx, d.o.Owner)
}

// Stop makes the dispatcher start no more attempts, at once: nothing more
// is claimed, and deliveries claimed but not started are dropped from its
// queues (Shutdown releases them). Attempts in flight go on. A process
// shutting down calls it first, then Shutdown once it has stopped taking
// requests.
func (d *Dispatcher) Stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closing = true
	d.dropQueued()
}

// dropQueued forgets every delivery claimed but not started (Shutdown
// releases them) and returns how many there were. Called with mu held.
func (d *Dispatcher) dropQueued() int {
	queued := 0
	for _, ds := range d.dests {
		queued += len(ds.queue)
		d.forget(ds.queue)
		for _, c := range ds.queue {
			d.unqueue(ds, c.del.Account)
		}
		ds.queue = nil
	}
	return queued
}

// forget drops queued deliveries from held. Called with mu held.
func (d *Dispatcher) forget(queue []claimed) {
	for _, c := range queue {
		delete(d.held, c.del.ID)
	}
}

// Shutdown stops Run: no more claims; the attempts in flight may finish
// until ctx ends, then they are cancelled (and not recorded); every delivery
// still held is released for others to take at once. It returns when Run
// has returned (at once, after releasing, when Run was never started).
func (d *Dispatcher) Shutdown(ctx context.Context) error {
	d.Stop()
	d.stopOnce.Do(func() {
		d.stopCtx = ctx
		close(d.stopping)
	})
	if !d.started.Load() {
		return d.drain(ctx)
	}
	<-d.done
	return d.releaseErr
}

// drain finishes or cancels the attempts in flight, then releases every
// lease this dispatcher holds (its queued deliveries are never started).
func (d *Dispatcher) drain(ctx context.Context) error {
	d.mu.Lock()
	d.closing = true
	queued := d.dropQueued()
	d.mu.Unlock()
	finished := make(chan struct{})
	go func() { d.wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-ctx.Done():
		d.o.Logger.Warn("webhook attempts still in flight at shutdown: cancelled, to be made again")
		d.abort()
		<-finished
	}
	d.abort()
	rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := d.release(rctx)
	if err != nil {
		d.o.Logger.Error("handing back claimed deliveries failed; they return when their leases end", "err", err)
		return err
	}
	if n > 0 {
		d.o.Logger.Info("handed back claimed deliveries", "deliveries", n, "queued", queued)
	}
	return nil
}

// renewer renews the leases of the deliveries the dispatcher holds every
// RenewEvery, until ctx ends.
func (d *Dispatcher) renewer(ctx context.Context, r LeaseRenewer) {
	t := time.NewTicker(d.o.RenewEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.mu.Lock()
		ids := make([]string, 0, len(d.held))
		for id := range d.held {
			ids = append(ids, id)
		}
		d.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		until := d.o.Clock.Now().Add(d.o.Lease)
		n, err := r.Renew(ctx, d.o.Owner, ids, until)
		if err != nil {
			if ctx.Err() == nil {
				d.o.Logger.Warn("renewing leases failed; retried at the next tick", "deliveries", len(ids), "err", err)
			}
			continue
		}
		if n < len(ids) {
			d.o.Logger.Debug("some leases were not renewed (recorded meanwhile, or taken over)", "renewed", n, "held", len(ids))
		}
		d.mu.Lock()
		for _, ds := range d.dests {
			for i := range ds.queue {
				ds.queue[i].until = until
			}
		}
		d.mu.Unlock()
	}
}

// sleep waits until work may be due: the earliest due delivery, a
// destination about to count as saturated, a Notify, or PollInterval.
func (d *Dispatcher) sleep(ctx context.Context) {
	wait := d.o.PollInterval
	now := d.o.Clock.Now()
	if at, ok, err := d.q.NextDue(ctx); err == nil && ok {
		wait = min(wait, max(at.Sub(now), time.Millisecond))
	}
	if at, ok := d.nextStall(); ok {
		wait = min(wait, max(at.Sub(now), time.Millisecond))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-d.stopping:
	case <-d.wake:
	case <-t.C:
	}
}

// step starts queued deliveries that can go, then claims as many more as
// there is room for. It returns true when it claimed a full batch (more may
// be due).
func (d *Dispatcher) step(ctx context.Context) bool {
	now := d.o.Clock.Now()
	limit, exclude, busy, closing := func() (int, []string, bool, bool) {
		d.mu.Lock()
		defer d.mu.Unlock() // even through a panic: the loop goes on
		if d.closing {
			return 0, nil, false, true
		}
		d.startQueued(now)
		limit, exclude := d.room(now)
		return limit, exclude, d.running > 0, false
	}()
	if closing {
		return false
	}
	// With attempts in flight, wait until a useful batch fits: a claim is a
	// write to the store, not to be made for every answer.
	if limit <= 0 || (busy && limit < min(d.o.Batch, d.o.Workers)/4) {
		return false
	}
	until := now.Add(d.o.Lease)
	batch, err := d.q.Claim(ctx, now, limit, d.o.Owner, until, exclude)
	if err != nil {
		if ctx.Err() == nil {
			d.o.Logger.Error("claiming due deliveries failed", "err", err)
		}
		return false
	}
	urls, names := make([]string, len(batch)), make([]string, len(batch))
	for i := range batch {
		if batch[i].Dest == "" {
			batch[i].Dest = destinationOf(batch[i].URL)
		}
		urls[i], names[i] = batch[i].URL, batch[i].Dest
	}
	keys := d.keys.keyAll(ctx, urls, names)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closing {
		return false // claimed just as Stop came: Shutdown releases them
	}
	for i, del := range batch {
		if _, ok := d.held[del.ID]; ok {
			continue // still being sent: its lease ended meanwhile and it came back to us
		}
		d.held[del.ID] = struct{}{}
		ds := d.dest(keys[i])
		ds.names[del.Dest] = struct{}{}
		ds.queue = append(ds.queue, claimed{del: del, until: until, key: keys[i]})
		ds.accounts[del.Account]++
		d.account(del.Account).queued++
	}
	d.startQueued(now)
	return len(batch) == limit
}

// room says how many deliveries to claim and which destinations to leave
// aside. Called with mu held.
func (d *Dispatcher) room(now time.Time) (int, []string) {
	limit := d.o.Workers - d.running
	share := d.share()
	var exclude []string
	for _, ds := range d.dests {
		if d.saturated(ds, now) || d.holdsCapped(ds, share) {
			// A saturated destination, or one of an account at its share:
			// claim no more for it, and its queue waits on its own.
			for name := range ds.names {
				exclude = append(exclude, name)
			}
			continue
		}
		// Deliveries queued for a destination that answers will take a
		// worker soon: keep room for them.
		for _, c := range ds.queue {
			if d.accounts[c.del.Account].running < share {
				limit--
			}
		}
	}
	// Deliveries queued behind their account's share still hold a lease:
	// bound them, so that claims cannot pile them up.
	limit = min(limit, maxQueuedFactor*d.o.Workers-d.queued())
	return min(max(limit, 0), d.o.Batch), exclude
}

// maxQueuedFactor bounds the deliveries claimed and not started, as a
// multiple of Workers.
const maxQueuedFactor = 4

// queued counts the deliveries claimed and not started. Called with mu held.
func (d *Dispatcher) queued() int {
	n := 0
	for _, a := range d.accounts {
		n += a.queued
	}
	return n
}

// share is how many attempts one account may have in flight: the workers
// divided among the accounts with deliveries in flight or waiting, and one
// more, so that an account not seen yet always finds a free worker. One
// account's hung receivers can therefore never hold every worker. Called
// with mu held.
func (d *Dispatcher) share() int {
	return max(1, d.o.Workers/(len(d.accounts)+1))
}

// holdsCapped tells whether a destination has deliveries of an account that
// is at its share. Called with mu held.
func (d *Dispatcher) holdsCapped(ds *destination, share int) bool {
	for name := range ds.accounts {
		if a := d.accounts[name]; a != nil && a.running >= share {
			return true
		}
	}
	return false
}

// account returns the bookkeeping of an account, made on first use.
// Called with mu held.
func (d *Dispatcher) account(name string) *accountLoad {
	a, ok := d.accounts[name]
	if !ok {
		a = &accountLoad{}
		d.accounts[name] = a
	}
	return a
}

// unqueue forgets one queued delivery of account at ds (dropped, or its
// lease too short to start). Called with mu held.
func (d *Dispatcher) unqueue(ds *destination, account string) {
	d.leave(ds, account)
	a := d.account(account)
	a.queued--
	d.forgetIdle(account, a)
}

// leave takes one delivery of account off a destination's books.
func (d *Dispatcher) leave(ds *destination, account string) {
	if ds.accounts[account]--; ds.accounts[account] <= 0 {
		delete(ds.accounts, account)
	}
}

func (d *Dispatcher) forgetIdle(name string, a *accountLoad) {
	if a.queued <= 0 && a.running <= 0 {
		delete(d.accounts, name)
	}
}

// saturated tells whether every slot of a destination has been busy for
// Stall without an answer. Called with mu held.
func (d *Dispatcher) saturated(ds *destination, now time.Time) bool {
	if ds.sending < d.o.PerHost {
		return false
	}
	since := ds.fullSince
	if ds.lastDone.After(since) {
		since = ds.lastDone
	}
	return now.Sub(since) >= d.o.Stall
}

// nextStall returns when the next full destination becomes saturated.
func (d *Dispatcher) nextStall() (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var at time.Time
	ok := false
	now := d.o.Clock.Now()
	for _, ds := range d.dests {
		if ds.sending < d.o.PerHost || d.saturated(ds, now) {
			continue
		}
		t := ds.fullSince
		if ds.lastDone.After(t) {
			t = ds.lastDone
		}
		t = t.Add(d.o.Stall)
		if !ok || t.Before(at) {
			at, ok = t, true
		}
	}
	return at, ok
}

func (d *Dispatcher) dest(name string) *destination {
	ds, ok := d.dests[name]
	if !ok {
		ds = &destination{names: map[string]struct{}{}, accounts: map[string]int{}}
		d.dests[name] = ds
	}
	return ds
}

// startQueued starts queued deliveries while their destination has a free
// slot and a worker is free. A delivery whose lease would end before its
// attempt could is not started: it is left to return to the queue when the
// lease ends, so that no two processes ever send it at once. Called with
// mu held.
func (d *Dispatcher) startQueued(now time.Time) {
	if d.closing {
		return
	}
	share := d.share()
	for name, ds := range d.dests {
		// In order, skipping the deliveries of accounts at their share:
		// those skipped are kept at the front (w of them), the rest of the
		// queue from i on.
		w, i := 0, 0
		for ; i < len(ds.queue); i++ {
			if ds.sending >= d.o.PerHost || d.running >= d.o.Workers {
				break
			}
			c := ds.queue[i]
			if now.Add(d.startMargin()).After(c.until) {
				delete(d.held, c.del.ID)
				d.unqueue(ds, c.del.Account)
				continue
			}
			a := d.account(c.del.Account)
			if a.running >= share {
				ds.queue[w] = c
				w++
				continue
			}
			a.queued--
			a.running++
			ds.sending++
			if ds.sending == d.o.PerHost {
				ds.fullSince = now
			}
			d.running++
			d.wg.Add(1)
			go d.deliver(c.del, c.key)
		}
		switch {
		case w == i: // nothing taken out
		case w == 0: // taken from the front only: no copy
			clear(ds.queue[:i])
			ds.queue = ds.queue[i:]
		default:
			n := copy(ds.queue[w:], ds.queue[i:])
			clear(ds.queue[w+n:])
			ds.queue = ds.queue[:w+n]
		}
		if len(ds.queue) == 0 {
			ds.queue = nil
			if ds.sending == 0 {
				delete(d.dests, name) // forget idle destinations
			}
		}
	}
}

// startMargin is how long a queued delivery's lease must still run for its
// attempt to start: the whole attempt, unless leases are renewed while it
// runs.
func (d *Dispatcher) startMargin() time.Duration {
	if _, ok := d.q.(LeaseRenewer); ok {
		return 0
	}
	return d.o.Timeout + time.Second
}

// sent frees a destination's slot once its attempt has an answer (or none).
func (d *Dispatcher) sent(key, account string) {
	now := d.o.Clock.Now()
	d.mu.Lock()
	ds := d.dest(key)
	ds.sending--
	ds.lastDone = now
	d.leave(ds, account)
	// The account's share counts attempts until their answer: recording
	// them is the store's work, not its receivers'.
	a := d.account(account)
	a.running--
	d.forgetIdle(account, a)
	d.startQueued(now)
	d.mu.Unlock()
}

// finished frees the worker once delivery id's attempt is recorded.
func (d *Dispatcher) finished(id string) {
	d.mu.Lock()
	delete(d.held, id)
	d.running--
	d.startQueued(d.o.Clock.Now())
	d.mu.Unlock()
	d.Notify()
}

// destinationOf names the receiver of a URL when the queue did not:
// scheme and host.
func destinationOf(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		return strings.ToLower(u.Scheme + "://" + u.Host)
	}
	return rawURL
}

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
	if d.abortCtx.Err() != nil && res.Attempt.ResponseStatus == 0 && res.Attempt.Outcome != OutcomeDropped && res.Outcome != "failed" {
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

// recorder records results in batches until d.records is closed: it takes
// every result that is waiting when it becomes free (no timer: a lone result
// is recorded at once, and under load the batches grow by themselves).
func (d *Dispatcher) recorder(q BatchQueue) {
	batch := make([]recordReq, 0, maxRecordBatch)
	results := make([]Result, 0, maxRecordBatch)
	for first := range d.records {
		batch = append(batch[:0], first)
	more:
		for len(batch) < maxRecordBatch {
			select {
			case r, ok := <-d.records:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		results = results[:0]
		for _, r := range batch {
			results = append(results, r.res)
		}
		errs := d.recordAll(q, results)
		for i, r := range batch {
			var err error
			if i < len(errs) {
				err = errs[i]
			}
			r.done <- err
		}
	}
}

// recordAll records one batch; a panic in the Queue becomes an error for
// each result, so that no attempt waits for its answer forever.
func (d *Dispatcher) recordAll(q BatchQueue, results []Result) (errs []error) {
	defer func() {
		if v := recover(); v != nil {
			d.logPanic("recording attempts", v)
			errs = make([]error, len(results))
			for i := range errs {
				errs[i] = fmt.Errorf("panic: %v", v)
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return q.RecordAll(ctx, results)
}

// judge makes the attempt (or, for chaos, pretends to) and decides what
// becomes of the delivery.
func (d *Dispatcher) judge(del Delivery, sent func()) Result {
	if del.Chaos.Drop {
		a := Attempt{N: del.Attempt, Method: del.Method, URL: del.URL, RequestHeader: d.header(del), RequestBody: del.Body,
			StartedAt: d.o.Clock.Now(), Error: MsgLostInTransit, Outcome: OutcomeDropped}
		return Result{DeliveryID: del.ID, Owner: d.o.Owner, Attempt: a, Outcome: "retry",
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
	case a.Outcome == "failed": // refused before sending (payload schema, egress guard)
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
				a.Outcome = "failed"
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
			a.Error, a.Outcome = re.Error(), "failed"
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

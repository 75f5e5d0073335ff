package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/innosandbox/innosandbox/internal/clock"
)

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

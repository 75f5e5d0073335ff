package dispatch

import (
	"context"
	"net/url"
	"strings"
	"time"
)

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

// claimed is a delivery leased to this dispatcher until 'until'.
type claimed struct {
	del   Delivery
	until time.Time
	key   string // its destination (destKeys)
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

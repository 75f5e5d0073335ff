package memstore

import (
	"container/heap"
	"slices"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// The outbox as queues, so that a claim costs O(k log n) for k events
// claimed out of n pending, whatever the backlog (a scan and sort of every
// pending event, under the lock that sends need too, made the store
// deliver less the larger its backlog).
//
// Every pending event is in exactly one place:
//   - its destination's ready heap, ordered by (NextAttemptAt, seq), when
//     it is free or its lease has ended;
//   - the leased heap, ordered by when it can be claimed again (the later
//     of its lease's end and its NextAttemptAt), while a lease holds it.
//
// The destinations with a ready event are themselves in a heap ordered by
// their first event, so a claim takes the oldest due events across
// destinations, and leaves aside a destination the caller excludes by
// stepping over that one queue, never its events.

// where an event entry is filed.
const (
	filedNone uint8 = iota
	filedReady
	filedLeased
)

// destQueue holds the ready events of one destination.
type destQueue struct {
	key        string // state.Destination of the target's URL
	excludable bool   // false for events without a target, never excluded
	events     readyHeap
	idx        int // index in outboxQueue.ready; -1 when not there (empty)
	refs       int // pending events of this destination, ready or leased
}

// outboxQueue indexes the store's pending events.
type outboxQueue struct {
	dests   map[destKey]*destQueue
	ready   destHeap
	leased  leasedHeap
	pending int
	// perAccount counts each account's pending events (CountOwned).
	perAccount map[string]int
	// endedHeld counts the ready events whose ended lease nobody took yet:
	// only then must handOver search the ready heaps.
	endedHeld int
}

type destKey struct {
	key        string
	excludable bool
}

func newOutboxQueue() outboxQueue {
	return outboxQueue{dests: map[destKey]*destQueue{}, perAccount: map[string]int{}}
}

// add files a pending event that is in no queue yet.
func (q *outboxQueue) add(e *eventEntry) {
	k := destKey{}
	if t := e.ev.Target; t != nil {
		k = destKey{key: state.Destination(t.URL), excludable: true}
	}
	d, ok := q.dests[k]
	if !ok {
		d = &destQueue{key: k.key, excludable: k.excludable, idx: -1}
		q.dests[k] = d
	}
	d.refs++
	q.pending++
	q.perAccount[e.ev.Account]++
	e.dest = d
	if e.ev.LeaseOwner != "" && e.ev.LeaseUntil.After(e.ev.NextAttemptAt) {
		q.pushLeased(e)
		return
	}
	q.pushReady(e)
}

// remove takes a pending event out of the queues (it finished or its
// account went).
func (q *outboxQueue) remove(e *eventEntry) {
	q.unfile(e)
	d := e.dest
	e.dest = nil
	d.refs--
	q.pending--
	if q.perAccount[e.ev.Account]--; q.perAccount[e.ev.Account] <= 0 {
		delete(q.perAccount, e.ev.Account)
	}
	if d.refs == 0 {
		delete(q.dests, destKey{d.key, d.excludable})
	}
}

// unfile takes an event out of the heap it is in.
func (q *outboxQueue) unfile(e *eventEntry) {
	switch e.filed {
	case filedReady:
		d := e.dest
		heap.Remove(&d.events, e.idx)
		q.fixDest(d)
		if e.heldReady {
			e.heldReady = false
			q.endedHeld--
		}
	case filedLeased:
		heap.Remove(&q.leased, e.idx)
	}
	e.filed = filedNone
}

func (q *outboxQueue) pushReady(e *eventEntry) {
	d := e.dest
	heap.Push(&d.events, e)
	e.filed = filedReady
	q.fixDest(d)
	if e.ev.LeaseOwner != "" {
		e.heldReady = true
		q.endedHeld++
	}
}

func (q *outboxQueue) pushLeased(e *eventEntry) {
	heap.Push(&q.leased, e)
	e.filed = filedLeased
}

// fixDest files a destination in the ready heap by its first event, or
// takes it out when it has none.
func (q *outboxQueue) fixDest(d *destQueue) {
	switch {
	case len(d.events.slots) == 0 && d.idx >= 0:
		heap.Remove(&q.ready, d.idx)
	case len(d.events.slots) > 0 && d.idx < 0:
		heap.Push(&q.ready, d)
	case len(d.events.slots) > 0:
		heap.Fix(&q.ready, d.idx)
	}
}

// rekey refiles an event whose NextAttemptAt or lease changed.
func (q *outboxQueue) rekey(e *eventEntry) {
	q.unfile(e)
	if e.ev.LeaseOwner != "" && e.ev.LeaseUntil.After(e.ev.NextAttemptAt) {
		q.pushLeased(e)
		return
	}
	q.pushReady(e)
}

// claim leases up to limit due events to owner (see state.Store.ClaimDue).
func (q *outboxQueue) claim(now time.Time, limit int, owner string, until time.Time, exclude []string) []*eventEntry {
	// Leases that ended make their events ready again; they keep their
	// holder until someone else claims them, as in the SQL stores.
	for len(q.leased.slots) > 0 && !q.leased.slots[0].freeAt().After(now) {
		e := heap.Pop(&q.leased).(*eventEntry)
		q.pushReady(e)
	}
	var out []*eventEntry
	var skipped []*destQueue
	for len(out) < limit && len(q.ready.slots) > 0 {
		d := q.ready.slots[0]
		if d.excludable && slices.Contains(exclude, d.key) {
			heap.Pop(&q.ready)
			skipped = append(skipped, d)
			continue
		}
		e := d.events.slots[0]
		if e.ev.NextAttemptAt.After(now) {
			break // the oldest ready event of all is not due
		}
		q.unfile(e)
		if e.ev.LeaseOwner == "" || !e.ev.LeaseUntil.After(now) {
			e.ev.LeaseOwner, e.ev.LeaseUntil = owner, until
			out = append(out, e)
		}
		// else a caller's clock behind the one that ended the lease: the
		// lease still holds at 'now'.
		q.pushLeased(e)
	}
	for _, d := range skipped {
		heap.Push(&q.ready, d)
	}
	return out
}

// release frees the leases owner holds; it returns how many.
func (q *outboxQueue) release(owner string) int {
	var held []*eventEntry
	for _, e := range q.leased.slots {
		if e.ev.LeaseOwner == owner {
			held = append(held, e)
		}
	}
	if q.endedHeld > 0 { // else no ready event has a holder: skip the search
		for _, d := range q.ready.slots {
			for _, e := range d.events.slots {
				if e.ev.LeaseOwner == owner {
					held = append(held, e) // an ended lease, not taken yet
				}
			}
		}
	}
	for _, e := range held {
		e.ev.LeaseOwner, e.ev.LeaseUntil = "", time.Time{}
		q.rekey(e)
	}
	return len(held)
}

// nextDue is when the earliest pending event can next be claimed.
func (q *outboxQueue) nextDue() (time.Time, bool) {
	var at time.Time
	found := false
	if len(q.ready.slots) > 0 {
		at, found = q.ready.slots[0].events.slots[0].freeAt(), true
	}
	if len(q.leased.slots) > 0 {
		if t := q.leased.slots[0].freeAt(); !found || t.Before(at) {
			at, found = t, true
		}
	}
	return at, found
}

// each calls fn for every pending event, in no order. fn must not change
// an event's keys.
func (q *outboxQueue) each(fn func(e *eventEntry)) {
	for _, e := range q.leased.slots {
		fn(e)
	}
	for _, d := range q.ready.slots {
		for _, e := range d.events.slots {
			fn(e)
		}
	}
}

// freeAt is when a pending event can be claimed: its NextAttemptAt, or the
// end of its lease when that is later.
func (e *eventEntry) freeAt() time.Time {
	if e.ev.LeaseOwner != "" && e.ev.LeaseUntil.After(e.ev.NextAttemptAt) {
		return e.ev.LeaseUntil
	}
	return e.ev.NextAttemptAt
}

// slots is a heap's slice; each item knows its index (-1 once popped),
// so that it can be removed or refiled in O(log n). readyHeap, leasedHeap
// and destHeap add their order.
type slots[T interface{ setIdx(int) }] []T

func (h slots[T]) Len() int { return len(h) }
func (h slots[T]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].setIdx(i)
	h[j].setIdx(j)
}
func (h *slots[T]) Push(x any) {
	it := x.(T)
	it.setIdx(len(*h))
	*h = append(*h, it)
}
func (h *slots[T]) Pop() any {
	old := *h
	var zero T
	it := old[len(old)-1]
	old[len(old)-1] = zero
	*h = old[:len(old)-1]
	it.setIdx(-1)
	return it
}

func (e *eventEntry) setIdx(i int) { e.idx = i }
func (d *destQueue) setIdx(i int)  { d.idx = i }

// readyHeap orders a destination's ready events by (NextAttemptAt, seq).
type readyHeap struct{ slots[*eventEntry] }

func (h *readyHeap) Less(i, j int) bool { return dueBefore(h.slots[i], h.slots[j]) }

func dueBefore(a, b *eventEntry) bool {
	if c := a.ev.NextAttemptAt.Compare(b.ev.NextAttemptAt); c != 0 {
		return c < 0
	}
	return a.seq < b.seq
}

// destHeap orders destinations by their first ready event.
type destHeap struct{ slots[*destQueue] }

func (h *destHeap) Less(i, j int) bool {
	return dueBefore(h.slots[i].events.slots[0], h.slots[j].events.slots[0])
}

// leasedHeap orders leased events by when they can be claimed again.
type leasedHeap struct{ slots[*eventEntry] }

func (h *leasedHeap) Less(i, j int) bool {
	if c := h.slots[i].freeAt().Compare(h.slots[j].freeAt()); c != 0 {
		return c < 0
	}
	return h.slots[i].seq < h.slots[j].seq
}

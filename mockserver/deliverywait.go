package mockserver

import (
	"context"
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Waiting for deliveries: a long poll on GET /_sandbox/deliveries, the
// dashboard's live list, `innosandbox wait` and sandboxtest all wait for
// the delivery log to change the same way. Every write that adds events or
// changes their state (a send, an inbound message, a trigger, a template's
// review, a replay, a recorded attempt) signals a broadcast; a waiter reads
// the log again when it fires, never on a timer of its own.
//
// Replicas sharing a PostgreSQL store signal only their own writes: a
// waiter on one replica is not told of an attempt another replica records.
// On such a store (one that says SharedByReplicas) a waiter also reads the
// log again every DeliveryRecheck (the dispatcher's poll interval, 1s by
// default), so that it learns of other replicas' writes within that bound.

// MaxDeliveryWait bounds the wait of one GET /_sandbox/deliveries?wait=…:
// a client that wants longer asks again.
const MaxDeliveryWait = 60 * time.Second

// broadcast wakes every waiter at once: a channel closed at the next
// signal and replaced by a fresh one.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

func newBroadcast() *broadcast { return &broadcast{ch: make(chan struct{})} }

// signal wakes the waiters of the current channel.
func (b *broadcast) signal() {
	b.mu.Lock()
	close(b.ch)
	b.ch = make(chan struct{})
	b.mu.Unlock()
}

// next returns the channel the next signal closes.
func (b *broadcast) next() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

// sharedStore is a store that other processes write to as well.
type sharedStore interface{ SharedByReplicas() bool }

// deliveryRecheck is how often a waiter reads the log again without a
// signal: never (0) unless the store is shared by replicas.
func deliveryRecheck(cfg Config) time.Duration {
	if s, ok := cfg.Store.(sharedStore); !ok || !s.SharedByReplicas() {
		return 0
	}
	if cfg.Dispatch.PollInterval > 0 {
		return cfg.Dispatch.PollInterval
	}
	return time.Second
}

// DeliveryWatch tells its owner when the delivery log may have changed.
// The pattern is: watch, read, wait, read, wait... Each Wait returns after
// a change made since the previous Wait returned (or since the watch was
// made), so a change between a read and the next Wait is never missed.
// A DeliveryWatch is for one goroutine.
type DeliveryWatch struct {
	s  *Server
	ch <-chan struct{}
}

// WatchDeliveries starts a watch on the delivery log: the dashboard's live
// list and sandboxtest wait with it.
func (s *Server) WatchDeliveries() *DeliveryWatch {
	return &DeliveryWatch{s: s, ch: s.changes.next()}
}

// Wait blocks until the delivery log may have changed: a signalled write,
// or, on a store shared by replicas, DeliveryRecheck elapsed. It returns
// false when ctx ends or the server shuts down (EndWaits) first.
func (w *DeliveryWatch) Wait(ctx context.Context) bool {
	var tick <-chan time.Time
	if w.s.recheck > 0 {
		t := time.NewTimer(w.s.recheck)
		defer t.Stop()
		tick = t.C
	}
	select {
	case <-w.ch:
	case <-tick:
	case <-ctx.Done():
		return false
	case <-w.s.waitsEnded:
		return false
	}
	// Re-armed before the caller reads: a change from here on ends the
	// next Wait; one before it is in what the caller reads next.
	w.ch = w.s.changes.next()
	return true
}

// DeliveryRecheck is how often a waiter reads the delivery log again without
// a signal: the fallback for a store shared by replicas, 0 for others.
func (s *Server) DeliveryRecheck() time.Duration { return s.recheck }

// WaitDeliveries returns the events matching f as soon as there is at least
// one, waiting for writes until ctx ends; then it returns an empty list and
// no error (a long poll's empty answer). An error is the store's.
func (s *Server) WaitDeliveries(ctx context.Context, f state.EventFilter) ([]state.Event, error) {
	w := s.WatchDeliveries()
	for {
		list, err := s.sandbox.ListEvents(ctx, f)
		switch {
		case err == nil && len(list) > 0:
			return list, nil
		case ctx.Err() != nil:
			return []state.Event{}, nil
		case err != nil:
			return nil, err
		}
		if !w.Wait(ctx) {
			return []state.Event{}, nil
		}
	}
}

// EndWaits ends every wait on the delivery log, now and from now on: a
// process that is shutting down answers its long polls at once (with what
// they have) instead of holding the shutdown for their whole wait. Call it
// from http.Server.RegisterOnShutdown; Shutdown calls it too.
func (s *Server) EndWaits() { s.endWaitsOnce.Do(func() { close(s.waitsEnded) }) }

// signalDeliveries wakes the delivery log's waiters.
func (s *Server) signalDeliveries() { s.changes.signal() }

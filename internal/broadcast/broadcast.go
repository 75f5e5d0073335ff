// Package broadcast wakes every waiter at once when something changed: a
// channel closed at the next Signal and replaced by a fresh one. The
// delivery log's waiters (mockserver) and sandboxtest's receivers wait on
// one, so that nothing waits in a polling loop.
package broadcast

import "sync"

// Broadcast is safe for concurrent use. The zero value is not ready: use New.
type Broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

// New returns a Broadcast.
func New() *Broadcast { return &Broadcast{ch: make(chan struct{})} }

// Signal wakes everyone waiting on a channel Next returned.
func (b *Broadcast) Signal() {
	b.mu.Lock()
	close(b.ch)
	b.ch = make(chan struct{})
	b.mu.Unlock()
}

// Next returns the channel the next Signal closes. Take it before looking
// at the state it guards, so that a change in between is not missed.
func (b *Broadcast) Next() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

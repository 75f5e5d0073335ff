package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Replicas wake each other. A write that makes events due (new pending
// events, a replay, a clock shift, leases handed back) is followed, once
// committed, by NOTIFY on dueChannel; every replica LISTENs on a connection
// of its own (WatchDue) and wakes its dispatcher, so that a delivery raised
// on a replica whose dispatcher is busy is claimed by another at once, not
// at that one's next poll. A notification lost (a process dying between
// its commit and its NOTIFY, a listener reconnecting) only costs that:
// dispatchers still poll.
//
// The NOTIFY is not part of the writing transaction, though that would be
// exact: PostgreSQL serialises the commits of notifying transactions
// (including their flush to disk) on one lock, which took parallel sends
// from 0.36-0.86 ms to 1.8-3.1 ms each (storetest.Bench; 0.75-1.08 ms
// against 0.82-0.86 ms without NOTIFY as it is done now). Instead one
// goroutine per store sends them after the commits, coalescing those that
// come while one is on its way: a round trip later, one statement for any
// number of writes.
//
// The payload names the store that sent it, so that a replica does not wake
// itself for its own writes (its dispatcher is told in-process).
const dueChannel = "innosandbox_due"

// notifyDueSQL sends the notification; $1 is the sender's instance.
const notifyDueSQL = "SELECT pg_notify('" + dueChannel + "', $1)"

var _ state.DueWatcher = (*Store)(nil)

// newInstance names a store in its notifications.
func newInstance() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// notifyDue wakes the other replicas after a write of events that
// committed (err == nil) when one of them is pending.
func (s *Store) notifyDue(err error, events []state.Event) {
	if err != nil {
		return
	}
	for i := range events {
		if events[i].Status == state.EventPending {
			s.wakeOthers()
			return
		}
	}
}

// wakeOthers asks the notifier for a NOTIFY; it never blocks.
func (s *Store) wakeOthers() {
	select {
	case s.due <- struct{}{}:
	default: // one is asked for already: it will cover this write too
	}
}

// notifier sends a NOTIFY for each request (coalesced) until quit closes.
func (s *Store) notifier() {
	defer close(s.notifierDone)
	for {
		select {
		case <-s.quit:
			return
		case <-s.due:
		}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		_, _ = s.pool.Exec(ctx, notifyDueSQL, s.instance) // a lost one costs a poll
		cancel()
	}
}

// WatchDue implements state.DueWatcher: it listens for other replicas'
// notifications on a connection of its own and calls wake for each, until
// ctx ends. When the connection fails it connects again (after a pause),
// and calls wake once it listens again, for what it may have missed.
func (s *Store) WatchDue(ctx context.Context, wake func()) {
	for ctx.Err() == nil {
		_ = s.listen(ctx, wake)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listen(ctx context.Context, wake func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.connCfg)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+dueChannel); err != nil {
		return err
	}
	wake()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload != s.instance {
			wake()
		}
	}
}

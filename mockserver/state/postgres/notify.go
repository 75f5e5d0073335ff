package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Replicas wake each other. A transaction that makes events due (new
// pending events, a replay, a clock shift, leases handed back) also sends
// NOTIFY on dueChannel, delivered when it commits; every replica LISTENs on
// a connection of its own (WatchDue) and wakes its dispatcher, so that a
// delivery raised on a replica whose dispatcher is busy is claimed by
// another at once, not at that one's next poll. A notification lost (a
// listener reconnecting) only costs that: dispatchers still poll.
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

// queueNotifyDue adds the notification to a batch (one implicit
// transaction): sent if the batch commits.
func (s *Store) queueNotifyDue(b *pgx.Batch) { b.Queue(notifyDueSQL, s.instance) }

// execNotify is exec with the notification in the same transaction (one
// round trip, as a batch). It notifies even when the statement changed
// nothing: a replica woken for nothing only looks once more.
func (s *Store) execNotify(ctx context.Context, op string, sql string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, op, func(ctx context.Context, q querier) error {
		b := &pgx.Batch{}
		b.Queue(sql, args...)
		s.queueNotifyDue(b)
		br := q.SendBatch(ctx, b)
		tag, err := br.Exec()
		if err == nil {
			n = tag.RowsAffected()
			_, err = br.Exec()
		}
		if err != nil {
			_ = br.Close()
			return err
		}
		return br.Close()
	})
	return n, err
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

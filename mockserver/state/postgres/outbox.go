package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
)

const ()

// eventColsOf is sqlstore.EventCols qualified by a table alias, for statements that
// join events with something else.
func eventColsOf(alias string) string {
	cols := strings.Split(sqlstore.EventCols, ", ")
	for i, c := range cols {
		cols[i] = alias + "." + c
	}
	return strings.Join(cols, ", ")
}

// ---------------------------------------------------------------- messages

func scanMessage(sc scanner) (state.Message, error) {
	var m state.Message
	var recipients, wamids []byte
	if err := sc.Scan(&m.ID, &m.Account, &m.AppKey, &m.Product, &m.MessageType, &m.WabaID, &m.SendNumber,
		&recipients, &wamids, &m.UID, &m.Request, &m.CreatedAt); err != nil {
		return m, err
	}
	m.CreatedAt = m.CreatedAt.UTC()
	if err := fromJSON(recipients, &m.Recipients); err != nil {
		return m, err
	}
	return m, fromJSON(wamids, &m.Wamids)
}

// eventArgs are an event's values in sqlstore.InsertEventSQL's order.
func eventArgs(e *state.Event) ([]any, error) {
	var url, method, dest any
	var user, auth *string
	var retry any
	if t := e.Target; t != nil {
		url, method, user, auth, dest = t.URL, t.Method, t.Username, t.Authorization, state.Destination(t.URL)
		var err error
		if retry, err = sqlstore.JSONPtr(t.Retry); err != nil {
			return nil, err
		}
	}
	chaos, err := sqlstore.JSONPtr(e.Chaos)
	if err != nil {
		return nil, err
	}
	return []any{e.ID, e.Account, e.Type, e.Product, e.AppKey, e.Route, string(e.Status), e.Reason, e.Payload,
		url, method, user, auth, retry, chaos, e.Attempts, e.DueAt, e.NextAttemptAt,
		e.LeaseOwner, e.LeaseUntil, e.CreatedAt, e.UpdatedAt, dest}, nil
}

// queueEvents adds the inserts of events to a batch and returns a function
// that reads their results, in order, mapping the first failure: an id
// that is taken (also by an earlier event of the same batch) is a
// conflict, an unknown account is not found.
func queueEvents(b *pgx.Batch, events []state.Event) (func(br pgx.BatchResults) error, error) {
	for i := range events {
		args, err := eventArgs(&events[i])
		if err != nil {
			return nil, err
		}
		b.Queue(sqlstore.InsertEventSQL, args...)
	}
	return func(br pgx.BatchResults) error {
		for i := range events {
			_, err := br.Exec()
			switch {
			case isUnique(err):
				return state.Conflict("event", events[i].ID)
			case isForeignKey(err):
				return state.NotFound("account", events[i].Account)
			case err != nil:
				return err
			}
		}
		return nil
	}, nil
}

// batch sends the statements build queues in one round trip, which the
// server runs as one implicit transaction: all of them are committed, or
// none when one fails. read reads the results in order; returning an error
// undoes the whole batch only if the server failed a statement (a check
// that must undo it raises, see sandbox_require).
func (s *Store) batch(ctx context.Context, op string, build func(b *pgx.Batch) (read func(br pgx.BatchResults) error, err error)) error {
	b := &pgx.Batch{}
	read, err := build(b)
	if err != nil {
		return err
	}
	return s.write(ctx, op, func(ctx context.Context, q querier) error {
		br := q.SendBatch(ctx, b)
		if err := read(br); err != nil {
			_ = br.Close()
			return err
		}
		return br.Close()
	})
}

// requireAppSQL fails the batch it is part of when the app does not exist.
const requireAppSQL = "SELECT sandbox_require(EXISTS (" + sqlstore.AppExistsSQL + "), 'app')"

// codeRequireFailed is sandbox_require's SQLSTATE (no_data_found).
const codeRequireFailed = "P0002"

// RecordSubmission implements state.Store: the hot path of every send. The
// app check, the message, the sender binding (only if the number is
// unbound), the WABA number (only if unregistered) and the events go to
// the server in one round trip, as one transaction.
func (s *Store) RecordSubmission(ctx context.Context, sub state.Submission) error {
	m := sub.Message
	recipients, err := sqlstore.JSON(m.Recipients, m.Recipients == nil)
	if err != nil {
		return err
	}
	wamids, err := sqlstore.JSON(m.Wamids, m.Wamids == nil)
	if err != nil {
		return err
	}
	err = s.batch(ctx, "record submission", func(b *pgx.Batch) (func(pgx.BatchResults) error, error) {
		b.Queue(requireAppSQL, m.AppKey)
		b.Queue(sqlstore.InsertMessageSQL,
			m.ID, m.Account, m.AppKey, m.Product, m.MessageType, m.WabaID, m.SendNumber, recipients, wamids, m.UID, m.Request, m.CreatedAt)
		if bs := sub.BindSender; bs != nil {
			b.Queue(sqlstore.BindIfUnboundSQL,
				bs.Account, string(bs.Kind), bs.Value, bs.AppKey, bs.CreatedAt)
		}
		if n := sub.RegisterNumber; n != nil {
			b.Queue(sqlstore.RegisterNumberSQL,
				n.Account, n.Number, n.WabaID, n.CreatedAt)
		}
		events, err := queueEvents(b, sub.Events)
		if err != nil {
			return nil, err
		}
		return func(br pgx.BatchResults) error {
			if _, err := br.Exec(); pgCode(err) == codeRequireFailed {
				return state.NotFound("app", m.AppKey)
			} else if err != nil {
				return err
			}
			_, err := br.Exec()
			switch {
			case isUnique(err):
				return state.Conflict("message", m.ID)
			case isForeignKey(err):
				return state.NotFound("account", m.Account)
			case err != nil:
				return err
			}
			if sub.BindSender != nil {
				if _, err := br.Exec(); isForeignKey(err) {
					return state.NotFound("app", sub.BindSender.AppKey)
				} else if err != nil {
					return err
				}
			}
			if sub.RegisterNumber != nil {
				if _, err := br.Exec(); isForeignKey(err) {
					return state.NotFound("account", sub.RegisterNumber.Account)
				} else if err != nil {
					return err
				}
			}
			return events(br)
		}, nil
	})
	s.notifyDue(err, sub.Events)
	return err
}

// GetMessage implements state.Store.
func (s *Store) GetMessage(ctx context.Context, id string) (state.Message, error) {
	return queryOne(ctx, s, "get message", scanMessage, func() error { return state.NotFound("message", id) },
		sqlstore.GetMessageSQL, id)
}

// ------------------------------------------------------------------ events

// scanEvent reads sqlstore.EventCols; seq is the creation order.
func scanEvent(sc scanner) (e state.Event, seq int64, err error) {
	var url, method, user, auth *string
	var retry, chaos []byte
	if err = sc.Scan(&seq, &e.ID, &e.Account, &e.Type, &e.Product, &e.AppKey, &e.Route, &e.Status, &e.Reason, &e.Payload,
		&url, &method, &user, &auth, &retry, &chaos, &e.Attempts, &e.DueAt, &e.NextAttemptAt, &e.LeaseOwner, &e.LeaseUntil,
		&e.CreatedAt, &e.UpdatedAt); err != nil {
		return e, 0, err
	}
	if url != nil {
		e.Target = &state.Target{URL: *url, Username: user, Authorization: auth}
		if method != nil {
			e.Target.Method = *method
		}
		if e.Target.Retry, err = fromJSONPtr[state.RetryPolicy](retry); err != nil {
			return e, 0, err
		}
	}
	if e.Chaos, err = fromJSONPtr[state.EventChaos](chaos); err != nil {
		return e, 0, err
	}
	e.DueAt, e.NextAttemptAt, e.LeaseUntil = e.DueAt.UTC(), e.NextAttemptAt.UTC(), e.LeaseUntil.UTC()
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return e, seq, nil
}

func scanEventOnly(sc scanner) (state.Event, error) {
	e, _, err := scanEvent(sc)
	return e, err
}

func scanAttempt(sc scanner) (state.Attempt, error) {
	var a state.Attempt
	var latency int64
	var reqHeaders, respHeaders []byte
	if err := sc.Scan(&a.EventID, &a.N, &a.StartedAt, &latency, &a.Method, &a.URL, &reqHeaders, &a.RequestBody,
		&a.ResponseStatus, &respHeaders, &a.ResponseBody, &a.Error, &a.Outcome); err != nil {
		return a, err
	}
	a.StartedAt, a.Latency = a.StartedAt.UTC(), time.Duration(latency)
	if err := fromJSON(reqHeaders, &a.RequestHeaders); err != nil {
		return a, err
	}
	return a, fromJSON(respHeaders, &a.ResponseHeaders)
}

// AddEvents implements state.Store.
func (s *Store) AddEvents(ctx context.Context, events []state.Event) error {
	if len(events) == 0 {
		if s.closed.Load() {
			return ErrClosed
		}
		return nil
	}
	err := s.batch(ctx, "add events", func(b *pgx.Batch) (func(pgx.BatchResults) error, error) { return queueEvents(b, events) })
	s.notifyDue(err, events)
	return err
}

// GetEvent implements state.Store. The event and its attempts are read in
// one snapshot, so the attempts match the event's count.
func (s *Store) GetEvent(ctx context.Context, id string) (state.Event, []state.Attempt, error) {
	var e state.Event
	var attempts []state.Attempt
	err := s.snapshot(ctx, "get event", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		e, _, err = scanEvent(tx.QueryRow(ctx, sqlstore.GetEventSQL, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return state.NotFound("event", id)
		} else if err != nil {
			return err
		}
		rows, qerr := tx.Query(ctx, sqlstore.ListAttemptsSQL, id)
		attempts, err = collect(rows, qerr, scanAttempt)
		return err
	})
	if err != nil {
		return state.Event{}, nil, err
	}
	return e, attempts, nil
}

// eventsDialect: created_at a timestamptz; payload a bytea.
var eventsDialect = sqlstore.Dialect{
	Time:     func(t time.Time) any { return t },
	Contains: func(ph string) string { return "position(" + ph + "::bytea in payload) > 0" },
}

// ListEvents implements state.Store.
func (s *Store) ListEvents(ctx context.Context, f state.EventFilter) ([]state.Event, error) {
	q, args := sqlstore.EventsQuery(sqlstore.EventCols, f, eventsDialect)
	return queryRows(ctx, s, "list events", scanEventOnly, q, args...)
}

// claimDueSQL leases the due events in one statement. The CTE picks them
// off the events_due index in order and locks them, skipping rows another
// transaction holds (another replica claiming right now) instead of
// waiting; a row whose lease another claim committed meanwhile is
// re-checked on its newest version and left out. MATERIALIZED keeps the
// CTE one locking scan. $5 is the destinations left aside, never NULL.
var claimDueSQL = "WITH due AS MATERIALIZED (" +
	"SELECT seq FROM events WHERE status = 'pending' AND next_attempt_at <= $3 AND (lease_owner = '' OR lease_until <= $3) " +
	"AND (target_dest IS NULL OR target_dest <> ALL ($5::text[])) " +
	"ORDER BY next_attempt_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED) " +
	"UPDATE events e SET lease_owner = $1, lease_until = $2 FROM due WHERE e.seq = due.seq " +
	"RETURNING " + eventColsOf("e")

// ClaimDue implements state.Store: one statement, safe across replicas
// (see claimDueSQL).
func (s *Store) ClaimDue(ctx context.Context, now time.Time, limit int, owner string, leaseUntil time.Time, exclude []string) ([]state.Event, error) {
	if limit <= 0 {
		if s.closed.Load() {
			return nil, ErrClosed
		}
		return []state.Event{}, nil
	}
	if exclude == nil {
		exclude = []string{} // NULL would make <> ALL unknown, leaving every event aside
	}
	var got []sqlstore.Claimed
	err := s.write(ctx, "claim due", func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, claimDueSQL, owner, leaseUntil, now, limit, exclude)
		if err != nil {
			return err
		}
		defer rows.Close()
		got, err = sqlstore.CollectClaimed(rows, scanEvent, got[:0])
		return err
	})
	if err != nil {
		return nil, err
	}
	return sqlstore.InDueOrder(got), nil
}

// ReleaseLeases implements state.Store.
func (s *Store) ReleaseLeases(ctx context.Context, owner string) (int, error) {
	n, err := s.exec(ctx, "release leases", sqlstore.ReleaseLeasesSQL, owner, time.Time{})
	if err == nil && n > 0 {
		s.wakeOthers()
	}
	return int(n), err
}

// RenewLeases implements state.Store.
func (s *Store) RenewLeases(ctx context.Context, owner string, ids []string, until time.Time) (int, error) {
	if len(ids) == 0 {
		if s.closed.Load() {
			return 0, ErrClosed
		}
		return 0, nil
	}
	n, err := s.exec(ctx, "renew leases",
		"UPDATE events SET lease_until = $2 WHERE id = ANY ($3::text[]) AND lease_owner = $1 AND lease_owner <> '' AND status = 'pending'",
		owner, until, ids)
	return int(n), err
}

// Prune implements state.Store, in one transaction. Attempts go with their
// events (foreign key cascade); the newest 'keep' are counted by seq, the
// creation order.
func (s *Store) Prune(ctx context.Context, before time.Time, keep int) (int, error) {
	var n int64
	err := s.tx(ctx, "prune", func(ctx context.Context, tx pgx.Tx) error {
		q := "DELETE FROM events WHERE status <> 'pending' AND (updated_at < $1"
		mq := "DELETE FROM messages WHERE created_at < $1"
		args := []any{before}
		if keep > 0 {
			q += " OR seq < COALESCE((SELECT seq FROM events WHERE status <> 'pending' ORDER BY seq DESC LIMIT 1 OFFSET $2), -1)"
			mq += " OR seq < COALESCE((SELECT seq FROM messages ORDER BY seq DESC LIMIT 1 OFFSET $2), -1)"
			args = append(args, keep-1)
		}
		tag, err := tx.Exec(ctx, q+")", args...)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, mq, args...)
		return err
	})
	return int(n), err
}

// nextDueSQL: the earliest moment ClaimDue could hand out an event. A
// free event counts from its NextAttemptAt (the first free one in the
// events_due index, usually right at its start), a leased one from the
// later of that and its lease's end (the few leased ones, from
// events_leased).
const nextDueSQL = "SELECT MIN(t) FROM (" +
	"SELECT next_attempt_at AS t FROM (SELECT next_attempt_at FROM events WHERE status = 'pending' AND lease_owner = '' " +
	"ORDER BY next_attempt_at LIMIT 1) free " +
	"UNION ALL " +
	"SELECT GREATEST(lease_until, next_attempt_at) AS t FROM events WHERE lease_owner <> '' AND status = 'pending') due"

// outboxStatsSQL reads the outbox's size off the events_due partial index:
// pending events only, however long the log.
const outboxStatsSQL = "SELECT count(*), count(*) FILTER (WHERE next_attempt_at <= $1), " +
	"MIN(next_attempt_at) FROM events WHERE status = 'pending'"

// OutboxStats implements state.Store.
func (s *Store) OutboxStats(ctx context.Context, now time.Time) (state.OutboxStats, error) {
	var st state.OutboxStats
	var oldest *time.Time
	err := s.read(ctx, "outbox stats", func(ctx context.Context, q querier) error {
		return q.QueryRow(ctx, outboxStatsSQL, now).Scan(&st.Pending, &st.Due, &oldest)
	})
	if err != nil {
		return state.OutboxStats{}, err
	}
	if st.Due > 0 && oldest != nil {
		st.OldestDue = oldest.UTC()
	}
	return st, nil
}

// NextDue implements state.Store.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var at *time.Time
	err := s.read(ctx, "next due", func(ctx context.Context, q querier) error {
		return q.QueryRow(ctx, nextDueSQL).Scan(&at)
	})
	if err != nil || at == nil {
		return time.Time{}, false, err
	}
	return at.UTC(), true, nil
}

// recordAttemptSQL is RecordAttempt in one statement: the UPDATE's WHERE
// is the lease check, and the attempt is inserted only for the row it
// changed, so a stale owner writes nothing.
const recordAttemptSQL = "WITH ev AS (UPDATE events SET status = $3, reason = $4, attempts = attempts + 1, " +
	"next_attempt_at = COALESCE($5, next_attempt_at), lease_owner = '', lease_until = $6, updated_at = $7 " +
	"WHERE id = $1 AND lease_owner = $2 AND status = 'pending' RETURNING id) " +
	"INSERT INTO attempts (" + sqlstore.AttemptCols + ") SELECT ev.id, $8::integer, $9::timestamptz, $10::bigint, $11::text, $12::text, " +
	"$13::jsonb, $14::bytea, $15::integer, $16::jsonb, $17::bytea, $18::text, $19::text FROM ev"

// recordArgs are recordAttemptSQL's arguments for r.
func recordArgs(r state.AttemptResult) ([]any, error) {
	a := r.Attempt
	reqHeaders, err := sqlstore.JSON(a.RequestHeaders, a.RequestHeaders == nil)
	if err != nil {
		return nil, err
	}
	respHeaders, err := sqlstore.JSON(a.ResponseHeaders, a.ResponseHeaders == nil)
	if err != nil {
		return nil, err
	}
	var next *time.Time
	if r.Status == state.EventPending {
		next = &r.NextAttemptAt
	}
	return []any{a.EventID, r.Owner, string(r.Status), r.Reason, next, time.Time{},
		a.StartedAt.Add(a.Latency), a.N, a.StartedAt, int64(a.Latency), a.Method, a.URL,
		reqHeaders, a.RequestBody, a.ResponseStatus, respHeaders, a.ResponseBody, a.Error, a.Outcome}, nil
}

// RecordAttempt implements state.Store.
func (s *Store) RecordAttempt(ctx context.Context, r state.AttemptResult) error {
	args, err := recordArgs(r)
	if err != nil {
		return err
	}
	n, err := s.exec(ctx, "record attempt", recordAttemptSQL, args...)
	if err == nil && n == 0 {
		return state.NotFound("event leased to "+r.Owner, r.Attempt.EventID)
	}
	return err
}

// RecordAttempts implements state.AttemptBatcher: the statements go in one
// pgx batch, one round trip and one implicit transaction (a failure leaves
// none of them written, and every result gets the error). Each statement
// checks its own lease, as RecordAttempt's does.
func (s *Store) RecordAttempts(ctx context.Context, rs []state.AttemptResult) []error {
	errs := make([]error, len(rs))
	b := &pgx.Batch{}
	var queued []int
	for i, r := range rs {
		args, err := recordArgs(r)
		if err != nil {
			errs[i] = err
			continue
		}
		b.Queue(recordAttemptSQL, args...)
		queued = append(queued, i)
	}
	if len(queued) == 0 {
		return errs
	}
	err := s.write(ctx, "record attempts", func(ctx context.Context, q querier) error {
		br := q.SendBatch(ctx, b)
		for _, i := range queued {
			tag, err := br.Exec()
			if err != nil {
				_ = br.Close()
				return err
			}
			errs[i] = nil
			if tag.RowsAffected() == 0 {
				errs[i] = state.NotFound("event leased to "+rs[i].Owner, rs[i].Attempt.EventID)
			}
		}
		return br.Close()
	})
	if err != nil {
		for _, i := range queued {
			errs[i] = err
		}
	}
	return errs
}

var _ state.AttemptBatcher = (*Store)(nil)

// Requeue implements state.Store.
func (s *Store) Requeue(ctx context.Context, id string, at time.Time) error {
	n, err := s.exec(ctx, "requeue", sqlstore.RequeueSQL, id, at, time.Time{})
	if err == nil && n == 0 {
		return state.NotFound("delivered or failed event", id)
	}
	if err == nil {
		s.wakeOthers()
	}
	return err
}

// Reset implements state.Store: one TRUNCATE of every table, which is
// transactional in PostgreSQL and, unlike DELETE, leaves no dead rows for
// the next claims to step over.
func (s *Store) Reset(ctx context.Context) error {
	_, err := s.exec(ctx, "reset", "TRUNCATE "+strings.Join(sqlstore.Tables, ", "))
	return err
}

// snapshot runs fn in a read-only REPEATABLE READ transaction: one
// consistent view for reads that take more than one statement.
func (s *Store) snapshot(ctx context.Context, op string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return s.run(ctx, op, true, func(octx context.Context) error {
		return pgx.BeginTxFunc(octx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
			func(tx pgx.Tx) error { return fn(octx, tx) })
	})
}

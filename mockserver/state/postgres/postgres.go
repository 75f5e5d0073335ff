// Package postgres is the state.Store for a sandbox shared by several
// replicas: every `innosandbox serve` started with the same
// --store postgres://… works on one database, through pgx's connection
// pool, and the replicas behave as one sandbox.
//
// # One source of truth
//
// Nothing is cached in the process. The SQLite store may cache what
// authenticating a request reads, because one process owns its file and
// sees every write; here another replica may issue or revoke a token at any
// moment, and a token superseded on one replica must fail on all of them at
// once. So AuthContext and TokenByHash are one indexed read each, every
// time, and the account's clock offset is read with it: advancing the clock
// on one replica moves it for all.
//
// # Transactions
//
// Every method the contract calls atomic runs as one transaction (or one
// statement, which PostgreSQL runs as one), at READ COMMITTED. Where two
// replicas could interleave a read and a write of the same thing, the
// transaction first locks the row that owns it: IssueToken and RevokeToken
// lock the app's row, so that concurrent rotations of one app's token
// queue up and each supersedes the one before it (exactly one token stays
// current); SetDefaultApp share-locks the app, so that it cannot be
// deleted between the check and the write. A transaction the server picks
// as a deadlock or serialization victim, or that failed before anything
// was sent, is run again (at most maxTries times).
//
// # The outbox
//
// Events and their deliveries are written in the transaction of the state
// change that causes them (RecordSubmission, AddEvents, CreateTemplate).
// ClaimDue picks due events off the events_due partial index with
// FOR UPDATE SKIP LOCKED and leases them in the same statement: a
// dispatcher never waits for another's claim and never takes an event
// another holds, and a lease that another transaction committed while this
// one was looking is re-checked by PostgreSQL on the row's newest version
// (READ COMMITTED re-evaluates a locking read's WHERE), so an event is
// handed to one owner at a time. RecordAttempt is one statement whose
// WHERE is the lease check.
//
// # Failures
//
// A database that cannot be reached (connection refused, reset or lost,
// server shutting down, out of connections, no answer within opTimeout)
// makes every method fail with an error wrapping state.ErrUnavailable, so
// the API answers 503, never a wrong 401. The pool drops broken
// connections and opens new ones when the database is back, so the
// sandbox recovers without a restart.
//
// # Schema
//
// The schema is versioned SQL in migrations/, the same versions and names
// as the SQLite store's, embedded and applied at Open in one transaction
// under an advisory lock, recorded in schema_migrations; a database whose
// version is newer than the build's is refused (ErrSchemaTooNew). Use the
// DSN's search_path parameter to keep a sandbox in a schema of its own.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
)

// opTimeout bounds one operation, so that a database that stops answering
// shows up as state.ErrUnavailable (a 503) instead of a request that hangs.
const opTimeout = 10 * time.Second

// connectTimeout bounds opening one connection when the DSN does not set
// connect_timeout.
const connectTimeout = 5 * time.Second

// maxTries is how often an operation runs when the server or the driver
// says that running it again is safe.
const maxTries = 3

// Store is a state.Store on PostgreSQL. Make one with Open; it is safe for
// concurrent use, and any number of Stores (in any number of processes)
// may share one database.
type Store struct {
	pool *pgxpool.Pool
	name string // the DSN without its password, for logs

	connCfg      *pgx.ConnConfig // for WatchDue's connection of its own
	instance     string          // names this store in its notifications (notify.go)
	due          chan struct{}   // asks the notifier for a NOTIFY (buffered: 1)
	quit         chan struct{}   // closed by Close: the notifier stops
	notifierDone chan struct{}

	closed    atomic.Bool
	closeOnce sync.Once
}

var _ state.Store = (*Store)(nil)

// Open connects to the database dsn names (a postgres:// or postgresql://
// URL or key=value pairs; pool_max_conns and search_path are honoured),
// brings its schema up to date and returns the store. A database written by
// a newer build is refused with ErrSchemaTooNew; one that cannot be reached
// gives an error wrapping state.ErrUnavailable.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgconn masks the password in this error.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, wrapErr(ctx, "open", err)
	}
	s := &Store{pool: pool, name: Redact(dsn), connCfg: cfg.ConnConfig.Copy(), instance: newInstance(),
		due: make(chan struct{}, 1), quit: make(chan struct{}), notifierDone: make(chan struct{})}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, wrapErr(ctx, "open "+s.name, err)
	}
	go s.notifier()
	return s, nil
}

// Redact returns a DSN fit for logs: a URL without its password (in the
// user part or as a parameter), and key=value pairs reduced to a mention.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" || u.Host == "" && u.Path == "" {
		return "postgres (DSN not shown)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// String names the store in logs, without credentials.
func (s *Store) String() string { return s.name }

// Close closes the pool; later calls fail with ErrClosed. Closing twice is
// harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.quit)
		<-s.notifierDone
		s.pool.Close()
	})
	return nil
}

// Ping implements state.Store: a round trip to the database that reads the
// schema's version, so that a database without the sandbox's tables shows
// up too.
func (s *Store) Ping(ctx context.Context) error {
	return s.read(ctx, "ping", func(ctx context.Context, q querier) error {
		var v int
		return q.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	})
}

// querier is what operations run statements on: the pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// tx runs fn in a transaction and commits it. It runs fn again, in a new
// transaction, when the server chose the first as a deadlock or
// serialization victim or the driver failed before sending anything; fn
// must therefore only write through tx.
func (s *Store) tx(ctx context.Context, op string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return s.run(ctx, op, false, func(octx context.Context) error {
		return pgx.BeginFunc(octx, s.pool, func(tx pgx.Tx) error { return fn(octx, tx) })
	})
}

// read runs fn, which only reads, on the pool. Each statement is a
// snapshot of its own; fn is run again when the connection was lost (a
// pooled connection the database dropped), since reading again is
// harmless.
func (s *Store) read(ctx context.Context, op string, fn func(ctx context.Context, q querier) error) error {
	return s.run(ctx, op, true, func(octx context.Context) error { return fn(octx, s.pool) })
}

// write runs fn, which writes with exactly one statement (PostgreSQL runs
// it as a transaction of its own), on the pool: a round trip fewer than
// tx. fn is run again only when the driver failed before sending it.
func (s *Store) write(ctx context.Context, op string, fn func(ctx context.Context, q querier) error) error {
	return s.run(ctx, op, false, func(octx context.Context) error { return fn(octx, s.pool) })
}

// exec runs one writing statement and returns how many rows it changed.
func (s *Store) exec(ctx context.Context, op string, sql string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, op, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, sql, args...)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// run runs fn under the store's deadline, again while the failure allows
// it (a lost connection, for reads only: reading again is harmless), and
// gives its error a meaning for callers (wrapErr).
func (s *Store) run(ctx context.Context, op string, idempotent bool, fn func(octx context.Context) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	var err error
	for try := 1; ; try++ {
		err = fn(octx)
		if err == nil || try >= maxTries || octx.Err() != nil || isSentinel(err) {
			break
		}
		if !retryable(err) && !(idempotent && unreachable(err)) {
			break
		}
	}
	if s.closed.Load() && err != nil && !isSentinel(err) {
		return ErrClosed
	}
	return wrapErr(ctx, op, err)
}

// isSentinel tells whether err is one of the contract's answers, which the
// store's own checks produced: final, never a reason to try again.
func isSentinel(err error) bool {
	return errors.Is(err, state.ErrNotFound) || errors.Is(err, state.ErrConflict) || errors.Is(err, state.ErrUnavailable)
}

// scanner is a pgx.Row or pgx.Rows.
type scanner = sqlstore.Scanner

// collect reads every row of a query with scan.
func collect[T any](rows pgx.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlstore.Collect(rows, scan)
}

// exists reports whether a one-row query finds its row.
func exists(ctx context.Context, q querier, sql string, args ...any) (bool, error) {
	var one int
	switch err := q.QueryRow(ctx, sql, args...).Scan(&one); {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// queryOne reads one row with scan; no row is the error missing makes
// (called only then).
func queryOne[T any](ctx context.Context, s *Store, op string, scan func(scanner) (T, error), missing func() error, sql string, args ...any) (T, error) {
	var out T
	err := s.read(ctx, op, func(ctx context.Context, q querier) error {
		var err error
		out, err = scan(q.QueryRow(ctx, sql, args...))
		if errors.Is(err, pgx.ErrNoRows) {
			return missing()
		}
		return err
	})
	return out, err
}

// queryRows reads every row of one statement with scan.
func queryRows[T any](ctx context.Context, s *Store, op string, scan func(scanner) (T, error), sql string, args ...any) ([]T, error) {
	var out []T
	err := s.read(ctx, op, func(ctx context.Context, q querier) error {
		var err error
		rows, qerr := q.Query(ctx, sql, args...)
		out, err = collect(rows, qerr, scan)
		return err
	})
	return out, err
}

// listOf runs a list query of things owned by a parent, and reports
// ErrNotFound (through missing) when the list is empty because the parent
// does not exist. The common case, a parent with children, is one round
// trip.
func listOf[T any](ctx context.Context, s *Store, op string, scan func(scanner) (T, error), listSQL string, args []any,
	parentSQL string, parentArgs []any, missing func() error) ([]T, error) {
	var out []T
	err := s.read(ctx, op, func(ctx context.Context, q querier) error {
		var err error
		rows, qerr := q.Query(ctx, listSQL, args...)
		if out, err = collect(rows, qerr, scan); err != nil || len(out) > 0 {
			return err
		}
		ok, err := exists(ctx, q, parentSQL, parentArgs...)
		if err == nil && !ok {
			return missing()
		}
		return err
	})
	return out, err
}

// SharedByReplicas says that other processes write to this store too: a
// server waiting for deliveries reads it again now and then, since their
// writes signal nothing in this process.
func (s *Store) SharedByReplicas() bool { return true }

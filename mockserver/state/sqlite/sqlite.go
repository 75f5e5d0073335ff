// Package sqlite is the embedded state.Store: one SQLite file (or memory),
// through the pure-Go driver modernc.org/sqlite, so the sandbox needs no C
// toolchain and no database server.
//
// # Connections
//
// A file database runs in WAL mode with synchronous=NORMAL: a commit is
// durable against a crash of the process (kill -9), which is what a sandbox
// must survive; only a power loss can take the last commits back, never
// corrupt the file. Foreign keys are on and every connection waits up to
// busyTimeout for a lock before giving up with state.ErrUnavailable.
//
// There is one writer connection and a pool of read-only connections: WAL
// lets readers see the last commit while the writer works, so reads (the
// hot one is AuthContext, one indexed join per request) never queue behind
// writes. ":memory:" is private to one connection in SQLite (and WAL does
// not apply), so there the writer's connection, kept open for the Store's
// lifetime, serves reads too: reads then wait while a batch commits. Shared
// cache would allow more connections, but its table locks fail readers
// with SQLITE_LOCKED instead of waiting, which busy_timeout does not cover.
//
// # Group commit
//
// Every write goes through one goroutine (see writer). It takes all write
// operations that are waiting when it becomes free, runs them in one
// transaction, each in its own SAVEPOINT, and commits once: an operation
// that fails (a conflict, a missing app) is rolled back to its savepoint
// without touching the others, and each caller gets its own result only
// after the commit. So under concurrency a batch of N submissions costs one
// commit, not N, and a lone caller waits for no timer. A statement's
// context is never the caller's (interrupting a statement can roll back the
// whole transaction); a caller whose context ends before its operation
// starts gets ctx.Err() and nothing is written.
//
// # Schema
//
// The schema is versioned SQL in migrations/, embedded in the binary and
// applied in order at Open in one transaction, recorded in the
// schema_migrations table. A database whose version is newer than the
// binary's is refused (ErrSchemaTooNew). Times are stored as INTEGER Unix
// microseconds (UTC), so they compare and index as numbers; the outbox is a
// partial index of pending events by (next_attempt_at, seq), so ClaimDue is
// one index range scan however large the event log grows.
//
// # Sharing with PostgreSQL
//
// The statements both stores run as written live in internal/sqlstore
// ($N placeholders, ON CONFLICT DO NOTHING, RETURNING, no SQLite-only
// functions); this store binds them with values encoded as plain INTEGER,
// TEXT and BLOB (codec.go). What differs is kept apart: the SQL in
// queries.go that only SQLite runs, the schema (migrations/), classifying driver
// errors (errors.go), how writes are run (writer.go; a server database
// would use a transaction per operation and FOR UPDATE SKIP LOCKED in
// ClaimDue, see claimDueSQL) and the connection setup in this file.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
)

// busyTimeout is how long a connection waits for a lock held by another
// process (or a checkpoint) before the operation fails as unavailable.
const busyTimeout = 5 * time.Second

// Store is a state.Store on SQLite. Make one with Open; it is safe for
// concurrent use.
type Store struct {
	dsn    string
	memory bool
	wdb    *sql.DB // the one writer connection
	rdb    *sql.DB // readers; the same as wdb for ":memory:"
	w      *writer
	reads  sync.Map // query -> *sql.Stmt prepared on rdb
	auth   *authCache
	looks  *lookupCache
	lock   *os.File // the advisory lock on the file (nil for ":memory:")
	ckpt   *checkpointer

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var _ state.Store = (*Store)(nil)

// Open opens (creating it if need be) the database at dsn, a file path or
// ":memory:", brings its schema up to date and starts the writer. A
// database written by a newer build is refused with ErrSchemaTooNew.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" {
		return nil, errors.New("sqlite: no database path given")
	}
	if strings.ContainsRune(dsn, '?') {
		// The driver reads connection parameters after '?'; this package
		// sets them itself, and a path must not be mistaken for them.
		return nil, fmt.Errorf("sqlite: database path %q must not contain '?'", dsn)
	}
	s := &Store{dsn: dsn, memory: dsn == ":memory:", auth: newAuthCache(), looks: newLookupCache()}
	if !s.memory {
		lock, err := lockFile(dsn)
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("sqlite: %w", err)
		} else if err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w: %w", dsn, state.ErrUnavailable, err)
		}
		s.lock = lock
	}
	pragmas := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeout.Milliseconds())
	wdsn := dsn + "?" + pragmas + "&_txlock=immediate"
	if !s.memory {
		// BEGIN IMMEDIATE: take the write lock when the batch starts, so a
		// second process on the same file waits at BEGIN (busy timeout)
		// instead of failing halfway through a batch.
		wdsn += "&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)"
	}
	var err error
	if s.wdb, err = sql.Open("sqlite", wdsn); err != nil {
		return nil, wrapErr(ctx, "open", err)
	}
	// One connection that lives as long as the Store: it is the only writer,
	// and for ":memory:" it is the database itself, so it must never be
	// recycled (no lifetime or idle limit).
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	if err := s.setup(ctx, pragmas); err != nil {
		if s.ckpt != nil {
			s.ckpt.close()
		}
		s.unlock()
		_ = s.wdb.Close()
		if s.rdb != nil && s.rdb != s.wdb {
			_ = s.rdb.Close()
		}
		return nil, err
	}
	return s, nil
}

func (s *Store) setup(ctx context.Context, pragmas string) error {
	if err := s.wdb.PingContext(ctx); err != nil {
		return wrapErr(ctx, "open "+s.dsn, err)
	}
	if !s.memory {
		var mode string
		if err := s.wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			return wrapErr(ctx, "open", err)
		}
		if !strings.EqualFold(mode, "wal") {
			return fmt.Errorf("sqlite: %s: journal mode is %q, not WAL (is the file on a network file system?)", s.dsn, mode)
		}
	}
	if err := migrate(ctx, s.wdb); err != nil {
		return err
	}
	if s.memory {
		s.rdb = s.wdb
	} else {
		var err error
		if s.rdb, err = sql.Open("sqlite", s.dsn+"?"+pragmas+"&_pragma=query_only(1)"); err != nil {
			return wrapErr(ctx, "open", err)
		}
		n := max(4, runtime.GOMAXPROCS(0))
		s.rdb.SetMaxOpenConns(n)
		s.rdb.SetMaxIdleConns(n)
		s.rdb.SetConnMaxIdleTime(0)
		if err := s.rdb.PingContext(ctx); err != nil {
			return wrapErr(ctx, "open", err)
		}
		cdb, err := sql.Open("sqlite", s.dsn+"?"+pragmas)
		if err != nil {
			return wrapErr(ctx, "open", err)
		}
		cdb.SetMaxOpenConns(1)
		s.ckpt = startCheckpointer(cdb)
	}
	stmts := make(map[string]*sql.Stmt, len(writeQueries))
	for _, q := range writeQueries {
		st, err := s.wdb.PrepareContext(ctx, q)
		if err != nil {
			return wrapErr(ctx, "prepare", fmt.Errorf("%w\n%s", err, q))
		}
		stmts[q] = st
	}
	for _, q := range readQueries {
		if _, err := s.readStmt(ctx, q); err != nil {
			return wrapErr(ctx, "prepare", fmt.Errorf("%w\n%s", err, q))
		}
	}
	s.w = newWriter(s.wdb, stmts)
	return nil
}

// String names the store in logs.
func (s *Store) String() string { return "sqlite:" + s.dsn }

// Close stops the writer (operations already taken finish and are
// answered; later ones get ErrClosed) and closes the database. Closing
// twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.w.quit)
		<-s.w.exit
		if s.ckpt != nil {
			s.ckpt.close()
		}
		var errs []error
		if s.rdb != s.wdb {
			errs = append(errs, s.rdb.Close())
		}
		errs = append(errs, s.wdb.Close())
		s.unlock()
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Ping implements state.Store: it reads from the database file, so that a
// file that vanished or cannot be read shows up as unavailable.
func (s *Store) Ping(ctx context.Context) error {
	return s.read(ctx, "ping", func(q querier) error {
		var n int
		return q.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n)
	})
}

// querier is what read operations need: a *sql.Tx or a *sql.DB.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs fn in the writer's next batch.
func (s *Store) write(ctx context.Context, op string, fn writeFunc) error {
	if s.closed.Load() {
		return ErrClosed
	}
	err := s.w.do(ctx, op, fn)
	// After the commit, before the caller learns of it: the next read sees
	// the new app, account, token, webhook or number.
	s.auth.invalidate()
	s.looks.invalidate()
	return err
}

// writeOutbox is write for the outbox's hot writes (sends, events,
// attempts), which change no app, account or token and so leave the
// authentication cache alone.
func (s *Store) writeOutbox(ctx context.Context, op string, fn writeFunc) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.w.do(ctx, op, fn)
}

// unlock releases the file lock.
func (s *Store) unlock() {
	if s.lock != nil {
		_ = s.lock.Close()
		s.lock = nil
	}
}

// read runs fn in a read transaction: one consistent snapshot for reads
// that take more than one query (an app's existence and its tokens).
func (s *Store) read(ctx context.Context, op string, fn func(q querier) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return wrapErr(ctx, op, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(&rtx{s: s, tx: tx}); err != nil {
		return wrapErr(ctx, op, err)
	}
	return wrapErr(ctx, op, tx.Commit())
}

// rtx is a read transaction. Its queries use the statements prepared at
// Open (readQueries); it never prepares on the pool itself, because for
// ":memory:" the pool is the one connection this transaction holds.
type rtx struct {
	s  *Store
	tx *sql.Tx
}

func (r *rtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := r.s.reads.Load(query); ok {
		return r.tx.StmtContext(ctx, st.(*sql.Stmt)).QueryContext(ctx, args...)
	}
	return r.tx.QueryContext(ctx, query, args...)
}

func (r *rtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := r.s.reads.Load(query); ok {
		return r.tx.StmtContext(ctx, st.(*sql.Stmt)).QueryRowContext(ctx, args...)
	}
	return r.tx.QueryRowContext(ctx, query, args...)
}

// readStmt returns query prepared on the reader pool, preparing it once;
// database/sql re-prepares it on each pooled connection as needed. It must
// not be called inside a read transaction (see rtx).
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if st, ok := s.reads.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.rdb.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.reads.LoadOrStore(query, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// queryRows runs a single-statement read (one statement is one snapshot,
// so it needs no transaction) and scans every row.
func queryRows[T any](ctx context.Context, s *Store, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return nil, wrapErr(ctx, op, err)
	}
	out, err := collect(scan)(st.QueryContext(ctx, args...))
	return out, wrapErr(ctx, op, err)
}

// listOf reads the things a parent owns in one read transaction: the
// parent must exist (parentSQL finds its row; if not, the error missing
// makes), then listSQL's rows are scanned.
func listOf[T any](ctx context.Context, s *Store, op string, scan func(scanner) (T, error), listSQL string, args []any,
	parentSQL string, parentArgs []any, missing func() error) ([]T, error) {
	var out []T
	err := s.read(ctx, op, func(q querier) error {
		if ok, err := exists(q.QueryRowContext(ctx, parentSQL, parentArgs...)); err != nil || !ok {
			return sqlstore.Or(err, missing())
		}
		var err error
		out, err = collect(scan)(q.QueryContext(ctx, listSQL, args...))
		return err
	})
	return out, err
}

// queryOne runs a single-statement read of one row and scans it; no row
// is the error missing makes (called only then, so that a hot path's miss
// pays for the message alone).
func queryOne[T any](ctx context.Context, s *Store, op string, scan func(scanner) (T, error), missing func() error, query string, args ...any) (T, error) {
	var zero T
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return zero, wrapErr(ctx, op, err)
	}
	x, err := scan(st.QueryRowContext(ctx, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return zero, missing()
	}
	return x, wrapErr(ctx, op, err)
}

// queryRow runs a one-row read outside a transaction (one statement is
// one snapshot already), prepared.
func (s *Store) queryRow(ctx context.Context, query string, args []any, dest ...any) error {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return err
	}
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// ErrClosed is returned by every method of a closed Store. It wraps
// state.ErrUnavailable: to a caller a closed store is one it cannot reach.
var ErrClosed = fmt.Errorf("sqlite store is closed: %w", state.ErrUnavailable)

// ErrLocked is returned by Open when another process holds the file.
var ErrLocked = errors.New("database file is locked")

// ErrSchemaTooNew is returned by Open for a database whose schema was
// written by a newer build: running old code on it could corrupt it.
var ErrSchemaTooNew = errors.New("database schema is newer than this build")

// sqliteCode returns the extended result code of a driver error, or 0.
func sqliteCode(err error) int {
	var se *msqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// isUnique tells whether err is a PRIMARY KEY or UNIQUE violation: the key
// being created exists.
func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || c == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// isForeignKey tells whether err is a FOREIGN KEY violation: the parent
// (account, app or event) does not exist.
func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// unreachable tells whether err means the database cannot be used right
// now, as opposed to a refused or malformed request: the file cannot be
// opened, read or written, is locked by another process beyond the busy
// timeout, or is not a database.
func unreachable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	// database/sql does not export the error it returns after DB.Close.
	if err.Error() == "sql: database is closed" {
		return true
	}
	switch sqliteCode(err) & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_NOLFS, sqlite3.SQLITE_PERM:
		return true
	}
	return false
}

// wrapErr gives an error its meaning for callers: sentinel errors from the
// store's own checks pass through, a cancelled or expired ctx is reported as
// such, and driver errors that mean the database cannot be reached wrap
// state.ErrUnavailable (which a caller answers with 503, never 401 or 404).
func wrapErr(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, state.ErrNotFound), errors.Is(err, state.ErrConflict), errors.Is(err, state.ErrUnavailable):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("sqlite %s: %w", op, err)
	case ctx != nil && ctx.Err() != nil:
		// The driver reports an interrupted statement its own way.
		return fmt.Errorf("sqlite %s: %w (%v)", op, ctx.Err(), err)
	case unreachable(err):
		return fmt.Errorf("sqlite %s: %w: %v", op, state.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlite %s: %w", op, err)
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// ErrClosed is returned by every method of a closed Store. It wraps
// state.ErrUnavailable: to a caller a closed store is one it cannot reach.
var ErrClosed = fmt.Errorf("postgres store is closed: %w", state.ErrUnavailable)

// ErrSchemaTooNew is returned by Open for a database whose schema was
// written by a newer build: running old code on it could corrupt it.
var ErrSchemaTooNew = errors.New("database schema is newer than this build")

// SQLSTATE codes the store gives a meaning to.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeSerializationFail   = "40001"
	codeDeadlockDetected    = "40P01"
)

// pgCode returns the SQLSTATE of a server error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isUnique tells whether err is a PRIMARY KEY or UNIQUE violation: the key
// being created exists.
func isUnique(err error) bool { return pgCode(err) == codeUniqueViolation }

// isForeignKey tells whether err is a FOREIGN KEY violation: the parent
// (account, app or event) does not exist.
func isForeignKey(err error) bool { return pgCode(err) == codeForeignKeyViolation }

// constraint names the constraint a server error is about, or "".
func constraint(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName
	}
	return ""
}

// retryable tells whether a transaction that failed with err can simply be
// run again: the server chose it as a deadlock or serialization victim
// (nothing of it was committed), or the driver failed before sending
// anything.
func retryable(err error) bool {
	switch pgCode(err) {
	case codeSerializationFail, codeDeadlockDetected:
		return true
	}
	return pgconn.SafeToRetry(err)
}

// unreachable tells whether err means the database cannot be used right
// now, as opposed to a refused or malformed request: the connection was
// refused, reset or lost, the server is shutting down, starting up, out of
// connections or read-only (a standby after a failover), or did not answer
// in time.
func unreachable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"): // connection exception
			return true
		case strings.HasPrefix(pe.Code, "53"): // insufficient resources: too many connections, disk full, out of memory
			return true
		case strings.HasPrefix(pe.Code, "57P"): // admin or crash shutdown, cannot connect now, database dropped
			return true
		case pe.Code == "25006": // read-only transaction: a standby answered
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, pgconn.ErrConnClosed):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	// The pool reports its own closing, and pgconn a connection it gave up
	// on, with errors it does not export.
	msg := err.Error()
	return strings.Contains(msg, "closed pool") || strings.Contains(msg, "conn closed")
}

// wrapErr gives an error its meaning for callers: sentinel errors from the
// store's own checks pass through (so a method may map a constraint
// violation more precisely after wrapErr: the driver's error stays in the
// chain); a caller's context that ended is
// reported as such; the store's own deadline (opTimeout) and driver errors
// that mean the database cannot be reached wrap state.ErrUnavailable (which
// a caller answers with 503, never 401 or 404); constraint violations that
// no method mapped more precisely become ErrConflict or ErrNotFound.
func wrapErr(caller context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, state.ErrNotFound), errors.Is(err, state.ErrConflict), errors.Is(err, state.ErrUnavailable):
		return err
	case caller != nil && caller.Err() != nil:
		return fmt.Errorf("postgres %s: %w", op, caller.Err())
	case errors.Is(err, context.DeadlineExceeded), unreachable(err):
		return fmt.Errorf("postgres %s: %w: %w", op, state.ErrUnavailable, err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("postgres %s: %w", op, err)
	case isUnique(err):
		return fmt.Errorf("postgres %s: %w: %w", op, state.ErrConflict, err)
	case isForeignKey(err):
		return fmt.Errorf("postgres %s: %w: %w", op, state.ErrNotFound, err)
	}
	return fmt.Errorf("postgres %s: %w", op, err)
}

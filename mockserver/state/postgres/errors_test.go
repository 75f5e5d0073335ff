package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/postgres/pgtest"
)

func TestWrapErr(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("exec: %w", &pgconn.PgError{Code: code, Message: "m"}) }
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	live := context.Background()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want error // nil: none of the sentinels
	}{
		{"unique violation", live, pg("23505"), state.ErrConflict},
		{"foreign key violation", live, pg("23503"), state.ErrNotFound},
		{"admin shutdown", live, pg("57P01"), state.ErrUnavailable},
		{"crash shutdown", live, pg("57P02"), state.ErrUnavailable},
		{"cannot connect now", live, pg("57P03"), state.ErrUnavailable},
		{"too many connections", live, pg("53300"), state.ErrUnavailable},
		{"connection failure", live, pg("08006"), state.ErrUnavailable},
		{"read-only standby", live, pg("25006"), state.ErrUnavailable},
		{"connection lost", live, fmt.Errorf("read: %w", io.ErrUnexpectedEOF), state.ErrUnavailable},
		{"connection reset", live, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, state.ErrUnavailable},
		{"connection refused", live, fmt.Errorf("dial: %w", syscall.ECONNREFUSED), state.ErrUnavailable},
		{"closed connection", live, fmt.Errorf("query: %w", pgconn.ErrConnClosed), state.ErrUnavailable},
		{"closed pool", live, errors.New("closed pool"), state.ErrUnavailable},
		{"the store's deadline", live, fmt.Errorf("query: %w", context.DeadlineExceeded), state.ErrUnavailable},
		{"the caller gave up", ended, pg("57P01"), context.Canceled},
		{"syntax error", live, pg("42601"), nil},
		{"a sentinel passes through", live, state.NotFound("app", "x"), state.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := wrapErr(tc.ctx, "op", tc.err)
			require.Error(t, got)
			if tc.want != nil {
				assert.ErrorIs(t, got, tc.want)
			}
			for _, s := range []error{state.ErrConflict, state.ErrNotFound, state.ErrUnavailable} {
				if s != tc.want {
					assert.NotErrorIs(t, got, s)
				}
			}
		})
	}
	assert.NoError(t, wrapErr(live, "op", nil))
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://sandbox:s3cret@db.example:5432/sandbox?sslmode=require": "postgres://sandbox@db.example:5432/sandbox?sslmode=require",
		"postgresql://db.example/sandbox?user=u&password=s3cret":            "postgresql://db.example/sandbox?user=u",
		"postgres://db.example/sandbox":                                     "postgres://db.example/sandbox",
		"host=db.example password=s3cret":                                   "postgres (DSN not shown)",
	} {
		assert.Equal(t, want, Redact(in), in)
	}
}

// TestOpenUnreachable: a database nobody listens for is unavailable, not a
// configuration error.
func TestOpenUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	_, err = Open(context.Background(), "postgres://sandbox:s3cret@"+addr+"/test?sslmode=disable&connect_timeout=2")
	require.ErrorIs(t, err, state.ErrUnavailable)
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestClosedStore(t *testing.T) {
	s := fresh(t)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "closing twice is harmless")
	_, _, _, _, err := s.AuthContext(context.Background(), "AppOne00000000001")
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, err, state.ErrUnavailable)
	assert.ErrorIs(t, s.Ping(context.Background()), state.ErrUnavailable)
	_, err = s.ClaimDue(context.Background(), time.Now(), 10, "o", time.Now(), nil)
	assert.ErrorIs(t, err, state.ErrUnavailable)
}

// TestDatabaseDroppedAndRestored runs a store through a proxy that cuts the
// database off: meanwhile every read and write fails as unavailable (an
// authentication read must never look like an unknown app), and once the
// database is back the same store works again, without being reopened.
func TestDatabaseDroppedAndRestored(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t, 4)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	proxy := pgtest.NewProxy(t, u.Host)
	s := openT(t, pgtest.WithHost(t, dsn, proxy.Addr()))
	now := time.Now()
	require.NoError(t, s.CreateAccount(ctx, state.Account{Name: "IW0000001", CreatedAt: now}))
	require.NoError(t, s.CreateApp(ctx, state.App{Key: "AppOne00000000001", Account: "IW0000001", Name: "one", CreatedAt: now}))

	proxy.Cut()
	for range 3 {
		_, _, _, _, err := s.AuthContext(ctx, "AppOne00000000001")
		assert.ErrorIs(t, err, state.ErrUnavailable, "auth context")
		assert.NotErrorIs(t, err, state.ErrNotFound, "auth context")
		_, err = s.TokenByHash(ctx, state.HashToken("x"))
		assert.ErrorIs(t, err, state.ErrUnavailable, "token by hash")
		assert.ErrorIs(t, s.Ping(ctx), state.ErrUnavailable, "ping")
		assert.ErrorIs(t, s.IssueToken(ctx, state.Token{Hash: state.HashToken("t"), AppKey: "AppOne00000000001", IssuedAt: now}),
			state.ErrUnavailable, "issue token")
		_, err = s.ClaimDue(ctx, now, 10, "o", now.Add(time.Minute), nil)
		assert.ErrorIs(t, err, state.ErrUnavailable, "claim due")
	}

	proxy.Restore()
	require.NoError(t, s.Ping(ctx))
	require.NoError(t, s.IssueToken(ctx, state.Token{Hash: state.HashToken("t"), AppKey: "AppOne00000000001", IssuedAt: now}))
	_, _, cur, ok, err := s.AuthContext(ctx, "AppOne00000000001")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, state.HashToken("t"), cur.Hash)
}

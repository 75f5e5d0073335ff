package sqlite

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

func TestOneProcessPerFile(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	s, err := Open(ctx, path)
	require.NoError(t, err)
	_, err = Open(ctx, path)
	require.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), "in use by another innosandbox process")
	require.NoError(t, s.Close())
	s2, err := Open(ctx, path)
	require.NoError(t, err, "the lock goes with Close")
	require.NoError(t, s2.Close())
}

// After IssueToken returns, no AuthContext may answer with the token it
// replaced, however many readers race the write.
func TestTheAuthCacheNeverAnswersWithASupersededToken(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, tempDB(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NoError(t, s.CreateAccount(ctx, state.Account{Name: "IW0000001", CreatedAt: time.Now()}))
	require.NoError(t, s.CreateApp(ctx, state.App{Key: "AAAAAAAAAAAAAAAAA", Account: "IW0000001", CreatedAt: time.Now()}))

	var reads atomic.Int64
	stop := readWhile(4, func() {
		_, _, _, _, err := s.AuthContext(ctx, "AAAAAAAAAAAAAAAAA")
		assert.NoError(t, err)
		reads.Add(1)
	})
	for i := range 200 {
		h := state.HashToken(string(rune('a'+i%26)) + time.Now().String())
		require.NoError(t, s.IssueToken(ctx, state.Token{Hash: h, AppKey: "AAAAAAAAAAAAAAAAA", IssuedAt: time.Now()}))
		_, _, cur, ok, err := s.AuthContext(ctx, "AAAAAAAAAAAAAAAAA")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, h, cur.Hash, "round %d: AuthContext answered with an old token", i)
		got, err := s.TokenByHash(ctx, h)
		require.NoError(t, err)
		require.Equal(t, state.TokenCurrent, got.State)
	}
	stop()
	assert.Positive(t, reads.Load())
}

// readWhile runs read in a loop on n goroutines until the returned stop is
// called (stop waits for them).
func readWhile(n int, read func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
					read()
				}
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}

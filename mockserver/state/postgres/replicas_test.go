package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/postgres/pgtest"
)

// replicas opens n stores (n pools: n sandbox processes, as far as the
// database can tell) on one fresh schema.
func replicas(t *testing.T, n, conns int) []*Store {
	t.Helper()
	dsn := pgtest.Schema(t, conns)
	out := make([]*Store, n)
	for i := range out {
		out[i] = openT(t, dsn)
	}
	return out
}

// TestClaimsAcrossReplicas: two replicas, eight claimers each, racing for
// 2000 due events: no event is handed to two claimers while leased, and
// every event is delivered exactly once, with one attempt.
func TestClaimsAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	rs := replicas(t, 2, 8)
	now := time.Now()
	require.NoError(t, rs[0].CreateAccount(ctx, state.Account{Name: "IW0000001", CreatedAt: now}))
	const events, workers, batch = 2000, 8, 16
	var evs []state.Event
	for i := range events {
		evs = append(evs, state.Event{ID: fmt.Sprintf("ev-%04d", i), Account: "IW0000001", Type: state.EventWAStatus,
			Product: state.ProductWhatsApp, AppKey: "AppOne00000000001", Status: state.EventPending, Payload: []byte(`{}`),
			Target:        &state.Target{URL: fmt.Sprintf("http://receiver-%d.example/hook", i%5), Method: "POST"},
			NextAttemptAt: now.Add(-time.Duration(i) * time.Millisecond), DueAt: now, CreatedAt: now, UpdatedAt: now})
	}
	for chunk := range slices.Chunk(evs, 500) {
		require.NoError(t, rs[1].AddEvents(ctx, chunk))
	}

	var mu sync.Mutex
	handed := map[string][]string{} // event id -> the claimers it was handed to
	var wg sync.WaitGroup
	for r, s := range rs {
		owner := fmt.Sprint("replica-", r) // one lease owner per process, as dispatchers are
		for w := range workers {
			claimer := fmt.Sprintf("%s/worker-%d", owner, w)
			wg.Go(func() {
				for {
					got, err := s.ClaimDue(ctx, time.Now(), batch, owner, time.Now().Add(time.Hour), nil)
					if !assert.NoError(t, err) || len(got) == 0 {
						return
					}
					mu.Lock()
					for _, e := range got {
						handed[e.ID] = append(handed[e.ID], claimer)
					}
					mu.Unlock()
					for _, e := range got {
						assert.Equal(t, owner, e.LeaseOwner)
						err := s.RecordAttempt(ctx, state.AttemptResult{Owner: owner, Status: state.EventDelivered,
							Attempt: state.Attempt{EventID: e.ID, N: e.Attempts + 1, StartedAt: time.Now(), Method: "POST",
								URL: e.Target.URL, ResponseStatus: 200, Outcome: "delivered"}})
						assert.NoError(t, err, e.ID)
					}
				}
			})
		}
	}
	wg.Wait()

	require.Len(t, handed, events, "every event was claimed")
	perReplica := map[string]int{}
	for id, by := range handed {
		if assert.Len(t, by, 1, "event %s was handed to %v", id, by) {
			perReplica[by[0][:len("replica-0")]]++
		}
	}
	t.Logf("claims per replica: %v", perReplica)
	delivered, err := rs[0].ListEvents(ctx, state.EventFilter{Account: "IW0000001", Status: state.EventDelivered, Limit: 2 * events})
	require.NoError(t, err)
	assert.Len(t, delivered, events, "every event delivered")
	for _, e := range delivered[:20] {
		_, attempts, err := rs[1].GetEvent(ctx, e.ID)
		require.NoError(t, err)
		assert.Len(t, attempts, 1, e.ID)
		assert.Equal(t, 1, e.Attempts, e.ID)
	}
	var attempts int
	require.NoError(t, rs[0].pool.QueryRow(ctx, "SELECT count(*) FROM attempts").Scan(&attempts))
	assert.Equal(t, events, attempts, "one attempt per event, none recorded twice")
	_, pending, err := rs[0].NextDue(ctx)
	require.NoError(t, err)
	assert.False(t, pending, "nothing left pending")
}

// TestTokenRotationRaceAcrossReplicas: two replicas rotate one app's token
// 100 times each, at once. At the end exactly one token is current, it is
// the newest, every other is superseded, and both replicas authenticate
// with it.
func TestTokenRotationRaceAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	rs := replicas(t, 2, 4)
	now := time.Now()
	require.NoError(t, rs[0].CreateAccount(ctx, state.Account{Name: "IW0000001", CreatedAt: now}))
	require.NoError(t, rs[0].CreateApp(ctx, state.App{Key: "AppOne00000000001", Account: "IW0000001", Name: "one", CreatedAt: now}))
	const rotations = 100
	var wg sync.WaitGroup
	for r, s := range rs {
		wg.Go(func() {
			for i := range rotations {
				tok := state.Token{Hash: state.HashToken(fmt.Sprintf("replica-%d-token-%d", r, i)), AppKey: "AppOne00000000001",
					State: state.TokenCurrent, IssuedAt: time.Now()}
				assert.NoError(t, s.IssueToken(ctx, tok))
			}
		})
	}
	wg.Wait()

	tokens, err := rs[1].ListTokens(ctx, "AppOne00000000001")
	require.NoError(t, err)
	require.Len(t, tokens, 2*rotations)
	var current []state.Token
	for _, tok := range tokens {
		if tok.State == state.TokenCurrent {
			current = append(current, tok)
		} else {
			assert.Equal(t, state.TokenSuperseded, tok.State)
		}
	}
	require.Len(t, current, 1, "exactly one current token")
	assert.Equal(t, tokens[0].Hash, current[0].Hash, "the newest token is the current one")
	for r, s := range rs {
		_, _, cur, ok, err := s.AuthContext(ctx, "AppOne00000000001")
		require.NoError(t, err)
		require.True(t, ok, "replica %d", r)
		assert.Equal(t, current[0].Hash, cur.Hash, "replica %d sees the current token", r)
	}
}

// TestAuthNotCachedAcrossReplicas: what one replica writes, the other's
// next authentication read sees; nothing is served from memory.
func TestAuthNotCachedAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	rs := replicas(t, 2, 2)
	a, b := rs[0], rs[1]
	now := time.Now()
	require.NoError(t, a.CreateAccount(ctx, state.Account{Name: "IW0000001", CreatedAt: now}))
	require.NoError(t, a.CreateApp(ctx, state.App{Key: "AppOne00000000001", Account: "IW0000001", Name: "one", CreatedAt: now}))
	_, _, _, ok, err := b.AuthContext(ctx, "AppOne00000000001")
	require.NoError(t, err)
	require.False(t, ok, "no token yet, as read by b")

	first := state.Token{Hash: state.HashToken("first"), AppKey: "AppOne00000000001", IssuedAt: now}
	require.NoError(t, a.IssueToken(ctx, first))
	_, _, cur, ok, err := b.AuthContext(ctx, "AppOne00000000001")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, first.Hash, cur.Hash, "issued on a, current on b at once")

	second := state.Token{Hash: state.HashToken("second"), AppKey: "AppOne00000000001", IssuedAt: now.Add(time.Second)}
	require.NoError(t, b.IssueToken(ctx, second))
	_, _, cur, _, err = a.AuthContext(ctx, "AppOne00000000001")
	require.NoError(t, err)
	assert.Equal(t, second.Hash, cur.Hash, "rotated on b, current on a at once")
	old, err := a.TokenByHash(ctx, first.Hash)
	require.NoError(t, err)
	assert.Equal(t, state.TokenSuperseded, old.State, "a sees the first token superseded")

	_, err = b.ShiftClock(ctx, "IW0000001", time.Hour)
	require.NoError(t, err)
	_, acct, _, _, err := a.AuthContext(ctx, "AppOne00000000001")
	require.NoError(t, err)
	assert.Equal(t, time.Hour, acct.ClockOffset, "the clock moved on b is moved on a")

	require.NoError(t, b.RevokeToken(ctx, "AppOne00000000001", now.Add(time.Minute)))
	_, _, _, ok, err = a.AuthContext(ctx, "AppOne00000000001")
	require.NoError(t, err)
	assert.False(t, ok, "revoked on b, gone on a")
}

package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

func testTokens(t *testing.T, open func(t *testing.T) state.Store) {
	setup := func(t *testing.T) *fixture { return twoApps(t, open) }
	getToken := func(f *fixture, name string) state.Token {
		f.t.Helper()
		tok, err := f.s.TokenByHash(f.ctx, hash(name))
		require.NoError(f.t, err)
		return tok
	}
	t.Run("issue then find by hash returns every field", func(t *testing.T) {
		f := setup(t)
		want := validToken("AppOne00000000001", "t1", t0.In(zone))
		require.NoError(t, f.s.IssueToken(f.ctx, want))
		assert.Equal(t, normToken(want), normToken(getToken(f, "t1")))
	})
	t.Run("a token without expiry keeps ExpiresAt nil", func(t *testing.T) {
		f := setup(t)
		want := validToken("AppOne00000000001", "t1", t0)
		want.ExpiresAt = nil
		require.NoError(t, f.s.IssueToken(f.ctx, want))
		assert.Equal(t, normToken(want), normToken(getToken(f, "t1")))
	})
	t.Run("the issued token is current whatever the caller set", func(t *testing.T) {
		f := setup(t)
		in := validToken("AppOne00000000001", "t1", t0)
		in.State, in.EndedAt = state.TokenRevoked, timep(t0)
		require.NoError(t, f.s.IssueToken(f.ctx, in))
		got := getToken(f, "t1")
		assert.Equal(t, state.TokenCurrent, got.State)
		assert.Nil(t, got.EndedAt)
	})
	t.Run("issuing supersedes the current token", func(t *testing.T) {
		f := setup(t)
		first := f.token("AppOne00000000001", "t1", t0)
		second := f.token("AppOne00000000001", "t2", t0.Add(time.Hour).In(zone))
		wantFirst := first
		wantFirst.State, wantFirst.EndedAt = state.TokenSuperseded, timep(second.IssuedAt)
		assert.Equal(t, normToken(wantFirst), normToken(getToken(f, "t1")))
		assert.Equal(t, normToken(second), normToken(getToken(f, "t2")))
		_, _, cur, ok, err := f.s.AuthContext(f.ctx, "AppOne00000000001")
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, normToken(second), normToken(cur))
	})
	t.Run("issuing leaves a revoked token revoked", func(t *testing.T) {
		f := setup(t)
		f.token("AppOne00000000001", "t1", t0)
		require.NoError(t, f.s.RevokeToken(f.ctx, "AppOne00000000001", t0.Add(time.Minute)))
		f.token("AppOne00000000001", "t2", t0.Add(time.Hour))
		got := getToken(f, "t1")
		assert.Equal(t, state.TokenRevoked, got.State)
		require.NotNil(t, got.EndedAt)
		assertTimeEqual(t, t0.Add(time.Minute), *got.EndedAt, "EndedAt")
	})
	t.Run("issuing leaves other apps' tokens alone", func(t *testing.T) {
		f := setup(t)
		other := f.token("AppTwo00000000002", "other", t0)
		f.token("AppOne00000000001", "t1", t0)
		f.token("AppOne00000000001", "t2", t0.Add(time.Hour))
		assert.Equal(t, normToken(other), normToken(getToken(f, "other")))
	})
	t.Run("a used hash conflicts and the current token stays current", func(t *testing.T) {
		f := setup(t)
		f.token("AppOne00000000001", "t1", t0)
		cur := f.token("AppOne00000000001", "t2", t0.Add(time.Minute))
		err := f.s.IssueToken(f.ctx, validToken("AppOne00000000001", "t1", t0.Add(time.Hour)))
		assert.ErrorIs(t, err, state.ErrConflict)
		assert.Equal(t, normToken(cur), normToken(getToken(f, "t2")))
		err = f.s.IssueToken(f.ctx, validToken("AppTwo00000000002", "t2", t0.Add(time.Hour)))
		assert.ErrorIs(t, err, state.ErrConflict, "hashes are unique across apps")
		assert.Equal(t, normToken(cur), normToken(getToken(f, "t2")))
	})
	t.Run("issuing for an unknown app is not found", func(t *testing.T) {
		f := setup(t)
		err := f.s.IssueToken(f.ctx, validToken("AppNone0000000009", "t1", t0))
		assert.ErrorIs(t, err, state.ErrNotFound)
		_, err = f.s.TokenByHash(f.ctx, hash("t1"))
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("concurrent issues leave exactly one current token", func(t *testing.T) {
		f := setup(t)
		const workers, each = 6, 5
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					tok := validToken("AppOne00000000001", string(rune('a'+w))+string(rune('a'+i)), t0.Add(time.Duration(i)*time.Second))
					assert.NoError(t, f.s.IssueToken(f.ctx, tok))
				}
			})
		}
		wg.Wait()
		tokens, err := f.s.ListTokens(f.ctx, "AppOne00000000001")
		require.NoError(t, err)
		require.Len(t, tokens, workers*each)
		current := 0
		for _, tok := range tokens {
			if tok.State == state.TokenCurrent {
				current++
				assert.Nil(t, tok.EndedAt)
			} else {
				assert.Equal(t, state.TokenSuperseded, tok.State)
				assert.NotNil(t, tok.EndedAt)
			}
		}
		assert.Equal(t, 1, current)
		assert.Equal(t, state.TokenCurrent, tokens[0].State, "the newest token is the current one")
	})
	t.Run("revoke marks the current token revoked at the given time", func(t *testing.T) {
		f := setup(t)
		tok := f.token("AppOne00000000001", "t1", t0)
		at := t0.Add(time.Hour).In(zone)
		require.NoError(t, f.s.RevokeToken(f.ctx, "AppOne00000000001", at))
		want := tok
		want.State, want.EndedAt = state.TokenRevoked, &at
		assert.Equal(t, normToken(want), normToken(getToken(f, "t1")))
		_, _, _, ok, err := f.s.AuthContext(f.ctx, "AppOne00000000001")
		require.NoError(t, err)
		assert.False(t, ok, "a revoked token is not current")
	})
	t.Run("revoke without a current token is not found", func(t *testing.T) {
		f := setup(t)
		assert.ErrorIs(t, f.s.RevokeToken(f.ctx, "AppOne00000000001", t0), state.ErrNotFound, "never issued")
		f.token("AppOne00000000001", "t1", t0)
		require.NoError(t, f.s.RevokeToken(f.ctx, "AppOne00000000001", t0.Add(time.Minute)))
		assert.ErrorIs(t, f.s.RevokeToken(f.ctx, "AppOne00000000001", t0.Add(time.Hour)), state.ErrNotFound, "revoked already")
		got := getToken(f, "t1")
		require.NotNil(t, got.EndedAt)
		assertTimeEqual(t, t0.Add(time.Minute), *got.EndedAt, "the first revocation's time stays")
	})
	t.Run("revoke for an unknown app is not found", func(t *testing.T) {
		f := setup(t)
		assert.ErrorIs(t, f.s.RevokeToken(f.ctx, "AppNone0000000009", t0), state.ErrNotFound)
	})
	t.Run("find by hash finds any app's token in any state", func(t *testing.T) {
		f := setup(t)
		f.token("AppOne00000000001", "sup", t0)
		f.token("AppOne00000000001", "rev", t0.Add(time.Minute))
		require.NoError(t, f.s.RevokeToken(f.ctx, "AppOne00000000001", t0.Add(time.Hour)))
		f.token("AppTwo00000000002", "cur", t0)
		for name, st := range map[string]state.TokenState{"sup": state.TokenSuperseded, "rev": state.TokenRevoked, "cur": state.TokenCurrent} {
			assert.Equal(t, st, getToken(f, name).State, name)
		}
		assert.Equal(t, "AppTwo00000000002", getToken(f, "cur").AppKey)
	})
	t.Run("find by unknown hash is not found", func(t *testing.T) {
		f := setup(t)
		f.token("AppOne00000000001", "t1", t0)
		_, err := f.s.TokenByHash(f.ctx, hash("t2"))
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("list is newest first", func(t *testing.T) {
		f := setup(t)
		// IssuedAt runs backwards (a clock set back), so only the order of
		// issue can produce the expected list.
		a := f.token("AppOne00000000001", "a", t0.Add(2*time.Hour))
		b := f.token("AppOne00000000001", "b", t0.Add(time.Hour))
		c := f.token("AppOne00000000001", "c", t0)
		f.token("AppTwo00000000002", "other", t0)
		a.State, a.EndedAt = state.TokenSuperseded, timep(b.IssuedAt)
		b.State, b.EndedAt = state.TokenSuperseded, timep(c.IssuedAt)
		got, err := f.s.ListTokens(f.ctx, "AppOne00000000001")
		require.NoError(t, err)
		assert.Equal(t, normAll([]state.Token{c, b, a}, normToken), normAll(got, normToken))
	})
	testListOfApp(t, setup, "tokens", func(f *fixture, appKey string) ([]state.Token, error) { return f.s.ListTokens(f.ctx, appKey) })
}

func testAuthContext(t *testing.T, open func(t *testing.T) state.Store) {
	setup := func(t *testing.T) (*fixture, state.Account, state.App) {
		f := newFixture(t, open)
		acct := f.account("IW0000001")
		app := f.app("IW0000001", "AppOne00000000001")
		f.app("IW0000001", "AppTwo00000000002")
		require.NoError(t, f.s.SetDefaultApp(f.ctx, "IW0000001", "AppTwo00000000002"))
		acct.DefaultApp = "AppTwo00000000002"
		shifted, err := f.s.ShiftClock(f.ctx, "IW0000001", time.Hour)
		require.NoError(t, err)
		acct.ClockOffset = shifted.ClockOffset
		return f, acct, app
	}
	t.Run("returns the app, its account and its current token", func(t *testing.T) {
		f, acct, app := setup(t)
		f.token("AppOne00000000001", "old", t0)
		cur := f.token("AppOne00000000001", "cur", t0.Add(time.Minute))
		f.token("AppTwo00000000002", "other", t0.Add(time.Hour))
		gotApp, gotAcct, gotTok, ok, err := f.s.AuthContext(f.ctx, "AppOne00000000001")
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, normApp(app), normApp(gotApp))
		assert.Equal(t, normAccount(acct), normAccount(gotAcct))
		assert.Equal(t, normToken(cur), normToken(gotTok))
	})
	t.Run("an expired current token is still returned", func(t *testing.T) {
		// Expiry is judged on the account's sandbox clock by the domain.
		f, _, _ := setup(t)
		tok := validToken("AppOne00000000001", "cur", t0.Add(-48*time.Hour))
		require.NoError(t, f.s.IssueToken(f.ctx, tok))
		_, _, got, ok, err := f.s.AuthContext(f.ctx, "AppOne00000000001")
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, normToken(tok), normToken(got))
	})
	t.Run("without a current token ok is false and app and account are returned", func(t *testing.T) {
		f, acct, app := setup(t)
		gotApp, gotAcct, _, ok, err := f.s.AuthContext(f.ctx, "AppOne00000000001")
		require.NoError(t, err)
		assert.False(t, ok, "never issued")
		assert.Equal(t, normApp(app), normApp(gotApp))
		assert.Equal(t, normAccount(acct), normAccount(gotAcct))

		f.token("AppOne00000000001", "t1", t0)
		require.NoError(t, f.s.RevokeToken(f.ctx, "AppOne00000000001", t0.Add(time.Minute)))
		gotApp, _, _, ok, err = f.s.AuthContext(f.ctx, "AppOne00000000001")
		require.NoError(t, err)
		assert.False(t, ok, "revoked")
		assert.Equal(t, app.Key, gotApp.Key)
	})
	t.Run("unknown app is not found", func(t *testing.T) {
		f, _, _ := setup(t)
		_, _, _, ok, err := f.s.AuthContext(f.ctx, "AppNone0000000009")
		assert.ErrorIs(t, err, state.ErrNotFound)
		assert.False(t, ok)
	})
}

package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

func testAccounts(t *testing.T, open func(t *testing.T) state.Store) {
	t.Run("create then get returns every field", func(t *testing.T) {
		f := newFixture(t, open)
		want := f.account("IW0000001")
		got, err := f.s.GetAccount(f.ctx, "IW0000001")
		require.NoError(t, err)
		assert.Equal(t, normAccount(want), normAccount(got))
	})
	t.Run("negative clock offset round-trips", func(t *testing.T) {
		f := newFixture(t, open)
		a := validAccount("IW0000001")
		a.ClockOffset = -36*time.Hour - time.Nanosecond
		require.NoError(t, f.s.CreateAccount(f.ctx, a))
		got, err := f.s.GetAccount(f.ctx, a.Name)
		require.NoError(t, err)
		assert.Equal(t, a.ClockOffset, got.ClockOffset)
	})
	t.Run("create with a used name conflicts and keeps the first", func(t *testing.T) {
		f := newFixture(t, open)
		first := f.account("IW0000001")
		second := validAccount("IW0000001")
		second.Label = "another"
		err := f.s.CreateAccount(f.ctx, second)
		assert.ErrorIs(t, err, state.ErrConflict)
		got, err := f.s.GetAccount(f.ctx, "IW0000001")
		require.NoError(t, err)
		assert.Equal(t, first.Label, got.Label)
	})
	t.Run("get unknown is not found", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		_, err := f.s.GetAccount(f.ctx, "IW0000002")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("list is empty at first", func(t *testing.T) {
		f := newFixture(t, open)
		got, err := f.s.ListAccounts(f.ctx)
		require.NoError(t, err)
		assert.Empty(t, got)
	})
	t.Run("list is ordered by name", func(t *testing.T) {
		f := newFixture(t, open)
		c := f.account("IW0000003")
		a := f.account("IW0000001")
		b := f.account("IW0000002")
		got, err := f.s.ListAccounts(f.ctx)
		require.NoError(t, err)
		assert.Equal(t, normAll([]state.Account{a, b, c}, normAccount), normAll(got, normAccount))
	})
	t.Run("delete removes it", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		keep := f.account("IW0000002")
		require.NoError(t, f.s.DeleteAccount(f.ctx, "IW0000001"))
		_, err := f.s.GetAccount(f.ctx, "IW0000001")
		assert.ErrorIs(t, err, state.ErrNotFound)
		got, err := f.s.ListAccounts(f.ctx)
		require.NoError(t, err)
		assert.Equal(t, []state.Account{normAccount(keep)}, normAll(got, normAccount))
	})
	t.Run("delete unknown is not found", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		assert.ErrorIs(t, f.s.DeleteAccount(f.ctx, "IW0000002"), state.ErrNotFound)
	})
	testAccountTokens(t, open)
}

func testAccountTokens(t *testing.T, open func(t *testing.T) state.Store) {
	first, second := state.HashToken("first"), state.HashToken("second")
	t.Run("account token is found by its hash", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		f.account("IW0000002")
		require.NoError(t, f.s.SetAccountToken(f.ctx, "IW0000001", first))
		require.NoError(t, f.s.SetAccountToken(f.ctx, "IW0000002", second))
		got, err := f.s.AccountByTokenHash(f.ctx, first)
		require.NoError(t, err)
		assert.Equal(t, "IW0000001", got)
		got, err = f.s.AccountByTokenHash(f.ctx, second)
		require.NoError(t, err)
		assert.Equal(t, "IW0000002", got)
	})
	t.Run("a new account token replaces the old one", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		require.NoError(t, f.s.SetAccountToken(f.ctx, "IW0000001", first))
		require.NoError(t, f.s.SetAccountToken(f.ctx, "IW0000001", second))
		_, err := f.s.AccountByTokenHash(f.ctx, first)
		assert.ErrorIs(t, err, state.ErrNotFound)
		got, err := f.s.AccountByTokenHash(f.ctx, second)
		require.NoError(t, err)
		assert.Equal(t, "IW0000001", got)
	})
	t.Run("account token of an unknown account is not found", func(t *testing.T) {
		f := newFixture(t, open)
		assert.ErrorIs(t, f.s.SetAccountToken(f.ctx, "IW0000009", first), state.ErrNotFound)
		_, err := f.s.AccountByTokenHash(f.ctx, first)
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("deleting the account ends its token", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		require.NoError(t, f.s.SetAccountToken(f.ctx, "IW0000001", first))
		require.NoError(t, f.s.DeleteAccount(f.ctx, "IW0000001"))
		_, err := f.s.AccountByTokenHash(f.ctx, first)
		assert.ErrorIs(t, err, state.ErrNotFound)
		f.account("IW0000001")
		_, err = f.s.AccountByTokenHash(f.ctx, first)
		assert.ErrorIs(t, err, state.ErrNotFound, "a recreated account does not inherit the token")
	})
	t.Run("reset ends every account token", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		require.NoError(t, f.s.SetAccountToken(f.ctx, "IW0000001", first))
		require.NoError(t, f.s.Reset(f.ctx))
		_, err := f.s.AccountByTokenHash(f.ctx, first)
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
}

func testDefaultApp(t *testing.T, open func(t *testing.T) state.Store) {
	setup := func(t *testing.T) *fixture { return twoAccounts(t, open) }
	defaultOf := func(f *fixture, account string) string {
		f.t.Helper()
		a, err := f.s.GetAccount(f.ctx, account)
		require.NoError(f.t, err)
		return a.DefaultApp
	}
	t.Run("set, change and clear", func(t *testing.T) {
		f := setup(t)
		require.NoError(t, f.s.SetDefaultApp(f.ctx, "IW0000001", "AppOne00000000001"))
		assert.Equal(t, "AppOne00000000001", defaultOf(f, "IW0000001"))
		require.NoError(t, f.s.SetDefaultApp(f.ctx, "IW0000001", "AppTwo00000000002"))
		assert.Equal(t, "AppTwo00000000002", defaultOf(f, "IW0000001"))
		require.NoError(t, f.s.SetDefaultApp(f.ctx, "IW0000001", ""))
		assert.Equal(t, "", defaultOf(f, "IW0000001"))
	})
	t.Run("other account is untouched", func(t *testing.T) {
		f := setup(t)
		require.NoError(t, f.s.SetDefaultApp(f.ctx, "IW0000001", "AppOne00000000001"))
		assert.Equal(t, "", defaultOf(f, "IW0000002"))
	})
	for _, tc := range []struct {
		name, account, app string
	}{
		{"unknown account", "IW0000009", "AppOne00000000001"},
		{"unknown account clearing", "IW0000009", ""},
		{"unknown app", "IW0000001", "AppNone0000000009"},
		{"app of another account", "IW0000001", "AppOther000000003"},
	} {
		t.Run(tc.name+" is not found and changes nothing", func(t *testing.T) {
			f := setup(t)
			require.NoError(t, f.s.SetDefaultApp(f.ctx, "IW0000001", "AppOne00000000001"))
			err := f.s.SetDefaultApp(f.ctx, tc.account, tc.app)
			assert.ErrorIs(t, err, state.ErrNotFound)
			assert.Equal(t, "AppOne00000000001", defaultOf(f, "IW0000001"))
		})
	}
}

func testShiftClock(t *testing.T, open func(t *testing.T) state.Store) {
	t.Run("offset accumulates and the updated account is returned", func(t *testing.T) {
		f := newFixture(t, open)
		a := f.account("IW0000001")
		got, err := f.s.ShiftClock(f.ctx, a.Name, time.Hour)
		require.NoError(t, err)
		assert.Equal(t, a.ClockOffset+time.Hour, got.ClockOffset)
		got, err = f.s.ShiftClock(f.ctx, a.Name, -15*time.Minute)
		require.NoError(t, err)
		want := a
		want.ClockOffset = a.ClockOffset + 45*time.Minute
		assert.Equal(t, normAccount(want), normAccount(got))
		stored, err := f.s.GetAccount(f.ctx, a.Name)
		require.NoError(t, err)
		assert.Equal(t, normAccount(want), normAccount(stored))
	})
	t.Run("pending events come due earlier, nothing else moves", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		f.account("IW0000002")
		f.app("IW0000001", "AppOne00000000001")
		f.app("IW0000002", "AppTwo00000000002")
		pending := pendingEvent("ev-pending", "IW0000001", "AppOne00000000001", t0.Add(time.Hour))
		leased := pendingEvent("ev-leased", "IW0000001", "AppOne00000000001", t0)
		delivered := pendingEvent("ev-delivered", "IW0000001", "AppOne00000000001", t0.Add(time.Hour))
		delivered.Status = state.EventDelivered
		dropped := droppedEvent("ev-dropped", "IW0000001")
		other := pendingEvent("ev-other", "IW0000002", "AppTwo00000000002", t0.Add(time.Hour))
		f.events(pending, leased, delivered, dropped, other)
		_, err := f.s.ClaimDue(f.ctx, t0, 10, "owner", t0.Add(time.Minute), nil)
		require.NoError(t, err)

		_, err = f.s.ShiftClock(f.ctx, "IW0000001", 40*time.Minute)
		require.NoError(t, err)

		assertTimeEqual(t, t0.Add(20*time.Minute), f.getEvent("ev-pending").NextAttemptAt, "own pending event")
		assertTimeEqual(t, t0.Add(-40*time.Minute), f.getEvent("ev-leased").NextAttemptAt, "own leased pending event")
		assertTimeEqual(t, t0.Add(time.Hour), f.getEvent("ev-delivered").NextAttemptAt, "delivered event")
		assertTimeEqual(t, t0, f.getEvent("ev-dropped").NextAttemptAt, "dropped event")
		assertTimeEqual(t, t0.Add(time.Hour), f.getEvent("ev-other").NextAttemptAt, "other account's event")
		// DueAt is sandbox time: it names the event's eventTime and never moves.
		assertTimeEqual(t, pending.DueAt, f.getEvent("ev-pending").DueAt, "DueAt")
	})
	t.Run("unknown account is not found", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		_, err := f.s.ShiftClock(f.ctx, "IW0000002", time.Hour)
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
}

func testApps(t *testing.T, open func(t *testing.T) state.Store) {
	t.Run("create then get returns every field", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		want := validApp("IW0000001", "XFbZY1rtTKo3UD4n1")
		want.CreatedAt = t0.Add(3 * time.Microsecond).In(zone)
		require.NoError(t, f.s.CreateApp(f.ctx, want))
		got, err := f.s.GetApp(f.ctx, want.Key)
		require.NoError(t, err)
		assert.Equal(t, normApp(want), normApp(got))
	})
	t.Run("used key conflicts, also from another account", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		f.account("IW0000002")
		first := f.app("IW0000001", "XFbZY1rtTKo3UD4n1")
		dup := validApp("IW0000002", "XFbZY1rtTKo3UD4n1")
		assert.ErrorIs(t, f.s.CreateApp(f.ctx, dup), state.ErrConflict)
		got, err := f.s.GetApp(f.ctx, first.Key)
		require.NoError(t, err)
		assert.Equal(t, "IW0000001", got.Account)
	})
	t.Run("unknown account is not found", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		err := f.s.CreateApp(f.ctx, validApp("IW0000002", "XFbZY1rtTKo3UD4n1"))
		assert.ErrorIs(t, err, state.ErrNotFound)
		_, err = f.s.GetApp(f.ctx, "XFbZY1rtTKo3UD4n1")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("get unknown is not found", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		f.app("IW0000001", "XFbZY1rtTKo3UD4n1")
		_, err := f.s.GetApp(f.ctx, "XFbZY1rtTKo3UD4n2")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("list is the account's apps in creation order", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		f.account("IW0000002")
		// Keys and CreatedAt both run against creation order, so only the
		// order of creation itself can produce the expected list.
		c := validApp("IW0000001", "ccccccccccccccccc")
		c.CreatedAt = t0.Add(3 * time.Second)
		a := validApp("IW0000001", "aaaaaaaaaaaaaaaaa")
		a.CreatedAt = t0.Add(2 * time.Second)
		b := validApp("IW0000001", "bbbbbbbbbbbbbbbbb")
		b.CreatedAt = t0.Add(1 * time.Second)
		for _, app := range []state.App{c, a, b} {
			require.NoError(t, f.s.CreateApp(f.ctx, app))
		}
		f.app("IW0000002", "ddddddddddddddddd")
		got, err := f.s.ListApps(f.ctx, "IW0000001")
		require.NoError(t, err)
		assert.Equal(t, normAll([]state.App{c, a, b}, normApp), normAll(got, normApp))
	})
	t.Run("list of an account without apps is empty", func(t *testing.T) {
		f := newFixture(t, open)
		f.account("IW0000001")
		got, err := f.s.ListApps(f.ctx, "IW0000001")
		require.NoError(t, err)
		assert.Empty(t, got)
	})
	t.Run("list of unknown account is not found", func(t *testing.T) {
		f := newFixture(t, open)
		_, err := f.s.ListApps(f.ctx, "IW0000001")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
}

// appWithEverything gives an app a current and a superseded token, two
// webhooks, two bindings and an event; it returns the tokens.
func (f *fixture) appWithEverything(account, appKey, prefix string) (old, cur state.Token) {
	f.t.Helper()
	f.app(account, appKey)
	old = f.token(appKey, prefix+"old", t0)
	cur = f.token(appKey, prefix+"cur", t0.Add(time.Minute))
	f.webhook(appKey, state.ProductWhatsApp)
	f.webhook(appKey, state.ProductSMS)
	f.binding(account, appKey, state.BindNumber, prefix+"4930901820")
	f.binding(account, appKey, state.BindWABA, prefix+"110200")
	f.events(pendingEvent(prefix+"ev", account, appKey, t0))
	return old, cur
}

func testDeleteApp(t *testing.T, open func(t *testing.T) state.Store) {
	setup := func(t *testing.T) *fixture {
		f := newFixture(t, open)
		f.account("IW0000001")
		f.appWithEverything("IW0000001", "AppGone0000000001", "gone-")
		f.appWithEverything("IW0000001", "AppKept0000000002", "kept-")
		return f
	}
	t.Run("removes the app with its tokens, webhooks and bindings", func(t *testing.T) {
		f := setup(t)
		require.NoError(t, f.s.DeleteApp(f.ctx, "AppGone0000000001"))
		_, err := f.s.GetApp(f.ctx, "AppGone0000000001")
		assert.ErrorIs(t, err, state.ErrNotFound)
		for _, name := range []string{"gone-old", "gone-cur"} {
			_, err = f.s.TokenByHash(f.ctx, hash(name))
			assert.ErrorIs(t, err, state.ErrNotFound, name)
		}
		_, err = f.s.ListTokens(f.ctx, "AppGone0000000001")
		assert.ErrorIs(t, err, state.ErrNotFound)
		_, err = f.s.GetWebhook(f.ctx, "AppGone0000000001", state.ProductWhatsApp)
		assert.ErrorIs(t, err, state.ErrNotFound)
		_, err = f.s.FindBinding(f.ctx, "IW0000001", state.BindNumber, "gone-4930901820")
		assert.ErrorIs(t, err, state.ErrNotFound)
		_, err = f.s.FindBinding(f.ctx, "IW0000001", state.BindWABA, "gone-110200")
		assert.ErrorIs(t, err, state.ErrNotFound)
		_, _, _, _, err = f.s.AuthContext(f.ctx, "AppGone0000000001")
		assert.ErrorIs(t, err, state.ErrNotFound)
		apps, err := f.s.ListApps(f.ctx, "IW0000001")
		require.NoError(t, err)
		require.Len(t, apps, 1)
		assert.Equal(t, "AppKept0000000002", apps[0].Key)
	})
	t.Run("frees the key and the bound values for reuse", func(t *testing.T) {
		f := setup(t)
		require.NoError(t, f.s.DeleteApp(f.ctx, "AppGone0000000001"))
		f.app("IW0000001", "AppGone0000000001")
		f.binding("IW0000001", "AppKept0000000002", state.BindNumber, "gone-4930901820")
		tokens, err := f.s.ListTokens(f.ctx, "AppGone0000000001")
		require.NoError(t, err)
		assert.Empty(t, tokens, "a new app of the same key inherits no tokens")
	})
	t.Run("keeps its events in the log", func(t *testing.T) {
		f := setup(t)
		require.NoError(t, f.s.DeleteApp(f.ctx, "AppGone0000000001"))
		e := f.getEvent("gone-ev")
		assert.Equal(t, "AppGone0000000001", e.AppKey)
		evs, err := f.s.ListEvents(f.ctx, state.EventFilter{AppKey: "AppGone0000000001"})
		require.NoError(t, err)
		assert.Equal(t, []string{"gone-ev"}, eventIDs(evs))
	})
	for _, tc := range []struct{ name, defaultApp, want string }{
		{"clears it as the default app", "AppGone0000000001", ""},
		{"leaves another default app alone", "AppKept0000000002", "AppKept0000000002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			require.NoError(t, f.s.SetDefaultApp(f.ctx, "IW0000001", tc.defaultApp))
			require.NoError(t, f.s.DeleteApp(f.ctx, "AppGone0000000001"))
			a, err := f.s.GetAccount(f.ctx, "IW0000001")
			require.NoError(t, err)
			assert.Equal(t, tc.want, a.DefaultApp)
		})
	}
	t.Run("leaves the other app's things alone", func(t *testing.T) {
		f := setup(t)
		require.NoError(t, f.s.DeleteApp(f.ctx, "AppGone0000000001"))
		tokens, err := f.s.ListTokens(f.ctx, "AppKept0000000002")
		require.NoError(t, err)
		assert.Len(t, tokens, 2)
		hooks, err := f.s.ListWebhooks(f.ctx, "AppKept0000000002")
		require.NoError(t, err)
		assert.Len(t, hooks, 2)
		binds, err := f.s.ListBindings(f.ctx, "AppKept0000000002")
		require.NoError(t, err)
		assert.Len(t, binds, 2)
		_, _, cur, ok, err := f.s.AuthContext(f.ctx, "AppKept0000000002")
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, hash("kept-cur"), cur.Hash)
	})
	t.Run("unknown is not found", func(t *testing.T) {
		f := setup(t)
		assert.ErrorIs(t, f.s.DeleteApp(f.ctx, "AppNone0000000009"), state.ErrNotFound)
	})
}

func testDeleteAccount(t *testing.T, open func(t *testing.T) state.Store) {
	// populate gives an account everything it can own: apps with tokens,
	// webhooks and bindings, a default app, a message, pending, delivered
	// and dropped events, and attempts.
	populate := func(f *fixture, account, appKey, prefix string) {
		f.t.Helper()
		f.account(account)
		f.appWithEverything(account, appKey, prefix)
		require.NoError(f.t, f.s.SetDefaultApp(f.ctx, account, appKey))
		sub := validSubmission(account, appKey, prefix+"msg", prefix+"sub-")
		require.NoError(f.t, f.s.RecordSubmission(f.ctx, sub))
		f.events(droppedEvent(prefix+"dropped", account))
		claimed, err := f.s.ClaimDue(f.ctx, t0.Add(time.Hour), 100, prefix+"owner", t0.Add(2*time.Hour), nil)
		require.NoError(f.t, err)
		for _, e := range claimed {
			require.NoError(f.t, f.s.RecordAttempt(f.ctx, validResult(e.ID, prefix+"owner", 1, state.EventDelivered)))
		}
	}
	setup := func(t *testing.T) *fixture {
		f := newFixture(t, open)
		populate(f, "IW0000001", "AppGone0000000001", "gone-")
		populate(f, "IW0000002", "AppKept0000000002", "kept-")
		return f
	}
	t.Run("removes everything the account owns", func(t *testing.T) {
		f := setup(t)
		require.NoError(t, f.s.DeleteAccount(f.ctx, "IW0000001"))
		_, err := f.s.GetApp(f.ctx, "AppGone0000000001")
		assert.ErrorIs(t, err, state.ErrNotFound, "app")
		_, err = f.s.TokenByHash(f.ctx, hash("gone-cur"))
		assert.ErrorIs(t, err, state.ErrNotFound, "token")
		_, err = f.s.GetWebhook(f.ctx, "AppGone0000000001", state.ProductWhatsApp)
		assert.ErrorIs(t, err, state.ErrNotFound, "webhook")
		_, err = f.s.FindBinding(f.ctx, "IW0000001", state.BindNumber, "gone-4930901820")
		assert.ErrorIs(t, err, state.ErrNotFound, "binding")
		_, err = f.s.FindBinding(f.ctx, "IW0000001", state.BindNumber, "4930901999")
		assert.ErrorIs(t, err, state.ErrNotFound, "sender binding")
		_, err = f.s.GetMessage(f.ctx, "gone-msg")
		assert.ErrorIs(t, err, state.ErrNotFound, "message")
		for _, id := range []string{"gone-ev", "gone-sub-0", "gone-sub-1", "gone-dropped"} {
			_, _, err = f.s.GetEvent(f.ctx, id)
			assert.ErrorIs(t, err, state.ErrNotFound, id)
		}
		evs, err := f.s.ListEvents(f.ctx, state.EventFilter{Account: "IW0000001"})
		require.NoError(t, err)
		assert.Empty(t, evs)
	})
	t.Run("leaves other accounts alone", func(t *testing.T) {
		f := setup(t)
		require.NoError(t, f.s.DeleteAccount(f.ctx, "IW0000001"))
		a, err := f.s.GetAccount(f.ctx, "IW0000002")
		require.NoError(t, err)
		assert.Equal(t, "AppKept0000000002", a.DefaultApp)
		_, err = f.s.GetMessage(f.ctx, "kept-msg")
		assert.NoError(t, err)
		evs, err := f.s.ListEvents(f.ctx, state.EventFilter{Account: "IW0000002"})
		require.NoError(t, err)
		assert.Len(t, evs, 4)
		_, attempts, err := f.s.GetEvent(f.ctx, "kept-ev")
		require.NoError(t, err)
		assert.Len(t, attempts, 1)
		tokens, err := f.s.ListTokens(f.ctx, "AppKept0000000002")
		require.NoError(t, err)
		assert.Len(t, tokens, 2)
	})
	t.Run("the name can be used again, empty", func(t *testing.T) {
		f := setup(t)
		require.NoError(t, f.s.DeleteAccount(f.ctx, "IW0000001"))
		f.account("IW0000001")
		apps, err := f.s.ListApps(f.ctx, "IW0000001")
		require.NoError(t, err)
		assert.Empty(t, apps)
		f.app("IW0000001", "AppGone0000000001")
		_, err = f.s.GetWebhook(f.ctx, "AppGone0000000001", state.ProductWhatsApp)
		assert.ErrorIs(t, err, state.ErrNotFound)
		f.events(pendingEvent("gone-ev", "IW0000001", "AppGone0000000001", t0))
		_, attempts, err := f.s.GetEvent(f.ctx, "gone-ev")
		require.NoError(t, err)
		assert.Empty(t, attempts, "attempts went with the old event")
	})
}

// Package storetest is the conformance suite every state.Store must pass.
// The Store interface's doc comments are the contract; this suite turns each
// documented behaviour into observable checks, so memstore, sqlite and any
// later store behave identically for the domain above them.
//
// Use it from an implementation's tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) state.Store {
//			s := open(t) // a fresh, empty store
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// What the suite assumes of a store beyond the interface doc, because the
// domain relies on it:
//   - times round-trip as the same instant (compared with time.Equal, so the
//     location may change) with at least microsecond precision; the suite's
//     inputs are whole microseconds;
//   - nil pointers (*time.Time, *string, *Target) and nil byte slices come
//     back nil, set ones come back set;
//   - an ended lease frees an event: ClaimDue may hand it to another owner and
//     NextDue reports the end of the lease as the moment it can be claimed.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Run runs the whole suite. open must return a new, empty store for each
// call (every subtest calls it once) and arrange for it to be closed, e.g.
// with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) state.Store) {
	t.Run("Accounts", func(t *testing.T) { testAccounts(t, open) })
	t.Run("DefaultApp", func(t *testing.T) { testDefaultApp(t, open) })
	t.Run("ShiftClock", func(t *testing.T) { testShiftClock(t, open) })
	t.Run("Apps", func(t *testing.T) { testApps(t, open) })
	t.Run("DeleteApp", func(t *testing.T) { testDeleteApp(t, open) })
	t.Run("DeleteAccount", func(t *testing.T) { testDeleteAccount(t, open) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, open) })
	t.Run("AuthContext", func(t *testing.T) { testAuthContext(t, open) })
	t.Run("Webhooks", func(t *testing.T) { testWebhooks(t, open) })
	t.Run("Bindings", func(t *testing.T) { testBindings(t, open) })
	t.Run("RecordSubmission", func(t *testing.T) { testRecordSubmission(t, open) })
	t.Run("Events", func(t *testing.T) { testEvents(t, open) })
	t.Run("ListEvents", func(t *testing.T) { testListEvents(t, open) })
	t.Run("ClaimDue", func(t *testing.T) { testClaimDue(t, open) })
	t.Run("ClaimExcluding", func(t *testing.T) { testClaimExcluding(t, open) })
	t.Run("ClaimOrder", func(t *testing.T) { testClaimOrder(t, open) })
	t.Run("ReleaseLeases", func(t *testing.T) { testReleaseLeases(t, open) })
	t.Run("RenewLeases", func(t *testing.T) { testRenewLeases(t, open) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, open) })
	t.Run("NextDue", func(t *testing.T) { testNextDue(t, open) })
	t.Run("OutboxStats", func(t *testing.T) { testOutboxStats(t, open) })
	t.Run("RecordAttempt", func(t *testing.T) { testRecordAttempt(t, open) })
	t.Run("RecordAttempts", func(t *testing.T) { testRecordAttempts(t, open) })
	t.Run("Requeue", func(t *testing.T) { testRequeue(t, open) })
	t.Run("Templates", func(t *testing.T) { testTemplates(t, open) })
	t.Run("WabaNumbers", func(t *testing.T) { testWabaNumbers(t, open) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open) })
	t.Run("CountOwned", func(t *testing.T) { testCountOwned(t, open) })
	t.Run("Reset", func(t *testing.T) { testReset(t, open) })
	RunSecrets(t, open)
	t.Run("Ping", func(t *testing.T) {
		s := open(t)
		assert.NoError(t, s.Ping(context.Background()))
	})
}

// t0 is the suite's real "now": whole microseconds, like every time it
// stores, so that a store keeping microseconds must give back equal times.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

// zone is a non-UTC location for inputs: stores may give times back in UTC,
// and the suite must only ever compare instants.
var zone = time.FixedZone("UTC+05:30", 5*3600+30*60)

// fixture is one fresh store and helpers that create valid objects in it.
type fixture struct {
	t   *testing.T
	ctx context.Context
	s   state.Store
}

func newFixture(t *testing.T, open func(t *testing.T) state.Store) *fixture {
	t.Helper()
	return &fixture{t: t, ctx: context.Background(), s: open(t)}
}

// twoApps is a fixture with account IW0000001 and its apps
// AppOne00000000001 and AppTwo00000000002.
func twoApps(t *testing.T, open func(t *testing.T) state.Store) *fixture {
	f := newFixture(t, open)
	f.account("IW0000001")
	f.app("IW0000001", "AppOne00000000001")
	f.app("IW0000001", "AppTwo00000000002")
	return f
}

// twoAccounts is a fixture with accounts IW0000001, whose apps are
// AppOne00000000001 and AppTwo00000000002, and IW0000002, whose app is
// AppOther000000003.
func twoAccounts(t *testing.T, open func(t *testing.T) state.Store) *fixture {
	f := newFixture(t, open)
	f.account("IW0000001")
	f.account("IW0000002")
	f.app("IW0000001", "AppOne00000000001")
	f.app("IW0000001", "AppTwo00000000002")
	f.app("IW0000002", "AppOther000000003")
	return f
}

func strp(s string) *string { return &s }

func timep(t time.Time) *time.Time { return &t }

// validAccount returns an account with every field set.
func validAccount(name string) state.Account {
	return state.Account{Name: name, Label: "label of " + name, ClockOffset: 90 * time.Minute, CreatedAt: t0.In(zone)}
}

func (f *fixture) account(name string) state.Account {
	f.t.Helper()
	a := validAccount(name)
	require.NoError(f.t, f.s.CreateAccount(f.ctx, a))
	return a
}

func validApp(account, key string) state.App {
	return state.App{Key: key, Account: account, Name: "app " + key, CreatedAt: t0.Add(time.Second)}
}

func (f *fixture) app(account, key string) state.App {
	f.t.Helper()
	a := validApp(account, key)
	require.NoError(f.t, f.s.CreateApp(f.ctx, a))
	return a
}

// hash makes a distinct token hash per name.
func hash(name string) [32]byte { return state.HashToken(name) }

func validToken(appKey, name string, issued time.Time) state.Token {
	return state.Token{Hash: hash(name), AppKey: appKey, State: state.TokenCurrent, IssuedAt: issued,
		ExpiresAt: timep(issued.Add(24 * time.Hour))}
}

func (f *fixture) token(appKey, name string, issued time.Time) state.Token {
	f.t.Helper()
	tok := validToken(appKey, name, issued)
	require.NoError(f.t, f.s.IssueToken(f.ctx, tok))
	return tok
}

func validWebhook(appKey, product string) state.Webhook {
	return state.Webhook{AppKey: appKey, Product: product, URL: "https://hooks.example.com/" + product,
		Events: []string{state.EventWAStatus, state.EventWAMO}, Method: "POST",
		Username: strp("hook-user"), Authorization: nil,
		Retry:     &state.RetryPolicy{MaxAttempts: 5, Initial: 30 * time.Second, Multiplier: 1.5, MaxInterval: time.Hour},
		Chaos:     &state.Chaos{Seed: 42, Delay: 2 * time.Second, Duplicate: 0.25, Reorder: 0.5, Drop: 0.125},
		CreatedAt: t0, UpdatedAt: t0.Add(time.Minute)}
}

func (f *fixture) webhook(appKey, product string) state.Webhook {
	f.t.Helper()
	w := validWebhook(appKey, product)
	require.NoError(f.t, f.s.CreateWebhook(f.ctx, w))
	return w
}

func validBinding(account, appKey string, kind state.BindingKind, value string) state.Binding {
	return state.Binding{Account: account, Kind: kind, Value: value, AppKey: appKey, CreatedAt: t0}
}

func (f *fixture) binding(account, appKey string, kind state.BindingKind, value string) state.Binding {
	f.t.Helper()
	b := validBinding(account, appKey, kind, value)
	require.NoError(f.t, f.s.CreateBinding(f.ctx, b))
	return b
}

// pendingEvent returns a pending event, due (real time) at next, with a
// target and every optional field set.
func pendingEvent(id, account, appKey string, next time.Time) state.Event {
	return state.Event{
		ID: id, Account: account, Type: state.EventWAStatus, Product: state.ProductWhatsApp,
		AppKey: appKey, Route: "sender", Status: state.EventPending,
		Payload: []byte(`{"id":"` + id + `","type":"whatsapp_message_status_updated"}`),
		Target: &state.Target{URL: "https://hooks.example.com/wa", Method: "PUT",
			Username: strp("user"), Authorization: strp("Basic dTpw"),
			Retry: &state.RetryPolicy{MaxAttempts: 2, Initial: time.Minute, Multiplier: 1, MaxInterval: time.Minute}},
		Chaos: &state.EventChaos{Duplicate: true},
		DueAt: next.Add(90 * time.Minute).In(zone), NextAttemptAt: next,
		CreatedAt: t0, UpdatedAt: t0,
	}
}

// droppedEvent returns an event that was never routed: no app, no target.
func droppedEvent(id, account string) state.Event {
	e := pendingEvent(id, account, "", t0)
	e.Status, e.Route, e.Reason, e.Target, e.Chaos = state.EventDropped, "", "no app is bound", nil, nil
	return e
}

func (f *fixture) events(es ...state.Event) {
	f.t.Helper()
	require.NoError(f.t, f.s.AddEvents(f.ctx, es))
}

func (f *fixture) getEvent(id string) state.Event {
	f.t.Helper()
	e, _, err := f.s.GetEvent(f.ctx, id)
	require.NoError(f.t, err)
	return e
}

// ---------------------------------------------------------------- compare

// Times are compared as instants. UTC() drops the location and the
// monotonic reading, so two normalised times are deeply equal exactly when
// time.Equal says they are; normalising whole structs keeps testify's
// field-by-field diffs readable.

func utc(t time.Time) time.Time { return t.UTC() }

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func normAccount(a state.Account) state.Account {
	a.CreatedAt = utc(a.CreatedAt)
	return a
}

func normApp(a state.App) state.App {
	a.CreatedAt = utc(a.CreatedAt)
	return a
}

func normToken(t state.Token) state.Token {
	t.IssuedAt, t.ExpiresAt, t.EndedAt = utc(t.IssuedAt), utcp(t.ExpiresAt), utcp(t.EndedAt)
	return t
}

func normWebhook(w state.Webhook) state.Webhook {
	w.CreatedAt, w.UpdatedAt = utc(w.CreatedAt), utc(w.UpdatedAt)
	return w
}

func normBinding(b state.Binding) state.Binding {
	b.CreatedAt = utc(b.CreatedAt)
	return b
}

func normMessage(m state.Message) state.Message {
	m.CreatedAt = utc(m.CreatedAt)
	return m
}

func normEvent(e state.Event) state.Event {
	e.DueAt, e.NextAttemptAt, e.LeaseUntil = utc(e.DueAt), utc(e.NextAttemptAt), utc(e.LeaseUntil)
	e.CreatedAt, e.UpdatedAt = utc(e.CreatedAt), utc(e.UpdatedAt)
	return e
}

func normAttempt(a state.Attempt) state.Attempt {
	a.StartedAt = utc(a.StartedAt)
	return a
}

func normAll[T any](xs []T, norm func(T) T) []T {
	if xs == nil {
		return nil
	}
	out := make([]T, len(xs))
	for i, x := range xs {
		out[i] = norm(x)
	}
	return out
}

func assertTimeEqual(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	assert.Truef(t, want.Equal(got), "%s: want %s, got %s", what, want.UTC().Format(time.RFC3339Nano), got.UTC().Format(time.RFC3339Nano))
}

func eventIDs(es []state.Event) []string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

// testListOfApp runs the checks every list of an app's things shares (the
// things named in the test's name): an app that has none lists none, and
// an unknown app is not found.
func testListOfApp[T any](t *testing.T, setup func(t *testing.T) *fixture, things string, list func(f *fixture, appKey string) ([]T, error)) {
	t.Run("list of an app without "+things+" is empty", func(t *testing.T) {
		f := setup(t)
		got, err := list(f, "AppOne00000000001")
		require.NoError(t, err)
		assert.Empty(t, got)
	})
	t.Run("list of an unknown app is not found", func(t *testing.T) {
		f := setup(t)
		_, err := list(f, "AppNone0000000009")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
}

// Opened opens a store with open (a store package's Open) on dsn, failing
// t if it cannot, and closes it when t ends.
func Opened[S interface{ Close() error }](t testing.TB, open func(context.Context, string) (S, error), dsn string) S {
	t.Helper()
	s, err := open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
	"github.com/innosandbox/innosandbox/mockserver/state/storetest"
)

// openT opens a store on dsn, closed when t ends.
func openT(t testing.TB, dsn string) *Store { return storetest.Opened(t, Open, dsn) }

func tempDB(t testing.TB) string { return filepath.Join(t.TempDir(), "sandbox.db") }

func TestConformance(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) state.Store { return openT(t, tempDB(t)) })
	})
	t.Run("memory", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) state.Store { return openT(t, ":memory:") })
	})
}

func BenchmarkStore(b *testing.B) {
	b.Run("file", func(b *testing.B) {
		storetest.Bench(b, func(b *testing.B) state.Store { return openT(b, tempDB(b)) })
	})
	b.Run("memory", func(b *testing.B) {
		storetest.Bench(b, func(b *testing.B) state.Store { return openT(b, ":memory:") })
	})
}

// fill writes one of everything, so that a reopened store can be checked
// field by field against the original.
func fill(t *testing.T, s state.Store) {
	t.Helper()
	ctx := context.Background()
	t0 := time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)
	require.NoError(t, s.CreateAccount(ctx, state.Account{Name: "IW0000001", Label: "l", ClockOffset: time.Hour, CreatedAt: t0}))
	require.NoError(t, s.CreateApp(ctx, state.App{Key: "AppOne00000000001", Account: "IW0000001", Name: "one", CreatedAt: t0}))
	require.NoError(t, s.SetDefaultApp(ctx, "IW0000001", "AppOne00000000001"))
	exp := t0.Add(time.Hour)
	require.NoError(t, s.IssueToken(ctx, state.Token{Hash: state.HashToken("x"), AppKey: "AppOne00000000001", IssuedAt: t0, ExpiresAt: &exp}))
	user := "u"
	require.NoError(t, s.CreateWebhook(ctx, state.Webhook{AppKey: "AppOne00000000001", Product: "whatsapp", URL: "https://h.example/",
		Events: []string{"a", "b"}, Method: "POST", Username: &user, CreatedAt: t0, UpdatedAt: t0}))
	require.NoError(t, s.RecordSubmission(ctx, state.Submission{
		Message: state.Message{ID: "100000000000000001", Account: "IW0000001", AppKey: "AppOne00000000001", Product: "whatsapp",
			Recipients: []string{"4915112345678"}, Wamids: []string{"wamid.x"}, Request: []byte(`{}`), CreatedAt: t0},
		BindSender: &state.Binding{Account: "IW0000001", Kind: state.BindNumber, Value: "4930901999", AppKey: "AppOne00000000001", CreatedAt: t0},
		Events: []state.Event{{ID: "ev-1", Account: "IW0000001", AppKey: "AppOne00000000001", Type: "t", Product: "whatsapp",
			Status: state.EventPending, Payload: []byte(`{"p":1}`), Target: &state.Target{URL: "https://h.example/", Method: "POST", Username: &user},
			DueAt: t0, NextAttemptAt: t0, CreatedAt: t0, UpdatedAt: t0}},
	}))
	claimed, err := s.ClaimDue(ctx, t0, 1, "owner", t0.Add(time.Minute), nil)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.NoError(t, s.RecordAttempt(ctx, state.AttemptResult{Owner: "owner", Status: state.EventPending, NextAttemptAt: t0.Add(time.Hour),
		Attempt: state.Attempt{EventID: "ev-1", N: 1, StartedAt: t0, Latency: time.Millisecond, Method: "POST", URL: "https://h.example/",
			RequestHeaders: map[string][]string{"A": {"1"}}, ResponseStatus: 500, Outcome: "retry"}}))
}

// snapshot reads everything fill wrote.
func snapshot(t *testing.T, s state.Store) []any {
	t.Helper()
	ctx := context.Background()
	acct, err := s.GetAccount(ctx, "IW0000001")
	require.NoError(t, err)
	tokens, err := s.ListTokens(ctx, "AppOne00000000001")
	require.NoError(t, err)
	hooks, err := s.ListWebhooks(ctx, "AppOne00000000001")
	require.NoError(t, err)
	binds, err := s.ListBindings(ctx, "AppOne00000000001")
	require.NoError(t, err)
	msg, err := s.GetMessage(ctx, "100000000000000001")
	require.NoError(t, err)
	ev, attempts, err := s.GetEvent(ctx, "ev-1")
	require.NoError(t, err)
	require.Len(t, tokens, 1)
	require.Len(t, attempts, 1)
	return []any{acct, tokens, hooks, binds, msg, ev, attempts}
}

func TestStateSurvivesReopen(t *testing.T) {
	path := tempDB(t)
	s, err := Open(context.Background(), path)
	require.NoError(t, err)
	fill(t, s)
	before := snapshot(t, s)
	require.NoError(t, s.Close())

	s2 := openT(t, path)
	assert.Equal(t, before, snapshot(t, s2))
}

// TestStateSurvivesKill writes from a child process that then kills itself
// with SIGKILL, without Close: what a commit returned must be in the file
// (WAL, synchronous=NORMAL).
func TestStateSurvivesKill(t *testing.T) {
	if path := os.Getenv("SQLITE_STORE_KILL_CHILD"); path != "" {
		s, err := Open(context.Background(), path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fill(t, s)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	path := tempDB(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestStateSurvivesKill$")
	cmd.Env = append(os.Environ(), "SQLITE_STORE_KILL_CHILD="+path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "child: %s", out)
	require.Equal(t, "killed", exit.String()[len("signal: "):], "child: %s", out)
	_, err = os.Stat(path + "-wal")
	require.NoError(t, err, "the commits are still in the WAL, not yet checkpointed")

	s := openT(t, path)
	snap := snapshot(t, s)
	assert.Equal(t, "AppOne00000000001", snap[0].(state.Account).DefaultApp)
}

func TestMigrations(t *testing.T) {
	countVersions := func(t *testing.T, path string) (n, max int) {
		t.Helper()
		db, err := sql.Open("sqlite", path)
		require.NoError(t, err)
		defer db.Close()
		require.NoError(t, db.QueryRow("SELECT count(*), MAX(version) FROM schema_migrations").Scan(&n, &max))
		return n, max
	}
	t.Run("applied once and recorded", func(t *testing.T) {
		path := tempDB(t)
		for range 2 {
			s, err := Open(context.Background(), path)
			require.NoError(t, err)
			require.NoError(t, s.Close())
		}
		n, max := countVersions(t, path)
		assert.Equal(t, SchemaVersion(), n)
		assert.Equal(t, SchemaVersion(), max)
		assert.GreaterOrEqual(t, SchemaVersion(), 1)
	})
	t.Run("a newer database is refused and left alone", func(t *testing.T) {
		path := tempDB(t)
		s, err := Open(context.Background(), path)
		require.NoError(t, err)
		fill(t, s)
		require.NoError(t, s.Close())
		db, err := sql.Open("sqlite", path)
		require.NoError(t, err)
		_, err = db.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from_the_future', 0)", SchemaVersion()+1)
		require.NoError(t, err)
		require.NoError(t, db.Close())

		_, err = Open(context.Background(), path)
		require.ErrorIs(t, err, ErrSchemaTooNew)
		assert.Contains(t, err.Error(), fmt.Sprintf("version %d", SchemaVersion()+1))
		n, _ := countVersions(t, path)
		assert.Equal(t, SchemaVersion()+1, n)
	})
	t.Run("the embedded files are numbered 1, 2, ...", func(t *testing.T) {
		ms, err := migrations()
		require.NoError(t, err)
		for i, m := range ms {
			assert.Equal(t, i+1, m.Version, m.Name)
		}
	})
}

func TestOpen(t *testing.T) {
	t.Run("pragmas", func(t *testing.T) {
		s := openT(t, tempDB(t))
		ctx := context.Background()
		for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "1", "foreign_keys": "1", "busy_timeout": "5000"} {
			var got string
			require.NoError(t, s.wdb.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got))
			assert.Equal(t, want, got, pragma)
		}
		var readOnly string
		require.NoError(t, s.rdb.QueryRowContext(ctx, "PRAGMA query_only").Scan(&readOnly))
		assert.Equal(t, "1", readOnly)
	})
	t.Run("a path with '?' is refused", func(t *testing.T) {
		_, err := Open(context.Background(), tempDB(t)+"?mode=ro")
		assert.Error(t, err)
	})
	t.Run("an empty path is refused", func(t *testing.T) {
		_, err := Open(context.Background(), "")
		assert.Error(t, err)
	})
	t.Run("a directory that does not exist is unavailable", func(t *testing.T) {
		_, err := Open(context.Background(), filepath.Join(t.TempDir(), "missing", "x.db"))
		assert.ErrorIs(t, err, state.ErrUnavailable)
	})
	t.Run("a file that is not a database is unavailable", func(t *testing.T) {
		path := tempDB(t)
		require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("not a database ", 100)), 0o600))
		_, err := Open(context.Background(), path)
		assert.ErrorIs(t, err, state.ErrUnavailable)
	})
	t.Run("two memory stores are separate", func(t *testing.T) {
		a, b := openT(t, ":memory:"), openT(t, ":memory:")
		require.NoError(t, a.CreateAccount(context.Background(), state.Account{Name: "IW0000001"}))
		_, err := b.GetAccount(context.Background(), "IW0000001")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
}

// everyMethod calls each Store method once, for tests that only look at
// the errors.
func everyMethod(ctx context.Context, s state.Store) map[string]error {
	errs := map[string]error{}
	errs["CreateAccount"] = s.CreateAccount(ctx, state.Account{Name: "IW0000009"})
	_, errs["GetAccount"] = s.GetAccount(ctx, "IW0000001")
	_, errs["ListAccounts"] = s.ListAccounts(ctx)
	errs["DeleteAccount"] = s.DeleteAccount(ctx, "IW0000001")
	errs["SetDefaultApp"] = s.SetDefaultApp(ctx, "IW0000001", "")
	_, errs["ShiftClock"] = s.ShiftClock(ctx, "IW0000001", time.Second)
	errs["CreateApp"] = s.CreateApp(ctx, state.App{Key: "k", Account: "IW0000001"})
	_, errs["GetApp"] = s.GetApp(ctx, "AppOne00000000001")
	_, errs["ListApps"] = s.ListApps(ctx, "IW0000001")
	errs["DeleteApp"] = s.DeleteApp(ctx, "AppOne00000000001")
	_, _, _, _, errs["AuthContext"] = s.AuthContext(ctx, "AppOne00000000001")
	errs["IssueToken"] = s.IssueToken(ctx, state.Token{AppKey: "AppOne00000000001"})
	errs["RevokeToken"] = s.RevokeToken(ctx, "AppOne00000000001", time.Now())
	_, errs["TokenByHash"] = s.TokenByHash(ctx, state.HashToken("x"))
	_, errs["ListTokens"] = s.ListTokens(ctx, "AppOne00000000001")
	errs["CreateWebhook"] = s.CreateWebhook(ctx, state.Webhook{AppKey: "AppOne00000000001", Product: "sms"})
	errs["UpdateWebhook"] = s.UpdateWebhook(ctx, state.Webhook{AppKey: "AppOne00000000001", Product: "whatsapp"})
	_, errs["GetWebhook"] = s.GetWebhook(ctx, "AppOne00000000001", "whatsapp")
	_, errs["ListWebhooks"] = s.ListWebhooks(ctx, "AppOne00000000001")
	errs["DeleteWebhook"] = s.DeleteWebhook(ctx, "AppOne00000000001", "whatsapp")
	errs["CreateBinding"] = s.CreateBinding(ctx, state.Binding{Account: "IW0000001", AppKey: "AppOne00000000001", Kind: "waba", Value: "1"})
	_, errs["FindBinding"] = s.FindBinding(ctx, "IW0000001", state.BindNumber, "4930901999")
	_, errs["ListBindings"] = s.ListBindings(ctx, "AppOne00000000001")
	errs["DeleteBinding"] = s.DeleteBinding(ctx, "IW0000001", state.BindNumber, "4930901999")
	errs["RecordSubmission"] = s.RecordSubmission(ctx, state.Submission{Message: state.Message{ID: "2", Account: "IW0000001", AppKey: "AppOne00000000001"}})
	_, errs["GetMessage"] = s.GetMessage(ctx, "100000000000000001")
	errs["AddEvents"] = s.AddEvents(ctx, []state.Event{{ID: "ev-9", Account: "IW0000001"}})
	_, _, errs["GetEvent"] = s.GetEvent(ctx, "ev-1")
	_, errs["ListEvents"] = s.ListEvents(ctx, state.EventFilter{})
	_, errs["ClaimDue"] = s.ClaimDue(ctx, time.Now(), 10, "o", time.Now(), nil)
	_, _, errs["NextDue"] = s.NextDue(ctx)
	errs["RecordAttempt"] = s.RecordAttempt(ctx, state.AttemptResult{Owner: "owner", Attempt: state.Attempt{EventID: "ev-1"}, Status: state.EventDelivered})
	errs["Requeue"] = s.Requeue(ctx, "ev-1", time.Now())
	_, errs["ReleaseLeases"] = s.ReleaseLeases(ctx, "owner")
	_, errs["Prune"] = s.Prune(ctx, time.Now(), 10)
	errs["CreateTemplate"] = s.CreateTemplate(ctx, state.Template{Account: "IW0000001", WabaID: "1", Name: "t", Language: "en"}, nil)
	_, errs["GetTemplate"] = s.GetTemplate(ctx, "IW0000001", "1", "t", "en")
	_, errs["ListTemplates"] = s.ListTemplates(ctx, "IW0000001", "")
	errs["UpdateTemplateStatus"] = s.UpdateTemplateStatus(ctx, state.Template{Account: "IW0000001", WabaID: "1", Name: "t", Language: "en"})
	errs["AddWabaNumber"] = s.AddWabaNumber(ctx, state.WabaNumber{Account: "IW0000001", WabaID: "1", Number: "4930901999"})
	_, errs["WabaNumbers"] = s.WabaNumbers(ctx, "IW0000001", "1")
	errs["TouchSession"] = s.TouchSession(ctx, "IW0000001", "1", "2", time.Now())
	_, errs["LastInbound"] = s.LastInbound(ctx, "IW0000001", "1", []string{"2"})
	errs["Reset"] = s.Reset(ctx)
	errs["Ping"] = s.Ping(ctx)
	return errs
}

func TestClosedStore(t *testing.T) {
	for _, dsn := range []string{"file", ":memory:"} {
		t.Run(dsn, func(t *testing.T) {
			if dsn == "file" {
				dsn = tempDB(t)
			}
			s, err := Open(context.Background(), dsn)
			require.NoError(t, err)
			fill(t, s)
			require.NoError(t, s.Close())
			require.NoError(t, s.Close(), "closing twice is harmless")
			for method, err := range everyMethod(context.Background(), s) {
				assert.ErrorIs(t, err, state.ErrUnavailable, method)
				assert.ErrorIs(t, err, ErrClosed, method)
			}
		})
	}
	t.Run("while callers are writing", func(t *testing.T) {
		s, err := Open(context.Background(), tempDB(t))
		require.NoError(t, err)
		fill(t, s)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := 0; ; i++ {
					err := s.CreateAccount(context.Background(), state.Account{Name: fmt.Sprintf("IW%d-%d", w, i)})
					if err != nil {
						assert.ErrorIs(t, err, state.ErrUnavailable)
						return
					}
				}
			})
		}
		time.Sleep(20 * time.Millisecond)
		require.NoError(t, s.Close())
		wg.Wait()
	})
}

func TestContextCancelled(t *testing.T) {
	s := openT(t, tempDB(t))
	fill(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for method, err := range everyMethod(ctx, s) {
		assert.ErrorIs(t, err, context.Canceled, method)
	}
	snapshot(t, s) // nothing was deleted or reset
	_, err := s.GetAccount(context.Background(), "IW0000009")
	assert.ErrorIs(t, err, state.ErrNotFound, "nothing was created")
}

// TestGroupCommit drives the writer directly with one batch, to check the
// savepoint semantics that concurrency produces only by chance.
func TestGroupCommit(t *testing.T) {
	t.Run("a failing op is undone alone", func(t *testing.T) {
		s := openT(t, tempDB(t))
		ctx := context.Background()
		create := func(name string) writeFunc {
			return func(tx *wtx) error {
				_, err := tx.exec(sqlstore.InsertAccountSQL, name, "", "", 0, 0)
				if isUnique(err) {
					return state.Conflict("account", name)
				}
				return err
			}
		}
		boom := errors.New("boom")
		ops := []*writeOp{
			{ctx: ctx, fn: create("IW1")},
			{ctx: ctx, fn: create("IW1")}, // sees the first op's write: a conflict
			{ctx: ctx, fn: func(tx *wtx) error { // writes, then fails: undone
				if err := create("IW2")(tx); err != nil {
					return err
				}
				return boom
			}},
			{ctx: ctx, fn: create("IW3")},
		}
		for _, o := range ops {
			o.done = make(chan error, 1)
		}
		s.w.commit(ops)
		assert.NoError(t, <-ops[0].done)
		assert.ErrorIs(t, <-ops[1].done, state.ErrConflict)
		assert.ErrorIs(t, <-ops[2].done, boom)
		assert.NoError(t, <-ops[3].done)
		accounts, err := s.ListAccounts(ctx)
		require.NoError(t, err)
		var names []string
		for _, a := range accounts {
			names = append(names, a.Name)
		}
		assert.Equal(t, []string{"IW1", "IW3"}, names)
	})
	t.Run("an abandoned op is not run", func(t *testing.T) {
		s := openT(t, tempDB(t))
		ran := false
		o := &writeOp{ctx: context.Background(), fn: func(*wtx) error { ran = true; return nil }, done: make(chan error, 1)}
		o.state.Store(opAbandoned)
		s.w.commit([]*writeOp{o})
		assert.False(t, ran)
	})
	t.Run("concurrent writers share commits", func(t *testing.T) {
		s := openT(t, tempDB(t))
		ctx := context.Background()
		require.NoError(t, s.CreateAccount(ctx, state.Account{Name: "IW0000001"}))
		require.NoError(t, s.CreateApp(ctx, state.App{Key: "AppOne00000000001", Account: "IW0000001"}))
		batches0, ops0 := s.w.batches.Load(), s.w.committed.Load()
		const workers, each = 16, 50
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					id := fmt.Sprintf("%d-%d", w, i)
					err := s.RecordSubmission(ctx, state.Submission{
						Message: state.Message{ID: id, Account: "IW0000001", AppKey: "AppOne00000000001"},
						Events:  []state.Event{{ID: id + "a", Account: "IW0000001"}, {ID: id + "b", Account: "IW0000001"}},
					})
					assert.NoError(t, err)
				}
			})
		}
		wg.Wait()
		batches, ops := s.w.batches.Load()-batches0, s.w.committed.Load()-ops0
		assert.Equal(t, int64(workers*each), ops)
		assert.Less(t, batches, ops, "some transactions carried several submissions")
		t.Logf("%d submissions in %d transactions", ops, batches)
		evs, err := s.ListEvents(ctx, state.EventFilter{Limit: 10 * workers * each})
		require.NoError(t, err)
		assert.Len(t, evs, 2*workers*each)
	})
}

// TestQueryPlans pins the plans the hot queries must keep: index lookups
// and range scans, no table scans, no sorting.
func TestQueryPlans(t *testing.T) {
	s := openT(t, tempDB(t))
	plan := func(t *testing.T, query string, args ...any) string {
		t.Helper()
		rows, err := s.wdb.Query("EXPLAIN QUERY PLAN "+query, args...)
		require.NoError(t, err)
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
			lines = append(lines, detail)
		}
		require.NoError(t, rows.Err())
		return strings.Join(lines, "\n")
	}
	t.Run("ClaimDue is one range scan of events_due", func(t *testing.T) {
		p := plan(t, claimDueSQL, "o", 1, 2, 10)
		assert.Contains(t, p, "SEARCH events USING INDEX events_due (next_attempt_at<?)")
		assert.NotContains(t, p, "TEMP B-TREE")
		assert.NotRegexp(t, `SCAN events\b`, p)
	})
	t.Run("NextDue reads events_due and events_leased", func(t *testing.T) {
		p := plan(t, nextDueSQL)
		assert.Contains(t, p, "events_due")
		assert.Contains(t, p, "events_leased")
		assert.NotContains(t, p, "TEMP B-TREE")
	})
	t.Run("AuthContext is three index lookups", func(t *testing.T) {
		p := plan(t, sqlstore.AuthSQL, "k")
		assert.NotRegexp(t, `SCAN `, p)
		assert.Contains(t, p, "tokens_current")
	})
	t.Run("ListEvents by account is newest first off the index", func(t *testing.T) {
		p := plan(t, "SELECT "+sqlstore.EventCols+" FROM events WHERE account = $1 ORDER BY seq DESC LIMIT $2", "a", 10)
		assert.Contains(t, p, "events_by_account")
		assert.NotContains(t, p, "TEMP B-TREE")
	})
}

func BenchmarkClaim(b *testing.B) {
	storetest.BenchClaim(b, storetest.ClaimSizes, func(b *testing.B) state.Store { return openT(b, tempDB(b)) })
}

// BenchmarkCountPending: the pending-deliveries quota check of every send.
func BenchmarkCountPending(b *testing.B) {
	storetest.BenchCountPending(b, []int{1000, 10000, 100000}, func(b *testing.B) state.Store { return openT(b, tempDB(b)) })
}

// TestPruneWritesInSmallBatches: a retention pass over a large log must not
// hold the only writer for its whole length (every send waits behind it),
// so it removes at most pruneBatch rows per write transaction.
func TestPruneWritesInSmallBatches(t *testing.T) {
	s := openT(t, tempDB(t))
	ctx := context.Background()
	now := time.Now()
	require.NoError(t, s.CreateAccount(ctx, state.Account{Name: "IW0000001", CreatedAt: now}))
	const n = 5*pruneBatch + 7
	events := make([]state.Event, n)
	for i := range events {
		events[i] = state.Event{ID: fmt.Sprintf("ev-%d", i), Account: "IW0000001", Type: state.EventWAStatus,
			Product: state.ProductWhatsApp, Status: state.EventDropped, Payload: []byte(`{}`),
			DueAt: now, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now.Add(-time.Hour)}
	}
	require.NoError(t, s.AddEvents(ctx, events))
	keep := pendingAt(t, s, "still-pending", now.Add(-2*time.Hour))

	before := s.w.batches.Load()
	removed, err := s.Prune(ctx, now, 0)
	require.NoError(t, err)
	assert.Equal(t, n, removed)
	assert.GreaterOrEqual(t, s.w.batches.Load()-before, int64(6), "six writes of at most %d rows", pruneBatch)
	got, err := s.ListEvents(ctx, state.EventFilter{Account: "IW0000001"})
	require.NoError(t, err)
	require.Len(t, got, 1, "only the pending event stays")
	assert.Equal(t, keep.ID, got[0].ID)
}

// pendingAt adds a pending event of IW0000001 due at next.
func pendingAt(t *testing.T, s *Store, id string, next time.Time) state.Event {
	t.Helper()
	e := state.Event{ID: id, Account: "IW0000001", Type: state.EventWAStatus, Product: state.ProductWhatsApp,
		Status: state.EventPending, Payload: []byte(`{}`), DueAt: next, NextAttemptAt: next, CreatedAt: next, UpdatedAt: next}
	require.NoError(t, s.AddEvents(context.Background(), []state.Event{e}))
	return e
}

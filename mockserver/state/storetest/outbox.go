package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// validResult is attempt n at event id by owner, ending in status; a retry
// is planned for an hour after t0.
func validResult(id, owner string, n int, status state.EventStatus) state.AttemptResult {
	outcome := map[state.EventStatus]string{state.EventPending: "retry", state.EventDelivered: "delivered", state.EventFailed: "failed"}[status]
	r := state.AttemptResult{
		Attempt: state.Attempt{
			EventID: id, N: n, StartedAt: t0.Add(time.Duration(n) * time.Minute).In(zone), Latency: 1234567 * time.Microsecond,
			Method: "POST", URL: "https://hooks.example.com/wa",
			RequestHeaders: map[string][]string{"Content-Type": {"application/json"}, "X-Multi": {"a", "b"}},
			RequestBody:    []byte(`{"id":"` + id + `"}`),
			ResponseStatus: 503, ResponseHeaders: map[string][]string{"Retry-After": {"5"}},
			ResponseBody: []byte("busy"), Error: "", Outcome: outcome,
		},
		Owner: owner, Status: status, Reason: "HTTP 503",
	}
	switch status {
	case state.EventPending:
		r.NextAttemptAt = t0.Add(time.Hour)
	case state.EventDelivered:
		r.Attempt.ResponseStatus, r.Attempt.ResponseBody, r.Reason = 200, []byte("ok"), ""
	}
	return r
}

// outbox is a fixture with account IW0000001 and its app
// AppOne00000000001, for event and delivery tests.
func outbox(t *testing.T, open func(t *testing.T) state.Store) *fixture {
	f := newFixture(t, open)
	f.account("IW0000001")
	f.app("IW0000001", "AppOne00000000001")
	return f
}

func (f *fixture) pending(id string, next time.Time) state.Event {
	f.t.Helper()
	e := pendingEvent(id, "IW0000001", "AppOne00000000001", next)
	f.events(e)
	return e
}

func (f *fixture) claim(now time.Time, limit int, owner string, until time.Time) []state.Event {
	f.t.Helper()
	got, err := f.s.ClaimDue(f.ctx, now, limit, owner, until, nil)
	require.NoError(f.t, err)
	return got
}

func testClaimDue(t *testing.T, open func(t *testing.T) state.Store) {
	t.Run("leases only pending events that are due", func(t *testing.T) {
		f := outbox(t, open)
		due := f.pending("due", t0.Add(-time.Minute))
		f.pending("due-now", t0)
		f.pending("future", t0.Add(time.Microsecond))
		for _, st := range []state.EventStatus{state.EventDelivered, state.EventFailed, state.EventDropped} {
			e := pendingEvent(string(st), "IW0000001", "AppOne00000000001", t0.Add(-time.Hour))
			e.Status = st
			f.events(e)
		}
		until := t0.Add(30 * time.Second).In(zone)
		got := f.claim(t0, 10, "owner-a", until)
		assert.Equal(t, []string{"due", "due-now"}, eventIDs(got))
		want := due
		want.LeaseOwner, want.LeaseUntil = "owner-a", until
		require.NotEmpty(t, got)
		assert.Equal(t, normEvent(want), normEvent(got[0]), "the returned event carries its lease")
		assert.Equal(t, normEvent(want), normEvent(f.getEvent("due")), "the lease is stored")
		assert.Empty(t, f.getEvent("future").LeaseOwner)
	})
	t.Run("oldest due first, then in order of creation", func(t *testing.T) {
		f := outbox(t, open)
		f.pending("c", t0.Add(-1*time.Minute))
		f.pending("a", t0.Add(-3*time.Minute))
		f.pending("b2", t0.Add(-2*time.Minute))
		f.pending("b1", t0.Add(-2*time.Minute))
		assert.Equal(t, []string{"a", "b2", "b1", "c"}, eventIDs(f.claim(t0, 10, "o", t0.Add(time.Minute))))
	})
	t.Run("limit takes the oldest due and leaves the rest", func(t *testing.T) {
		f := outbox(t, open)
		for i := range 5 {
			f.pending(fmt.Sprint("ev", i), t0.Add(-time.Duration(5-i)*time.Minute))
		}
		assert.Equal(t, []string{"ev0", "ev1"}, eventIDs(f.claim(t0, 2, "a", t0.Add(time.Minute))))
		assert.Equal(t, []string{"ev2", "ev3"}, eventIDs(f.claim(t0, 2, "b", t0.Add(time.Minute))))
		assert.Equal(t, []string{"ev4"}, eventIDs(f.claim(t0, 2, "c", t0.Add(time.Minute))))
		assert.Empty(t, f.claim(t0, 2, "d", t0.Add(time.Minute)))
	})
	t.Run("limit zero claims nothing", func(t *testing.T) {
		f := outbox(t, open)
		f.pending("ev", t0)
		assert.Empty(t, f.claim(t0, 0, "a", t0.Add(time.Minute)))
		assert.Empty(t, f.getEvent("ev").LeaseOwner)
	})
	t.Run("a held lease is respected", func(t *testing.T) {
		f := outbox(t, open)
		f.pending("ev", t0)
		require.Len(t, f.claim(t0, 10, "a", t0.Add(time.Minute)), 1)
		assert.Empty(t, f.claim(t0, 10, "b", t0.Add(time.Hour)), "same moment")
		assert.Empty(t, f.claim(t0.Add(time.Minute-time.Microsecond), 10, "b", t0.Add(time.Hour)), "just before the lease ends")
		assert.Empty(t, f.claim(t0.Add(30*time.Second), 10, "a", t0.Add(time.Hour)), "not even to the holder")
		e := f.getEvent("ev")
		assert.Equal(t, "a", e.LeaseOwner)
		assertTimeEqual(t, t0.Add(time.Minute), e.LeaseUntil, "LeaseUntil")
	})
	t.Run("an ended lease can be claimed by another owner", func(t *testing.T) {
		f := outbox(t, open)
		f.pending("ev", t0)
		require.Len(t, f.claim(t0, 10, "a", t0.Add(time.Minute)), 1)
		got := f.claim(t0.Add(time.Minute), 10, "b", t0.Add(2*time.Minute))
		require.Len(t, got, 1)
		assert.Equal(t, "b", got[0].LeaseOwner)
		assertTimeEqual(t, t0.Add(2*time.Minute), got[0].LeaseUntil, "LeaseUntil")
		assert.Equal(t, "b", f.getEvent("ev").LeaseOwner)
	})
	t.Run("concurrent claimers never share an event", func(t *testing.T) {
		f := outbox(t, open)
		const events, workers, batch = 300, 8, 7
		var evs []state.Event
		for i := range events {
			evs = append(evs, pendingEvent(fmt.Sprint("ev", i), "IW0000001", "AppOne00000000001", t0.Add(-time.Duration(i)*time.Millisecond)))
		}
		f.events(evs...)
		var mu sync.Mutex
		owners := map[string][]string{} // event id -> owners it was handed to
		var wg sync.WaitGroup
		for w := range workers {
			owner := fmt.Sprint("worker-", w)
			wg.Go(func() {
				for {
					got, err := f.s.ClaimDue(f.ctx, t0, batch, owner, t0.Add(time.Hour), nil)
					if !assert.NoError(t, err) || len(got) == 0 {
						return
					}
					mu.Lock()
					for _, e := range got {
						owners[e.ID] = append(owners[e.ID], owner)
						assert.Equal(t, owner, e.LeaseOwner)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		assert.Len(t, owners, events, "every event was claimed")
		for id, o := range owners {
			assert.Len(t, o, 1, "event %s was handed to %v while leased", id, o)
			assert.Equal(t, o[0], f.getEvent(id).LeaseOwner, id)
		}
	})
	t.Run("concurrent claimers at lease ends never share an event", func(t *testing.T) {
		// Leases end while others claim: at any moment 'now', an event may
		// be held by one owner only, so each (event, now) is handed out once.
		f := outbox(t, open)
		const events, workers, rounds = 40, 6, 5
		var evs []state.Event
		for i := range events {
			evs = append(evs, pendingEvent(fmt.Sprint("ev", i), "IW0000001", "AppOne00000000001", t0))
		}
		f.events(evs...)
		for r := range rounds {
			now := t0.Add(time.Duration(r) * time.Minute)
			var mu sync.Mutex
			owners := map[string][]string{}
			var wg sync.WaitGroup
			for w := range workers {
				owner := fmt.Sprintf("r%d-w%d", r, w)
				wg.Go(func() {
					for {
						got, err := f.s.ClaimDue(f.ctx, now, 3, owner, now.Add(time.Minute), nil)
						if !assert.NoError(t, err) || len(got) == 0 {
							return
						}
						mu.Lock()
						for _, e := range got {
							owners[e.ID] = append(owners[e.ID], owner)
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			assert.Len(t, owners, events, "round %d: every ended lease was taken again", r)
			for id, o := range owners {
				assert.Len(t, o, 1, "round %d: event %s was handed to %v", r, id, o)
			}
		}
	})
}

func testNextDue(t *testing.T, open func(t *testing.T) state.Store) {
	nextDue := func(f *fixture) (time.Time, bool) {
		f.t.Helper()
		at, ok, err := f.s.NextDue(f.ctx)
		require.NoError(f.t, err)
		return at, ok
	}
	t.Run("none when there is nothing pending", func(t *testing.T) {
		f := outbox(t, open)
		_, ok := nextDue(f)
		assert.False(t, ok, "empty store")
		for _, st := range []state.EventStatus{state.EventDelivered, state.EventFailed, state.EventDropped} {
			e := pendingEvent(string(st), "IW0000001", "AppOne00000000001", t0)
			e.Status = st
			f.events(e)
		}
		_, ok = nextDue(f)
		assert.False(t, ok, "only finished events")
	})
	t.Run("the earliest NextAttemptAt, due or not", func(t *testing.T) {
		f := outbox(t, open)
		f.pending("later", t0.Add(time.Hour))
		f.pending("earliest", t0.Add(time.Minute).In(zone))
		f.pending("latest", t0.Add(2*time.Hour))
		done := pendingEvent("done", "IW0000001", "AppOne00000000001", t0)
		done.Status = state.EventDelivered
		f.events(done)
		at, ok := nextDue(f)
		require.True(t, ok)
		assertTimeEqual(t, t0.Add(time.Minute), at, "NextDue")
	})
	t.Run("a leased event counts from the end of its lease", func(t *testing.T) {
		f := outbox(t, open)
		f.pending("leased", t0)
		require.Len(t, f.claim(t0, 1, "a", t0.Add(10*time.Minute)), 1)
		at, ok := nextDue(f)
		require.True(t, ok)
		assertTimeEqual(t, t0.Add(10*time.Minute), at, "only the leased event")
		f.pending("free", t0.Add(5*time.Minute))
		at, ok = nextDue(f)
		require.True(t, ok)
		assertTimeEqual(t, t0.Add(5*time.Minute), at, "a free event due before the lease ends")
	})
	t.Run("follows ShiftClock", func(t *testing.T) {
		f := outbox(t, open)
		f.pending("ev", t0.Add(time.Hour))
		_, err := f.s.ShiftClock(f.ctx, "IW0000001", 45*time.Minute)
		require.NoError(t, err)
		at, ok := nextDue(f)
		require.True(t, ok)
		assertTimeEqual(t, t0.Add(15*time.Minute), at, "NextDue")
	})
}

func testRecordAttempt(t *testing.T, open func(t *testing.T) state.Store) {
	// claimed is an outbox with event "ev" leased to owner "a".
	claimed := func(t *testing.T) (*fixture, state.Event) {
		f := outbox(t, open)
		f.pending("ev", t0)
		got := f.claim(t0, 1, "a", t0.Add(time.Minute))
		require.Len(t, got, 1)
		return f, got[0]
	}
	for _, tc := range []struct {
		status state.EventStatus
		check  func(t *testing.T, got state.Event)
	}{
		{state.EventPending, func(t *testing.T, got state.Event) {
			assertTimeEqual(t, t0.Add(time.Hour), got.NextAttemptAt, "a retry is due at the planned time")
		}},
		{state.EventDelivered, nil},
		{state.EventFailed, nil},
	} {
		t.Run("records the attempt and the status "+string(tc.status), func(t *testing.T) {
			f, leased := claimed(t)
			r := validResult("ev", "a", 1, tc.status)
			require.NoError(t, f.s.RecordAttempt(f.ctx, r))
			got, attempts, err := f.s.GetEvent(f.ctx, "ev")
			require.NoError(t, err)
			want := leased
			want.Status, want.Reason, want.Attempts = tc.status, r.Reason, 1
			want.LeaseOwner, want.LeaseUntil = "", time.Time{}
			want.UpdatedAt = r.Attempt.StartedAt.Add(r.Attempt.Latency)
			if tc.status == state.EventPending {
				want.NextAttemptAt = r.NextAttemptAt
			}
			assert.Equal(t, normEvent(want), normEvent(got))
			assert.Equal(t, []state.Attempt{normAttempt(r.Attempt)}, normAll(attempts, normAttempt))
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
	t.Run("frees the lease", func(t *testing.T) {
		f, _ := claimed(t)
		require.NoError(t, f.s.RecordAttempt(f.ctx, validResult("ev", "a", 1, state.EventPending)))
		got := f.claim(t0.Add(time.Hour), 1, "b", t0.Add(2*time.Hour))
		assert.Equal(t, []string{"ev"}, eventIDs(got), "claimable once the retry is due, though the old lease would not have ended")
	})
	t.Run("a finished event is no longer claimed or due", func(t *testing.T) {
		f, _ := claimed(t)
		require.NoError(t, f.s.RecordAttempt(f.ctx, validResult("ev", "a", 1, state.EventDelivered)))
		assert.Empty(t, f.claim(t0.Add(48*time.Hour), 10, "b", t0.Add(49*time.Hour)))
		_, ok, err := f.s.NextDue(f.ctx)
		require.NoError(t, err)
		assert.False(t, ok)
	})
	t.Run("attempts are appended in order", func(t *testing.T) {
		f, _ := claimed(t)
		var want []state.Attempt
		now := t0
		for n := 1; n <= 3; n++ {
			status := state.EventPending
			if n == 3 {
				status = state.EventFailed
			}
			r := validResult("ev", "owner", n, status)
			r.Attempt.Error = fmt.Sprint("error ", n)
			switch n {
			case 1:
				r.Owner = "a"
			case 2:
				// No answer at all: no status, headers or body.
				r.Attempt.ResponseStatus, r.Attempt.ResponseHeaders, r.Attempt.ResponseBody = 0, nil, nil
				r.Attempt.RequestHeaders = map[string][]string{}
			case 3:
				r.Attempt.RequestBody = nil
			}
			if n > 1 {
				now = now.Add(2 * time.Hour)
				require.Len(t, f.claim(now, 1, "owner", now.Add(time.Minute)), 1)
			}
			require.NoError(t, f.s.RecordAttempt(f.ctx, r))
			want = append(want, r.Attempt)
		}
		got, attempts, err := f.s.GetEvent(f.ctx, "ev")
		require.NoError(t, err)
		assert.Equal(t, normAll(want, normAttempt), normAll(attempts, normAttempt))
		assert.Equal(t, 3, got.Attempts)
		assert.Equal(t, state.EventFailed, got.Status)
	})
	t.Run("a stale owner is refused and nothing is written", func(t *testing.T) {
		f, _ := claimed(t)
		taken := f.claim(t0.Add(time.Minute), 1, "b", t0.Add(2*time.Minute))
		require.Len(t, taken, 1)
		err := f.s.RecordAttempt(f.ctx, validResult("ev", "a", 1, state.EventDelivered))
		assert.ErrorIs(t, err, state.ErrNotFound)
		got, attempts, err := f.s.GetEvent(f.ctx, "ev")
		require.NoError(t, err)
		assert.Equal(t, normEvent(taken[0]), normEvent(got), "the event is as the new owner took it")
		assert.Empty(t, attempts)
		require.NoError(t, f.s.RecordAttempt(f.ctx, validResult("ev", "b", 1, state.EventDelivered)), "the new owner may record")
	})
	t.Run("the holder of an ended lease that nobody took may still record", func(t *testing.T) {
		f, _ := claimed(t)
		assert.NoError(t, f.s.RecordAttempt(f.ctx, validResult("ev", "a", 1, state.EventDelivered)))
	})
	t.Run("recording twice is refused", func(t *testing.T) {
		f, _ := claimed(t)
		require.NoError(t, f.s.RecordAttempt(f.ctx, validResult("ev", "a", 1, state.EventPending)))
		assert.ErrorIs(t, f.s.RecordAttempt(f.ctx, validResult("ev", "a", 2, state.EventPending)), state.ErrNotFound, "after a retry")
		_, attempts, err := f.s.GetEvent(f.ctx, "ev")
		require.NoError(t, err)
		assert.Len(t, attempts, 1)
	})
	t.Run("an event never leased is refused", func(t *testing.T) {
		f := outbox(t, open)
		f.pending("ev", t0)
		assert.ErrorIs(t, f.s.RecordAttempt(f.ctx, validResult("ev", "a", 1, state.EventDelivered)), state.ErrNotFound)
		assert.Equal(t, state.EventPending, f.getEvent("ev").Status)
	})
	t.Run("an unknown event is not found", func(t *testing.T) {
		f, _ := claimed(t)
		assert.ErrorIs(t, f.s.RecordAttempt(f.ctx, validResult("ev-none", "a", 1, state.EventDelivered)), state.ErrNotFound)
	})
}

func testRequeue(t *testing.T, open func(t *testing.T) state.Store) {
	// finished is an outbox with event "ev" delivered or failed after one attempt.
	finished := func(t *testing.T, status state.EventStatus) *fixture {
		f := outbox(t, open)
		f.pending("ev", t0)
		require.Len(t, f.claim(t0, 1, "a", t0.Add(time.Minute)), 1)
		require.NoError(t, f.s.RecordAttempt(f.ctx, validResult("ev", "a", 1, status)))
		return f
	}
	for _, status := range []state.EventStatus{state.EventDelivered, state.EventFailed} {
		t.Run("a "+string(status)+" event is pending again, keeping id, payload and attempts", func(t *testing.T) {
			f := finished(t, status)
			before, attemptsBefore, err := f.s.GetEvent(f.ctx, "ev")
			require.NoError(t, err)
			at := t0.Add(3 * time.Hour).In(zone)
			require.NoError(t, f.s.Requeue(f.ctx, "ev", at))
			got, attempts, err := f.s.GetEvent(f.ctx, "ev")
			require.NoError(t, err)
			want := before
			want.Status, want.Reason, want.NextAttemptAt = state.EventPending, "", at
			assert.Equal(t, normEvent(want), normEvent(got))
			assert.Equal(t, normAll(attemptsBefore, normAttempt), normAll(attempts, normAttempt))

			assert.Empty(t, f.claim(at.Add(-time.Microsecond), 1, "b", at.Add(time.Hour)), "not before 'at'")
			assert.Equal(t, []string{"ev"}, eventIDs(f.claim(at, 1, "b", at.Add(time.Hour))))
			dueAt, ok, err := f.s.NextDue(f.ctx)
			require.NoError(t, err)
			require.True(t, ok)
			assertTimeEqual(t, at.Add(time.Hour), dueAt, "NextDue after the claim")
		})
	}
	t.Run("a pending event is not found", func(t *testing.T) {
		f := outbox(t, open)
		f.pending("ev", t0)
		assert.ErrorIs(t, f.s.Requeue(f.ctx, "ev", t0.Add(time.Hour)), state.ErrNotFound)
		assertTimeEqual(t, t0, f.getEvent("ev").NextAttemptAt, "unchanged")
	})
	t.Run("a dropped event is not found", func(t *testing.T) {
		f := outbox(t, open)
		f.events(droppedEvent("ev", "IW0000001"))
		assert.ErrorIs(t, f.s.Requeue(f.ctx, "ev", t0), state.ErrNotFound)
		assert.Equal(t, state.EventDropped, f.getEvent("ev").Status)
	})
	t.Run("an unknown event is not found", func(t *testing.T) {
		f := finished(t, state.EventDelivered)
		assert.ErrorIs(t, f.s.Requeue(f.ctx, "ev-none", t0), state.ErrNotFound)
	})
}

func testReset(t *testing.T, open func(t *testing.T) state.Store) {
	f := newFixture(t, open)
	f.account("IW0000001")
	f.appWithEverything("IW0000001", "AppOne00000000001", "x-")
	require.NoError(t, f.s.SetDefaultApp(f.ctx, "IW0000001", "AppOne00000000001"))
	require.NoError(t, f.s.RecordSubmission(f.ctx, validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "sub-")))
	require.Len(t, f.claim(t0, 1, "a", t0.Add(time.Minute)), 1)
	require.NoError(t, f.s.RecordAttempt(f.ctx, validResult("x-ev", "a", 1, state.EventPending)))
	require.NoError(t, f.s.CreateTemplate(f.ctx, validTemplate("IW0000001", "111", "otp_login", "en_US"), nil))
	require.NoError(t, f.s.AddWabaNumber(f.ctx, state.WabaNumber{Account: "IW0000001", WabaID: "111", Number: "8618900000001", CreatedAt: t0}))
	require.NoError(t, f.s.TouchSession(f.ctx, "IW0000001", "8618900000001", "6200000001", t0))

	require.NoError(t, f.s.Reset(f.ctx))

	accounts, err := f.s.ListAccounts(f.ctx)
	require.NoError(t, err)
	assert.Empty(t, accounts)
	_, err = f.s.GetApp(f.ctx, "AppOne00000000001")
	assert.ErrorIs(t, err, state.ErrNotFound)
	_, err = f.s.TokenByHash(f.ctx, hash("x-cur"))
	assert.ErrorIs(t, err, state.ErrNotFound)
	_, err = f.s.GetMessage(f.ctx, "100000000000000001")
	assert.ErrorIs(t, err, state.ErrNotFound)
	_, _, err = f.s.GetEvent(f.ctx, "x-ev")
	assert.ErrorIs(t, err, state.ErrNotFound)
	evs, err := f.s.ListEvents(f.ctx, state.EventFilter{})
	require.NoError(t, err)
	assert.Empty(t, evs)
	_, ok, err := f.s.NextDue(f.ctx)
	require.NoError(t, err)
	assert.False(t, ok)

	t.Run("the store is usable afterwards", func(t *testing.T) {
		f.t = t
		f.account("IW0000001")
		f.appWithEverything("IW0000001", "AppOne00000000001", "x-")
		_, attempts, err := f.s.GetEvent(f.ctx, "x-ev")
		require.NoError(t, err)
		assert.Empty(t, attempts)
		apps, err := f.s.ListApps(f.ctx, "IW0000001")
		require.NoError(t, err)
		assert.Len(t, apps, 1)
		tmpls, err := f.s.ListTemplates(f.ctx, "IW0000001", "")
		require.NoError(t, err)
		assert.Empty(t, tmpls, "templates are gone")
		nums, err := f.s.WabaNumbers(f.ctx, "IW0000001", "111")
		require.NoError(t, err)
		assert.Empty(t, nums, "WABA numbers are gone")
		last, err := f.s.LastInbound(f.ctx, "IW0000001", "8618900000001", []string{"6200000001"})
		require.NoError(t, err)
		assert.Empty(t, last, "sessions are gone")
	})
}

// testClaimOrder holds ClaimDue's order (oldest due first, then creation)
// through what moves events in a store that keeps them queued: clock shifts,
// exclusions, ended leases, retries and replays.
func testClaimOrder(t *testing.T, open func(t *testing.T) state.Store) {
	at := func(f *fixture, id, account, appKey string, next time.Time, url string) {
		f.t.Helper()
		e := pendingEvent(id, account, appKey, next)
		e.Target.URL = url
		f.events(e)
	}
	const hookA, hookB, hookC = "https://a.example/hook", "https://b.example/hook", "https://c.example/hook"
	t.Run("a clock shift moves an account's events ahead of another's", func(t *testing.T) {
		f := twoAccounts(t, open)
		at(f, "other-1", "IW0000002", "AppOther000000003", t0.Add(-2*time.Minute), hookA)
		at(f, "own-1", "IW0000001", "AppOne00000000001", t0.Add(time.Hour), hookA)
		at(f, "other-2", "IW0000002", "AppOther000000003", t0.Add(-time.Minute), hookB)
		at(f, "own-2", "IW0000001", "AppOne00000000001", t0.Add(2*time.Hour), hookB)
		assert.Equal(t, []string{"other-1", "other-2"}, eventIDs(f.claim(t0, 10, "a", t0)), "before the shift")
		_, err := f.s.ShiftClock(f.ctx, "IW0000001", 3*time.Hour)
		require.NoError(t, err)
		assert.Equal(t, []string{"own-1", "own-2", "other-1", "other-2"}, eventIDs(f.claim(t0, 10, "b", t0.Add(time.Minute))),
			"own events are now 2h and 1h overdue, ahead of the other account's (whose leases ended)")
	})
	t.Run("a backward shift puts due events back in the future", func(t *testing.T) {
		f := outbox(t, open)
		f.pending("ev-1", t0.Add(-time.Minute))
		f.pending("ev-2", t0.Add(-2*time.Minute))
		_, err := f.s.ShiftClock(f.ctx, "IW0000001", -90*time.Second)
		require.NoError(t, err)
		assert.Equal(t, []string{"ev-2"}, eventIDs(f.claim(t0, 10, "a", t0.Add(time.Minute))))
		at, ok, err := f.s.NextDue(f.ctx)
		require.NoError(t, err)
		require.True(t, ok)
		assertTimeEqual(t, t0.Add(30*time.Second), at, "ev-1 is due 30s after t0 now")
	})
	t.Run("excluding a destination keeps the others' order and the limit", func(t *testing.T) {
		f := outbox(t, open)
		for i := range 9 {
			url := []string{hookA, hookB, hookC}[i%3]
			at(f, fmt.Sprintf("ev-%d", i), "IW0000001", "AppOne00000000001", t0.Add(time.Duration(i-10)*time.Minute), url)
		}
		busy := []string{state.Destination(hookB)}
		claim := func(limit int, exclude []string) []string {
			got, err := f.s.ClaimDue(f.ctx, t0, limit, "a", t0.Add(time.Hour), exclude)
			require.NoError(t, err)
			return eventIDs(got)
		}
		assert.Equal(t, []string{"ev-0", "ev-2", "ev-3", "ev-5"}, claim(4, busy), "b's ev-1 and ev-4 are left aside")
		assert.Equal(t, []string{"ev-6", "ev-8"}, claim(4, busy), "the rest of a and c")
		assert.Empty(t, claim(4, busy), "only b's are left")
		assert.Equal(t, []string{"ev-1", "ev-4", "ev-7"}, claim(4, nil), "b's, once it is not busy")
	})
	t.Run("an ended lease returns in due order, not behind newer events", func(t *testing.T) {
		f := outbox(t, open)
		f.pending("old", t0.Add(-time.Hour))
		require.Len(t, f.claim(t0, 1, "dead", t0.Add(time.Minute)), 1)
		f.pending("new-1", t0.Add(-time.Minute))
		f.pending("new-2", t0)
		assert.Equal(t, []string{"new-1", "new-2"}, eventIDs(f.claim(t0, 10, "a", t0.Add(time.Hour))), "old is leased")
		require.NoError(t, f.s.RecordAttempt(f.ctx, validResult("new-1", "a", 1, state.EventPending)))
		assert.Equal(t, []string{"old"}, eventIDs(f.claim(t0.Add(time.Minute), 10, "b", t0.Add(2*time.Hour))),
			"old's lease ended; new-1 retries in an hour and new-2 is leased")
	})
	t.Run("retries and replays take their place by their new due time", func(t *testing.T) {
		f := outbox(t, open)
		f.pending("retried", t0.Add(-time.Hour))
		f.pending("replayed", t0.Add(-time.Hour))
		require.Len(t, f.claim(t0, 2, "a", t0.Add(time.Minute)), 2)
		retry := validResult("retried", "a", 1, state.EventPending)
		retry.NextAttemptAt = t0.Add(-time.Second)
		require.NoError(t, f.s.RecordAttempt(f.ctx, retry))
		require.NoError(t, f.s.RecordAttempt(f.ctx, validResult("replayed", "a", 1, state.EventDelivered)))
		f.pending("waiting", t0.Add(-time.Minute))
		require.NoError(t, f.s.Requeue(f.ctx, "replayed", t0.Add(-2*time.Minute)))
		assert.Equal(t, []string{"replayed", "waiting", "retried"}, eventIDs(f.claim(t0, 10, "b", t0.Add(time.Hour))))
	})
}

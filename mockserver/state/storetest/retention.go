package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

func testClaimExcluding(t *testing.T, open func(t *testing.T) state.Store) {
	f := outbox(t, open)
	slow := pendingEvent("slow-1", "IW0000001", "AppOne00000000001", t0.Add(-2*time.Minute))
	slow.Target.URL = "http://slow.example:8080/hook"
	slow2 := pendingEvent("slow-2", "IW0000001", "AppOne00000000001", t0.Add(-2*time.Minute))
	slow2.Target.URL = "HTTP://Slow.Example:8080/other"
	fast := pendingEvent("fast-1", "IW0000001", "AppOne00000000001", t0.Add(-time.Minute))
	fast.Target.URL = "https://fast.example/hook"
	f.events(slow, slow2, fast)

	got, err := f.s.ClaimDue(f.ctx, t0, 10, "o", t0.Add(time.Minute), []string{state.Destination(slow.Target.URL)})
	require.NoError(t, err)
	assert.Equal(t, []string{"fast-1"}, eventIDs(got), "a busy destination's events are left for later, whatever the spelling of its URL")
	got, err = f.s.ClaimDue(f.ctx, t0, 10, "o", t0.Add(time.Minute), []string{"https://other.example:443"})
	require.NoError(t, err)
	assert.Equal(t, []string{"slow-1", "slow-2"}, eventIDs(got))
}

func testReleaseLeases(t *testing.T, open func(t *testing.T) state.Store) {
	f := outbox(t, open)
	f.pending("a", t0)
	f.pending("b", t0)
	f.pending("c", t0)
	require.Len(t, f.claim(t0, 2, "leaving", t0.Add(time.Hour)), 2)
	require.Len(t, f.claim(t0, 1, "staying", t0.Add(time.Hour)), 1)

	n, err := f.s.ReleaseLeases(f.ctx, "leaving")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	got := f.claim(t0, 10, "next", t0.Add(time.Hour))
	assert.Len(t, got, 2, "another owner takes the released events at once, not the one still leased")
	n, err = f.s.ReleaseLeases(f.ctx, "nobody")
	require.NoError(t, err)
	assert.Zero(t, n)
}

func testPrune(t *testing.T, open func(t *testing.T) state.Store) {
	f := outbox(t, open)
	// Ten finished events, updated a minute apart, and one pending event
	// older than all of them.
	old := pendingEvent("pending-old", "IW0000001", "AppOne00000000001", t0.Add(-time.Hour))
	old.UpdatedAt = t0.Add(-time.Hour)
	f.events(old)
	for i := range 10 {
		e := droppedEvent(fmt.Sprintf("done-%02d", i), "IW0000001")
		e.UpdatedAt = t0.Add(time.Duration(i) * time.Minute)
		f.events(e)
	}
	older := validSubmission("IW0000001", "AppOne00000000001", "100000000000000001", "m1-")
	older.Message.CreatedAt = t0.Add(-time.Hour)
	require.NoError(t, f.s.RecordSubmission(f.ctx, older))
	newer := validSubmission("IW0000001", "AppOne00000000001", "100000000000000002", "m2-")
	newer.Message.CreatedAt = t0.Add(time.Hour)
	newer.BindSender = nil
	require.NoError(t, f.s.RecordSubmission(f.ctx, newer))

	t.Run("by age", func(t *testing.T) {
		n, err := f.s.Prune(f.ctx, t0.Add(3*time.Minute), 0)
		require.NoError(t, err)
		assert.Equal(t, 3, n, "done-00 to done-02 finished before the cut")
		_, _, err = f.s.GetEvent(f.ctx, "done-02")
		assert.ErrorIs(t, err, state.ErrNotFound)
		f.getEvent("done-03")
		f.getEvent("pending-old")
		_, err = f.s.GetMessage(f.ctx, "100000000000000001")
		assert.ErrorIs(t, err, state.ErrNotFound, "a message created before the cut goes")
		_, err = f.s.GetMessage(f.ctx, "100000000000000002")
		assert.NoError(t, err)
	})
	t.Run("by count", func(t *testing.T) {
		n, err := f.s.Prune(f.ctx, t0.Add(-24*time.Hour), 2)
		require.NoError(t, err)
		evs, err := f.s.ListEvents(f.ctx, state.EventFilter{Account: "IW0000001", Status: state.EventDropped, Limit: 100})
		require.NoError(t, err)
		assert.Equal(t, []string{"done-09", "done-08"}, eventIDs(evs), "the newest two finished events stay")
		assert.Equal(t, 5, n)
		f.getEvent("pending-old")
		for _, e := range append(older.Events, newer.Events...) {
			f.getEvent(e.ID) // pending: never pruned
		}
		_, err = f.s.GetMessage(f.ctx, "100000000000000002")
		assert.NoError(t, err, "the newest message is within keep")
	})
}

func testOutboxStats(t *testing.T, open func(t *testing.T) state.Store) {
	f := outbox(t, open)
	stats := func(now time.Time) state.OutboxStats {
		t.Helper()
		st, err := f.s.OutboxStats(f.ctx, now)
		require.NoError(t, err)
		return st
	}
	assert.Equal(t, state.OutboxStats{}, stats(t0), "an empty outbox")

	f.pending("later", t0.Add(time.Hour))
	f.pending("due", t0.Add(-time.Minute))
	f.pending("oldest", t0.Add(-3*time.Minute))
	f.pending("due-now", t0)
	done := pendingEvent("done", "IW0000001", "AppOne00000000001", t0.Add(-time.Hour))
	done.Status = state.EventDelivered
	f.events(done, droppedEvent("dropped", "IW0000001"))

	st := stats(t0)
	assert.Equal(t, 4, st.Pending, "finished events are not in the outbox")
	assert.Equal(t, 3, st.Due)
	assertTimeEqual(t, t0.Add(-3*time.Minute), st.OldestDue, "OldestDue")

	require.Len(t, f.claim(t0, 1, "a", t0.Add(time.Minute)), 1)
	st = stats(t0)
	assert.Equal(t, 4, st.Pending, "a claimed event is still pending")
	assert.Equal(t, 3, st.Due)

	st = stats(t0.Add(-2 * time.Hour))
	assert.Equal(t, state.OutboxStats{Pending: 4}, st, "nothing due yet")
}

func testRecordAttempts(t *testing.T, open func(t *testing.T) state.Store) {
	f := outbox(t, open)
	b, ok := f.s.(state.AttemptBatcher)
	if !ok {
		t.Skip("this store records attempts one at a time (no state.AttemptBatcher)")
	}
	f.pending("mine", t0)
	f.pending("taken", t0)
	require.Len(t, f.claim(t0, 2, "a", t0.Add(time.Minute)), 2)
	f.pending("free", t0.Add(time.Hour))
	// "taken" ends its lease and goes to b.
	_, err := f.s.ReleaseLeases(f.ctx, "a")
	require.NoError(t, err)
	require.Len(t, f.claim(t0, 1, "a", t0.Add(time.Minute)), 1, "mine again")
	require.Len(t, f.claim(t0, 1, "b", t0.Add(time.Minute)), 1, "taken")

	errs := b.RecordAttempts(f.ctx, []state.AttemptResult{
		validResult("mine", "a", 1, state.EventDelivered),
		validResult("taken", "a", 1, state.EventDelivered),
		validResult("free", "a", 1, state.EventDelivered),
	})
	require.Len(t, errs, 3)
	assert.NoError(t, errs[0])
	assert.ErrorIs(t, errs[1], state.ErrNotFound, "leased to another owner")
	assert.ErrorIs(t, errs[2], state.ErrNotFound, "never leased")

	got, attempts, err := f.s.GetEvent(f.ctx, "mine")
	require.NoError(t, err)
	assert.Equal(t, state.EventDelivered, got.Status)
	assert.Len(t, attempts, 1)
	for _, id := range []string{"taken", "free"} {
		e, attempts, err := f.s.GetEvent(f.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, state.EventPending, e.Status, id)
		assert.Empty(t, attempts, id)
	}
	assert.Empty(t, b.RecordAttempts(f.ctx, nil), "nothing to record")
}

func testRenewLeases(t *testing.T, open func(t *testing.T) state.Store) {
	f := outbox(t, open)
	f.pending("a", t0)
	f.pending("b", t0)
	f.pending("c", t0)
	f.pending("done", t0)
	require.Len(t, f.claim(t0, 3, "working", t0.Add(time.Minute)), 3)
	require.Len(t, f.claim(t0, 1, "other", t0.Add(time.Minute)), 1)
	require.NoError(t, f.s.RecordAttempt(f.ctx, validResult("c", "working", 1, state.EventDelivered)))

	n, err := f.s.RenewLeases(f.ctx, "working", []string{"a", "b", "c", "done", "unknown"}, t0.Add(10*time.Minute).In(zone))
	require.NoError(t, err)
	assert.Equal(t, 2, n, "a and b; not c, delivered, nor done, another owner's")
	for _, id := range []string{"a", "b"} {
		e := f.getEvent(id)
		assert.Equal(t, "working", e.LeaseOwner)
		assertTimeEqual(t, t0.Add(10*time.Minute), e.LeaseUntil, id+" LeaseUntil")
	}
	assert.Equal(t, []string{"done"}, eventIDs(f.claim(t0.Add(5*time.Minute), 10, "next", t0.Add(time.Hour))),
		"the renewed leases hold; the other owner's ended")
	n, err = f.s.RenewLeases(f.ctx, "other", []string{"done", "a"}, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n, "leases other owners hold are not renewed")
	n, err = f.s.RenewLeases(f.ctx, "working", nil, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n, "nothing named, nothing renewed")
	at, ok, err := f.s.NextDue(f.ctx)
	require.NoError(t, err)
	require.True(t, ok)
	assertTimeEqual(t, t0.Add(10*time.Minute), at, "NextDue follows the renewed leases")
}

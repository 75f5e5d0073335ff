package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// testCountOwned checks the counts quotas rely on: each of an account's
// own, none of another account's, pending events only while pending.
func testCountOwned(t *testing.T, open func(t *testing.T) state.Store) {
	f := twoAccounts(t, open)
	count := func(account string, r state.Resource) int {
		t.Helper()
		n, err := f.s.CountOwned(f.ctx, account, r)
		require.NoError(t, err)
		return n
	}
	const one, other = "IW0000001", "IW0000002"
	f.token("AppOne00000000001", "a", t0)
	f.token("AppOne00000000001", "b", t0.Add(time.Minute)) // supersedes a: both kept
	f.token("AppTwo00000000002", "c", t0)
	f.token("AppOther000000003", "d", t0)
	f.webhook("AppOne00000000001", state.ProductWhatsApp)
	f.webhook("AppOne00000000001", state.ProductSMS)
	f.webhook("AppOther000000003", state.ProductSMS)
	f.binding(one, "AppOne00000000001", state.BindNumber, "4400000001")
	f.binding(other, "AppOther000000003", state.BindNumber, "4400000001")
	require.NoError(t, f.s.CreateTemplate(f.ctx, validTemplate(one, "111", "otp_login", "en_US"), nil))
	f.events(pendingEvent("p1", one, "AppOne00000000001", t0), pendingEvent("p2", one, "AppOne00000000001", t0),
		droppedEvent("d1", one), pendingEvent("p3", other, "AppOther000000003", t0))

	for _, tc := range []struct {
		r          state.Resource
		one, other int
	}{
		{state.ResourceApps, 2, 1},
		{state.ResourceTokens, 3, 1},
		{state.ResourceWebhooks, 2, 1},
		{state.ResourceBindings, 1, 1},
		{state.ResourceTemplates, 1, 0},
		{state.ResourcePending, 2, 1},
	} {
		assert.Equal(t, tc.one, count(one, tc.r), "%s of %s", tc.r, one)
		assert.Equal(t, tc.other, count(other, tc.r), "%s of %s", tc.r, other)
		assert.Zero(t, count("IW0000404", tc.r), "%s of an unknown account", tc.r)
	}

	// A delivered event leaves the outbox; a replay brings it back.
	got, err := f.s.ClaimDue(f.ctx, t0, 10, "w", t0.Add(time.Minute), nil)
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.NoError(t, f.s.RecordAttempt(f.ctx, validResult("p1", "w", 1, state.EventDelivered)))
	assert.Equal(t, 1, count(one, state.ResourcePending))
	require.NoError(t, f.s.Requeue(f.ctx, "p1", t0))
	assert.Equal(t, 2, count(one, state.ResourcePending))
	require.NoError(t, f.s.DeleteAccount(f.ctx, one))
	assert.Zero(t, count(one, state.ResourcePending), "gone with its account")
	assert.Equal(t, 1, count(other, state.ResourcePending))
}

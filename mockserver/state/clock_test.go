package state_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
)

// Regression: time.Duration spans about 292 years, so advancing twice by
// 228 years wrapped the clock around into 1898, and setting it to the year
// 3000 saturated and landed in 2190, both answered as successes.
func TestTheSandboxClockStaysWithinItsRange(t *testing.T) {
	ctx := context.Background()
	real := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	sb := state.New(memstore.New(), clock.NewFake(real), nil, state.Options{}, nil)
	acct, err := sb.CreateAccount(ctx, "IW7000001", "")
	require.NoError(t, err)
	year := 365 * 24 * time.Hour

	a, err := sb.AdvanceClock(ctx, acct.Name, 60*year)
	require.NoError(t, err)
	assert.Equal(t, real.Add(60*year), sb.Now(a))

	_, err = sb.AdvanceClock(ctx, acct.Name, 60*year)
	require.ErrorIs(t, err, state.ErrInvalid, "120 years past real time")
	var inv *state.InvalidError
	require.True(t, errors.As(err, &inv))
	assert.Equal(t, "/by", inv.Field)

	a, err = sb.AdvanceClock(ctx, acct.Name, 40*year)
	require.NoError(t, err, "exactly the bound is fine")
	assert.Equal(t, real.Add(state.MaxClockOffset), sb.Now(a))

	for _, bad := range []time.Time{real.Add(state.MaxClockOffset + time.Second), real.Add(-state.MaxClockOffset - time.Second),
		time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)} {
		_, err = sb.SetClock(ctx, acct.Name, bad)
		require.ErrorIs(t, err, state.ErrInvalid, "set to %s", bad)
		require.True(t, errors.As(err, &inv))
		assert.Equal(t, "/now", inv.Field)
	}
	want := real.Add(-state.MaxClockOffset)
	a, err = sb.SetClock(ctx, acct.Name, want)
	require.NoError(t, err, "from one end of the range to the other")
	assert.Equal(t, want, sb.Now(a))
}

package state_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

func TestGeneratedIdentifiersHaveTheDocumentedShapes(t *testing.T) {
	seen := map[string]bool{}
	now := time.Now()
	for range 200 {
		k, tok, id := state.NewAppKey(), state.NewToken(), state.NewMessageID(now)
		assert.Regexp(t, `^[A-Za-z0-9]{17}$`, k)
		assert.Regexp(t, `^[A-Z0-9]{56}$`, tok)
		assert.Regexp(t, `^[1-9][0-9]{17}$`, id)
		assert.Regexp(t, `^IW[0-9]{7}$`, state.NewAccountName())
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, state.NewEventID(now))
		assert.True(t, strings.HasPrefix(state.NewWamid(), "wamid."))
		assert.False(t, seen[tok], "tokens must not repeat")
		assert.False(t, seen[id], "message ids must not repeat")
		seen[tok], seen[id] = true, true
	}
}

func TestIdentifiersAreOrderedByTime(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	a, b := state.NewMessageID(t0), state.NewMessageID(t0.Add(time.Millisecond))
	assert.Less(t, a, b)
	assert.Equal(t, "1", a[:1])
	assert.Less(t, state.NewEventID(t0), state.NewEventID(t0.Add(time.Millisecond)))
	id := strings.ReplaceAll(state.NewEventID(t0), "-", "")
	assert.Equal(t, fmt.Sprintf("%012x", t0.UnixMilli()), id[:12], "the first 48 bits are the Unix milliseconds")
}

func TestTokensAreKeptAsSHA256(t *testing.T) {
	h := state.HashToken("abc")
	assert.Equal(t, "ba7816bf8f01", state.Fingerprint(h), "SHA-256 of abc")
}

func TestParseRecipients(t *testing.T) {
	got, err := state.ParseRecipients("/r", "6285234567899, 8618912123456")
	assert.NoError(t, err)
	assert.Equal(t, []string{"6285234567899", "8618912123456"}, got)
	for _, tc := range []struct{ in, code string }{
		{"1234", "108"}, {"123456789012345678901", "108"}, {"+6285234567899", "108"}, {"", "108"},
		{strings.TrimSuffix(strings.Repeat("6285234567899,", 1001), ","), "109"},
	} {
		_, err := state.ParseRecipients("/r", tc.in)
		var be *state.BusinessError
		if assert.ErrorAs(t, err, &be, tc.in) {
			assert.Equal(t, tc.code, be.Code)
			assert.Equal(t, "/r", be.Field)
		}
	}
	_, err = state.ParseRecipients("/r", strings.TrimSuffix(strings.Repeat("6285234567899,", 1000), ","))
	assert.NoError(t, err, "exactly 1000 is allowed")
}

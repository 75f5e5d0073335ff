package state_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

func TestGeneratedIdentifiersHaveTheDocumentedShapes(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		k, tok, id := state.NewAppKey(), state.NewToken(), state.NewMessageID()
		assert.Regexp(t, `^[A-Za-z0-9]{17}$`, k)
		assert.Regexp(t, `^[A-Z0-9]{56}$`, tok)
		assert.Regexp(t, `^[1-9][0-9]{17}$`, id)
		assert.Regexp(t, `^IW[0-9]{7}$`, state.NewAccountName())
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, state.NewEventID())
		assert.True(t, strings.HasPrefix(state.NewWamid(), "wamid."))
		assert.False(t, seen[tok], "tokens must not repeat")
		seen[tok] = true
	}
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

package state_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// The whole scheme in one table: every product reads this classification.
func TestMagicClassifiesNumbersByPrefix(t *testing.T) {
	tests := []struct {
		number string
		kind   state.MagicKind
		code   string
	}{
		{"6285234567899", state.MagicNone, ""},
		{"8613800138000", state.MagicNone, ""},
		{"99910", state.MagicFail, ""},
		{"999101", state.MagicFail, "1"},
		{"99910131051", state.MagicFail, "131051"},
		{"0099910777", state.MagicFail, "777"}, // the international prefix SMS keeps
		{"999200001", state.MagicDeliveredNotRead, "0001"},
		{"99930", state.MagicReadBeforeDelivered, ""},
		{"9994011", state.MagicSilent, "11"},
		{"0099940", state.MagicSilent, ""},
		{"999501", state.MagicSMECLFailed, "1"},
		{"99900000", state.MagicNone, ""},  // 999 without an outcome's prefix
		{"99960123", state.MagicNone, ""},  // a prefix nothing uses yet
		{"9991", state.MagicNone, ""},      // too short to carry a prefix
		{"1999100", state.MagicNone, ""},   // 99910 not at the start
		{"000099940", state.MagicNone, ""}, // only one 00 is the international prefix
	}
	for _, tc := range tests {
		t.Run(tc.number, func(t *testing.T) {
			got := state.Magic(tc.number)
			assert.Equal(t, tc.kind, got.Kind, "kind %s", got.Kind)
			assert.Equal(t, tc.code, got.Code)
		})
	}
}

func TestMagicKindsHaveNames(t *testing.T) {
	for k := state.MagicNone; k <= state.MagicSMECLFailed; k++ {
		assert.NotEqual(t, "unknown", k.String(), "kind %d", int(k))
	}
	assert.Equal(t, "unknown", state.MagicKind(99).String())
}

package state

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The pointer rules are payload's (and tested there); the sandbox's part is
// that a pointer it cannot use is an *InvalidError naming the pointer,
// which the control API answers 400 with.
func TestPointerRefusalsAreInvalidErrors(t *testing.T) {
	var d map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{"a":{"b":"x","list":[1,2,3]},"s":"str"}`), &d))
	require.NoError(t, setPointer(d, "/a/list/-", 4))
	require.NoError(t, unsetPointer(d, "/a/b"))
	b, _ := json.Marshal(d)
	assert.JSONEq(t, `{"a":{"list":[1,2,3,4]},"s":"str"}`, string(b))

	for _, err := range []error{setPointer(d, "/s/x", 1), setPointer(d, "a", 1), unsetPointer(d, "/a/b")} {
		var ie *InvalidError
		require.ErrorAs(t, err, &ie)
		assert.ErrorIs(t, err, ErrInvalid)
	}
	var ie *InvalidError
	require.ErrorAs(t, setPointer(d, "/s/x", 1), &ie)
	assert.Equal(t, "/s/x", ie.Field)
	assert.Equal(t, "/s is a string, not an object or array", ie.Message)
}

func TestFreshValuesKeepTheExamplesShape(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 123e6, time.UTC)
	assert.Regexp(t, `^wamid\.`, idLike("wamid.HBgNODYx", now))
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, idLike("e5cb1bc6-ad90-419d-8f83-aa394c0b7cc7", now))
	assert.Regexp(t, `^1[0-9]{17}$`, idLike("356139161272397824", now))
	assert.Regexp(t, `^[1-9][0-9]{5}$`, idLike("123456", now))
	assert.Regexp(t, `^[0-9a-f]{24}$`, idLike("63f5d602367ea403f8175a6c", now))
	assert.Equal(t, "yes-1", idLike("yes-1", now), "not an id shape: kept")

	assert.Equal(t, "1795773600123", timeLike("1749545540967", now))
	assert.Equal(t, "2026-11-27 10:00:00", timeLike("2024-12-12 11:12:12", now))
	assert.Equal(t, "2026-11-27T10:00:00.123Z", timeLike("2023-02-22T12:00:00.000Z", now))
}

func TestEnvelopeMembersComeInTheDocumentedOrder(t *testing.T) {
	b, err := encodePayload(map[string]any{"body": map[string]any{"z": "<&>", "a": 1}, "type": "t", "eventTime": "e", "id": "i", "extra": 1}, true)
	require.NoError(t, err)
	assert.Equal(t, `{"id":"i","type":"t","eventTime":"e","body":{"a":1,"z":"<&>"},"extra":1}`, string(b))
}

package state

import (
	"encoding/json"
	"testing"

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

func TestEnvelopeMembersComeInTheDocumentedOrder(t *testing.T) {
	b, err := encodePayload(map[string]any{"body": map[string]any{"z": "<&>", "a": 1}, "type": "t", "eventTime": "e", "id": "i", "extra": 1}, true)
	require.NoError(t, err)
	assert.Equal(t, `{"id":"i","type":"t","eventTime":"e","body":{"a":1,"z":"<&>"},"extra":1}`, string(b))
}

package state

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSetPointer(t *testing.T) {
	doc := func() map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(`{"a":{"b":"x","list":[1,2]},"s":"str","a/b":{"c~d":0}}`), &m))
		return m
	}
	tests := []struct {
		name, pointer string
		value         any
		want          string // the document after, or the error
	}{
		{"replace a member", "/a/b", "y", `{"a":{"b":"y","list":[1,2]},"a/b":{"c~d":0},"s":"str"}`},
		{"create objects on the way", "/n/m", true, `{"a":{"b":"x","list":[1,2]},"a/b":{"c~d":0},"n":{"m":true},"s":"str"}`},
		{"escaped names", "/a~1b/c~0d", 1, `{"a":{"b":"x","list":[1,2]},"a/b":{"c~d":1},"s":"str"}`},
		{"replace an element", "/a/list/0", 9, `{"a":{"b":"x","list":[9,2]},"a/b":{"c~d":0},"s":"str"}`},
		{"append with -", "/a/list/-", 3, `{"a":{"b":"x","list":[1,2,3]},"a/b":{"c~d":0},"s":"str"}`},
		{"append with the length", "/a/list/2", 3, `{"a":{"b":"x","list":[1,2,3]},"a/b":{"c~d":0},"s":"str"}`},
		{"an index past the end", "/a/list/3", 3, "/a/list/3: /a/list is an array of 2; \"3\" is not an index of it (0 to 2, or - to append)"},
		{"an index with a leading zero", "/a/list/01", 3, "is not an index"},
		{"through a string", "/s/x", 1, "/s/x: /s is a string, not an object or array"},
		{"through a number, named as written", "/a~1b/c~0d/x", 1, "/a~1b/c~0d/x: /a~1b/c~0d is a number, not an object or array"},
		{"not a pointer", "a", 1, "a: is not a JSON pointer"},
		{"the whole document", "", 1, "is not a JSON pointer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := doc()
			err := setPointer(d, tc.pointer, tc.value)
			if err != nil {
				assert.ErrorIs(t, err, ErrInvalid)
				assert.Contains(t, err.Error(), tc.want)
				return
			}
			b, _ := json.Marshal(d)
			assert.JSONEq(t, tc.want, string(b))
		})
	}
}

func TestUnsetPointer(t *testing.T) {
	var d map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{"a":{"b":"x","list":[1,2,3]}}`), &d))
	require.NoError(t, unsetPointer(d, "/a/list/1"))
	require.NoError(t, unsetPointer(d, "/a/b"))
	b, _ := json.Marshal(d)
	assert.JSONEq(t, `{"a":{"list":[1,3]}}`, string(b))
	for _, p := range []string{"/a/b", "/a/list/2", "/a/list/x", "/z/y", "a"} {
		assert.ErrorIs(t, unsetPointer(d, p), ErrInvalid, p)
	}
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

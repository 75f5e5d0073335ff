package payload

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

func TestSet(t *testing.T) {
	const doc = `{"a":{"b":"x","list":[1,2]},"s":"str","a/b":{"c~d":0}}`
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
		{"a signed index", "/a/list/+1", 3, "is not an index"},
		{"through a string", "/s/x", 1, "/s/x: /s is a string, not an object or array"},
		{"through a number, named as written", "/a~1b/c~0d/x", 1, "/a~1b/c~0d/x: /a~1b/c~0d is a number, not an object or array"},
		{"not a pointer", "a", 1, "a: is not a JSON pointer"},
		{"the whole document", "", 1, "is not a JSON pointer"},
		{"too deep", strings.Repeat("/x", MaxSegments+1), 1, "has 33 segments; at most 32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := decode(t, doc)
			err := Set(d, tc.pointer, tc.value)
			if err != nil {
				var pe *PointerError
				assert.True(t, errors.As(err, &pe), "a *PointerError")
				assert.Contains(t, err.Error(), tc.want)
				return
			}
			b, _ := json.Marshal(d)
			assert.JSONEq(t, tc.want, string(b))
		})
	}
}

func TestSetAtTheDepthLimit(t *testing.T) {
	d := map[string]any{}
	require.NoError(t, Set(d, strings.Repeat("/x", MaxSegments), 1))
	v, ok := Get(d, strings.Repeat("/x", MaxSegments))
	assert.True(t, ok)
	assert.Equal(t, 1, v)
}

func TestUnset(t *testing.T) {
	d := decode(t, `{"a":{"b":"x","list":[1,2,3]}}`)
	require.NoError(t, Unset(d, "/a/list/1"))
	require.NoError(t, Unset(d, "/a/b"))
	b, _ := json.Marshal(d)
	assert.JSONEq(t, `{"a":{"list":[1,3]}}`, string(b))
	for _, p := range []string{"/a/b", "/a/list/2", "/a/list/x", "/a/list/-", "/a/list/00", "/z/y", "a", ""} {
		err := Unset(d, p)
		var pe *PointerError
		assert.True(t, errors.As(err, &pe), "%q: %v", p, err)
	}
}

func TestGet(t *testing.T) {
	d := decode(t, `{"a":{"list":["x","y"]},"a/b":{"c~d":0},"n":null}`)
	tests := []struct {
		pointer string
		want    any
		found   bool
	}{
		{"/a/list/1", "y", true},
		{"/a~1b/c~0d", float64(0), true},
		{"/n", nil, true},
		{"/a/list/2", nil, false},
		{"/a/list/01", nil, false},
		{"/a/list/-", nil, false},
		{"/missing", nil, false},
		{"/a/list/0/deeper", nil, false},
		{"no-slash", nil, false},
	}
	for _, tt := range tests {
		got, ok := Get(d, tt.pointer)
		assert.Equal(t, tt.found, ok, tt.pointer)
		assert.Equal(t, tt.want, got, tt.pointer)
	}
}

package steps

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/payload"
)

func TestParseAndApplyChanges(t *testing.T) {
	doc := map[string]any{"body": "hi", "media": map[string]any{"link": "x"}, "list": []any{"a", "b"}}
	changes, err := parseChanges(`/body removed; /media/caption = "A cat"; /n = 3; /uid = <5 characters>; /to = <3 numbers>; /list/1 = c; /a~1b = x`)
	require.NoError(t, err)
	require.NoError(t, applyChanges(doc, changes))
	assert.Equal(t, map[string]any{
		"media": map[string]any{"link": "x", "caption": "A cat"}, "n": float64(3), "uid": "xxxxx",
		"to": "6285000000000,6285000000001,6285000000002", "list": []any{"a", "c"}, "a/b": "x",
	}, doc)

	_, err = parseChanges("body = 1")
	assert.ErrorContains(t, err, "POINTER = VALUE")
	assert.Error(t, applyChanges(doc, []change{{Pointer: "/nothere", Remove: true}}))
	assert.Error(t, applyChanges(doc, []change{{Pointer: "/list/7", Value: 1}}))
	assert.Error(t, applyChanges(doc, []change{{Pointer: "", Value: 1}}))
}

func TestMatchesCell(t *testing.T) {
	doc := map[string]any{"s": "131051", "n": float64(2), "null": nil, "o": map[string]any{"a": "b"}}
	field := func(p string) (any, bool) { return payload.Get(doc, p) }
	tests := []struct {
		pointer, cell string
		want          bool
	}{
		{"/s", "131051", true}, {"/s", `"131051"`, true}, {"/s", "131052", false},
		{"/n", "2", true}, {"/n", `"2"`, false},
		{"/null", "<null>", true}, {"/s", "<null>", false},
		{"/o", `{"a":"b"}`, true}, {"/o/a", "b", true},
		{"/missing", "<absent>", true}, {"/s", "<absent>", false}, {"/s", "<present>", true}, {"/missing", "x", false},
	}
	for _, tt := range tests {
		got, ok := field(tt.pointer)
		assert.Equal(t, tt.want, matchesCell(got, ok, tt.cell), "%s against %s", tt.pointer, tt.cell)
	}
}

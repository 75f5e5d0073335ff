package ui

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/secret"
)

func TestEditsBecomeSetAndUnset(t *testing.T) {
	base := `{"type":"x","body":{"status":"delivered","a/b":1,"conversation":{"expireAt":"t"},"list":[1,2]}}`
	for _, tc := range []struct {
		name, edited string
		set          map[string]any
		unset        []string
	}{
		{"unchanged", base, map[string]any{}, nil},
		{"a value changed", `{"type":"x","body":{"status":"seen","a/b":1,"conversation":{"expireAt":"t"},"list":[1,2]}}`,
			map[string]any{"/body/status": "seen"}, nil},
		{"a member added, its name escaped", `{"type":"x","body":{"status":"delivered","a/b":2,"x~y":true,"conversation":{"expireAt":"t"},"list":[1,2]}}`,
			map[string]any{"/body/a~1b": json.Number("2"), "/body/x~0y": true}, nil},
		{"a member removed", `{"type":"x","body":{"status":"delivered","a/b":1,"list":[1,2]}}`,
			map[string]any{}, []string{"/body/conversation"}},
		{"an array is one value", `{"type":"x","body":{"status":"delivered","a/b":1,"conversation":{"expireAt":"t"},"list":[2]}}`,
			map[string]any{"/body/list": []any{json.Number("2")}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b, e map[string]any
			require.NoError(t, json.Unmarshal([]byte(base), &b))
			dec := json.NewDecoder(stringsReader(tc.edited))
			dec.UseNumber()
			require.NoError(t, dec.Decode(&e))
			set, unset := map[string]any{}, []string(nil)
			edits(b, e, "", set, &unset)
			assert.Equal(t, tc.set, set)
			assert.Equal(t, tc.unset, unset)
		})
	}
}

func TestRefusalOfSplitsFieldAndRule(t *testing.T) {
	r := refusalOf(`request body: /body/status: value "seen" is not one of delivered, read`)
	assert.Equal(t, "/body/status", r.Field)
	assert.Equal(t, `value "seen" is not one of delivered, read`, r.Rule)
	r = refusalOf("app X is not an app of account Y")
	assert.Empty(t, r.Field)
	assert.Equal(t, "app X is not an app of account Y", r.Rule)
}

func TestMaskShowsAtMostTheLastFour(t *testing.T) {
	assert.Equal(t, "****", secret.Mask("8-chars!"))
	assert.Equal(t, "****ret!", secret.Mask("9-secret!"))
	assert.Equal(t, "****2e41", secret.Mask("Bearer partner-secret-7f3a9c2e41"))
	rows := maskedHeaders(map[string][]string{"Authorization": {"Bearer abcdefghijklmnop"}, "UserName": {"bob"}, "X-Api-Token": {"t"}, "Content-Type": {"application/json"}})
	assert.Equal(t, []headerRow{{"Authorization", "****mnop"}, {"Content-Type", "application/json"}, {"UserName", "****"}, {"X-Api-Token", "****"}}, rows)
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

package payload

import (
	"encoding/json"
	"testing"
)

// The writer's strings must be exactly what encoding/json reads back.
func FuzzJSONStrings(f *testing.F) {
	f.Add("a\"b\\c\x00\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		var w Writer
		w.str(s)
		var got string
		if err := json.Unmarshal(w.b, &got); err != nil {
			t.Fatalf("%q -> %s: %v", s, w.b, err)
		}
		want, _ := json.Marshal(s)
		var exp string
		_ = json.Unmarshal(want, &exp)
		if got != exp {
			t.Fatalf("%q: got %q want %q", s, got, exp)
		}
	})
}

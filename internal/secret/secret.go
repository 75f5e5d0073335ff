// Package secret masks partners' callback credentials (a webhook's
// Authorization, the SMS payloads' pswd) wherever the sandbox or its tools
// show them: views, the delivery log, stored attempts, reports, listen's
// output. The receiver still gets them in full; only what is shown or kept
// for showing is masked.
package secret

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// MinLen is the shortest secret looked for inside other text: a shorter one
// would be found by chance in ordinary words. Shorter secrets are still
// masked where they stand whole (a header value, a JSON string).
const MinLen = 6

// Mask hides all of a secret but its last 4 characters, which are enough to
// tell two tokens apart. A secret of 8 characters or fewer is hidden whole:
// its last 4 would be half of it. A value that already has the masked
// shape ("****" and at most 4 more characters) is returned as it is, so
// that masking twice shows the same as masking once.
func Mask(s string) string {
	r := []rune(s)
	if len(r) <= 8 && strings.HasPrefix(s, "****") {
		return s
	}
	if len(r) <= 8 {
		return "****"
	}
	return "****" + string(r[len(r)-4:])
}

// MaskPtr is Mask for an optional value: nil stays nil.
func MaskPtr(s *string) *string {
	if s == nil {
		return nil
	}
	m := Mask(*s)
	return &m
}

// Headers are the header names whose values are credentials.
var Headers = []string{"Authorization", "Proxy-Authorization", "Cookie"}

// MaskHeader returns a copy of h whose credential headers (Headers, any
// spelling) are masked and whose other values have every secret masked.
// h itself is not changed.
func MaskHeader(h map[string][]string, secrets ...string) map[string][]string {
	if h == nil {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		shown := make([]string, len(vs))
		credential := isCredential(k)
		for i, v := range vs {
			if credential {
				shown[i] = Mask(v)
			} else {
				shown[i] = MaskText(v, secrets...)
			}
		}
		out[k] = shown
	}
	return out
}

func isCredential(name string) bool {
	for _, h := range Headers {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// MaskText replaces each secret of at least MinLen bytes in text by its mask.
func MaskText(text string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) >= MinLen && strings.Contains(text, s) {
			text = strings.ReplaceAll(text, s, Mask(s))
		}
	}
	return text
}

// MaskBytes masks the secrets in b as they appear in JSON and in plain
// text: every JSON string whose value is a secret (whatever its length),
// and, for secrets of at least MinLen bytes, the secret and its
// JSON-escaped form anywhere. It returns b itself when nothing was found,
// a new slice otherwise.
func MaskBytes(b []byte, secrets ...string) []byte {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		m := Mask(s)
		for _, html := range []bool{false, true} {
			quoted, masked := jsonString(s, html), jsonString(m, html)
			if bytes.Contains(b, quoted) {
				b = bytes.ReplaceAll(b, quoted, masked)
			}
			if len(s) < MinLen {
				continue
			}
			if esc := quoted[1 : len(quoted)-1]; bytes.Contains(b, esc) {
				b = bytes.ReplaceAll(b, esc, masked[1:len(masked)-1])
			}
		}
		if raw := []byte(s); len(s) >= MinLen && bytes.Contains(b, raw) {
			b = bytes.ReplaceAll(b, raw, []byte(m))
		}
	}
	return b
}

// jsonString is s as a JSON string, quotes included, escaped as
// encoding/json escapes it, with or without its HTML escaping (the
// sandbox's payloads are written without, other JSON writers with).
func jsonString(s string, html bool) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// FromHeader returns the credentials a set of request headers carries (the
// values of Headers), to be masked wherever else they appear.
func FromHeader(h http.Header) []string {
	var out []string
	for k, vs := range h {
		if isCredential(k) {
			out = append(out, vs...)
		}
	}
	return out
}

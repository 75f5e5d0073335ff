package certify

import (
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/innosandbox/innosandbox/internal/secret"
)

// minSecretLen is the shortest Authorization CERT-HTTP-02 looks for in
// answers: a shorter one would be found by chance in ordinary text.
const minSecretLen = secret.MinLen

// mask hides all of a secret but its last 4 characters (secret.Mask, the
// rule the sandbox and `innosandbox listen` follow too).
func mask(s string) string { return secret.Mask(s) }

// masker replaces secrets wherever they appear in text shown in a report.
type masker struct {
	secrets []string
}

// newMasker masks the configured Authorization and, when it has a scheme
// ("Bearer abc…", "Basic …"), its credentials alone, which an answer may
// quote without the scheme; and the values of the URL's query string,
// which often carry a key (?key=…).
func newMasker(authorization, rawURL string) masker {
	var m masker
	if authorization != "" {
		m.secrets = append(m.secrets, authorization)
		if _, cred, ok := strings.Cut(authorization, " "); ok && len(cred) >= minSecretLen {
			m.secrets = append(m.secrets, cred)
		}
	}
	if u, err := url.Parse(rawURL); err == nil {
		for _, vs := range u.Query() {
			for _, v := range vs {
				if len(v) >= minSecretLen {
					m.secrets = append(m.secrets, v)
				}
			}
		}
	}
	return m
}

// contains tells whether text holds one of the secrets, as it is or
// JSON-escaped; only secrets long enough to look for count.
func (m masker) contains(text string) bool {
	return m.applyLong(text) != text
}

// applyLong masks only the secrets long enough to look for.
func (m masker) applyLong(text string) string {
	return secret.MaskText(string(secret.MaskBytes([]byte(text), m.long()...)), m.long()...)
}

func (m masker) long() []string {
	var out []string
	for _, s := range m.secrets {
		if len(s) >= minSecretLen {
			out = append(out, s)
		}
	}
	return out
}

// apply returns text with every secret masked: as it is, and in its
// JSON-escaped forms (an answer that quotes a secret in JSON escapes its
// quotes, backslashes and, often, <, > and &).
func (m masker) apply(text string) string {
	text = string(secret.MaskBytes([]byte(text), m.secrets...))
	for _, s := range m.secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, mask(s))
		}
	}
	return text
}

// shownURL is a URL as a report shows it: the values of its query string
// masked (user information is refused by Options.Validate, and dropped).
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return raw
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			// The mask's asterisks unescaped, for people to read.
			b.WriteString(url.QueryEscape(k) + "=****" + url.QueryEscape(strings.TrimPrefix(mask(v), "****")))
		}
	}
	c := *u
	c.User = nil
	c.RawQuery = b.String()
	return c.String()
}

// excerpt returns at most n bytes of b as valid UTF-8, secrets masked, and
// whether it was cut. The secrets are masked before cutting, so a cut never
// leaves part of a secret in view.
func (m masker) excerpt(b []byte, n int) (string, bool) {
	s := m.apply(strings.ToValidUTF8(string(b), "\uFFFD"))
	if len(s) <= n {
		return s, false
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}

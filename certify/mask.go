package certify

import (
	"strings"
	"unicode/utf8"
)

// minSecretLen is the shortest Authorization CERT-HTTP-02 looks for in
// answers: a shorter one would be found by chance in ordinary text.
const minSecretLen = 6

// mask hides all of a secret but its last 4 characters, which are enough to
// tell two tokens apart. A secret of 8 characters or fewer is hidden whole:
// its last 4 would be half of it. (The same rule as `innosandbox listen`.)
func mask(s string) string {
	r := []rune(s)
	if len(r) <= 8 {
		return "****"
	}
	return "****" + string(r[len(r)-4:])
}

// masker replaces secrets wherever they appear in text shown in a report.
type masker struct {
	secrets []string
}

// newMasker masks the configured Authorization and, when it has a scheme
// ("Bearer abc…", "Basic …"), its credentials alone, which an answer may
// quote without the scheme.
func newMasker(authorization string) masker {
	var m masker
	if authorization == "" {
		return m
	}
	m.secrets = append(m.secrets, authorization)
	if _, cred, ok := strings.Cut(authorization, " "); ok && len(cred) >= minSecretLen {
		m.secrets = append(m.secrets, cred)
	}
	return m
}

// contains tells whether text holds one of the secrets; only secrets long
// enough to look for count.
func (m masker) contains(text string) bool {
	for _, s := range m.secrets {
		if len(s) >= minSecretLen && strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// apply returns text with every secret masked.
func (m masker) apply(text string) string {
	for _, s := range m.secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, mask(s))
		}
	}
	return text
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

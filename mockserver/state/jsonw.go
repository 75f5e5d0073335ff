package state

import (
	"unicode/utf8"
)

// jsonw appends JSON to a byte slice. Payloads are built for every recipient
// of every send (2000 of them for a 1000-number send), so they are written
// directly instead of through reflection. Strings are escaped as
// encoding/json does (without its HTML escaping): quote, backslash and
// control characters, and invalid UTF-8 as U+FFFD.
type jsonw struct {
	b     []byte
	comma bool
}

const hexDigits = "0123456789abcdef"

func (w *jsonw) sep() {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.comma = true
}

func (w *jsonw) open() {
	w.sep()
	w.b = append(w.b, '{')
	w.comma = false
}

func (w *jsonw) close() {
	w.b = append(w.b, '}')
	w.comma = true
}

// key writes a member name and the colon; the value follows. Names are
// the payloads' own constants, which need no escaping.
func (w *jsonw) key(k string) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.comma = false
}

// obj opens a member whose value is an object.
func (w *jsonw) obj(k string) {
	w.key(k)
	w.b = append(w.b, '{')
}

// field writes a string member.
func (w *jsonw) field(k, v string) {
	w.key(k)
	w.str(v)
	w.comma = true
}

// plain writes a string member whose value the sandbox made itself and
// which holds nothing JSON escapes (digits, hex, base64, UUIDs, times,
// constants): the thousands of reports of a large send skip the scan.
func (w *jsonw) plain(k, v string) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = append(w.b, v...)
	w.b = append(w.b, '"')
	w.comma = true
}

func (w *jsonw) str(s string) {
	w.b = append(w.b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			w.b = append(w.b, s[start:i]...)
			switch c {
			case '"', '\\':
				w.b = append(w.b, '\\', c)
			case '\n':
				w.b = append(w.b, '\\', 'n')
			case '\r':
				w.b = append(w.b, '\\', 'r')
			case '\t':
				w.b = append(w.b, '\\', 't')
			default:
				w.b = append(w.b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			w.b = append(w.b, s[start:i]...)
			w.b = append(w.b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript; escape
		// them as encoding/json does.
		if r == '\u2028' || r == '\u2029' {
			w.b = append(w.b, s[start:i]...)
			w.b = append(w.b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	w.b = append(w.b, s[start:]...)
	w.b = append(w.b, '"')
}

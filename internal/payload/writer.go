package payload

import (
	"unicode/utf8"
)

// Writer appends JSON to a byte slice. The sandbox builds payloads for every
// recipient of every send (2000 of them for a 1000-number send), so they are
// written directly instead of through reflection. Strings are escaped as
// encoding/json does (without its HTML escaping): quote, backslash and
// control characters, and invalid UTF-8 as U+FFFD.
type Writer struct {
	b     []byte
	comma bool
}

// NewWriter returns a Writer whose buffer holds size bytes before it grows:
// a payload's size is known closely enough to allocate once.
func NewWriter(size int) Writer { return Writer{b: make([]byte, 0, size)} }

// Bytes returns what was written.
func (w *Writer) Bytes() []byte { return w.b }

// Follow says the next member follows one written elsewhere (a fragment
// that will be spliced after it), so it starts with a comma.
func (w *Writer) Follow() { w.comma = true }

// Raw appends s as it is: a fragment the caller rendered, or one a
// hand-assembled payload splices in. It changes nothing about commas.
func (w *Writer) Raw(s string) { w.b = append(w.b, s...) }

const hexDigits = "0123456789abcdef"

func (w *Writer) sep() {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.comma = true
}

// Open starts an object (as a value, or the whole payload).
func (w *Writer) Open() {
	w.sep()
	w.b = append(w.b, '{')
	w.comma = false
}

// Close ends the object opened last.
func (w *Writer) Close() {
	w.b = append(w.b, '}')
	w.comma = true
}

// Key writes a member name and the colon; the value follows. Names are
// the payloads' own constants, which need no escaping.
func (w *Writer) Key(k string) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.comma = false
}

// Object opens a member whose value is an object; Close ends it.
func (w *Writer) Object(k string) {
	w.Key(k)
	w.b = append(w.b, '{')
}

// String writes a string member, escaped.
func (w *Writer) String(k, v string) {
	w.Key(k)
	w.str(v)
	w.comma = true
}

// Plain writes a string member whose value the sandbox made itself and
// which holds nothing JSON escapes (digits, hex, base64, UUIDs, times,
// constants): the thousands of reports of a large send skip the scan.
func (w *Writer) Plain(k, v string) {
	w.Key(k)
	w.b = append(w.b, '"')
	w.b = append(w.b, v...)
	w.b = append(w.b, '"')
	w.comma = true
}

// RawMember writes a member whose value is JSON the caller already has
// (a message's content object, as validated on the way in).
func (w *Writer) RawMember(k string, value []byte) {
	w.Key(k)
	w.b = append(w.b, value...)
	w.comma = true
}

// Null writes a member whose value is null.
func (w *Writer) Null(k string) {
	w.Key(k)
	w.b = append(w.b, "null"...)
	w.comma = true
}

// str writes s as a JSON string.
func (w *Writer) str(s string) {
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

package payload

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MaxSegments is the most tokens a pointer may have. A deeper pointer is
// refused before anything is built: setting one creates an object per
// token, so an unbounded pointer is a way to make the sandbox allocate
// without limit.
const MaxSegments = 32

// PointerError says what is wrong with a pointer, or with what it names in
// a document. Pointer is the pointer as the caller wrote it.
type PointerError struct {
	Pointer string
	Reason  string
}

func (e *PointerError) Error() string { return e.Pointer + ": " + e.Reason }

func pointerError(pointer, format string, args ...any) error {
	return &PointerError{Pointer: pointer, Reason: fmt.Sprintf(format, args...)}
}

// Tokens splits a JSON pointer into its tokens as written (raw) and the
// member names they stand for ("~1" is "/", "~0" is "~"). The empty pointer
// (the whole document) and a pointer without a leading "/" are refused: a
// caller names a member.
func Tokens(pointer string) (raw, names []string, err error) {
	if pointer == "" || pointer[0] != '/' {
		return nil, nil, pointerError(pointer, "is not a JSON pointer to a member: write it like /body/status")
	}
	if n := strings.Count(pointer, "/"); n > MaxSegments {
		return nil, nil, pointerError(shorten(pointer), "has %d segments; at most %d", n, MaxSegments)
	}
	raw = strings.Split(pointer[1:], "/")
	names = make([]string, len(raw))
	for i, t := range raw {
		names[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return raw, names, nil
}

// shorten keeps an error about a very long pointer readable.
func shorten(pointer string) string {
	if len(pointer) > 80 {
		return pointer[:80] + "…"
	}
	return pointer
}

// index reads an array index token: decimal digits, no leading zero (RFC
// 6901), at most n (n itself only where appending is allowed).
func index(tok string, n int) (int, bool) {
	if tok == "" || (len(tok) > 1 && tok[0] == '0') || strings.TrimLeft(tok, "0123456789") != "" {
		return 0, false
	}
	i, err := strconv.Atoi(tok)
	return i, err == nil && i <= n
}

// Get returns the value a pointer names, and whether it is there.
func Get(doc any, pointer string) (any, bool) {
	_, names, err := Tokens(pointer)
	if err != nil {
		return nil, false
	}
	v := doc
	for _, t := range names {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[t]; !ok {
				return nil, false
			}
		case []any:
			i, ok := index(t, len(c)-1)
			if !ok {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// Set sets the member a pointer names, creating objects on its way; an
// array element is replaced, or appended with "-" or the array's length.
// Anything else is a *PointerError naming the pointer and the part of it
// that does not fit the document.
func Set(doc map[string]any, pointer string, value any) error {
	raw, names, err := Tokens(pointer)
	if err != nil {
		return err
	}
	// at is the pointer to the i-th token's parent, as the caller wrote it.
	at := func(i int) string { return "/" + strings.Join(raw[:i], "/") }
	var cur any = doc
	var set func(v any) // replaces cur in its parent
	for i, tok := range names {
		last := i == len(names)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[tok] = value
				return nil
			}
			next, ok := c[tok]
			if !ok || next == nil {
				next = map[string]any{}
				c[tok] = next
			}
			cur = next
			set = func(v any) { c[tok] = v }
		case []any:
			n := len(c)
			idx := n
			if tok != "-" {
				j, ok := index(tok, n)
				if !ok {
					return pointerError(pointer, "%s is an array of %d; %q is not an index of it (0 to %d, or - to append)", at(i), n, tok, n)
				}
				idx = j
			}
			if idx == n {
				if !last {
					return pointerError(pointer, "%s has no element %d to go into", at(i), idx)
				}
				set(append(c, value))
				return nil
			}
			if last {
				c[idx] = value
				return nil
			}
			cur = c[idx]
			set = func(v any) { c[idx] = v }
		default:
			return pointerError(pointer, "%s is %s, not an object or array", at(i), kind(c))
		}
	}
	return nil
}

// Unset removes the object member or array element a pointer names. One
// that is not there is a *PointerError, so that a misspelt pointer is not
// taken for done.
func Unset(doc map[string]any, pointer string) error {
	_, names, err := Tokens(pointer)
	if err != nil {
		return err
	}
	var cur any = doc
	var set func(v any)
	for i, tok := range names {
		last := i == len(names)-1
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return pointerError(pointer, "is not in the payload, so it cannot be removed")
			}
			if last {
				delete(c, tok)
				return nil
			}
			cur = next
			set = func(v any) { c[tok] = v }
		case []any:
			j, ok := index(tok, len(c)-1)
			if !ok {
				return pointerError(pointer, "is not in the payload, so it cannot be removed")
			}
			if last {
				set(slices.Delete(c, j, j+1))
				return nil
			}
			cur = c[j]
			set = func(v any) { c[j] = v }
		default:
			return pointerError(pointer, "is not in the payload, so it cannot be removed")
		}
	}
	return nil
}

// kind names a JSON scalar's type for an error.
func kind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	default:
		return "a number"
	}
}

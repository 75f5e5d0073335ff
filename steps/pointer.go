package steps

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// JSON pointers (RFC 6901) let a step name a member of a request or a push
// the way the sandbox's refusals name it ("/media/link").

func pointerTokens(pointer string) ([]string, error) {
	if pointer == "" {
		return nil, nil
	}
	if !strings.HasPrefix(pointer, "/") {
		return nil, fmt.Errorf("JSON pointer %q must start with /", pointer)
	}
	toks := strings.Split(pointer[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// lookupPointer returns the value a pointer names, and whether it is there.
func lookupPointer(doc any, pointer string) (any, bool) {
	toks, err := pointerTokens(pointer)
	if err != nil {
		return nil, false
	}
	v := doc
	for _, t := range toks {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[t]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// setPointer sets (or, with remove, deletes) the member a pointer names in
// a decoded JSON object, creating objects on the way.
func setPointer(doc map[string]any, pointer string, value any, remove bool) error {
	toks, err := pointerTokens(pointer)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return fmt.Errorf("JSON pointer %q names the whole document", pointer)
	}
	var parent any = doc
	for _, t := range toks[:len(toks)-1] {
		switch c := parent.(type) {
		case map[string]any:
			next, ok := c[t]
			if !ok {
				if remove {
					return fmt.Errorf("%s: %q is not there", pointer, t)
				}
				next = map[string]any{}
				c[t] = next
			}
			parent = next
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return fmt.Errorf("%s: no element %q", pointer, t)
			}
			parent = c[i]
		default:
			return fmt.Errorf("%s: %q is not an object or array", pointer, t)
		}
	}
	last := toks[len(toks)-1]
	switch c := parent.(type) {
	case map[string]any:
		if remove {
			if _, ok := c[last]; !ok {
				return fmt.Errorf("%s is not there to remove", pointer)
			}
			delete(c, last)
		} else {
			c[last] = value
		}
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i < 0 || i >= len(c) || remove {
			return fmt.Errorf("%s: only an existing array element can be set", pointer)
		}
		c[i] = value
	default:
		return fmt.Errorf("%s: the parent is not an object or array", pointer)
	}
	return nil
}

// change is one edit a step makes to a JSON body: set a member or remove it.
type change struct {
	Pointer string
	Value   any
	Remove  bool
}

var (
	changeSetRe    = regexp.MustCompile(`^(/\S*)\s*=\s*(.+)$`)
	changeRemoveRe = regexp.MustCompile(`^(/\S*)\s+removed$`)
	charsRe        = regexp.MustCompile(`^<(\d+) characters>$`)
	numbersRe      = regexp.MustCompile(`^<(\d+) numbers>$`)
)

// parseChanges reads "/body removed; /media/caption = \"Hi\"": edits
// separated by semicolons, each "POINTER removed" or "POINTER = VALUE".
// VALUE is JSON; a bare word that is not JSON is a string;
// "<N characters>" is a string of N characters and "<N numbers>" N
// comma-separated recipient numbers, for the length and count limits.
func parseChanges(s string) ([]change, error) {
	var out []change
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if m := changeRemoveRe.FindStringSubmatch(part); m != nil {
			out = append(out, change{Pointer: m[1], Remove: true})
			continue
		}
		m := changeSetRe.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("change %q: write POINTER = VALUE or POINTER removed", part)
		}
		out = append(out, change{Pointer: m[1], Value: cellValue(m[2])})
	}
	return out, nil
}

// cellValue reads a value a feature file writes: JSON when it parses as
// JSON, "<N characters>" and "<N numbers>" as explained at parseChanges,
// else the text itself.
func cellValue(s string) any {
	s = strings.TrimSpace(s)
	if m := charsRe.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return strings.Repeat("x", n)
	}
	if m := numbersRe.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		nums := make([]string, n)
		for i := range nums {
			nums[i] = fmt.Sprintf("6285%09d", i)
		}
		return strings.Join(nums, ",")
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil {
		return v
	}
	return s
}

// tableValue reads a value in a table of members to set: JSON when it
// starts like a JSON object, array or string, else the text itself, so
// that the digits most payload members carry ("131026") stay strings.
func tableValue(s string) any {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") || strings.HasPrefix(s, `"`) {
		return cellValue(s)
	}
	return s
}

// applyChanges edits a decoded JSON object.
func applyChanges(doc map[string]any, changes []change) error {
	for _, c := range changes {
		if err := setPointer(doc, c.Pointer, c.Value, c.Remove); err != nil {
			return err
		}
	}
	return nil
}

// matchesCell compares a value found in a payload with a table cell: a
// string with the cell's text (quotes around it optional), anything else
// with the cell read as JSON. "<absent>" matches a member that is not
// there, "<present>" any member that is, "<null>" null.
func matchesCell(got any, present bool, cell string) bool {
	switch cell {
	case "<absent>":
		return !present
	case "<present>":
		return present
	case "<null>":
		return present && got == nil
	}
	if !present {
		return false
	}
	if s, ok := got.(string); ok {
		var want string
		if json.Unmarshal([]byte(cell), &want) == nil {
			return s == want
		}
		return s == cell
	}
	want := cellValue(cell)
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	return string(a) == string(b)
}

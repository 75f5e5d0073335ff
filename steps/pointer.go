package steps

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/innosandbox/innosandbox/internal/payload"
)

// JSON pointers (RFC 6901) let a step name a member of a request or a push
// the way the sandbox's refusals name it ("/media/link").

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
		edit := func() error { return payload.Set(doc, c.Pointer, c.Value) }
		if c.Remove {
			edit = func() error { return payload.Unset(doc, c.Pointer) }
		}
		if err := edit(); err != nil {
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

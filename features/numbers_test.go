package features_test

import (
	"bytes"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	gherkin "github.com/cucumber/gherkin/go/v42"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/features"
)

// sandboxOnlyTags keep a scenario off a real endpoint whatever the flags:
// the control API, or a sandbox the suite restarts.
var sandboxOnlyTags = []string{"@sandbox-only", "@restart"}

// numberLike is a run of digits, possibly with a leading + and the
// separators people write inside phone numbers (space, dash, dot,
// parentheses), so "+62 852-3456-7899" is one number, not four short ones.
var numberLike = regexp.MustCompile(`\+?\d(?:[\d\- .()]*\d)?`)

// unsafeNumbers returns every number in s that could be a real phone
// number: 5 to 15 digits (E.164 has at most 15, and InnoPaaS refuses fewer
// than 5) not under the unassigned country calling code 999.
func unsafeNumbers(s string) []string {
	var out []string
	for _, m := range numberLike.FindAllString(s, -1) {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, m)
		if len(digits) < 5 || len(digits) > 15 || strings.HasPrefix(digits, "999") {
			continue
		}
		out = append(out, m)
	}
	return out
}

func TestUnsafeNumbers(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"a country code 999 number", `/to = "+99900612345"`, nil},
		{"a real-looking number", `/to = "6285234567899"`, []string{"6285234567899"}},
		{"with a plus", `/to = "+6285234567899"`, []string{"+6285234567899"}},
		{"written with separators", `"+62 852-3456-7899"`, []string{"+62 852-3456-7899"}},
		{"4 digits cannot be a number", `/to = "6285"`, nil},
		{"16 digits cannot be a number", `/to = "1234567890123456"`, nil},
		{"a list with one real number", `"99900612345,8613800138000"`, []string{"8613800138000"}},
		{"prose with small figures", `HTTP 400 with code 108 after 2 seconds`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, unsafeNumbers(tt.in))
		})
	}
}

// No scenario that may run on a real endpoint (with --allow-sends) can
// message a real person: every number in it is under the unassigned
// country calling code 999, or cannot be a phone number at all. Were a real
// endpoint to accept what the sandbox refuses (a + number, say), the
// message would still reach no one.
func TestRealTargetScenariosReachNoOne(t *testing.T) {
	seq := 0
	newID := func() string { seq++; return strconv.Itoa(seq) }
	files, err := fs.Glob(features.FS, "*.feature")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	checked := 0
	for _, name := range files {
		data, err := fs.ReadFile(features.FS, name)
		require.NoError(t, err)
		doc, err := gherkin.ParseGherkinDocument(bytes.NewReader(data), newID)
		require.NoError(t, err, name)
	pickles:
		for _, p := range gherkin.Pickles(*doc, name, newID) {
			for _, tag := range p.Tags {
				if slices.Contains(sandboxOnlyTags, tag.Name) {
					continue pickles
				}
			}
			checked++
			for _, s := range p.Steps {
				texts := []string{s.Text}
				if a := s.Argument; a != nil {
					if a.DocString != nil {
						texts = append(texts, a.DocString.Content)
					}
					if a.DataTable != nil {
						for _, row := range a.DataTable.Rows {
							for _, c := range row.Cells {
								texts = append(texts, c.Value)
							}
						}
					}
				}
				for _, text := range texts {
					for _, n := range unsafeNumbers(text) {
						assert.Failf(t, "a real person could be messaged",
							"%s: %q may run on a real endpoint and has %q; use a number under 999 (e.g. 99900612345) or one that cannot be a phone number (fewer than 5 or more than 15 digits)", name, p.Name, n)
					}
				}
			}
		}
	}
	assert.Positive(t, checked, "scenarios that may run on a real endpoint")
	t.Logf("%d scenarios may run on a real endpoint", checked)
}

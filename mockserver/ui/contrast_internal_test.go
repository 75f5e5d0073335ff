package ui

import (
	"math"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestThePaletteMeetsWCAGContrast computes the contrast ratio of every
// text colour of the stylesheet against the backgrounds it is drawn on
// (WCAG 2 AA: 4.5:1 for body text). The browser test checks every text of
// the rendered pages too; this one runs without a browser.
func TestThePaletteMeetsWCAGContrast(t *testing.T) {
	css, err := staticFS.ReadFile("static/app.css")
	require.NoError(t, err)
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z-]+):\s*(#[0-9a-fA-F]{6})`).FindAllStringSubmatch(string(css), -1) {
		vars[m[1]] = m[2]
	}
	for _, pair := range [][2]string{
		{"fg", "bg"}, {"fg", "panel"}, {"muted", "bg"}, {"muted", "panel"}, {"link", "bg"}, {"link", "panel"},
		{"accent-fg", "accent"}, {"accent-fg", "bad-fg"}, {"ok-fg", "ok-bg"}, {"warn-fg", "warn-bg"},
		{"bad-fg", "bad-bg"}, {"info-fg", "info-bg"}, {"grey-fg", "grey-bg"}, {"link", "info-bg"}, {"fg", "info-bg"},
		{"muted", "bad-bg"}, {"muted", "warn-bg"},
	} {
		fg, bg := vars[pair[0]], vars[pair[1]]
		require.NotEmpty(t, fg, "--%s is defined", pair[0])
		require.NotEmpty(t, bg, "--%s is defined", pair[1])
		r := contrast(fg, bg)
		assert.GreaterOrEqual(t, r, 4.5, "--%s on --%s: %.2f:1", pair[0], pair[1], r)
	}
	assert.InDelta(t, 21, contrast("#000000", "#ffffff"), 0.01, "the formula: black on white is 21:1")
}

func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

// luminance is WCAG's relative luminance of an sRGB colour #rrggbb.
func luminance(hex string) float64 {
	ch := func(i int) float64 {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(0) + 0.7152*ch(1) + 0.0722*ch(2)
}

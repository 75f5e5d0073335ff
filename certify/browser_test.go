package certify_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/certify"
	"github.com/innosandbox/innosandbox/internal/headless"
)

// TestHTMLReportInABrowser opens the HTML report in headless Chromium and
// reads it as a partner would: the verdict, a failed check with its
// evidence in view, no secret anywhere in the rendered text, and no page
// wider than a phone's screen.
func TestHTMLReportInABrowser(t *testing.T) {
	ctx := headless.Start(t, "the HTML report", 60*time.Second)
	html, _, _ := reportsOf(t, echoingRun(t))
	path := filepath.Join(t.TempDir(), "report.html")
	require.NoError(t, os.WriteFile(path, []byte(html), 0o644))

	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate("file://"+path)))
	verdict, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#verdict h1")))
	require.NoError(t, err)
	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	require.NoError(t, err)
	check, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(certify.CheckNoEcho)))
	require.NoError(t, err)
	evidenceShown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const pre = document.querySelector('#`+certify.CheckNoEcho+` details.x[open] pre');
		if (!pre) return false;
		const r = pre.getBoundingClientRect();
		return r.width > 0 && r.height > 0 && getComputedStyle(pre).visibility !== 'hidden';
	})()`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(375, 800)))
	fitsPhone, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth + 1`))
	require.NoError(t, err)

	assert.Equal(t, certify.VerdictNotCertified, strings.TrimSpace(verdict))
	assert.Contains(t, page, certify.CheckNoEcho)
	assert.Contains(t, check, "No answer echoes your Authorization")
	assert.Contains(t, check, "contain your Authorization", "the reason is in view")
	assert.Contains(t, check, "answered 200", "the evidence is in view")
	assert.True(t, evidenceShown, "the failed check's request and answer are shown without a click")
	assert.NotContains(t, page, "s3cr3t-T0ken", "no secret in the rendered page")
	assert.Contains(t, page, "****1234")
	assert.True(t, fitsPhone, "the page fits a 375-pixel-wide screen")
}

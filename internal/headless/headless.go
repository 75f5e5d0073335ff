// Package headless starts headless Chromium for the tests that read the
// project's HTML in a browser (certify's report, the dashboard). The
// browser runs with a fresh profile and without any of its own traffic
// (no updates, sync or QUIC), so that it connects only where a test
// navigates: loopback addresses and files.
package headless

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Start returns a chromedp context for a new headless Chromium, ended by
// t.Cleanup, with a deadline of timeout. The test is skipped, with a
// one-line reason naming what, when chromium is not installed.
func Start(t testing.TB, what string, timeout time.Duration) context.Context {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium), so " + what + " is not read in a browser")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancel()
		cancelBrowser()
		cancelAlloc()
	})
	return ctx
}

package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/headless"
	"github.com/innosandbox/innosandbox/mockserver"
)

// screenshotsEnv names a folder to write the dashboard's screenshots into
// (docs/screenshots holds the committed set):
//
//	INNOSANDBOX_SCREENSHOTS=$PWD/docs/screenshots go test ./mockserver/ui -run Browser
const screenshotsEnv = "INNOSANDBOX_SCREENSHOTS"

// audit is an accessibility check in the spirit of axe's rules, run in the
// page: the document's language and title, a name for every form control,
// button, link and picture, unique ids, and a WCAG AA contrast ratio for
// every piece of visible text against the background it is drawn on.
const audit = `(() => {
  const problems = [];
  const name = el => (el.getAttribute('aria-label') || el.textContent || el.value || '').trim();
  if (!document.documentElement.lang) problems.push('html has no lang');
  if (!document.title.trim()) problems.push('the page has no title');
  if (document.querySelectorAll('h1').length !== 1) problems.push('the page has ' + document.querySelectorAll('h1').length + ' h1');
  document.querySelectorAll('input:not([type=hidden]), select, textarea').forEach(el => {
    if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
      problems.push('no label: ' + el.outerHTML.slice(0, 80));
  });
  document.querySelectorAll('button, a[href]').forEach(el => { if (!name(el)) problems.push('no name: ' + el.outerHTML.slice(0, 80)); });
  document.querySelectorAll('svg').forEach(el => {
    if (el.getAttribute('role') === 'img' ? !el.getAttribute('aria-label') : el.getAttribute('aria-hidden') !== 'true')
      problems.push('svg without a text alternative');
  });
  const ids = {};
  document.querySelectorAll('[id]').forEach(el => { if (ids[el.id]) problems.push('duplicate id ' + el.id); ids[el.id] = true; });

  const rgba = s => { const m = s.match(/[\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const background = el => {
    let layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let out = [255, 255, 255];
    for (let i = layers.length - 1; i >= 0; i--) {
      const c = layers[i];
      out = [0, 1, 2].map(k => c[k] * c[3] + out[k] * (1 - c[3]));
    }
    return out;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const t = walker.currentNode;
    const el = t.parentElement;
    if (!t.textContent.trim() || !el || seen.has(el)) continue;
    seen.add(el);
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden' || el.closest('option, .skip, script, [disabled]')) continue;
    const inSVG = el instanceof SVGElement;
    const fg = rgba(inSVG ? cs.fill : cs.color);
    const bg = background(inSVG ? el.ownerSVGElement : el);
    const L1 = lum(fg), L2 = lum(bg);
    const ratio = (Math.max(L1, L2) + 0.05) / (Math.min(L1, L2) + 0.05);
    const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < need) problems.push('contrast ' + ratio.toFixed(2) + ' < ' + need + ': "' + t.textContent.trim().slice(0, 40) + '"');
  }
  return problems;
})()`

// TestTheDashboardInABrowser drives the dashboard in headless Chromium as a
// person would: configure a webhook, send a message through the public
// API, watch the delivery appear without a reload, open it, advance the
// clock and see the timeline change, replay a dead letter, and fire an
// event the contract refuses. Every page passes the accessibility audit
// and fits a phone's screen.
func TestTheDashboardInABrowser(t *testing.T) {
	ctx := headless.Start(t, "the dashboard", 3*time.Minute)
	var failing atomic.Bool
	failing.Store(true)
	var lastAuth atomic.Value
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		lastAuth.Store(r.Header.Get("Authorization"))
		if failing.Load() {
			http.Error(w, `{"error":"the receiver is down for maintenance"}`, http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(receiver.Close)
	// Reports an hour and two after a send: only the clock brings them.
	sb := newSandbox(t, func(c *mockserver.Config) { c.DeliveredAfter, c.ReadAfter = time.Hour, 2*time.Hour })

	d := &driver{t: t, ctx: ctx, shots: os.Getenv(screenshotsEnv)}
	d.do(chromedp.EmulateViewport(1280, 900))
	const secret = "Bearer partner-secret-7f3a9c2e41"

	// The overview: the account, its clock, the demo app marked default.
	d.open(sb.ui)
	page := d.text("main")
	assert.Contains(t, page, "Account "+demoAccount)
	assert.Contains(t, d.text("table tbody tr:first-child"), "default")
	d.check("overview")

	// Configure the demo app's WhatsApp webhook: one attempt, a credential.
	d.open(sb.ui + "apps/" + demoAppKey)
	d.do(chromedp.Click(chromedp.CSS(`details:has(#url-whatsapp) summary`)))
	d.do(chromedp.SetValue(chromedp.CSS("#url-whatsapp"), receiver.URL+"/hook"),
		chromedp.SetValue(chromedp.CSS("#auth-whatsapp"), secret),
		chromedp.SetValue(chromedp.CSS("#max-whatsapp"), "1"))
	d.submit(`form[action$="/webhooks/whatsapp"] button[type=submit]`)
	assert.Contains(t, d.text(".note"), "The whatsapp webhook is saved")
	assert.NotContains(t, d.html(), "partner-secret", "the credential is never sent back")
	d.check("app")

	// The live list, then a send through the public API.
	d.open(sb.ui + "deliveries?account=" + demoAccount)
	d.wait(`document.querySelector('[data-live-state]').textContent.includes('Live')`)
	d.js(`window.stillThisPage = true`)
	rowsBefore := d.count("tbody#rows tr[data-id]")
	sendMessage(t, sb.url)
	d.wait(fmt.Sprintf(`document.querySelectorAll('tbody#rows tr[data-id]').length > %d`, rowsBefore))
	stayed, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.stillThisPage === true`))
	require.NoError(t, err)
	assert.True(t, stayed, "the delivery appeared without a reload")
	assert.Contains(t, d.text("tbody#rows"), "whatsapp_message_status_updated")
	assert.Contains(t, d.text("tbody#rows"), "pending")
	d.check("deliveries")

	// Open it.
	d.submit("tbody#rows tr[data-id] a")
	assert.Contains(t, d.text("main"), "whatsapp_message_status_updated")
	assert.Contains(t, d.text("pre.json"), `"sendPhone"`)

	// The message's timeline: both reports still to come.
	d.open(sb.ui + "messages?account=" + demoAccount)
	assert.Equal(t, 2, d.count("svg.timeline circle.due"), d.text("ol.reports"))
	assert.Contains(t, d.text("ol.reports"), "delivered at")

	// Advance the clock an hour from the overview: "delivered" comes due.
	d.open(sb.ui)
	d.submit(`button[aria-label="Advance the clock of ` + demoAccount + ` by 1h"]`)
	assert.Contains(t, d.text(".note"), "advanced by 1h")
	d.open(sb.ui + "messages?account=" + demoAccount)
	assert.Equal(t, 1, d.count("svg.timeline circle.due"), "read is still to come")
	assert.Equal(t, 2, d.count("svg.timeline circle.reached"), "accepted and delivered are reached")
	label, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('svg.timeline').getAttribute('aria-label')`))
	require.NoError(t, err)
	assert.Contains(t, label, "delivered at +1h0m0s (reached)")
	d.check("messages")

	// The receiver refuses the delivered report; with one attempt it is a
	// dead letter at once. It appears in the list of failed deliveries.
	d.open(sb.ui + "deliveries?account=" + demoAccount + "&status=failed")
	d.wait(`document.querySelectorAll('tbody#rows tr[data-id]').length > 0`)
	d.submit("tbody#rows tr[data-id] a")
	assert.Contains(t, d.text(".facts"), "failed")
	attempt := d.text("article.attempt")
	assert.Contains(t, attempt, "HTTP 500")
	assert.Contains(t, attempt, "the receiver is down for maintenance", "the answer's excerpt")
	assert.Contains(t, attempt, "****2e41", "the credential is masked, its last four characters shown")
	assert.NotContains(t, d.html(), "partner-secret")
	assert.Equal(t, secret, lastAuth.Load(), "the receiver got the credential itself")
	d.check("delivery")

	// Replay it now that the receiver is back.
	failing.Store(false)
	d.submit(`form[action$="/replay"] button`)
	assert.Contains(t, d.text(".note"), "Replay queued")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(d.text(".facts"), "delivered") && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		d.do(chromedp.Reload())
	}
	assert.Contains(t, d.text(".facts"), "delivered", "the replay was delivered")
	assert.Equal(t, 2, d.count("article.attempt"))

	// Fire an event the contract refuses: a status it does not know.
	d.open(sb.ui + "fire?account=" + demoAccount + "&type=whatsapp_message_status_updated")
	d.js(`(window.example = document.querySelector('#fire-payload').value, true)`)
	d.do(chromedp.SendKeys(chromedp.CSS("#fire-payload"), "}"))
	assert.Contains(t, d.text("#payload-check"), "Not JSON yet", "the editor tells a syntax error as it is typed")
	d.js(`(() => { const ta = document.querySelector('#fire-payload');
	  const p = JSON.parse(window.example); p.body.status = 'seen'; ta.value = JSON.stringify(p, null, 2); return true; })()`)
	d.submit("#fire-form > button[type=submit]")
	assert.Equal(t, "/body/status", strings.TrimSpace(d.text("#fire-refusal .field")))
	assert.Contains(t, d.text("#fire-refusal .rule"), `"seen"`)
	assert.Contains(t, d.text("#fire-refusal"), "Nothing was stored or pushed")
	d.check("fire")

	// Templates, with the reviewer's buttons.
	d.open(sb.ui + "templates?account=" + demoAccount)
	assert.Contains(t, d.text("table"), "otp_login")
	d.submit(`button[aria-label="Pause welcome_offer (en_US)"]`)
	assert.Contains(t, d.text(".note"), "welcome_offer (en_US) is now PAUSED")
	assert.Contains(t, d.text("table"), "PAUSED")
	d.check("templates")

	// With JavaScript off, the pages read the same: server-rendered rows,
	// timelines and forms; only the list's live updates are missing.
	d.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	d.open(sb.ui + "deliveries?account=" + demoAccount)
	assert.Contains(t, d.text("tbody#rows"), "whatsapp_message_status_updated")
	assert.Contains(t, d.text("[data-live-state]"), "Reload to see new deliveries", "no script ran")
	d.open(sb.ui + "messages?account=" + demoAccount)
	assert.Contains(t, d.text("ol.reports"), "delivered at")
}

// driver runs chromedp actions for one test and fails it on an error.
type driver struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

func (d *driver) do(actions ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	require.NoError(d.t, chromedp.Do(d.ctx, actions...))
}

// js runs a script that answers true.
func (d *driver) js(expr string) {
	d.t.Helper()
	ok, err := chromedp.Run(d.ctx, chromedp.Evaluate[bool](expr))
	require.NoError(d.t, err, expr)
	require.True(d.t, ok, expr)
}

func (d *driver) open(u string) {
	d.t.Helper()
	d.do(chromedp.Navigate(u))
}

func (d *driver) text(sel string) string {
	d.t.Helper()
	s, err := chromedp.Run(d.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(d.t, err, sel)
	return s
}

func (d *driver) html() string {
	d.t.Helper()
	s, err := chromedp.Run(d.ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	require.NoError(d.t, err)
	return s
}

func (d *driver) count(sel string) int {
	d.t.Helper()
	b, _ := json.Marshal(sel)
	n, err := chromedp.Run(d.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+string(b)+`).length`))
	require.NoError(d.t, err)
	return n
}

// wait polls a condition in the page for up to 15 seconds; an error
// while the page is being replaced counts as "not yet".
func (d *driver) wait(cond string) {
	d.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := chromedp.Run(d.ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			require.Failf(d.t, "time-out", "waiting for %s (last error: %v)", cond, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// submit clicks something that loads a new page and waits for that page.
func (d *driver) submit(sel string) {
	d.t.Helper()
	d.js(`window.leaving = true`)
	d.do(chromedp.Click(chromedp.CSS(sel)))
	d.wait(`window.leaving === undefined && document.readyState === 'complete'`)
}

// check audits the page, makes sure it fits a phone, and saves a
// screenshot when asked to.
func (d *driver) check(name string) {
	d.t.Helper()
	problems, err := chromedp.Run(d.ctx, chromedp.Evaluate[[]string](audit))
	require.NoError(d.t, err)
	assert.Empty(d.t, problems, "accessibility of the %s page", name)
	if d.shots != "" {
		png, err := chromedp.Run(d.ctx, chromedp.FullScreenshot(100))
		require.NoError(d.t, err)
		require.NoError(d.t, os.WriteFile(filepath.Join(d.shots, name+".png"), png, 0o644))
	}
	d.do(chromedp.EmulateViewport(375, 800))
	// The elements that stick out on the right, innermost first.
	wide, err := chromedp.Run(d.ctx, chromedp.Evaluate[[]string](`(() => {
	  if (document.documentElement.scrollWidth <= window.innerWidth + 1) return [];
	  return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.scroll'))
	    .reverse().slice(0, 5).map(e => e.outerHTML.slice(0, 100)); })()`))
	require.NoError(d.t, err)
	assert.Empty(d.t, wide, "the %s page fits a 375-pixel-wide screen", name)
	if d.shots != "" && name == "messages" {
		png, err := chromedp.Run(d.ctx, chromedp.FullScreenshot(100))
		require.NoError(d.t, err)
		require.NoError(d.t, os.WriteFile(filepath.Join(d.shots, name+"-phone.png"), png, 0o644))
	}
	d.do(chromedp.EmulateViewport(1280, 900))
}

// sendMessage sends the demo template message through the public API.
func sendMessage(t *testing.T, base string) {
	t.Helper()
	body := `{"wabaId":"110129512080569","messageType":"template","sendNumber":"8618912123456","recipientNumber":"6285234567899",` +
		`"templateName":"otp_login","language":"en_US","bodyParams":["245098"]}`
	req, err := http.NewRequest(http.MethodPost, base+"/api/whatsapp/v3/msg/submit", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	req.Header.Set("AppKey", demoAppKey)
	req.Header.Set("Authorization", demoToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(answer))
	require.Contains(t, string(answer), `"code":"0"`)
}

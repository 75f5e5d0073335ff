package ui_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/ui"
)

func TestEveryPageRendersWithItsSecurityHeaders(t *testing.T) {
	sb := newSandbox(t)
	b := newBrowser(t)
	for _, tc := range []struct{ name, path, want string }{
		{"overview", "", "Account " + demoAccount},
		{"app", "apps/" + demoAppKey, "Webhooks"},
		{"deliveries", "deliveries", "Deliveries of " + demoAccount},
		{"messages", "messages", "No message sent yet"},
		{"fire", "fire", "An event of the contract"},
		{"templates", "templates", "otp_login"},
		{"a missing delivery", "deliveries/no-such-id", "not found"},
		{"a missing page", "nowhere", "There is no dashboard page"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := b.get(sb.ui + tc.path)
			if strings.HasPrefix(tc.name, "a missing") {
				assert.Equal(t, http.StatusNotFound, a.status)
			} else {
				assert.Equal(t, http.StatusOK, a.status, a.body)
			}
			assert.Equal(t, ui.CSP, a.header.Get("Content-Security-Policy"))
			assert.Equal(t, "nosniff", a.header.Get("X-Content-Type-Options"))
			assert.Equal(t, "no-store", a.header.Get("Cache-Control"))
			assert.Contains(t, a.body, tc.want)
			assert.NotContains(t, a.body, "<script>", "no inline script: the CSP would block it")
			assert.NotContains(t, a.body, "style=", "no inline style: the CSP would block it")
		})
	}
	t.Run("the dashboard without its slash", func(t *testing.T) {
		a := b.get(strings.TrimSuffix(sb.ui, "/"))
		assert.Equal(t, http.StatusSeeOther, a.status)
		assert.Equal(t, ui.Prefix, a.header.Get("Location"))
	})
	t.Run("assets are embedded", func(t *testing.T) {
		a := b.get(sb.ui + "static/app.css")
		assert.Equal(t, http.StatusOK, a.status)
		assert.Contains(t, a.body, "--fg:")
	})
}

func TestAFormMustCarryItsCSRFToken(t *testing.T) {
	sb := newSandbox(t)
	b := newBrowser(t)
	token := csrf(t, b.get(sb.ui).body)
	clock := func() time.Time {
		a, err := sb.srv.Sandbox().ResolveAccount(context.Background(), demoAccount)
		require.NoError(t, err)
		return sb.srv.Sandbox().Now(a)
	}
	advance := url.Values{"account": {demoAccount}, "by": {"1h"}, "next": {ui.Prefix}}
	for _, tc := range []struct {
		name   string
		change func(req *http.Request)
		csrf   string
	}{
		{"no token", nil, ""},
		{"another token", nil, strings.Repeat("ab", 32)},
		{"a form of another site", func(req *http.Request) { req.Header.Set("Sec-Fetch-Site", "cross-site") }, token},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := clock()
			form := url.Values{}
			for k, v := range advance {
				form[k] = v
			}
			if tc.csrf != "" {
				form.Set("csrf", tc.csrf)
			}
			req, err := http.NewRequest(http.MethodPost, sb.ui+"clock/advance", strings.NewReader(form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			if tc.change != nil {
				tc.change(req)
			}
			a := b.do(req)
			assert.Equal(t, http.StatusForbidden, a.status)
			assert.Contains(t, a.body, "Refused")
			assert.Less(t, clock().Sub(before), 30*time.Minute, "the clock did not move")
		})
	}
	t.Run("with its token", func(t *testing.T) {
		before := clock()
		form := url.Values{"csrf": {token}}
		for k, v := range advance {
			form[k] = v
		}
		a := b.post(sb.ui+"clock/advance", form)
		require.Equal(t, http.StatusSeeOther, a.status, a.body)
		assert.GreaterOrEqual(t, clock().Sub(before), time.Hour)
		assert.Contains(t, a.header.Get("Location"), "note=")
	})
	t.Run("a bad duration is the control API's refusal", func(t *testing.T) {
		form := url.Values{"csrf": {token}, "account": {demoAccount}, "by": {"soon"}}
		a := b.post(sb.ui+"clock/advance", form)
		assert.Equal(t, http.StatusBadRequest, a.status)
		assert.Contains(t, a.body, "/by: &#34;soon&#34; is not a duration")
	})
}

func TestWithAnAdminTokenThePersonSignsIn(t *testing.T) {
	const admin = "admin-token-for-the-dashboard-0001"
	sb := newSandbox(t, func(c *mockserver.Config) { c.AdminToken = admin })
	b := newBrowser(t)

	a := b.get(sb.ui + "deliveries?account=" + demoAccount)
	require.Equal(t, http.StatusSeeOther, a.status)
	loc := a.header.Get("Location")
	assert.True(t, strings.HasPrefix(loc, ui.Prefix+"signin?next="), loc)

	form := b.get(sb.url + loc)
	require.Equal(t, http.StatusOK, form.status)
	token := csrf(t, form.body)
	next := ui.Prefix + "deliveries?account=" + demoAccount

	wrong := b.post(sb.ui+"signin", url.Values{"csrf": {token}, "token": {"not-it"}, "next": {next}})
	assert.Equal(t, http.StatusForbidden, wrong.status)
	assert.Contains(t, wrong.body, "not the sandbox&#39;s admin token")
	assert.Empty(t, wrong.header.Values("Set-Cookie"))

	right := b.post(sb.ui+"signin", url.Values{"csrf": {token}, "token": {admin}, "next": {next}})
	require.Equal(t, http.StatusSeeOther, right.status, right.body)
	assert.Equal(t, next, right.header.Get("Location"))
	cookie := right.header.Get("Set-Cookie")
	assert.Contains(t, cookie, "HttpOnly")
	assert.Contains(t, cookie, "SameSite=Strict")
	assert.NotContains(t, cookie, admin, "the cookie is not the token")

	in := b.get(sb.url + next)
	assert.Equal(t, http.StatusOK, in.status)
	assert.Contains(t, in.body, "Sign out")

	t.Run("a forged session is not one", func(t *testing.T) {
		other := newBrowser(t)
		u, _ := url.Parse(sb.ui)
		other.c.Jar.SetCookies(u, []*http.Cookie{{Name: "sandbox_ui_session", Value: "99999999999.00", Path: ui.Prefix}})
		assert.Equal(t, http.StatusSeeOther, other.get(sb.ui).status)
	})
	t.Run("a sign-in does not send anyone elsewhere", func(t *testing.T) {
		a := b.post(sb.ui+"signin", url.Values{"csrf": {token}, "token": {admin}, "next": {"//evil.example/"}})
		assert.Equal(t, ui.Prefix, a.header.Get("Location"))
	})
}

func TestTheDashboardOpensWhereTheControlAPIDoes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		open   bool
		remote string
		want   int
	}{
		{"loopback", false, "127.0.0.1:50000", http.StatusOK},
		{"another host", false, "192.0.2.7:50000", http.StatusForbidden}, // a documentation address: decided, never dialled
		{"another host, control opened", true, "192.0.2.7:50000", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t, func(c *mockserver.Config) { c.ControlOpen = tc.open })
			req := httptest.NewRequest(http.MethodGet, ui.Prefix, nil)
			req.RemoteAddr = tc.remote
			rec := httptest.NewRecorder()
			sb.srv.ServeHTTP(rec, req)
			assert.Equal(t, tc.want, rec.Code)
			assert.Equal(t, ui.CSP, rec.Header().Get("Content-Security-Policy"))
			if tc.want == http.StatusForbidden {
				assert.Contains(t, rec.Body.String(), "loopback callers only")
			}
		})
	}
}

func TestWebhookCredentialsAreWriteOnly(t *testing.T) {
	sb := newSandbox(t)
	b := newBrowser(t)
	page := b.get(sb.ui + "apps/" + demoAppKey)
	token := csrf(t, page.body)
	const secret = "Bearer partner-secret-0123456789"
	form := url.Values{"csrf": {token}, "url": {"http://127.0.0.1:9/hook"}, "method": {"POST"},
		"events": {"whatsapp_message_status_updated"}, "authorization": {secret}, "username": {"partner-user"},
		"maxAttempts": {"2"}, "initial": {"5s"}}
	a := b.post(sb.ui+"apps/"+demoAppKey+"/webhooks/whatsapp", form)
	require.Equal(t, http.StatusSeeOther, a.status, a.body)

	shown := b.get(sb.ui + "apps/" + demoAppKey)
	assert.NotContains(t, shown.body, "partner-secret", "the credential is never shown")
	assert.NotContains(t, shown.body, "partner-user")
	assert.Contains(t, shown.body, `<span class="badge s-set">set</span>`)
	assert.Contains(t, shown.body, `value="5s"`, "the retry policy is shown")

	// Saving again with the credential fields blank keeps them.
	form.Del("authorization")
	form.Del("username")
	form.Set("url", "http://127.0.0.1:9/other")
	require.Equal(t, http.StatusSeeOther, b.post(sb.ui+"apps/"+demoAppKey+"/webhooks/whatsapp", form).status)
	w, err := sb.srv.Sandbox().Store().GetWebhook(context.Background(), demoAppKey, "whatsapp")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:9/other", w.URL)
	require.NotNil(t, w.Authorization)
	assert.Equal(t, secret, *w.Authorization)

	t.Run("a refusal of the control API is shown with the form", func(t *testing.T) {
		bad := url.Values{"csrf": {token}, "url": {"http://127.0.0.1:9/hook"}, "method": {"POST"},
			"events": {"whatsapp_message_status_updated"}, "initial": {"soon"}}
		a := b.post(sb.ui+"apps/"+demoAppKey+"/webhooks/whatsapp", bad)
		assert.Equal(t, http.StatusBadRequest, a.status)
		assert.Contains(t, a.body, "/retry/initial")
	})
}

func TestANewTokenIsShownOnce(t *testing.T) {
	sb := newSandbox(t)
	b := newBrowser(t)
	token := csrf(t, b.get(sb.ui+"apps/"+demoAppKey).body)
	a := b.post(sb.ui+"apps/"+demoAppKey+"/tokens", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.Contains(t, a.body, "shown this once")
	assert.Equal(t, "no-store", a.header.Get("Cache-Control"))
	again := b.get(sb.ui + "apps/" + demoAppKey)
	assert.NotContains(t, again.body, "shown this once")
	assert.Contains(t, again.body, "superseded", "the demo token was superseded by the new one")

	t.Run("with an expiry", func(t *testing.T) {
		a := b.post(sb.ui+"apps/"+demoAppKey+"/tokens", url.Values{"csrf": {token}, "expiresAt": {"2030-01-02T03:04"}})
		require.Equal(t, http.StatusOK, a.status, a.body)
		assert.Contains(t, a.body, "<td>2030-01-02 03:04:00Z</td>", "the field is read as UTC")
		bad := b.post(sb.ui+"apps/"+demoAppKey+"/tokens", url.Values{"csrf": {token}, "expiresAt": {"soon"}})
		assert.Equal(t, http.StatusBadRequest, bad.status)
		assert.Contains(t, bad.body, "/expiresAt")
		assert.NotContains(t, bad.body, "shown this once")
	})

	revoked := b.post(sb.ui+"apps/"+demoAppKey+"/tokens/revoke", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusSeeOther, revoked.status)
	st, _, err := sb.srv.Sandbox().TokenStatus(context.Background(), demoAppKey)
	require.NoError(t, err)
	assert.Equal(t, "none", st, "no token authenticates the app any more")
	assert.Contains(t, b.get(sb.ui+"apps/"+demoAppKey).body, `<span class="badge s-revoked">revoked</span>`)
}

func TestFiringAnEventTheContractRefusesStoresNothing(t *testing.T) {
	sb := newSandbox(t)
	b := newBrowser(t)
	page := b.get(sb.ui + "fire?type=whatsapp_message_status_updated")
	token := csrf(t, page.body)
	payload := `{"type":"whatsapp_message_status_updated","eventTime":"2023-05-25T10:31:08.167Z",
	  "body":{"accountName":"IW1000001","id":"356139161272397824","sendPhone":"6285234567899","status":"seen","uid":"u","wabaId":"110129512080569","wamid":"wamid.X"}}`
	count := func() int {
		list, err := sb.srv.Sandbox().ListEvents(context.Background(), state.EventFilter{Account: demoAccount})
		require.NoError(t, err)
		return len(list)
	}
	before := count()
	a := b.post(sb.ui+"fire?account="+demoAccount, url.Values{"csrf": {token}, "type": {"whatsapp_message_status_updated"}, "app": {demoAppKey}, "payload": {payload}})
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Contains(t, a.body, `<code class="field">/body/status</code>`)
	assert.Contains(t, a.body, "Nothing was stored or pushed")
	assert.Contains(t, a.body, "&#34;seen&#34;", "the edited payload is kept in the form")
	assert.Equal(t, before, count())

	t.Run("the same payload with a status the contract knows is fired", func(t *testing.T) {
		ok := strings.Replace(payload, `"seen"`, `"read"`, 1)
		a := b.post(sb.ui+"fire?account="+demoAccount, url.Values{"csrf": {token}, "type": {"whatsapp_message_status_updated"}, "app": {demoAppKey}, "payload": {ok}})
		assert.Equal(t, http.StatusOK, a.status, a.body)
		assert.Contains(t, a.body, "Open the delivery")
		assert.Equal(t, before+1, count())
	})
	t.Run("the example left as it is gets the account's names and fresh ids", func(t *testing.T) {
		example := regexp.MustCompile(`(?s)<textarea id="fire-payload"[^>]*>(.*?)</textarea>`).FindStringSubmatch(page.body)
		require.NotNil(t, example)
		a := b.post(sb.ui+"fire?account="+demoAccount, url.Values{"csrf": {token}, "type": {"whatsapp_message_status_updated"}, "payload": {html.UnescapeString(example[1])}})
		require.Equal(t, http.StatusOK, a.status, a.body)
		list, err := sb.srv.Sandbox().ListEvents(context.Background(), state.EventFilter{Account: demoAccount, Limit: 1})
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Contains(t, string(list[0].Payload), `"accountName":"`+demoAccount+`"`)
		assert.NotContains(t, string(list[0].Payload), "e5cb1bc6-ad90-419d-8f83-aa394c0b7cc7", "not the example's event id")
	})
	t.Run("not JSON", func(t *testing.T) {
		a := b.post(sb.ui+"fire?account="+demoAccount, url.Values{"csrf": {token}, "type": {"whatsapp_message_status_updated"}, "payload": {"{"}})
		assert.Equal(t, http.StatusBadRequest, a.status)
		assert.Contains(t, a.body, "is not a JSON object")
	})
	t.Run("an inbound message of each type", func(t *testing.T) {
		for _, typ := range state.MOTypes {
			a := b.post(sb.ui+"inbound?account="+demoAccount, url.Values{"csrf": {token}, "to": {"8618912123456"}, "from": {"6285234567899"}, "type": {typ}})
			assert.Equal(t, http.StatusOK, a.status, "%s: %s", typ, a.body)
			assert.Contains(t, a.body, "Open the delivery", typ)
		}
	})
	t.Run("an inbound message the contract refuses", func(t *testing.T) {
		a := b.post(sb.ui+"inbound?account="+demoAccount, url.Values{"csrf": {token}, "to": {"8618912123456"}, "from": {"6285234567899"}, "type": {"text"}, "content": {`{"body": 7}`}})
		assert.Equal(t, http.StatusBadRequest, a.status)
		assert.Contains(t, a.body, `<code class="field">/text/body</code>`)
	})
}

func TestTemplatesAreReviewedFromTheirPage(t *testing.T) {
	sb := newSandbox(t)
	b := newBrowser(t)
	page := b.get(sb.ui + "templates?account=" + demoAccount)
	token := csrf(t, page.body)
	list, err := sb.srv.Sandbox().ListTemplates(context.Background(), demoAccount, "")
	require.NoError(t, err)
	require.NotEmpty(t, list)
	tpl := list[0]
	for _, status := range []string{"PAUSED", "DISABLED", "REJECTED", "APPROVED"} {
		a := b.post(sb.ui+"templates/status", url.Values{"csrf": {token}, "account": {demoAccount}, "wabaId": {tpl.WabaID},
			"name": {tpl.Name}, "language": {tpl.Language}, "status": {status}})
		require.Equal(t, http.StatusSeeOther, a.status, a.body)
		got, err := sb.srv.Sandbox().Store().GetTemplate(context.Background(), demoAccount, tpl.WabaID, tpl.Name, tpl.Language)
		require.NoError(t, err)
		assert.Equal(t, status, string(got.Status))
	}
	a := b.post(sb.ui+"templates/status", url.Values{"csrf": {token}, "account": {demoAccount}, "wabaId": {tpl.WabaID},
		"name": {"no_such_template"}, "language": {tpl.Language}, "status": {"PAUSED"}})
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Contains(t, a.body, "no_such_template unchanged")
}

func TestTheDeliveryListFilters(t *testing.T) {
	sb := newSandbox(t)
	b := newBrowser(t)
	token := csrf(t, b.get(sb.ui+"fire").body)
	// No webhook: an inbound message is routed to the demo app and
	// dropped there; a fired event to no app is dropped too.
	require.Equal(t, http.StatusOK, b.post(sb.ui+"inbound?account="+demoAccount, url.Values{"csrf": {token}, "to": {"8618912123456"}, "from": {"6285234567899"}, "type": {"text"}}).status)
	example := regexp.MustCompile(`(?s)<textarea id="fire-payload"[^>]*>(.*?)</textarea>`).FindStringSubmatch(b.get(sb.ui + "fire?type=whatsapp_template_status_updated").body)
	require.NotNil(t, example)
	form := url.Values{"csrf": {token}, "type": {"whatsapp_template_status_updated"}, "payload": {html.UnescapeString(example[1])}}
	a := b.post(sb.ui+"fire?account="+demoAccount, form)
	require.Contains(t, a.body, "Open the delivery")
	rows := func(query string) int {
		return strings.Count(b.get(sb.ui+"deliveries?account="+demoAccount+query).body, `<tr data-id="`)
	}
	for _, tc := range []struct {
		name, query string
		want        int
	}{
		{"everything", "", 2},
		{"by event type", "&type=whatsapp_mo_message_received", 1},
		{"by another event type", "&type=sms_status_report", 0},
		{"by status", "&status=dropped", 2},
		{"by a status none has", "&status=delivered", 0},
		{"by app", "&app=" + demoAppKey, 2},
		{"by an app without deliveries", "&app=NoSuchApp00000000", 0},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, rows(tc.query)) })
	}
}

func TestReplayAllDeadLettersOfAnApp(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(receiver.Close)
	sb := newSandbox(t)
	b := newBrowser(t)
	token := csrf(t, b.get(sb.ui+"apps/"+demoAppKey).body)
	require.Equal(t, http.StatusSeeOther, b.post(sb.ui+"apps/"+demoAppKey+"/webhooks/whatsapp", url.Values{"csrf": {token},
		"url": {receiver.URL}, "method": {"POST"}, "events": {"whatsapp_mo_message_received"}, "maxAttempts": {"1"}}).status)
	for range 2 {
		require.Equal(t, http.StatusOK, b.post(sb.ui+"inbound?account="+demoAccount, url.Values{"csrf": {token}, "to": {"8618912123456"}, "from": {"6285234567899"}, "type": {"text"}}).status)
	}
	events := func(status state.EventStatus) int {
		list, err := sb.srv.Sandbox().ListEvents(context.Background(), state.EventFilter{Account: demoAccount, AppKey: demoAppKey, Status: status})
		require.NoError(t, err)
		return len(list)
	}
	require.Eventually(t, func() bool { return events(state.EventFailed) == 2 }, 10*time.Second, 20*time.Millisecond)
	assert.Contains(t, b.get(sb.ui+"apps/"+demoAppKey).body, "2 deliveries of this app failed for good")

	down.Store(false)
	next := ui.Prefix + "deliveries?account=" + demoAccount + "&app=" + demoAppKey
	a := b.post(sb.ui+"apps/"+demoAppKey+"/replay", url.Values{"csrf": {token}, "next": {next}})
	require.Equal(t, http.StatusSeeOther, a.status, a.body)
	assert.True(t, strings.HasPrefix(a.header.Get("Location"), next+"&note="), a.header.Get("Location"))
	assert.Contains(t, a.header.Get("Location"), url.QueryEscape("2 dead letters of "+demoAppKey+" replayed."))
	assert.Eventually(t, func() bool { return events(state.EventDelivered) == 2 }, 10*time.Second, 20*time.Millisecond)
}

func TestTheMessagesPageShowsEachRecipientsTimeline(t *testing.T) {
	sb := newSandbox(t)
	b := newBrowser(t)
	public := func(path, body string) {
		req, err := http.NewRequest(http.MethodPost, sb.url+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json;charset=utf-8")
		req.Header.Set("AppKey", demoAppKey)
		req.Header.Set("Authorization", demoToken)
		a := b.do(req)
		require.Equal(t, http.StatusOK, a.status, a.body)
		require.Contains(t, a.body, `"code":"0"`)
	}
	// An SMS to two numbers; a WhatsApp template to a number whose send
	// fails (a magic number: failed with Meta's 131026).
	public("/api/sms/v3/msg/send", `{"msg":"hi","mobile":"8613800138000,6285234567899"}`)
	public("/api/whatsapp/v3/msg/submit", `{"wabaId":"110129512080569","messageType":"template","sendNumber":"8618912123456",`+
		`"recipientNumber":"99910131026","templateName":"otp_login","language":"en_US","bodyParams":["245098"]}`)

	page := b.get(sb.ui + "messages?account=" + demoAccount).body
	assert.Contains(t, page, "sms ")
	assert.Contains(t, page, "To <code>8613800138000</code>")
	assert.Contains(t, page, "To <code>6285234567899</code>")
	assert.Contains(t, page, "DELIVRD")
	assert.Contains(t, page, "To <code>99910131026</code>")
	assert.Contains(t, page, "failed (131026)", "a failed report names its code")
	assert.Contains(t, page, `class="dot failed"`)
}

func TestAccountsAndTheirDefaultApps(t *testing.T) {
	sb := newSandbox(t)
	ctx := context.Background()
	_, err := sb.srv.Sandbox().CreateAccount(ctx, "IW2000002", "Second account")
	require.NoError(t, err)
	app, err := sb.srv.Sandbox().CreateApp(ctx, "IW2000002", "Billing", "", false)
	require.NoError(t, err)
	b := newBrowser(t)

	overview := b.get(sb.ui).body
	assert.Contains(t, overview, "Account IW2000002")
	assert.Contains(t, overview, "Second account")
	assert.Equal(t, 1, strings.Count(overview, `<span class="badge s-default">default</span>`), "only the demo app is a default app")

	page := b.get(sb.ui + "apps/" + app.Key).body
	assert.Contains(t, page, "Make it the default app")
	a := b.post(sb.ui+"apps/"+app.Key+"/default", url.Values{"csrf": {csrf(t, page)}})
	require.Equal(t, http.StatusSeeOther, a.status, a.body)
	acct, err := sb.srv.Sandbox().Store().GetAccount(ctx, "IW2000002")
	require.NoError(t, err)
	assert.Equal(t, app.Key, acct.DefaultApp)
	assert.Equal(t, 2, strings.Count(b.get(sb.ui).body, `<span class="badge s-default">default</span>`))

	list := b.get(sb.ui + "deliveries?account=IW2000002").body
	assert.Contains(t, list, `<option value="IW2000002" selected>`, "the account switcher names the account shown")
	assert.Contains(t, list, "Deliveries of IW2000002")
}

func TestTheDashboardIsOnTheControlListenerOnly(t *testing.T) {
	sb := newSandbox(t)
	for _, tc := range []struct {
		name    string
		handler http.Handler
		want    int
	}{
		{"the control listener", sb.srv.ControlHandler(), http.StatusOK},
		{"the public listener", sb.srv.PublicHandler(), http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, ui.Prefix, nil)
			req.RemoteAddr = "127.0.0.1:50000"
			rec := httptest.NewRecorder()
			tc.handler.ServeHTTP(rec, req)
			assert.Equal(t, tc.want, rec.Code)
		})
	}
}

func TestThePushersOwnRequestIsNotTheOperator(t *testing.T) {
	sb := newSandbox(t)
	req := httptest.NewRequest(http.MethodGet, ui.Prefix, nil)
	req.RemoteAddr = "127.0.0.1:50000"
	req.Header.Set("User-Agent", mockserver.PushUserAgent) // a callback URL aimed at the dashboard
	rec := httptest.NewRecorder()
	sb.srv.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusForbidden, rec.Code)
}

package mockserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
)

const testAdminToken = "admin-token-for-tests-0123456789"

// as sends a control call with exactly one credential header (name: value)
// and, when account is set, X-Sandbox-Account.
func (s *sandbox) as(cred, value, method, path string, v any, account string) response {
	s.t.Helper()
	body := ""
	if v != nil {
		raw, err := json.Marshal(v)
		require.NoError(s.t, err)
		body = string(raw)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if cred != "" {
		h.Set(cred, value)
	}
	if account != "" {
		h.Set(mockserver.HeaderAccount, account)
	}
	return s.do(method, path, body, h)
}

// admin sends a control call with the admin token.
func (s *sandbox) asAdmin(method, path string, v any, account string) response {
	s.t.Helper()
	return s.as(mockserver.HeaderAdminToken, testAdminToken, method, path, v, account)
}

func TestForwardedOrPushedCallsAreNeverLoopback(t *testing.T) {
	// No admin token: the control API trusts loopback. A reverse proxy or
	// sidecar on the same host connects from loopback for anyone; the
	// headers it adds must close the door, or an outsider resets the
	// sandbox. So must the sandbox's own pusher, sent there by a callback.
	for _, h := range []struct{ name, value string }{
		{"X-Forwarded-For", "127.0.0.1"},
		{"Forwarded", "for=127.0.0.1"},
		{"X-Real-IP", "127.0.0.1"},
		{"x-forwarded-for", ""},
		{"User-Agent", mockserver.PushUserAgent},
	} {
		t.Run(h.name, func(t *testing.T) {
			s := newSandbox(t)
			var acct struct{ Name string }
			s.control("POST", "/_sandbox/accounts", map[string]any{"label": "victim"}, "").must(t, 201).decode(t, &acct)

			r := s.do("POST", "/_sandbox/reset", "", http.Header{h.name: {h.value}}).must(t, 403)
			assert.Equal(t, mockserver.MsgControlClosed, r.envelope(t).Message)
			s.do("GET", "/_sandbox/accounts", "", http.Header{h.name: {h.value}}).must(t, 403)

			s.control("GET", "/_sandbox/accounts/"+acct.Name, nil, "").must(t, 200) // nothing was reset
		})
	}
}

func TestAWebhookCannotResetTheSandbox(t *testing.T) {
	// The attack of the issue: a webhook (or callBackUrl) pointed at the
	// sandbox's own reset, on a loopback sandbox without a token, where the
	// pusher itself is on loopback.
	s := newSandbox(t)
	var victim struct{ Name string }
	s.control("POST", "/_sandbox/accounts", map[string]any{"label": "victim"}, "").must(t, 201).decode(t, &victim)
	r := s.control("POST", "/_sandbox/apps/"+demoAppKey+"/webhooks", map[string]any{"product": "whatsapp", "url": s.url + "/_sandbox/reset",
		"events": []string{"whatsapp_template_status_updated"}, "retry": map[string]any{"maxAttempts": 1}}, "")
	if r.status == 201 { // the egress guard may refuse it already (400): fine too
		var res struct{ Delivery struct{ ID string } }
		s.control("POST", "/_sandbox/events", map[string]any{"type": "whatsapp_template_status_updated", "appKey": demoAppKey}, "").must(t, 201).decode(t, &res)
		var d deliveryDetail
		require.Eventually(t, func() bool { d = s.delivery(res.Delivery.ID); return d.Attempts >= 1 }, 5e9, 10e6)
		if d.AttemptLog[0].Response != nil {
			assert.Equal(t, 403, d.AttemptLog[0].Response.Status, "the control API refused the sandbox's own push")
		}
	} else {
		r.must(t, 400)
	}
	s.control("GET", "/_sandbox/accounts/"+victim.Name, nil, "").must(t, 200) // nothing was reset
}

func TestAdminTokenShorterThan16IsRefused(t *testing.T) {
	_, err := mockserver.New(context.Background(), mockserver.Config{Spec: loadSpec(), Store: memstore.New(), AdminToken: "fifteen-chars.."})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "at least 16")
	_, err = mockserver.New(context.Background(), mockserver.Config{Spec: loadSpec(), Store: memstore.New(), AdminToken: "sixteen-chars..."})
	assert.NoError(t, err)
}

func TestMetricsAreTheOperatorsOnly(t *testing.T) {
	s := newSandbox(t, func(c *mockserver.Config) { c.AdminToken = testAdminToken })
	s.do("GET", "/metrics", "", nil).must(t, 403)
	r := s.do("GET", "/metrics", "", http.Header{mockserver.HeaderAdminToken: {testAdminToken}}).must(t, 200)
	assert.Contains(t, string(r.body), "innosandbox_")

	var acct struct{ ControlToken string }
	s.asAdmin("POST", "/_sandbox/accounts", map[string]any{"label": "a"}, "").must(t, 201).decode(t, &acct)
	s.do("GET", "/metrics", "", http.Header{mockserver.HeaderAccountToken: {acct.ControlToken}}).must(t, 404)
}

func TestControlOnItsOwnListener(t *testing.T) {
	s := newSandbox(t)
	public := httptest.NewServer(s.srv.PublicHandler())
	t.Cleanup(public.Close)
	control := httptest.NewServer(s.srv.ControlHandler())
	t.Cleanup(control.Close)
	get := func(base, path string, h http.Header) response {
		t.Helper()
		return (&sandbox{t: t, url: base}).do("GET", path, "", h)
	}
	demo := http.Header{"AppKey": {demoAppKey}, "Authorization": {demoToken}}

	for _, path := range []string{"/_sandbox/accounts", "/_sandbox/reset", "/_sandbox/", "/metrics"} {
		r := get(public.URL, path, nil).must(t, 404)
		assert.Equal(t, "404", r.envelope(t).Code, "%s answers the usual envelope", path)
	}
	r := (&sandbox{t: t, url: public.URL}).do("POST", "/_sandbox/reset", "", nil).must(t, 404)
	assert.Equal(t, "404", r.envelope(t).Code)
	get(public.URL, "/healthz", nil).must(t, 200)
	send := func(base string) response {
		t.Helper()
		h := demo.Clone()
		h.Set("Content-Type", "application/json")
		return (&sandbox{t: t, url: base}).do("POST", "/api/whatsapp/v3/msg/submit", `{"wabaId":"`+demoWABA+`","messageType":"text","sendNumber":"`+demoNumber+`","recipientNumber":"`+userNumber+`","body":"hi"}`, h)
	}
	send(public.URL).must(t, 200) // the public API answers there

	get(control.URL, "/_sandbox/accounts", nil).must(t, 200)
	get(control.URL, "/metrics", nil).must(t, 200)
	get(control.URL, "/healthz", nil).must(t, 200)
	send(control.URL).must(t, 404)
}

// walled is a sandbox with an admin token and two accounts, each with its
// control token; the victim has an app with a webhook, a delivery and a
// clock of its own.
type walled struct {
	*sandbox
	mine, mineToken                string
	victim, victimToken, victimApp string
	victimEvent, victimWebhookURL  string
	victimAppName                  string
}

func newWalled(t *testing.T) *walled {
	s := newSandbox(t, func(c *mockserver.Config) { c.AdminToken = testAdminToken })
	w := &walled{sandbox: s, victimWebhookURL: "http://127.0.0.1:9/victim-hook", victimAppName: "victim app"}
	var a, b struct{ Name, ControlToken string }
	s.asAdmin("POST", "/_sandbox/accounts", map[string]any{"label": "attacker"}, "").must(t, 201).decode(t, &a)
	s.asAdmin("POST", "/_sandbox/accounts", map[string]any{"label": "victim"}, "").must(t, 201).decode(t, &b)
	require.True(t, strings.HasPrefix(a.ControlToken, "isa_"), "the account token is issued with the account: %q", a.ControlToken)
	require.NotEqual(t, a.ControlToken, b.ControlToken)
	w.mine, w.mineToken, w.victim, w.victimToken = a.Name, a.ControlToken, b.Name, b.ControlToken

	var app struct{ AppKey string }
	s.asAdmin("POST", "/_sandbox/apps", map[string]any{"name": w.victimAppName, "default": true}, w.victim).must(t, 201).decode(t, &app)
	w.victimApp = app.AppKey
	s.asAdmin("POST", "/_sandbox/apps/"+w.victimApp+"/webhooks", map[string]any{"product": "whatsapp", "url": w.victimWebhookURL,
		"events": []string{"whatsapp_mo_message_received"}}, "").must(t, 201)
	var ev struct{ Delivery struct{ ID string } }
	s.asAdmin("POST", "/_sandbox/events/inbound", map[string]any{"to": "4400000009", "from": userNumber}, w.victim).must(t, 201).decode(t, &ev)
	w.victimEvent = ev.Delivery.ID
	require.NotEmpty(t, w.victimEvent)
	return w
}

// victimState is what an attack must leave unchanged (times that move by
// themselves, the clock's reading and the delivery's retries, left out).
func (w *walled) victimState(t *testing.T) string {
	t.Helper()
	var acct struct{ Name, Label, DefaultApp string }
	w.asAdmin("GET", "/_sandbox/accounts/"+w.victim, nil, "").must(t, 200).decode(t, &acct)
	var deliveries []struct{ ID, AppKey string }
	w.asAdmin("GET", "/_sandbox/deliveries", nil, w.victim).must(t, 200).decode(t, &deliveries)
	var clock struct{ OffsetSeconds float64 }
	w.asAdmin("GET", "/_sandbox/clock", nil, w.victim).must(t, 200).decode(t, &clock)
	parts := []string{
		fmt.Sprintf("%+v offset=%v deliveries=%+v", acct, clock.OffsetSeconds, deliveries),
		string(w.asAdmin("GET", "/_sandbox/apps/"+w.victimApp, nil, "").must(t, 200).body),
		string(w.asAdmin("GET", "/_sandbox/apps/"+w.victimApp+"/webhooks/whatsapp", nil, "").must(t, 200).body),
		string(w.asAdmin("GET", "/_sandbox/apps/"+w.victimApp+"/tokens", nil, "").must(t, 200).body),
		string(w.asAdmin("GET", "/_sandbox/apps/"+w.victimApp+"/bindings", nil, "").must(t, 200).body),
	}
	var accounts []struct{ Name string }
	w.asAdmin("GET", "/_sandbox/accounts", nil, "").must(t, 200).decode(t, &accounts)
	parts = append(parts, fmt.Sprint(accounts))
	return strings.Join(parts, "\n")
}

func TestAnAccountTokenCannotReachAnotherAccount(t *testing.T) {
	w := newWalled(t)
	before := w.victimState(t)
	hook := map[string]any{"url": "http://127.0.0.1:9/stolen", "events": []string{"whatsapp_mo_message_received"}}
	attacks := []struct {
		name, method, path string
		body               any
		account            string // X-Sandbox-Account
	}{
		{"read the account", "GET", "/_sandbox/accounts/" + w.victim, nil, ""},
		{"delete the account", "DELETE", "/_sandbox/accounts/" + w.victim, nil, ""},
		{"rotate the account's token", "POST", "/_sandbox/accounts/" + w.victim + "/token", nil, ""},
		{"read the app", "GET", "/_sandbox/apps/" + w.victimApp, nil, ""},
		{"delete the app", "DELETE", "/_sandbox/apps/" + w.victimApp, nil, ""},
		{"list the app's tokens", "GET", "/_sandbox/apps/" + w.victimApp + "/tokens", nil, ""},
		{"issue the app a token", "POST", "/_sandbox/apps/" + w.victimApp + "/tokens", nil, ""},
		{"revoke the app's token", "DELETE", "/_sandbox/apps/" + w.victimApp + "/tokens", nil, ""},
		{"read the webhook", "GET", "/_sandbox/apps/" + w.victimApp + "/webhooks/whatsapp", nil, ""},
		{"list the webhooks", "GET", "/_sandbox/apps/" + w.victimApp + "/webhooks", nil, ""},
		{"redirect the webhook", "PUT", "/_sandbox/apps/" + w.victimApp + "/webhooks/whatsapp", hook, ""},
		{"delete the webhook", "DELETE", "/_sandbox/apps/" + w.victimApp + "/webhooks/whatsapp", nil, ""},
		{"bind a number to the app", "POST", "/_sandbox/apps/" + w.victimApp + "/bindings", map[string]any{"kind": "number", "value": "4400000001"}, ""},
		{"read the delivery", "GET", "/_sandbox/deliveries/" + w.victimEvent, nil, ""},
		{"replay the delivery", "POST", "/_sandbox/deliveries/" + w.victimEvent + "/replay", nil, ""},
		{"replay the app's dead letters", "POST", "/_sandbox/apps/" + w.victimApp + "/deliveries/replay", nil, ""},
		{"list the account's deliveries", "GET", "/_sandbox/deliveries", nil, w.victim},
		{"read the account's clock", "GET", "/_sandbox/clock", nil, w.victim},
		{"advance the account's clock", "POST", "/_sandbox/clock/advance", map[string]any{"by": "48h"}, w.victim},
		{"set the account's clock", "PUT", "/_sandbox/clock", map[string]any{"now": "2030-01-01T00:00:00Z"}, w.victim},
		{"list the account's apps", "GET", "/_sandbox/apps", nil, w.victim},
		{"trigger an event at the app", "POST", "/_sandbox/events", map[string]any{"type": "whatsapp_message_status_updated", "appKey": w.victimApp}, ""},
		{"simulate an inbound message", "POST", "/_sandbox/events/inbound", map[string]any{"to": "4400000009", "from": userNumber}, w.victim},
		{"reset the sandbox", "POST", "/_sandbox/reset", nil, ""},
		{"create an account", "POST", "/_sandbox/accounts", map[string]any{"label": "more"}, ""},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			r := w.as(mockserver.HeaderAccountToken, w.mineToken, a.method, a.path, a.body, a.account).must(t, 404)
			msg := r.envelope(t).Message
			assert.NotContains(t, msg, w.mine, "the answer is the plain not-found one")
			assert.Equal(t, before, w.victimState(t), "nothing of the other account changed")
		})
	}
	// The same calls with an unknown name answer the same 404 message, so
	// a 404 tells nothing about whether the other account's thing exists.
	known := w.as(mockserver.HeaderAccountToken, w.mineToken, "GET", "/_sandbox/apps/"+w.victimApp, nil, "").must(t, 404).envelope(t).Message
	unknown := w.as(mockserver.HeaderAccountToken, w.mineToken, "GET", "/_sandbox/apps/NoSuchAppKey00000", nil, "").must(t, 404).envelope(t).Message
	assert.Equal(t, strings.Replace(unknown, "NoSuchAppKey00000", w.victimApp, 1), known)
}

func TestAnAccountTokenActsOnItsOwnAccount(t *testing.T) {
	w := newWalled(t)
	mine := func(method, path string, v any) response {
		t.Helper()
		return w.as(mockserver.HeaderAccountToken, w.mineToken, method, path, v, "")
	}
	var list []struct{ Name string }
	mine("GET", "/_sandbox/accounts", nil).must(t, 200).decode(t, &list)
	require.Len(t, list, 1, "an account token lists its own account only")
	assert.Equal(t, w.mine, list[0].Name)

	var app struct{ AppKey, Account string }
	mine("POST", "/_sandbox/apps", map[string]any{"name": "mine", "default": true}).must(t, 201).decode(t, &app)
	assert.Equal(t, w.mine, app.Account, "without X-Sandbox-Account the token's account is meant, not the default one")
	mine("POST", "/_sandbox/apps/"+app.AppKey+"/tokens", nil).must(t, 201)
	mine("POST", "/_sandbox/apps/"+app.AppKey+"/webhooks", map[string]any{"product": "whatsapp", "url": "http://127.0.0.1:9/mine",
		"events": []string{"whatsapp_mo_message_received"}}).must(t, 201)
	mine("POST", "/_sandbox/clock/advance", map[string]any{"by": "1h"}).must(t, 200)
	w.as(mockserver.HeaderAccountToken, w.mineToken, "GET", "/_sandbox/clock", nil, w.mine).must(t, 200)

	// Rotation: the new token works, the old one is refused at once.
	var rot struct{ Account, ControlToken string }
	mine("POST", "/_sandbox/accounts/"+w.mine+"/token", nil).must(t, 201).decode(t, &rot)
	assert.Equal(t, w.mine, rot.Account)
	r := mine("GET", "/_sandbox/apps", nil).must(t, 403)
	assert.Equal(t, mockserver.MsgAccountToken, r.envelope(t).Message)
	w.as(mockserver.HeaderAccountToken, rot.ControlToken, "GET", "/_sandbox/apps/"+app.AppKey, nil, "").must(t, 200)

	// The admin may rotate any account's token; the victim's old one ends.
	w.asAdmin("POST", "/_sandbox/accounts/"+w.victim+"/token", nil, "").must(t, 201)
	w.as(mockserver.HeaderAccountToken, w.victimToken, "GET", "/_sandbox/apps", nil, "").must(t, 403)
}

func TestControlCredentialsAreChecked(t *testing.T) {
	w := newWalled(t)
	for _, c := range []struct {
		name, header, value string
		status              int
	}{
		{"no credential", "", "", 403},
		{"a wrong admin token", mockserver.HeaderAdminToken, testAdminToken + "x", 403},
		{"a made-up account token", mockserver.HeaderAccountToken, "isa_madeup", 403},
		{"an empty account token", mockserver.HeaderAccountToken, "", 403},
		{"the admin token", mockserver.HeaderAdminToken, testAdminToken, 200},
		{"an account token", mockserver.HeaderAccountToken, w.mineToken, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			w.as(c.header, c.value, "GET", "/_sandbox/apps", nil, "").must(t, c.status)
		})
	}
}

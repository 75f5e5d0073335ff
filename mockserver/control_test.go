package mockserver_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
)

func TestWebhookConfigurationIsValidated(t *testing.T) {
	s := newSandbox(t)
	_, appKey, _ := s.account(false)
	valid := func() map[string]any {
		return map[string]any{"product": "whatsapp", "url": "https://example.com/hook", "events": []string{"whatsapp_message_status_updated"}}
	}
	tests := []struct {
		name   string
		change func(m map[string]any)
		status int
		want   string
	}{
		{"valid", func(map[string]any) {}, 201, ""},
		{"ftp URL", func(m map[string]any) { m["url"] = "ftp://example.com/hook" }, 400, `/url: scheme "ftp" is not allowed`},
		{"no host", func(m map[string]any) { m["url"] = "https:///hook" }, 400, "/url: has no host"},
		{"not a URL", func(m map[string]any) { m["url"] = "::nope" }, 400, "/url"},
		{"unknown event", func(m map[string]any) { m["events"] = []string{"whatsapp_message_sent"} }, 400, `/events/0: "whatsapp_message_sent" is not a whatsapp event type`},
		{"event listed twice", func(m map[string]any) {
			m["events"] = []string{"whatsapp_mo_message_received", "whatsapp_mo_message_received"}
		}, 400, "/events"},
		{"no events", func(m map[string]any) { m["events"] = []string{} }, 400, "/events"},
		{"GET method", func(m map[string]any) { m["method"] = "GET" }, 400, "/method: GET is not supported"},
		{"DELETE method", func(m map[string]any) { m["method"] = "DELETE" }, 400, `/method: "DELETE" is not supported`},
		{"unknown product", func(m map[string]any) { m["product"] = "voice" }, 400, "/product"},
		{"empty username", func(m map[string]any) { m["username"] = "" }, 400, "/username"},
		{"CR LF in authorization", func(m map[string]any) { m["authorization"] = "a\r\nX-Evil: 1" }, 400, "/authorization"},
		{"unknown field", func(m map[string]any) { m["secret"] = "x" }, 400, "secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := valid()
			tc.change(m)
			r := s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", m, "").must(t, tc.status)
			if tc.status == 201 {
				var w map[string]any
				r.decode(t, &w)
				assert.Equal(t, "POST", w["method"], "POST is the default method")
				s.control("DELETE", "/_sandbox/apps/"+appKey+"/webhooks/whatsapp", nil, "").must(t, 204)
				return
			}
			assert.Contains(t, r.envelope(t).Message, tc.want)
		})
	}
	// Nothing was stored by the refused requests.
	var list []any
	s.control("GET", "/_sandbox/apps/"+appKey+"/webhooks", nil, "").must(t, 200).decode(t, &list)
	assert.Empty(t, list)
}

func TestWebhookLifecycle(t *testing.T) {
	s := newSandbox(t)
	_, appKey, _ := s.account(false)
	path := "/_sandbox/apps/" + appKey + "/webhooks"
	body := map[string]any{"product": "whatsapp", "url": "https://example.com/a", "events": []string{"whatsapp_mo_message_received"}}
	s.control("POST", path, body, "").must(t, 201)
	r := s.control("POST", path, body, "").must(t, 409)
	assert.Contains(t, r.envelope(t).Message, "replace it with PUT")
	var w map[string]any
	s.control("PUT", path+"/whatsapp", map[string]any{"url": "https://example.com/b", "events": []string{"whatsapp_message_status_updated"}, "method": "PUT", "username": "u"}, "").must(t, 200).decode(t, &w)
	assert.Equal(t, "https://example.com/b", w["url"])
	assert.Equal(t, "PUT", w["method"])
	assert.Equal(t, "u", w["username"])
	assert.Nil(t, w["authorization"])
	s.control("GET", path+"/whatsapp", nil, "").must(t, 200)
	s.control("DELETE", path+"/whatsapp", nil, "").must(t, 204)
	s.control("GET", path+"/whatsapp", nil, "").must(t, 404)
	s.control("PUT", path+"/whatsapp", map[string]any{"url": "https://example.com/b", "events": []string{"whatsapp_message_status_updated"}}, "").must(t, 404)
	s.control("GET", "/_sandbox/apps/NOSUCHAPPKEY00000/webhooks", nil, "").must(t, 404)
}

func TestTokensAndApps(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, _ := s.account(false)
	t.Run("expiry in the past is refused", func(t *testing.T) {
		r := s.control("POST", "/_sandbox/apps/"+appKey+"/tokens", map[string]any{"expiresAt": "2001-01-01T00:00:00Z"}, "").must(t, 400)
		assert.Contains(t, r.envelope(t).Message, "/expiresAt: 2001-01-01T00:00:00Z is not in the future")
	})
	t.Run("expiry that is not a time is refused", func(t *testing.T) {
		r := s.control("POST", "/_sandbox/apps/"+appKey+"/tokens", map[string]any{"expiresAt": "tomorrow"}, "").must(t, 400)
		assert.Contains(t, r.envelope(t).Message, "/expiresAt")
	})
	t.Run("unknown app", func(t *testing.T) {
		s.control("POST", "/_sandbox/apps/AAAAAAAAAAAAAAAAA/tokens", nil, "").must(t, 404)
		s.control("GET", "/_sandbox/apps/AAAAAAAAAAAAAAAAA", nil, "").must(t, 404)
	})
	t.Run("issued tokens have the documented shape and history", func(t *testing.T) {
		var tok map[string]any
		s.control("POST", "/_sandbox/apps/"+appKey+"/tokens", map[string]any{"expiresAt": nil}, "").must(t, 201).decode(t, &tok)
		assert.Regexp(t, `^[A-Z0-9]{56}$`, tok["token"])
		assert.Nil(t, tok["expiresAt"])
		var hist []map[string]any
		s.control("GET", "/_sandbox/apps/"+appKey+"/tokens", nil, "").must(t, 200).decode(t, &hist)
		require.GreaterOrEqual(t, len(hist), 2)
		assert.Equal(t, "current", hist[0]["state"])
		assert.Equal(t, "superseded", hist[1]["state"])
		for _, h := range hist {
			assert.NotContains(t, h, "token", "the history never shows a secret")
		}
	})
	t.Run("accounts are isolated", func(t *testing.T) {
		var apps []map[string]any
		s.control("GET", "/_sandbox/apps", nil, acct).must(t, 200).decode(t, &apps)
		require.Len(t, apps, 1)
		assert.Equal(t, appKey, apps[0]["appKey"])
		s.control("GET", "/_sandbox/apps", nil, "").must(t, 200).decode(t, &apps)
		for _, a := range apps {
			assert.NotEqual(t, appKey, a["appKey"])
		}
		s.control("GET", "/_sandbox/apps", nil, "IW0000000").must(t, 404)
		r := s.control("GET", "/_sandbox/apps", nil, "nobody").must(t, 400)
		assert.Contains(t, r.envelope(t).Message, "header X-Sandbox-Account")
	})
	t.Run("default app", func(t *testing.T) {
		s.control("PUT", "/_sandbox/default-app", map[string]any{"appKey": demoAppKey}, acct).must(t, 404)
		s.control("PUT", "/_sandbox/default-app", map[string]any{"appKey": appKey}, acct).must(t, 200)
		var a map[string]any
		s.control("GET", "/_sandbox/apps/"+appKey, nil, "").must(t, 200).decode(t, &a)
		assert.Equal(t, true, a["default"])
		s.control("DELETE", "/_sandbox/default-app", nil, acct).must(t, 204)
		s.control("GET", "/_sandbox/default-app", nil, acct).must(t, 200).decode(t, &a)
		assert.Nil(t, a["appKey"])
	})
}

func TestResetRestoresTheSeed(t *testing.T) {
	s := newSandbox(t)
	s.control("POST", "/_sandbox/apps/"+demoAppKey+"/tokens", nil, "").must(t, 201)
	s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(demoAppKey, demoToken)).must(t, 401)
	acct, _, _ := s.account(false)
	var res map[string]int
	s.control("POST", "/_sandbox/reset", nil, "").must(t, 200).decode(t, &res)
	assert.Equal(t, map[string]int{"accounts": 1, "apps": 1}, res)
	s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(demoAppKey, demoToken)).must(t, 200)
	s.control("GET", "/_sandbox/accounts/"+acct, nil, "").must(t, 404)
}

func TestInboundRouting(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, _ := s.account(false)
	recv := newReceiver(t)
	s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{"product": "whatsapp", "url": recv.srv.URL, "events": []string{"whatsapp_mo_message_received"}}, "").must(t, 201)
	// A second app, bound to a number, with its own receiver.
	var bound struct{ AppKey string }
	s.control("POST", "/_sandbox/apps", map[string]any{"name": "bound"}, acct).must(t, 201).decode(t, &bound)
	boundRecv := newReceiver(t)
	s.control("POST", "/_sandbox/apps/"+bound.AppKey+"/webhooks", map[string]any{"product": "whatsapp", "url": boundRecv.srv.URL, "events": []string{"whatsapp_mo_message_received"}}, "").must(t, 201)
	s.control("POST", "/_sandbox/apps/"+bound.AppKey+"/bindings", map[string]any{"kind": "number", "value": "441234567890"}, "").must(t, 201)
	r := s.control("POST", "/_sandbox/apps/"+appKey+"/bindings", map[string]any{"kind": "number", "value": "441234567890"}, "").must(t, 409)
	assert.Contains(t, r.envelope(t).Message, "bound to app "+bound.AppKey)

	type result struct {
		Routed   bool
		AppKey   *string
		Route    *string
		Reason   *string
		Delivery struct{ ID, Status string }
	}
	inbound := func(to string) result {
		var res result
		s.control("POST", "/_sandbox/events/inbound", map[string]any{"to": to, "from": userNumber, "text": map[string]any{"body": "Yes"}}, acct).must(t, 201).decode(t, &res)
		return res
	}

	t.Run("to the app bound to the number", func(t *testing.T) {
		res := inbound("441234567890")
		require.True(t, res.Routed)
		assert.Equal(t, bound.AppKey, *res.AppKey)
		assert.Equal(t, "binding:number", *res.Route)
		got := boundRecv.wait(t, 1)
		var ev struct {
			ID   string
			Body struct{ From, To string }
		}
		require.NoError(t, json.Unmarshal(got[0].body, &ev))
		assert.Equal(t, res.Delivery.ID, ev.ID)
		assert.Equal(t, "441234567890", ev.Body.To)
	})
	t.Run("dropped without a binding or a default app", func(t *testing.T) {
		res := inbound("449999999999")
		assert.False(t, res.Routed)
		assert.Equal(t, "dropped", res.Delivery.Status)
		assert.Contains(t, *res.Reason, "has no default app")
	})
	t.Run("to the default app", func(t *testing.T) {
		s.control("PUT", "/_sandbox/default-app", map[string]any{"appKey": appKey}, acct).must(t, 200)
		res := inbound("449999999999")
		require.True(t, res.Routed)
		assert.Equal(t, appKey, *res.AppKey)
		assert.Equal(t, "default-app", *res.Route)
		recv.wait(t, 1)
	})
	t.Run("a reply carries the context of the message it answers", func(t *testing.T) {
		var tok struct{ Token string }
		s.control("POST", "/_sandbox/apps/"+appKey+"/tokens", nil, "").must(t, 201).decode(t, &tok)
		body := `{"wabaId":"1","messageType":"text","sendNumber":"449999999999","recipientNumber":"` + userNumber + `","body":"hi"}`
		id := s.do("POST", "/api/whatsapp/v3/msg/submit", body, publicHeaders(appKey, tok.Token)).must(t, 200).envelope(t).Data.(string)
		var res struct {
			Delivery struct{ Payload json.RawMessage }
		}
		s.control("POST", "/_sandbox/events/inbound", map[string]any{"to": "449999999999", "from": userNumber, "replyTo": id}, acct).must(t, 201).decode(t, &res)
		var p struct {
			Body struct{ Context struct{ From, ID string } }
		}
		require.NoError(t, json.Unmarshal(res.Delivery.Payload, &p))
		assert.Equal(t, "449999999999", p.Body.Context.From)
		assert.True(t, strings.HasPrefix(p.Body.Context.ID, "wamid."))
		r := s.control("POST", "/_sandbox/events/inbound", map[string]any{"to": "449999999999", "from": "6200000000", "replyTo": id}, acct).must(t, 400)
		assert.Contains(t, r.envelope(t).Message, "/replyTo")
	})
}

// deliveryDetail is the control API's view of one delivery.
type deliveryDetail struct {
	ID            string
	Status        string
	Attempts      int
	Reason        *string
	NextAttemptAt *string
	AttemptLog    []struct {
		N         int
		StartedAt string
		Outcome   string
		Error     *string
		Request   struct{ Headers map[string][]string }
		Response  *struct{ Status int }
	}
}

func (s *sandbox) delivery(id string) deliveryDetail {
	var d deliveryDetail
	s.control("GET", "/_sandbox/deliveries/"+id, nil, "").must(s.t, 200).decode(s.t, &d)
	return d
}

// inboundTo fires an inbound message at an app's bound number and returns
// the event id.
func (s *sandbox) inboundTo(acct, number string) string {
	var res struct{ Delivery struct{ ID string } }
	s.control("POST", "/_sandbox/events/inbound", map[string]any{"to": number, "from": userNumber}, acct).must(s.t, 201).decode(s.t, &res)
	return res.Delivery.ID
}

// waitStatus polls a delivery until it reaches a status (5 s at most).
func (s *sandbox) waitStatus(id, status string, attempts int) deliveryDetail {
	s.t.Helper()
	var d deliveryDetail
	require.Eventually(s.t, func() bool {
		d = s.delivery(id)
		return d.Status == status && d.Attempts == attempts
	}, 5e9, 10e6, "delivery %s never reached %s after %d attempts", id, status, attempts)
	return d
}

func boundApp(t *testing.T, s *sandbox, recv *receiver) (acct string) {
	acct, appKey, _ := s.account(false)
	s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{"product": "whatsapp", "url": recv.srv.URL, "events": []string{"whatsapp_mo_message_received"}, "authorization": "s3cret"}, "").must(t, 201)
	s.control("POST", "/_sandbox/apps/"+appKey+"/bindings", map[string]any{"kind": "number", "value": "4400000001"}, "").must(t, 201)
	return acct
}

func TestRetriesFollowTheScheduleOnTheSandboxClock(t *testing.T) {
	s := newSandbox(t)
	recv := newReceiver(t, 500, 502)
	acct := boundApp(t, s, recv)
	id := s.inboundTo(acct, "4400000001")

	d := s.waitStatus(id, "pending", 1)
	require.NotNil(t, d.NextAttemptAt)
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "59s"}, acct).must(t, 200)
	assert.Never(t, func() bool { return recv.count() > 1 }, 200e6, 20e6, "the second attempt comes one minute after the first")
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1s"}, acct).must(t, 200)
	s.waitStatus(id, "pending", 2)
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2m"}, acct).must(t, 200)
	d = s.waitStatus(id, "delivered", 3)

	require.Len(t, d.AttemptLog, 3)
	for i, want := range []struct {
		status  int
		outcome string
	}{{500, "retry"}, {502, "retry"}, {200, "delivered"}} {
		a := d.AttemptLog[i]
		assert.Equal(t, i+1, a.N)
		assert.Equal(t, want.outcome, a.Outcome)
		require.NotNil(t, a.Response)
		assert.Equal(t, want.status, a.Response.Status)
		assert.Equal(t, []string{"s3cret"}, a.Request.Headers["Authorization"], "the log shows what was sent, secrets included")
	}
	// The same event id every time, so receivers can de-duplicate.
	got := recv.wait(t, 3)
	ids := map[string]bool{}
	for _, g := range got {
		var ev struct{ ID string }
		require.NoError(t, json.Unmarshal(g.body, &ev))
		ids[ev.ID] = true
	}
	assert.Equal(t, map[string]bool{id: true}, ids)
}

func TestExhaustedDeliveriesBecomeDeadLettersThatCanBeReplayed(t *testing.T) {
	s := newSandbox(t)
	recv := newReceiver(t, 500, 500, 500)
	acct := boundApp(t, s, recv)
	id := s.inboundTo(acct, "4400000001")
	s.waitStatus(id, "pending", 1)
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1m"}, acct).must(t, 200)
	s.waitStatus(id, "pending", 2)
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2m"}, acct).must(t, 200)
	d := s.waitStatus(id, "failed", 3)
	require.NotNil(t, d.Reason)
	assert.Contains(t, *d.Reason, "gave up after 3 attempts")

	var failed []map[string]any
	s.control("GET", "/_sandbox/deliveries?status=failed", nil, acct).must(t, 200).decode(t, &failed)
	require.Len(t, failed, 1)

	s.control("POST", "/_sandbox/deliveries/"+id+"/replay", nil, "").must(t, 202)
	s.waitStatus(id, "delivered", 4)
	r := s.control("POST", "/_sandbox/deliveries/"+id+"/replay", nil, "")
	r.must(t, 202)
}

func TestRetryAfterAndGone(t *testing.T) {
	t.Run("Retry-After on 503 sets the next attempt", func(t *testing.T) {
		s := newSandbox(t)
		recv := newReceiver(t, 503)
		recv.header = http.Header{"Retry-After": {"300"}}
		acct := boundApp(t, s, recv)
		id := s.inboundTo(acct, "4400000001")
		s.waitStatus(id, "pending", 1)
		s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "4m"}, acct).must(t, 200)
		assert.Never(t, func() bool { return recv.count() > 1 }, 200e6, 20e6, "Retry-After: 300 outranks the one-minute backoff")
		s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1m"}, acct).must(t, 200)
		s.waitStatus(id, "delivered", 2)
	})
	t.Run("410 Gone stops at once", func(t *testing.T) {
		s := newSandbox(t)
		recv := newReceiver(t, 410)
		acct := boundApp(t, s, recv)
		id := s.inboundTo(acct, "4400000001")
		d := s.waitStatus(id, "failed", 1)
		assert.Equal(t, "gone", d.AttemptLog[0].Outcome)
	})
	t.Run("a receiver that cannot be reached is retried", func(t *testing.T) {
		s := newSandbox(t)
		recv := newReceiver(t)
		acct := boundApp(t, s, recv)
		recv.srv.Close()
		id := s.inboundTo(acct, "4400000001")
		d := s.waitStatus(id, "pending", 1)
		require.NotNil(t, d.AttemptLog[0].Error)
		assert.Contains(t, *d.AttemptLog[0].Error, "connection error")
		assert.Nil(t, d.AttemptLog[0].Response)
	})
}

func TestControlAPIAccess(t *testing.T) {
	t.Run("admin token required when set", func(t *testing.T) {
		s := newSandbox(t, func(c *mockserver.Config) { c.AdminToken = "let-me-in-0123456789" })
		r := s.control("GET", "/_sandbox/accounts", nil, "").must(t, 403)
		assert.Equal(t, mockserver.MsgAdminToken, r.envelope(t).Message)
		s.do("GET", "/_sandbox/accounts", "", http.Header{"X-Sandbox-Admin-Token": {"let-me-in-0123456789"}}).must(t, 200)
		s.do("GET", "/healthz", "", nil).must(t, 200)
	})
}

package mockserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/fixtures"
	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state"
)

// withQuotas starts the sandbox with these quotas.
func withQuotas(q state.Quotas) func(*mockserver.Config) {
	return func(c *mockserver.Config) { c.Limits.Quotas = q }
}

// refusedForQuota checks a quota refusal: HTTP 403, the envelope naming
// the account's quota.
func refusedForQuota(t *testing.T, r response, what string) {
	t.Helper()
	e := r.must(t, http.StatusForbidden).envelope(t)
	assert.Equal(t, "403", e.Code)
	assert.Contains(t, e.Message, "quota: account ")
	assert.Contains(t, e.Message, what)
}

// count is the length of the JSON array a control GET answers.
func (s *sandbox) count(path, account string) int {
	s.t.Helper()
	var list []any
	s.control("GET", path, nil, account).must(s.t, 200).decode(s.t, &list)
	return len(list)
}

func TestQuotasRefuseWhatWouldExceedThemAndStoreNothing(t *testing.T) {
	t.Run("apps", func(t *testing.T) {
		s := newSandbox(t, withQuotas(state.Quotas{Apps: 2}))
		acct, _, _ := s.account(false) // one app
		s.control("POST", "/_sandbox/apps", map[string]any{"name": "second"}, acct).must(t, 201)
		refusedForQuota(t, s.control("POST", "/_sandbox/apps", map[string]any{"name": "third"}, acct), "has 2 apps and this would add 1; at most 2")
		assert.Equal(t, 2, s.count("/_sandbox/apps", acct))
	})
	t.Run("webhook configurations", func(t *testing.T) {
		s := newSandbox(t, withQuotas(state.Quotas{Webhooks: 1}))
		_, appKey, _ := s.account(false)
		recv := newReceiver(t)
		hookAll(t, s, appKey, "whatsapp", recv, nil)
		refusedForQuota(t, s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{"product": "sms", "url": recv.srv.URL,
			"events": []string{"sms_status_report"}}, ""), "webhook configurations")
		assert.Equal(t, 1, s.count("/_sandbox/apps/"+appKey+"/webhooks", ""))
		// Changing a configuration adds none.
		s.control("PUT", "/_sandbox/apps/"+appKey+"/webhooks/whatsapp", map[string]any{"url": recv.srv.URL,
			"events": []string{"whatsapp_mo_message_received"}}, "").must(t, 200)
	})
	t.Run("bindings", func(t *testing.T) {
		s := newSandbox(t, withQuotas(state.Quotas{Bindings: 1}))
		_, appKey, token := s.account(false)
		s.control("POST", "/_sandbox/apps/"+appKey+"/bindings", map[string]any{"kind": "number", "value": "4400000001"}, "").must(t, 201)
		refusedForQuota(t, s.control("POST", "/_sandbox/apps/"+appKey+"/bindings", map[string]any{"kind": "number", "value": "4400000002"}, ""), "bindings")
		// A send from a WABA the account never sent from binds its number.
		refusedForQuota(t, s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(appKey, token)), "bindings")
		assert.Equal(t, 1, s.count("/_sandbox/apps/"+appKey+"/bindings", ""))
	})
	t.Run("kept tokens", func(t *testing.T) {
		s := newSandbox(t, withQuotas(state.Quotas{Tokens: 2}))
		_, appKey, token := s.account(false) // one token
		s.control("POST", "/_sandbox/apps/"+appKey+"/tokens", nil, "").must(t, 201)
		refusedForQuota(t, s.control("POST", "/_sandbox/apps/"+appKey+"/tokens", nil, ""), "has 2 tokens")
		assert.Equal(t, 2, s.count("/_sandbox/apps/"+appKey+"/tokens", ""))
		_ = token
	})
	t.Run("templates", func(t *testing.T) {
		seed, err := fixtures.LoadSeed("")
		require.NoError(t, err)
		seeded := 0
		for _, w := range seed.Accounts[0].Wabas {
			seeded += len(w.Templates)
		}
		s := newSandbox(t, withQuotas(state.Quotas{Templates: seeded + 1}))
		s.do("POST", "/api/whatsapp/v3/template/submit", submitTemplate("order_paid"), publicHeaders(demoAppKey, demoToken)).must(t, 200)
		refusedForQuota(t, s.do("POST", "/api/whatsapp/v3/template/submit", submitTemplate("order_refunded"), publicHeaders(demoAppKey, demoToken)), "templates")
		assert.Equal(t, seeded+1, s.count("/_sandbox/templates", demoAccount))
	})
	t.Run("pending deliveries", func(t *testing.T) {
		s := newSandbox(t, withQuotas(state.Quotas{PendingDeliveries: 2}))
		acct, appKey, token := s.account(false)
		recv := newReceiver(t)
		s.smsHook(appKey, map[string]any{"url": recv.srv.URL, "events": []string{"sms_status_report"}})
		send := func(mobile string) response {
			return s.do("POST", smsPath, smsBody(t, map[string]any{"msg": "hi", "mobile": mobile}), publicHeaders(appKey, token))
		}
		send("8613800138000,8613800138001").must(t, 200) // two reports, due in 2 s on the account's clock
		before := s.count("/_sandbox/deliveries", acct)
		refusedForQuota(t, send("8613800138002"), "has 2 pending deliveries and this would add 1; at most 2")
		refusedForQuota(t, s.trigger(map[string]any{"type": "sms_status_report", "appKey": appKey}, ""), "pending deliveries")
		assert.Equal(t, before, s.count("/_sandbox/deliveries", acct), "nothing stored")

		// Delivered, they leave the outbox, and sends are taken again.
		s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2s"}, acct).must(t, 200)
		recv.wait(t, 2)
		require.Eventually(t, func() bool { return send("8613800138002").status == 200 }, 5*time.Second, 20*time.Millisecond)
	})
	t.Run("other accounts are not held back", func(t *testing.T) {
		s := newSandbox(t, withQuotas(state.Quotas{Apps: 1}))
		acct, _, _ := s.account(false)
		refusedForQuota(t, s.control("POST", "/_sandbox/apps", map[string]any{"name": "second"}, acct), "apps")
		s.account(false) // a new account still gets its app
	})
}

func TestRateLimitPerAppKey(t *testing.T) {
	clk := clock.NewFake(time.Now())
	s := newSandbox(t, func(c *mockserver.Config) {
		c.Clock = clk
		c.Limits.Rate, c.Limits.Burst = 1, 2
	})
	_, appKey, token := s.account(false)
	send := func(key, tok string) response {
		return s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(key, tok))
	}
	send(appKey, token).must(t, 200)
	send(appKey, token).must(t, 200)
	r := send(appKey, token).must(t, http.StatusTooManyRequests)
	e := r.envelope(t)
	assert.Equal(t, mockserver.CodeRateLimited, e.Code)
	assert.Contains(t, e.Message, mockserver.MsgRateLimited+": at most 1 per second (bursts of 2)")
	assert.Equal(t, "1", r.header.Get("Retry-After"))

	send(demoAppKey, demoToken).must(t, 200) // another AppKey has its own bucket
	clk.Advance(time.Second)
	send(appKey, token).must(t, 200) // a refused call used no token: one second buys one call
	send(appKey, token).must(t, http.StatusTooManyRequests)
	// A caller that fails authentication is refused for that, never 429.
	send(appKey, "wrong").must(t, http.StatusUnauthorized)
}

func TestRateLimitOffWithZero(t *testing.T) {
	s := newSandbox(t) // Limits.Rate 0
	for range 50 {
		s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(demoAppKey, demoToken)).must(t, 200)
	}
}

func TestLimitsValidate(t *testing.T) {
	valid := mockserver.DefaultLimits
	require.NoError(t, valid.Validate())
	for name, change := range map[string]func(*mockserver.Limits){
		"negative rate":    func(l *mockserver.Limits) { l.Rate = -1 },
		"negative quota":   func(l *mockserver.Limits) { l.Quotas.Apps = -1 },
		"negative uploads": func(l *mockserver.Limits) { l.Uploads = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			l := valid
			change(&l)
			assert.ErrorContains(t, l.Validate(), "0 turns it off")
		})
	}
}

func TestAStoredRequestBodyKeepsAtMost16KiB(t *testing.T) {
	s := newSandbox(t)
	for _, tc := range []struct {
		name string
		pad  int
		want int
	}{
		{"a small body whole", 10, -1},
		{"a large body cut", 100 << 10, mockserver.MaxStoredBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := smsBody(t, map[string]any{"msg": "hi", "mobile": "8613800138000", "padding": strings.Repeat("x", tc.pad)})
			e := s.do("POST", smsPath, body, publicHeaders(demoAppKey, demoToken)).must(t, 200).envelope(t)
			data, _ := e.Data.(map[string]any) // {messageId} (DECISIONS row 32)
			id, _ := data["messageId"].(string)
			require.NotEmpty(t, id, "an accepted send: %v", e)
			m, err := s.srv.Sandbox().Store().GetMessage(context.Background(), id)
			require.NoError(t, err)
			if tc.want < 0 {
				assert.Equal(t, body, string(m.Request))
			} else {
				assert.Len(t, m.Request, tc.want)
				assert.Equal(t, body[:tc.want], string(m.Request))
			}
		})
	}
}

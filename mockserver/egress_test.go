package mockserver_test

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/dispatch"
)

// accountNames lists the sandbox's accounts.
func (s *sandbox) accountNames() []string {
	s.t.Helper()
	var list []struct{ Name string }
	s.control("GET", "/_sandbox/accounts", nil, "").must(s.t, 200).decode(s.t, &list)
	names := make([]string, len(list))
	for i, a := range list {
		names[i] = a.Name
	}
	return names
}

// The attack of issue 9: a caller of the public API names the sandbox's own
// reset as a callback, and the sandbox's pusher, itself on loopback, calls it.
func TestNoPushResetsTheSandbox(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	victim, _, _ := s.account(false)
	reset := s.url + "/_sandbox/reset"
	_, port, err := net.SplitHostPort(strings.TrimPrefix(s.url, "http://"))
	require.NoError(t, err)

	t.Run("an SMS callBackUrl naming the sandbox is refused when sent", func(t *testing.T) {
		for _, u := range []string{reset, "http://2130706433:" + port + "/_sandbox/reset", "http://[::ffff:127.0.0.1]:" + port + "/_sandbox/reset"} {
			r := s.do("POST", smsPath, smsBody(t, map[string]any{"msg": "hi", "mobile": "8613800138000", "callBackUrl": u}),
				publicHeaders(appKey, token)).must(t, 400)
			e := r.envelope(t)
			assert.Contains(t, e.Message, "/callBackUrl: destination not allowed: 127.0.0.1 (self)", u)
			assert.Contains(t, e.Message, "never pushes to its own listeners")
		}
	})
	t.Run("a webhook URL naming the sandbox is refused when configured", func(t *testing.T) {
		r := s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{"product": "whatsapp", "url": reset,
			"events": []string{"whatsapp_template_status_updated"}}, "").must(t, 400)
		assert.Contains(t, r.envelope(t).Message, "/url: destination not allowed: 127.0.0.1 (self)")
	})
	t.Run("a name for the sandbox is refused when the push connects, and not retried", func(t *testing.T) {
		byName := "http://localhost:" + port + "/_sandbox/reset"
		s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{"product": "whatsapp", "url": byName,
			"events": []string{"whatsapp_template_status_updated"}}, "").must(t, 201)
		id := s.fire(appKey).Delivery.ID
		d := s.waitStatus(id, "failed", 1)
		require.Len(t, d.AttemptLog, 1)
		require.NotNil(t, d.AttemptLog[0].Error)
		assert.Equal(t, "destination not allowed: 127.0.0.1 (self)", *d.AttemptLog[0].Error)
		assert.Equal(t, "failed", d.AttemptLog[0].Outcome)
		assert.Nil(t, d.AttemptLog[0].Response, "nothing was sent")
		require.NotNil(t, d.Reason)
		assert.Equal(t, "destination not allowed: 127.0.0.1 (self)", *d.Reason)

		s.control("POST", "/_sandbox/deliveries/"+id+"/replay", nil, "").must(t, 202)
		d = s.waitStatus(id, "failed", 2)
		assert.Equal(t, "destination not allowed: 127.0.0.1 (self)", *d.AttemptLog[1].Error, "a replay passes the same guard")
	})
	assert.Subset(t, s.accountNames(), []string{acct, victim}, "every account is still there")
}

// A sandbox listening beyond loopback allows public addresses only: its
// receivers on loopback (the only ones a test may use) stand for the host's
// private services.
func TestAWideSandboxPushesToNoLocalAddress(t *testing.T) {
	s := newSandbox(t, func(c *mockserver.Config) { c.Dispatch.Guard = dispatch.NewGuard(dispatch.Policy{}) })
	acct, appKey, token := s.account(false)
	recv := newReceiver(t)
	u, err := url.Parse(recv.srv.URL)
	require.NoError(t, err)

	for _, literal := range []string{recv.srv.URL, "http://[::ffff:127.0.0.1]:" + u.Port(), "http://0x7f.1:" + u.Port(),
		"http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/"} {
		r := s.do("POST", smsPath, smsBody(t, map[string]any{"msg": "hi", "mobile": "8613800138000", "callBackUrl": literal}),
			publicHeaders(appKey, token)).must(t, 400)
		assert.Contains(t, r.envelope(t).Message, "/callBackUrl: destination not allowed: ", literal)
	}
	r := s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{"product": "whatsapp", "url": recv.srv.URL,
		"events": []string{"whatsapp_template_status_updated"}}, "").must(t, 400)
	assert.Contains(t, r.envelope(t).Message, "/url: destination not allowed: 127.0.0.1 (loopback): this sandbox pushes to loopback addresses only where --webhook-allow says so")

	// A name resolving to loopback passes the configuration, not the dial.
	s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{"product": "whatsapp", "url": "http://localhost:" + u.Port() + "/hook",
		"events": []string{"whatsapp_template_status_updated"}}, "").must(t, 201)
	id := s.fire(appKey).Delivery.ID
	d := s.waitStatus(id, "failed", 1)
	assert.Equal(t, "destination not allowed: 127.0.0.1 (loopback)", *d.AttemptLog[0].Error)
	assert.Zero(t, recv.count(), "the receiver heard nothing")
	assert.Contains(t, s.accountNames(), acct)
}

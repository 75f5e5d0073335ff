package mockserver_test

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type probeResult struct {
	OK        bool
	Status    *int
	LatencyMs float64
	Error     *string
	Answer    string
}

func TestVerifyWebhookReportsWhatTheReceiverAnswered(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, _ := s.account(false)
	configure := func(url string) {
		s.control("PUT", "/_sandbox/apps/"+appKey+"/webhooks/sms", map[string]any{"url": url, "events": []string{"sms_status_report"},
			"username": "shop", "authorization": "s3cret"}, "").must(t, 200)
	}
	s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{"product": "sms", "url": "http://127.0.0.1:1/x", "events": []string{"sms_status_report"}}, "").must(t, 201)
	before := s.deliveryCount(acct)
	verify := func() probeResult {
		var p probeResult
		s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks/sms/verify", nil, "").must(t, 200).decode(t, &p)
		return p
	}

	t.Run("a receiver that answers 200", func(t *testing.T) {
		recv := newReceiver(t)
		configure(recv.srv.URL)
		p := verify()
		assert.True(t, p.OK)
		require.NotNil(t, p.Status)
		assert.Equal(t, 200, *p.Status)
		assert.Nil(t, p.Error)
		got := recv.wait(t, 1)[0]
		assert.Equal(t, "POST", got.method)
		assert.Equal(t, []string{"shop"}, got.header["Username"], "the configured headers, as on a push")
		assert.Equal(t, "s3cret", got.header.Get("Authorization"))
		assert.JSONEq(t, `{}`, string(got.body))
	})
	t.Run("a receiver that answers 500", func(t *testing.T) {
		recv := newReceiver(t, 500)
		configure(recv.srv.URL)
		p := verify()
		assert.False(t, p.OK)
		require.NotNil(t, p.Status)
		assert.Equal(t, 500, *p.Status)
	})
	t.Run("nobody listening", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		configure("http://" + addr + "/hook")
		p := verify()
		assert.False(t, p.OK)
		assert.Nil(t, p.Status)
		require.NotNil(t, p.Error)
		assert.Contains(t, *p.Error, "connection")
	})
	t.Run("nothing is recorded", func(t *testing.T) {
		assert.Equal(t, before, s.deliveryCount(acct), "a probe is not a delivery")
	})
	t.Run("no configuration", func(t *testing.T) {
		s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks/otp/verify", nil, "").must(t, 404)
	})
}

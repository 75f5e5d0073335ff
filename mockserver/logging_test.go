package mockserver_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/syncbuf"
)

func TestSecretsNeverReachTheLog(t *testing.T) {
	var logs syncbuf.Buffer
	s := newSandbox(t, logTo(&logs, slog.LevelDebug))
	acct, appKey, token := s.account(false)
	recv := newReceiver(t, 500)
	s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{"product": "whatsapp", "url": recv.srv.URL + "/hook?key=query-secret",
		"events": []string{"whatsapp_message_status_updated"}, "username": "user-secret", "authorization": "webhook-secret"}, "").must(t, 201)
	var rotated struct{ Token string }
	s.control("POST", "/_sandbox/apps/"+appKey+"/tokens", nil, "").must(t, 201).decode(t, &rotated)
	s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(appKey, token)).must(t, 401)
	s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(appKey, rotated.Token)).must(t, 200)
	s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(appKey, "Bearer "+rotated.Token)).must(t, 401)
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "3s"}, acct).must(t, 200)
	recv.wait(t, 2) // one failed and one delivered attempt, both logged

	out := logs.String()
	require.Contains(t, out, `"msg":"request"`, "one line per request")
	require.Contains(t, out, `"msg":"delivery attempt"`, "one line per delivery attempt")
	for _, secret := range []string{token, rotated.Token, "webhook-secret", "user-secret", "query-secret"} {
		assert.False(t, strings.Contains(out, secret), "the log must not contain %q", secret)
	}
}

// A request's log line says what the client saw: the business code of the
// answer, so a 108 answered with HTTP 200 does not read as a success.
func TestRequestLogCarriesTheBusinessCode(t *testing.T) {
	var logs syncbuf.Buffer
	s := newSandbox(t, logTo(&logs, slog.LevelInfo))
	_, appKey, token := s.account(false)
	s.do("POST", "/api/sms/v3/msg/send", `{"msg":"Hi","mobile":"+99900612345"}`, publicHeaders(appKey, token)).must(t, 200)
	s.do("POST", "/api/otp/v3/msg/send/verify", otpBody("99900612345"), publicHeaders(appKey, token)).must(t, 200)
	s.do("POST", "/api/otp/v3/msg/send/verify", otpBody("99900612345"), publicHeaders(appKey, "wrong")).must(t, 401)
	out := logs.String()
	assert.Regexp(t, `"op":"smsSendMessage","status":200,[^\n]*"code":"108"`, out, "a refusal answered with HTTP 200")
	assert.Regexp(t, `"op":"otpSendVerification","status":200,[^\n]*"code":"000000"`, out, "the OTP send's success code")
	assert.Regexp(t, `"op":"otpSendVerification","status":401,[^\n]*"code":"102"`, out)
}

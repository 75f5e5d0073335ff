package mockserver_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/secret"
	"github.com/innosandbox/innosandbox/internal/syncbuf"
)

// TestWebhookSecretsAreWriteOnly configures an SMS webhook with a known
// Authorization, has it pushed (as a header and as the report's pswd) to a
// receiver that echoes it back, and then looks for the secret in every
// answer of the control API, in /metrics and in the log: it is in none, in
// neither its plain nor its JSON-escaped form, while the receiver got it
// whole.
func TestWebhookSecretsAreWriteOnly(t *testing.T) {
	const auth = `Bearer partner-"s3cret"-<XYZ1>`
	var logs syncbuf.Buffer
	s := newSandbox(t, logTo(&logs, slog.LevelDebug))
	acct, appKey, token := s.account(false)
	recv := newReceiver(t, 500) // a failed attempt first, then a delivered one
	recv.header = http.Header{"X-Echo": {auth}}
	s.smsHook(appKey, map[string]any{"url": recv.srv.URL + "/sms", "events": []string{"sms_status_report"},
		"username": "shop", "authorization": auth})

	var answers []string
	keep := func(r response) response { answers = append(answers, string(r.body)); return r }

	keep(s.do("POST", smsPath, smsBody(t, map[string]any{"msg": "hello", "mobile": "8613800138000"}), publicHeaders(appKey, token)).must(t, 200))
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2s"}, acct).must(t, 200)
	got := recv.wait(t, 1)
	assert.Equal(t, auth, got[0].header.Get("Authorization"), "the receiver gets the secret whole")
	var report map[string]string
	require.NoError(t, json.Unmarshal(got[0].body, &report))
	assert.Equal(t, auth, report["pswd"], "the receiver gets the pswd whole")
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2m"}, acct).must(t, 200)
	recv.wait(t, 2)

	hook := keep(s.control("GET", "/_sandbox/apps/"+appKey+"/webhooks/sms", nil, "").must(t, 200))
	var view struct{ Authorization *string }
	hook.decode(t, &view)
	require.NotNil(t, view.Authorization)
	assert.Equal(t, secret.Mask(auth), *view.Authorization, "the webhook shows its authorization masked")
	keep(s.control("GET", "/_sandbox/apps/"+appKey+"/webhooks", nil, "").must(t, 200))
	keep(s.control("PUT", "/_sandbox/apps/"+appKey+"/webhooks/sms", map[string]any{"url": recv.srv.URL + "/sms",
		"events": []string{"sms_status_report"}, "authorization": auth}, "").must(t, 200))
	var list []struct{ ID string }
	keep(s.control("GET", "/_sandbox/deliveries?appKey="+appKey, nil, acct).must(t, 200)).decode(t, &list)
	require.NotEmpty(t, list)
	var detail deliveryDetail
	for _, d := range list {
		keep(s.control("GET", "/_sandbox/deliveries/"+d.ID, nil, acct).must(t, 200)).decode(t, &detail)
	}
	require.NotEmpty(t, detail.AttemptLog, "the attempts are in the log")
	assert.Equal(t, []string{secret.Mask(auth)}, detail.AttemptLog[0].Request.Headers["Authorization"])
	keep(s.trigger(map[string]any{"type": "sms_status_report", "appKey": appKey}, "").must(t, 201))
	keep(s.control("POST", "/_sandbox/deliveries/"+list[0].ID+"/replay", nil, acct).must(t, 202))

	resp, err := http.Get(s.url + "/metrics")
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	answers = append(answers, string(metrics), logs.String())

	escaped, err := json.Marshal(auth)
	require.NoError(t, err)
	for _, needle := range []string{auth, "s3cret", string(escaped[1 : len(escaped)-1]), `partner-\"s3cret\"`} {
		for i, a := range answers {
			assert.NotContains(t, a, needle, "answer %d shows the secret", i)
		}
	}
}

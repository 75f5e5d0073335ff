package mockserver_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/sqlite"
)

const smsPath = "/api/sms/v3/msg/send"

// smsBody is an SMS send body with the given members (v marshalled).
func smsBody(t *testing.T, fields map[string]any) string {
	t.Helper()
	b, err := json.Marshal(fields)
	require.NoError(t, err)
	return string(b)
}

// smsHook configures the app's SMS webhook.
func (s *sandbox) smsHook(appKey string, hook map[string]any) {
	s.t.Helper()
	hook["product"] = "sms"
	s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", hook, "").must(s.t, 201)
}

// flatPayloads decodes pushes of flat, all-string payloads, by mobile.
func flatPayloads(t *testing.T, got []received) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, p := range got {
		var m map[string]string // fails on any member that is not a string
		require.NoError(t, json.Unmarshal(p.body, &m), "%s", p.body)
		out[m["mobile"]] = m
	}
	return out
}

func TestSMSSendAnswersAMsgidAndPushesOneReportPerNumber(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	recv := newReceiver(t)
	s.smsHook(appKey, map[string]any{"url": recv.srv.URL + "/sms", "events": []string{"sms_status_report"},
		"username": "shop", "authorization": "s3cret"})

	r := s.do("POST", smsPath, smsBody(t, map[string]any{
		"msg": "[Shop] Your verification code is 245098.", "mobile": "8613800138000,008613900139000",
		"senderId": "10690000", "uid": "ORDER_20251104_001",
	}), publicHeaders(appKey, token)).must(t, 200)
	e := r.envelope(t)
	assert.Equal(t, "0", e.Code)
	assert.Equal(t, "Success", e.Message)
	data, _ := e.Data.(map[string]any)
	require.NotNil(t, data, "data is an object {messageId}: %s", r.body)
	assert.Len(t, data, 1, "data holds messageId only: %s", r.body)
	id, _ := data["messageId"].(string)
	assert.Regexp(t, `^[1-9][0-9]{17}$`, id)

	// Due two seconds later on the account's clock, not before.
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1s"}, acct).must(t, 200)
	assert.Zero(t, recv.count())
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1s"}, acct).must(t, 200)
	got := recv.wait(t, 2)
	for _, p := range got {
		assert.Equal(t, "POST", p.method)
		assert.Equal(t, []string{"shop"}, p.header["Username"], "the configured UserName travels as a header too")
		assert.Equal(t, "s3cret", p.header.Get("Authorization"))
	}
	reports := flatPayloads(t, got)
	require.Len(t, reports, 2)
	for _, mobile := range []string{"8613800138000", "008613900139000"} {
		rep := reports[mobile]
		require.NotNil(t, rep, "a report for %s (the number exactly as submitted)", mobile)
		assert.Len(t, rep, 20, "every documented member")
		assert.Equal(t, "shop", rep["receiver"])
		assert.Equal(t, "s3cret", rep["pswd"])
		assert.Equal(t, id, rep["msgid"])
		assert.Equal(t, "ORDER_20251104_001", rep["uid"])
		assert.Regexp(t, `^I[0-9]{7}_[0-9]{10}_[0-9]+$`, rep["batchSeq"])
		assert.Equal(t, "DELIVRD", rep["status"])
		assert.Equal(t, "10690000", rep["accessNumber"])
		assert.Equal(t, "CN", rep["regionCode"])
		assert.Equal(t, "0086", rep["countryNumber"])
		assert.Equal(t, "1", rep["smsNum"])
		assert.Equal(t, "CNY", rep["currency"])
		assert.Equal(t, "0.0567", rep["fee"])
		requested, err := strconv.ParseInt(rep["requestTime"], 10, 64)
		require.NoError(t, err)
		reported, err := strconv.ParseInt(rep["reportTime"], 10, 64)
		require.NoError(t, err)
		assert.Equal(t, int64(2000), reported-requested, "reported 2 s after the send, epoch milliseconds")
		assert.Equal(t, rep["reportTime"], rep["notifyTime"])
	}
	assert.Equal(t, reports["8613800138000"]["batchSeq"], reports["008613900139000"]["batchSeq"], "one batch per send")

	// Without a uid, uid is the batchSeq; without credentials, receiver and pswd are empty.
	acct2, app2, token2 := s.account(false)
	recv2 := newReceiver(t)
	s.smsHook(app2, map[string]any{"url": recv2.srv.URL, "events": []string{"sms_status_report"}})
	s.do("POST", smsPath, smsBody(t, map[string]any{"msg": strings.Repeat("a", 161), "mobile": "6285234567899"}),
		publicHeaders(app2, token2)).must(t, 200)
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2s"}, acct2).must(t, 200)
	got = recv2.wait(t, 1)
	rep := flatPayloads(t, got)["6285234567899"]
	assert.Equal(t, rep["batchSeq"], rep["uid"])
	assert.Equal(t, "", rep["receiver"])
	assert.Equal(t, "", rep["pswd"])
	assert.Equal(t, "2", rep["smsNum"], "161 GSM characters are two parts")
	assert.Equal(t, "ID", rep["regionCode"])
	assert.NotContains(t, got[0].header, "Username")
	assert.NotContains(t, got[0].header, "Authorization")
}

func TestSMSBusinessRulesAnswerTheirCodes(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	valid := map[string]any{"msg": "hello", "mobile": "8613800138000"}
	with := func(k string, v any) string { return bodyWith(t, valid, k, v) }
	numbers := func(n int) string { return strings.TrimSuffix(strings.Repeat("8613800138000,", n), ",") }
	tests := []refusal{
		{"uid too long", with("uid", strings.Repeat("ü", 65)), 200, "105", "/uid: 65 characters; at most 64"},
		{"msg too long", with("msg", strings.Repeat("x", 2001)), 200, "106", "/msg: 2001 characters; at most 2000"},
		{"number too short", with("mobile", "8613800138000,1380"), 200, "108", `number 2 ("1380") must be 5 to 20 digits`},
		{"number with a plus", with("mobile", "+8613800138000"), 200, "108", "must be 5 to 20 digits"},
		{"empty entry", with("mobile", "8613800138000,"), 200, "108", "number 2"},
		{"too many numbers", with("mobile", numbers(1001)), 200, "109", "1001 numbers given; at most 1000"},
		{"msg missing", with("msg", nil), 400, "400", `/msg: property "msg" is missing`},
		{"mobile not a string", with("mobile", 8613800138000), 400, "400", "/mobile"},
		{"callBackUrl with a space", with("callBackUrl", "https://a.example/x y"), 400, "400", "/callBackUrl"},
		{"callBackUrl not http", with("callBackUrl", "ftp://a.example/x"), 400, "400", "/callBackUrl"},
		{"callBackUrl without a host", with("callBackUrl", "http://#x"), 400, "400", "/callBackUrl: has no host"},
	}
	before := s.deliveryCount(acct)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do("POST", smsPath, tc.body, publicHeaders(appKey, token)).must(t, tc.status)
			e := r.envelope(t)
			assert.Equal(t, tc.code, e.Code)
			assert.Contains(t, e.Message, tc.want)
			assert.Nil(t, e.Data)
		})
	}
	assert.Equal(t, before, s.deliveryCount(acct), "a refused send must not schedule anything")

	// The limits themselves are accepted.
	for name, body := range map[string]string{
		"uid of 64": with("uid", strings.Repeat("ü", 64)), "msg of 2000": with("msg", strings.Repeat("中", 2000)),
		"1000 numbers": with("mobile", numbers(1000)), "20 digits": with("mobile", "12345678901234567890"),
	} {
		r := s.do("POST", smsPath, body, publicHeaders(appKey, token)).must(t, 200)
		assert.Equal(t, "0", r.envelope(t).Code, name)
	}
}

func TestSMSCallBackURLWinsOverTheAppsWebhook(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	hook, callback := newReceiver(t), newReceiver(t)
	s.smsHook(appKey, map[string]any{"url": hook.srv.URL, "events": []string{"sms_status_report"},
		"username": "shop", "authorization": "s3cret", "method": "PUT"})

	s.do("POST", smsPath, smsBody(t, map[string]any{"msg": "hi", "mobile": "8613800138000,6285234567899",
		"callBackUrl": callback.srv.URL + "/cb?order=1"}), publicHeaders(appKey, token)).must(t, 200)
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2s"}, acct).must(t, 200)
	got := callback.wait(t, 2)
	for _, p := range got {
		assert.Equal(t, "POST", p.method, "the SMS pages push with POST")
		assert.Equal(t, []string{"shop"}, p.header["Username"], "with the app's SMS credentials")
		assert.Equal(t, "s3cret", p.header.Get("Authorization"))
	}
	assert.Equal(t, "shop", flatPayloads(t, got)["8613800138000"]["receiver"])
	assert.Zero(t, hook.count(), "the per-message callBackUrl replaces the app's webhook")

	var list []struct {
		Route  string
		Target struct{ URL string }
	}
	s.control("GET", "/_sandbox/deliveries?type=sms_status_report", nil, acct).must(t, 200).decode(t, &list)
	require.Len(t, list, 2)
	assert.Equal(t, "callBackUrl", list[0].Route)
	assert.Equal(t, callback.srv.URL+"/cb?order=1", list[0].Target.URL)

	t.Run("needs no SMS configuration and no ticked event", func(t *testing.T) {
		acct, appKey, token := s.account(false)
		cb := newReceiver(t)
		s.do("POST", smsPath, smsBody(t, map[string]any{"msg": "hi", "mobile": "8613800138000", "callBackUrl": cb.srv.URL}),
			publicHeaders(appKey, token)).must(t, 200)
		s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2s"}, acct).must(t, 200)
		p := cb.wait(t, 1)[0]
		assert.NotContains(t, p.header, "Username")
		assert.NotContains(t, p.header, "Authorization")
		rep := flatPayloads(t, []received{p})["8613800138000"]
		assert.Equal(t, "", rep["receiver"])
		assert.Equal(t, "", rep["pswd"])
	})

	t.Run("without it, an unticked event is dropped", func(t *testing.T) {
		acct, appKey, token := s.account(false)
		rc := newReceiver(t)
		s.smsHook(appKey, map[string]any{"url": rc.srv.URL, "events": []string{"sms_mo_message_received"}})
		s.do("POST", smsPath, smsBody(t, map[string]any{"msg": "hi", "mobile": "8613800138000"}),
			publicHeaders(appKey, token)).must(t, 200)
		var list []struct{ Status, Reason string }
		s.control("GET", "/_sandbox/deliveries?type=sms_status_report", nil, acct).must(t, 200).decode(t, &list)
		require.Len(t, list, 1)
		assert.Equal(t, "dropped", list[0].Status)
		assert.Contains(t, list[0].Reason, "does not subscribe to sms_status_report")
	})
}

func TestSMSMagicNumbers(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	recv := newReceiver(t)
	s.smsHook(appKey, map[string]any{"url": recv.srv.URL, "events": []string{"sms_status_report"}})
	want := map[string]string{
		"8613800138000": "DELIVRD",
		"999101":        "UNDELIV",
		"9991020001":    "EXPIRED", // the digits after the first are free
		"999103":        "REJECTD",
		"999104":        "UNKNOWN",
		"999105":        "DELETED",
		"99910":         "UNDELIV", // no code: the generic failure
		"999109":        "UNDELIV", // a digit the table does not name
		"0099910":       "UNDELIV", // with the international prefix
		"99920":         "DELIVRD", // WhatsApp outcomes are ordinary numbers for SMS
		"99930":         "DELIVRD",
		"99950":         "DELIVRD",
	}
	mobiles := make([]string, 0, len(want)+2)
	for m := range want {
		mobiles = append(mobiles, m)
	}
	mobiles = append(mobiles, "99940", "9994012345")
	s.do("POST", smsPath, smsBody(t, map[string]any{"msg": "hi", "mobile": strings.Join(mobiles, ",")}),
		publicHeaders(appKey, token)).must(t, 200)

	// 99940 numbers get no report: not even an event in the log.
	assert.Equal(t, len(want), s.eventCount(acct, "sms_status_report"))
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2s"}, acct).must(t, 200)
	reports := flatPayloads(t, recv.wait(t, len(want)))
	for mobile, status := range want {
		assert.Equal(t, status, reports[mobile]["status"], mobile)
	}
	assert.NotContains(t, reports, "99940")
	assert.Equal(t, "ZZ", reports["999103"]["regionCode"])
}

// The SQLite store keeps SMS and OTP messages (no WABA, no wamids) and
// their flat events like any other: the same sends, end to end.
func TestSMSAndOTPOnTheSQLiteStore(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sandbox.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	s := newSandboxOn(t, store)
	acct, appKey, token := s.account(false)
	recv := newReceiver(t)
	s.smsHook(appKey, map[string]any{"url": recv.srv.URL, "events": []string{"sms_status_report"}})
	s.otpHook(appKey, recv.srv.URL)
	s.do("POST", smsPath, smsBody(t, map[string]any{"msg": "hi", "mobile": "8613800138000,999102,99940"}),
		publicHeaders(appKey, token)).must(t, 200)
	s.do("POST", otpPath, otpBody("250784928786"), publicHeaders(appKey, token)).must(t, 200)
	assert.Equal(t, 4, s.eventCount(acct, "sms_status_report", "otp_status_report"))
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "3s"}, acct).must(t, 200)
	got := recv.wait(t, 4)
	statuses := map[string]int{}
	for _, p := range got {
		var m map[string]any
		require.NoError(t, json.Unmarshal(p.body, &m))
		statuses[m["mobile"].(string)+":"+m["status"].(string)]++
	}
	assert.Equal(t, map[string]int{"8613800138000:DELIVRD": 1, "999102:EXPIRED": 1, "250784928786:0": 1, "250784928786:2": 1}, statuses)
}

// The newer known client decodes data as {messageId}; --sms-data string
// keeps the bare id for a client written against the WhatsApp send's form.
func TestSMSDataFormIsConfigurable(t *testing.T) {
	body := `{"msg":"Hello","mobile":"99900612345"}`
	for _, tc := range []struct {
		name      string
		asString  bool
		wantMatch string
	}{
		{"object by default", false, `"data":{"messageId":"[1-9][0-9]{17}"}`},
		{"string when asked", true, `"data":"[1-9][0-9]{17}"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t, func(c *mockserver.Config) { c.SMSDataString = tc.asString })
			_, appKey, token := s.account(false)
			r := s.do("POST", smsPath, body, publicHeaders(appKey, token)).must(t, 200)
			assert.Regexp(t, tc.wantMatch, string(r.body))
		})
	}
}

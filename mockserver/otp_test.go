package mockserver_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
)

const otpPath = "/api/otp/v3/msg/send/verify"

// otpBody is the body the known client sends, to the given number.
func otpBody(to string) string {
	return `{"to":"` + to + `","type":"3","language":"en","code":"0123"}`
}

// otpHook configures the app's OTP webhook for otp_status_report.
func (s *sandbox) otpHook(appKey, url string) {
	s.t.Helper()
	s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{
		"product": "otp", "url": url, "events": []string{"otp_status_report"},
	}, "").must(s.t, 201)
}

// otpPush is an otp_status_report as a receiver reads it.
type otpPush struct {
	AccountNo, AppKey, MessageID, Mobile, Status, Code, ReportTime string
	ErrCode, ErrMessage                                            *string
}

func decodeOTP(t *testing.T, p received) otpPush {
	t.Helper()
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(p.body, &raw), "%s", p.body)
	assert.Contains(t, raw, "errCode", "errCode is null, not absent, without an error")
	assert.Contains(t, raw, "errMessage")
	var o otpPush
	require.NoError(t, json.Unmarshal(p.body, &o))
	return o
}

func TestOTPSendAnswersSuccessAndPushesProgressThenResult(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	recv := newReceiver(t)
	s.otpHook(appKey, recv.srv.URL)

	r := s.do("POST", otpPath, otpBody("250784928786"), publicHeaders(appKey, token)).must(t, 200)
	var ans mockserver.OTPEnvelope
	r.decode(t, &ans)
	assert.Equal(t, "000000", ans.Code, "the newer client's success code by default")
	assert.True(t, ans.Success)
	assert.Equal(t, mockserver.MsgSuccess, ans.Message)
	id, _ := ans.Data.(string)
	assert.Regexp(t, `^[1-9][0-9]{17}$`, id)

	assert.Zero(t, recv.count())
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1s"}, acct).must(t, 200)
	progress := decodeOTP(t, recv.wait(t, 1)[0])
	assert.Equal(t, "0", progress.Status, "in progress first")
	assert.Equal(t, "success", progress.Code, "as the docs' example pairs them")
	assert.Nil(t, progress.ErrCode)
	assert.Nil(t, progress.ErrMessage)

	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2s"}, acct).must(t, 200)
	final := decodeOTP(t, recv.wait(t, 2)[1])
	assert.Equal(t, "2", final.Status)
	assert.Equal(t, "success", final.Code)
	assert.Nil(t, final.ErrCode)
	for _, p := range []otpPush{progress, final} {
		assert.Equal(t, acct, p.AccountNo)
		assert.Equal(t, appKey, p.AppKey)
		assert.Equal(t, id, p.MessageID, "messageId is the send's data")
		assert.Equal(t, "250784928786", p.Mobile)
	}
	t0, err := time.Parse("2006-01-02 15:04:05", progress.ReportTime)
	require.NoError(t, err)
	t1, err := time.Parse("2006-01-02 15:04:05", final.ReportTime)
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, t1.Sub(t0).Round(time.Second))
}

func TestOTPBusinessRulesAnswerTheirCodesWithSuccessFalse(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	tests := []refusal{
		{"several numbers", otpBody("250784928786,250784928787"), 200, "109", "2 numbers given; an OTP goes to exactly one number"},
		{"a comma wins over a malformed number", otpBody("+250,x"), 200, "109", "exactly one number"},
		{"plus sign and a space", otpBody("+250 784928786"), 200, "108", `/to: "+250 784928786" must be 5 to 20 digits, country code first, optionally after one +`},
		{"two plus signs", otpBody("++250784928786"), 200, "108", "optionally after one +"},
		{"a plus and 4 digits", otpBody("+2507"), 200, "108", "must be 5 to 20 digits"},
		{"too short", otpBody("2507"), 200, "108", "must be 5 to 20 digits"},
		{"too long", otpBody("250784928786250784928"), 200, "108", "must be 5 to 20 digits"},
		{"code missing", `{"to":"250784928786","type":"3"}`, 400, "400", `/code: property "code" is missing`},
		{"code as a number", `{"to":"250784928786","type":"3","code":123}`, 400, "400", "/code"},
		{"type not digits", `{"to":"250784928786","type":"otp","code":"1"}`, 400, "400", "/type"},
	}
	before := s.deliveryCount(acct)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do("POST", otpPath, tc.body, publicHeaders(appKey, token)).must(t, tc.status)
			var ans struct {
				Code    string
				Success *bool
				Message string
				Data    any
			}
			r.decode(t, &ans)
			assert.Equal(t, tc.code, ans.Code)
			assert.Contains(t, ans.Message, tc.want)
			assert.Nil(t, ans.Data)
			if tc.status == 200 {
				require.NotNil(t, ans.Success, "a business refusal carries success: %s", r.body)
				assert.False(t, *ans.Success)
			}
		})
	}
	assert.Equal(t, before, s.deliveryCount(acct), "a refused send must not schedule anything")
	// Leading zeros and any string of digits as type are fine.
	s.do("POST", otpPath, `{"to":"00250784928786","type":"17","code":"000000"}`, publicHeaders(appKey, token)).must(t, 200)
}

func TestOTPMagicNumbers(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	recv := newReceiver(t)
	s.otpHook(appKey, recv.srv.URL)
	want := map[string]struct {
		status, code string
		errCode      *string
		errMessage   string
	}{
		"250784928786": {"2", "success", nil, ""},
		"999103":       {"1", "failed", ptr("3"), "rejected by the operator"},
		"99910131051":  {"1", "failed", ptr("131051"), "failed with code 131051"},
		"99910":        {"1", "failed", ptr("1"), "undelivered: the operator could not deliver the message"},
		"99920":        {"2", "success", nil, ""}, // a WhatsApp outcome: ordinary for OTP
	}
	for to := range want {
		s.do("POST", otpPath, otpBody(to), publicHeaders(appKey, token)).must(t, 200)
	}
	// 99940: accepted, and nothing at all is pushed, not even in progress.
	r := s.do("POST", otpPath, otpBody("9994012"), publicHeaders(appKey, token)).must(t, 200)
	assert.Equal(t, "000000", r.envelope(t).Code)
	assert.Equal(t, 2*len(want), s.eventCount(acct, "otp_status_report"))

	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "3s"}, acct).must(t, 200)
	got := recv.wait(t, 2*len(want))
	seen := map[string]int{}
	for _, p := range got {
		o := decodeOTP(t, p)
		seen[o.Mobile]++
		if o.Status == "0" {
			continue // in progress comes for failures too
		}
		w, ok := want[o.Mobile]
		require.True(t, ok, "a push for %s", o.Mobile)
		assert.Equal(t, w.status, o.Status, o.Mobile)
		assert.Equal(t, w.code, o.Code, o.Mobile)
		assert.Equal(t, w.errCode, o.ErrCode, o.Mobile)
		if w.errMessage == "" {
			assert.Nil(t, o.ErrMessage, o.Mobile)
		} else if assert.NotNil(t, o.ErrMessage, o.Mobile) {
			assert.Equal(t, w.errMessage, *o.ErrMessage, o.Mobile)
		}
	}
	for to := range want {
		assert.Equal(t, 2, seen[to], "in progress and the result for %s", to)
	}
}

func ptr[T any](v T) *T { return &v }

// The newer known client sends to as E.164 with a leading +, may name a
// templateId and a sender, and reads only code "000000"; the older one sent
// digits and read success. Both see success, and the push's mobile is the
// digits either way.
func TestOTPSendAsEitherClientSendsIt(t *testing.T) {
	tests := []struct {
		name     string
		tweak    func(*mockserver.Config)
		body     string
		wantCode string
	}{
		{"newer client, default", nil, `{"type":"3","language":"en","to":"+250788123456","code":"4821","templateId":"T-1","sender":"Ride"}`, "000000"},
		{"older client, default", nil, `{"to":"250788123456","type":"3","language":"en","code":"1234"}`, "000000"},
		{"older client, --otp-success-code 0", func(c *mockserver.Config) { c.OTPSuccessCode = "0" }, `{"to":"250788123456","type":"3","language":"en","code":"1234"}`, "0"},
		{"newer client, --otp-success-code 0", func(c *mockserver.Config) { c.OTPSuccessCode = "0" }, `{"type":"3","to":"+250788123456","code":"4821"}`, "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tweaks []func(*mockserver.Config)
			if tc.tweak != nil {
				tweaks = append(tweaks, tc.tweak)
			}
			s := newSandbox(t, tweaks...)
			acct, appKey, token := s.account(false)
			recv := newReceiver(t)
			s.otpHook(appKey, recv.srv.URL)
			r := s.do("POST", otpPath, tc.body, publicHeaders(appKey, token)).must(t, 200)
			assert.Empty(t, r.header.Values("X-Sandbox-Warning"), "templateId and sender are known members")
			var ans mockserver.OTPEnvelope
			r.decode(t, &ans)
			assert.Equal(t, tc.wantCode, ans.Code)
			assert.True(t, ans.Success)
			s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1s"}, acct).must(t, 200)
			assert.Equal(t, "250788123456", decodeOTP(t, recv.wait(t, 1)[0]).Mobile)
		})
	}
}

func TestOTPSuccessCodeMustBeOneOfTheTwoKnown(t *testing.T) {
	cfg := mockserver.Config{Spec: loadSpec(), Store: memstore.New(), OTPSuccessCode: "0000"}
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `OTP success code "0000"`)
}

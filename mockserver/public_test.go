package mockserver_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
)

func TestAuthenticationRefusalsShareOneBodyAndNameTheirReason(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	_ = acct
	// A second app whose token is presented with the first app's key.
	var other struct{ AppKey string }
	s.control("POST", "/_sandbox/apps", map[string]any{"name": "other"}, acct).must(t, 201).decode(t, &other)
	var otherTok struct{ Token string }
	s.control("POST", "/_sandbox/apps/"+other.AppKey+"/tokens", nil, "").must(t, 201).decode(t, &otherTok)
	// Rotate once, so that `token` is superseded by `current`.
	var cur struct{ Token string }
	s.control("POST", "/_sandbox/apps/"+appKey+"/tokens", nil, "").must(t, 201).decode(t, &cur)
	superseded, current := token, cur.Token

	tests := []struct {
		name   string
		header func(h http.Header)
		reason string // "" means accepted
	}{
		{"valid", func(http.Header) {}, ""},
		{"header names in other cases", func(h http.Header) {
			h["appkey"], h["authorization"] = h["Appkey"], h["Authorization"]
			delete(h, "Appkey")
			delete(h, "Authorization")
		}, ""},
		{"AppKey missing", func(h http.Header) { delete(h, "Appkey") }, "header-missing:AppKey"},
		{"Authorization missing", func(h http.Header) { delete(h, "Authorization") }, "header-missing:Authorization"},
		{"AppKey empty", func(h http.Header) { h["Appkey"] = []string{""} }, "header-empty:AppKey"},
		{"Authorization empty", func(h http.Header) { h["Authorization"] = []string{"   "} }, "header-empty:Authorization"},
		{"AppKey repeated", func(h http.Header) { h["Appkey"] = []string{appKey, appKey} }, "header-repeated:AppKey"},
		{"Authorization repeated", func(h http.Header) { h["Authorization"] = []string{current, current} }, "header-repeated:Authorization"},
		{"AppKey unknown", func(h http.Header) { h["Appkey"] = []string{"AAAAAAAAAAAAAAAAA"} }, "appkey-unknown"},
		{"token wrong", func(h http.Header) { h["Authorization"] = []string{strings.Repeat("A", 56)} }, "token-invalid"},
		{"token of another app", func(h http.Header) { h["Authorization"] = []string{otherTok.Token} }, "token-other-app"},
		{"token superseded", func(h http.Header) { h["Authorization"] = []string{superseded} }, "token-superseded"},
		{"Bearer prefix", func(h http.Header) { h["Authorization"] = []string{"Bearer " + current} }, "token-bearer-prefix"},
	}
	var refusal []byte
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := publicHeaders(appKey, current)
			tc.header(h)
			r := s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), h)
			if tc.reason == "" {
				r.must(t, 200)
				assert.Equal(t, "0", r.envelope(t).Code)
				assert.Empty(t, r.header.Get(mockserver.HeaderAuthReason))
				return
			}
			r.must(t, 401)
			assert.Equal(t, tc.reason, r.header.Get(mockserver.HeaderAuthReason))
			e := r.envelope(t)
			assert.Equal(t, mockserver.CodeAuthFailure, e.Code)
			assert.Equal(t, mockserver.MsgAuthFailure, e.Message)
			if refusal == nil {
				refusal = r.body
			}
			assert.Equal(t, string(refusal), string(r.body), "every refusal must have the same body")
			assert.NotContains(t, string(r.body), current, "a refusal must not echo the token")
		})
	}
}

func TestRevokedAndExpiredTokensAreRefused(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)

	s.control("DELETE", "/_sandbox/apps/"+appKey+"/tokens", nil, "").must(t, 204)
	r := s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(appKey, token)).must(t, 401)
	assert.Equal(t, "token-revoked", r.header.Get(mockserver.HeaderAuthReason))

	var clk struct{ Now string }
	s.control("GET", "/_sandbox/clock", nil, acct).must(t, 200).decode(t, &clk)
	// Expires in one hour on the account's clock.
	var tok struct {
		Token     string
		ExpiresAt *string
	}
	s.control("POST", "/_sandbox/apps/"+appKey+"/tokens", map[string]any{"expiresAt": plusHour(t, clk.Now)}, "").must(t, 201).decode(t, &tok)
	require.NotNil(t, tok.ExpiresAt)
	s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(appKey, tok.Token)).must(t, 200)

	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "59m"}, acct).must(t, 200)
	s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(appKey, tok.Token)).must(t, 200)
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2m"}, acct).must(t, 200)
	r = s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(appKey, tok.Token)).must(t, 401)
	assert.Equal(t, "token-expired", r.header.Get(mockserver.HeaderAuthReason))

	// The demo account's clock did not move: clocks are per account.
	s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(demoAppKey, demoToken)).must(t, 200)
}

func plusHour(t *testing.T, now string) string {
	t.Helper()
	tm, err := parseTime(now)
	require.NoError(t, err)
	return tm.Add(3600e9).Format("2006-01-02T15:04:05Z07:00")
}

func TestAuthFailureStatusCanMimicHTTP200(t *testing.T) {
	s := newSandbox(t, func(c *mockserver.Config) { c.AuthFailureStatus = 200; c.Strict = false })
	r := s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(demoAppKey, "wrong")).must(t, 200)
	assert.Equal(t, mockserver.CodeAuthFailure, r.envelope(t).Code)
	assert.Equal(t, "token-invalid", r.header.Get(mockserver.HeaderAuthReason))
}

func TestContentType(t *testing.T) {
	s := newSandbox(t)
	tests := []struct {
		value  []string
		status int
		want   string
	}{
		{[]string{"application/json;charset=utf-8"}, 200, ""},
		{[]string{"application/json"}, 200, ""},
		{[]string{"Application/JSON; Charset=UTF-8"}, 200, ""},
		{[]string{"application/json ;  charset=utf-8"}, 200, ""},
		{[]string{"application/json; charset=iso-8859-1"}, 415, `charset "iso-8859-1" is not supported`},
		{[]string{"text/plain"}, 415, `"text/plain" is not supported`},
		{[]string{"application/x-www-form-urlencoded"}, 415, "is not supported"},
		{[]string{"application/json; boundary=x"}, 415, `parameter "boundary" is not supported`},
		{[]string{"json"}, 415, `"json" is not supported`},
		{[]string{"application/"}, 415, "is not a media type"},
		{nil, 415, "header Content-Type is missing"},
		{[]string{"application/json", "application/json"}, 415, "given 2 times"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.value, "|"), func(t *testing.T) {
			h := publicHeaders(demoAppKey, demoToken)
			if tc.value == nil {
				delete(h, "Content-Type")
			} else {
				h["Content-Type"] = tc.value
			}
			r := s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), h).must(t, tc.status)
			if tc.want != "" {
				e := r.envelope(t)
				assert.Equal(t, "415", e.Code)
				assert.Contains(t, e.Message, tc.want)
			}
		})
	}
}

// deliveryCount counts the account's events, to prove a refused request
// changed nothing.
func (s *sandbox) deliveryCount(account string) int {
	var list []json.RawMessage
	s.control("GET", "/_sandbox/deliveries?limit=1000", nil, account).must(s.t, 200).decode(s.t, &list)
	return len(list)
}

// eventCount counts the account's events of some types (test accounts also
// hold the inbound messages that opened their 24-hour windows).
func (s *sandbox) eventCount(account string, types ...string) int {
	n := 0
	for _, typ := range types {
		var list []json.RawMessage
		s.control("GET", "/_sandbox/deliveries?limit=1000&type="+typ, nil, account).must(s.t, 200).decode(s.t, &list)
		n += len(list)
	}
	return n
}

func TestBadInputGetsAClearErrorAndChangesNothing(t *testing.T) {
	s := newSandbox(t)
	valid := map[string]any{"wabaId": demoWABA, "messageType": "text", "sendNumber": demoNumber, "recipientNumber": userNumber, "body": "hi"}
	with := func(k string, v any) string { return bodyWith(t, valid, k, v) }
	tests := []refusal{
		{"too large", `{"body":"` + strings.Repeat("a", mockserver.MaxBodyBytes) + `"}`, 413, "413", "larger than 1048576 bytes"},
		{"invalid JSON", "{\n  \"wabaId\": \"1\",\n  oops\n}", 400, "400", "line 3, column 3"},
		{"not an object", `["text"]`, 400, "400", "/: value must be an object"},
		{"wrong type", with("recipientNumber", 6285234567899), 400, "400", "/recipientNumber"},
		{"empty required string", with("body", ""), 400, "400", "/body"},
		{"missing required field", with("sendNumber", nil), 400, "400", `/sendNumber: property "sendNumber" is missing`},
		{"unknown messageType", with("messageType", "fax"), 400, "400", `/messageType: value "fax" is not one of`},
		{"uid too long", with("uid", strings.Repeat("ü", 33)), 200, "105", "/uid: 33 characters; at most 32"},
		{"text too long", with("body", strings.Repeat("x", 3001)), 200, "106", "/body: 3001 characters; at most 3000"},
		{"bad number", with("recipientNumber", "62-852"), 200, "108", "must be 5 to 20 digits"},
		{"too many numbers", with("recipientNumber", strings.TrimSuffix(strings.Repeat(userNumber+",", 1001), ",")), 200, "109", "at most 1000"},
		{"empty body", "", 400, "400", "request body is required"},
	}
	before := s.deliveryCount("")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do("POST", "/api/whatsapp/v3/msg/submit", tc.body, publicHeaders(demoAppKey, demoToken)).must(t, tc.status)
			e := r.envelope(t)
			assert.Equal(t, tc.code, e.Code)
			assert.Contains(t, e.Message, tc.want)
		})
	}
	assert.Equal(t, before, s.deliveryCount(""), "a refused request must not schedule anything")
	// The count does move when a request is accepted.
	s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(demoAppKey, demoToken)).must(t, 200)
	assert.Equal(t, before+2, s.deliveryCount(""))
}

func TestUnknownFieldsAreWarnedOrRefused(t *testing.T) {
	body := `{"wabaId":"1","messageType":"text","sendNumber":"` + demoNumber + `","recipientNumber":"` + userNumber + `","body":"hi","recipientNumbers":"7","media":{"link":"x","size":3}}`
	t.Run("accepted with a warning by default", func(t *testing.T) {
		s := newSandbox(t)
		r := s.do("POST", "/api/whatsapp/v3/msg/submit", body, publicHeaders(demoAppKey, demoToken)).must(t, 200)
		assert.ElementsMatch(t, []string{`unknown field "/media/size" ignored`, `unknown field "/recipientNumbers" ignored`}, r.header.Values(mockserver.HeaderWarning))
	})
	t.Run("refused when asked", func(t *testing.T) {
		s := newSandbox(t, func(c *mockserver.Config) { c.RejectUnknownFields = true })
		r := s.do("POST", "/api/whatsapp/v3/msg/submit", body, publicHeaders(demoAppKey, demoToken)).must(t, 400)
		assert.Contains(t, r.envelope(t).Message, "/media/size, /recipientNumbers: the contract defines no such field")
	})
}

func TestConditionalRulesPerMessageType(t *testing.T) {
	s := newSandbox(t)
	base := `"wabaId":"1","sendNumber":"` + demoNumber + `","recipientNumber":"` + userNumber + `"`
	tests := []struct {
		name, fields string
		want         string // "" means accepted
	}{
		{"text needs body", `"messageType":"text"`, `/body: property "body" is missing`},
		{"template needs name", `"messageType":"template","language":"en_US"`, `/templateName: property "templateName" is missing`},
		{"template needs language", `"messageType":"template","templateName":"otp_login"`, `/language: property "language" is missing`},
		{"template language from the list", `"messageType":"template","templateName":"otp_login","language":"xx_YY"`, "/language"},
		{"image needs media", `"messageType":"image"`, `/media: property "media" is missing`},
		{"image needs media.link", `"messageType":"image","media":{"caption":"c"}}`, `/media/link: property "link" is missing`},
		{"document needs filename", `"messageType":"document","media":{"link":"https://x/y.pdf"}`, `/media/filename: property "filename" is missing`},
		{"audio refuses a caption", `"messageType":"audio","media":{"link":"https://x/a.ogg","caption":"c"}`, "/media: audio takes no caption"},
		{"location needs its fields", `"messageType":"location","location":{"latitude":"1"}`, "/location/"},
		{"contacts needs formattedName", `"messageType":"contacts","contacts":[{"name":{}}]`, `/contacts/0/name/formattedName`},
		{"interactive needs action", `"messageType":"interactive","interactive":{"type":"button"}`, `/interactive/action`},
		{"audio without caption is fine", `"messageType":"audio","media":{"link":"https://x/a.ogg"}`, ""},
		{"document with filename is fine", `"messageType":"document","media":{"link":"https://x/y.pdf","filename":"y.pdf"}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := "{" + base + "," + strings.TrimSuffix(tc.fields, "}") + "}"
			if strings.Count(body, "{") != strings.Count(body, "}") {
				body += "}"
			}
			r := s.do("POST", "/api/whatsapp/v3/msg/submit", body, publicHeaders(demoAppKey, demoToken))
			if tc.want == "" {
				r.must(t, 200)
				return
			}
			r.must(t, 400)
			assert.Contains(t, r.envelope(t).Message, tc.want)
		})
	}
}

func TestUnknownPathAndWrongMethodGetTheEnvelope(t *testing.T) {
	s := newSandbox(t)
	r := s.do("POST", "/api/whatsapp/v3/msg/sub", textSend(userNumber), publicHeaders(demoAppKey, demoToken)).must(t, 404)
	assert.Equal(t, "404", r.envelope(t).Code)
	r = s.do("GET", "/api/whatsapp/v3/msg/submit", "", publicHeaders(demoAppKey, demoToken)).must(t, 405)
	assert.Equal(t, "405", r.envelope(t).Code)
	assert.Equal(t, "POST", r.header.Get("Allow"))
	r = s.do("PATCH", "/_sandbox/clock", "", nil).must(t, 405)
	assert.Equal(t, "GET, PUT", r.header.Get("Allow"))
	r = s.do("GET", "/_sandbox/nothing", "", nil).must(t, 404)
	assert.Contains(t, r.envelope(t).Message, "no operation at GET /_sandbox/nothing")
}

func TestSubmitAnswersAMessageIDAndPushesStatusReports(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	recv := newReceiver(t)
	s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{
		"product": "whatsapp", "url": recv.srv.URL + "/hook", "events": []string{"whatsapp_message_status_updated"},
		"username": "shop", "authorization": "Basic c2hvcDpzM2NyZXQ=",
	}, "").must(t, 201)

	r := s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber+",6285234567800"), publicHeaders(appKey, token)).must(t, 200)
	e := r.envelope(t)
	assert.Equal(t, "0", e.Code)
	assert.Equal(t, mockserver.MsgSuccess, e.Message)
	id, _ := e.Data.(string)
	assert.Regexp(t, regexp.MustCompile(`^[1-9][0-9]{17}$`), id)

	// Nothing is due until the sandbox clock passes the report times.
	assert.Zero(t, recv.count())
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "3s"}, acct).must(t, 200)
	got := recv.wait(t, 4)
	statuses := map[string][]string{}
	for _, p := range got {
		assert.Equal(t, "POST", p.method)
		assert.Equal(t, []string{"shop"}, p.header["Username"], "UserName exactly as configured")
		assert.Equal(t, "Basic c2hvcDpzM2NyZXQ=", p.header.Get("Authorization"))
		assert.Equal(t, "application/json;charset=utf-8", p.header.Get("Content-Type"))
		var ev struct {
			Type string
			Body struct {
				ID, Status, SendPhone string
			}
		}
		require.NoError(t, json.Unmarshal(p.body, &ev))
		assert.Equal(t, "whatsapp_message_status_updated", ev.Type)
		assert.Equal(t, id, ev.Body.ID)
		statuses[ev.Body.SendPhone] = append(statuses[ev.Body.SendPhone], ev.Body.Status)
	}
	assert.ElementsMatch(t, []string{"delivered", "read"}, statuses[userNumber])
	assert.ElementsMatch(t, []string{"delivered", "read"}, statuses["6285234567800"])
}

func TestPushesUsePUTAndOmitUnconfiguredHeaders(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	recv := newReceiver(t)
	s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{
		"product": "whatsapp", "url": recv.srv.URL, "events": []string{"whatsapp_message_status_updated"}, "method": "put",
	}, "").must(t, 201)
	s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(appKey, token)).must(t, 200)
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1s"}, acct).must(t, 200)
	p := recv.wait(t, 1)[0]
	assert.Equal(t, "PUT", p.method)
	assert.NotContains(t, p.header, "Username")
	assert.NotContains(t, p.header, "Authorization")
}

func TestWhatsAppMagicRecipientNumbers(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	recv := newReceiver(t)
	s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{"product": "whatsapp", "url": recv.srv.URL,
		"events": []string{"whatsapp_message_status_updated"}}, "").must(t, 201)
	s.control("POST", "/_sandbox/templates", map[string]any{"wabaId": demoWABA, "name": "hello", "language": "en", "category": "UTILITY"}, acct).must(t, 201)
	numbers := []string{"6285234567899", "99910131051", "9991012", "99910", "999201", "999301", "999401", "999501"}
	b, _ := json.Marshal(map[string]any{"wabaId": demoWABA, "messageType": "template", "sendNumber": demoNumber,
		"recipientNumber": strings.Join(numbers, ","), "templateName": "hello", "language": "en"})
	s.do("POST", "/api/whatsapp/v3/msg/submit", string(b), publicHeaders(appKey, token)).must(t, 200)

	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1s"}, acct).must(t, 200)
	// At +1 s: each number's first report (99940 has none).
	first := recv.wait(t, 7)
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2s"}, acct).must(t, 200)
	all := recv.wait(t, 9)
	assert.Len(t, first, 7)
	type rep struct {
		Status    string
		ErrorData *struct{ ErrorCode, ErrorMessage string }
	}
	got := map[string][]rep{}
	for _, p := range all {
		var ev struct {
			Body struct {
				SendPhone string
				rep
			}
		}
		require.NoError(t, json.Unmarshal(p.body, &ev))
		got[ev.Body.SendPhone] = append(got[ev.Body.SendPhone], ev.Body.rep)
	}
	statuses := func(n string) []string {
		var out []string
		for _, r := range got[n] {
			out = append(out, r.Status)
		}
		return out
	}
	assert.Equal(t, []string{"delivered", "read"}, statuses("6285234567899"))
	assert.Equal(t, []string{"failed"}, statuses("99910131051"))
	assert.Equal(t, "131051", got["99910131051"][0].ErrorData.ErrorCode)
	assert.Equal(t, "Unsupported message type", got["99910131051"][0].ErrorData.ErrorMessage)
	assert.Equal(t, "Meta error 12", got["9991012"][0].ErrorData.ErrorMessage, "an unknown code is reported as given")
	assert.Equal(t, "131026", got["99910"][0].ErrorData.ErrorCode, "no code: Message undeliverable")
	assert.Equal(t, []string{"delivered"}, statuses("999201"))
	assert.Equal(t, []string{"read", "delivered"}, statuses("999301"), "read comes first")
	assert.Empty(t, got["999401"])
	assert.Equal(t, []string{"SMECL:FAILED"}, statuses("999501"))
}

package mockserver_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// groupSend is the second known integration's WhatsApp OTP: templateGroupId
// instead of templateName, language "id", the code in bodyParams and a
// copy-code button.
func groupSend(group, language string) map[string]any {
	return map[string]any{
		"wabaId": demoWABA, "messageType": "template", "sendNumber": demoNumber, "recipientNumber": "99900612345",
		"language": language, "templateGroupId": group, "bodyParams": []string{"245098"},
		"buttonParams": []map[string]string{{"type": "text", "value": "245098"}},
	}
}

func TestTemplateGroupSends(t *testing.T) {
	s := newSandbox(t)
	h := publicHeaders(demoAppKey, demoToken)
	const path = "/api/whatsapp/v3/msg/submit"
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		says   string
	}{
		{"the seed's group in Indonesian", bodyWith(t, groupSend("demo_otp", "id"), "language", "id"), 200, "0", "Success"},
		{"the seed's group in en_US", bodyWith(t, groupSend("demo_otp", "en_US"), "language", "en_US"), 200, "0", "Success"},
		{"a language the group lacks", bodyWith(t, groupSend("demo_otp", "pt_BR"), "language", "pt_BR"), 200, "143",
			`template group "demo_otp" of WABA 110129512080569 has no template in pt_BR; it has en_US, id`},
		{"a group the WABA lacks", bodyWith(t, groupSend("group_otp_test", "id"), "language", "id"), 200, "143", `has no template group "group_otp_test"`},
		{"the group's template still checks its parameters", bodyWith(t, groupSend("demo_otp", "id"), "bodyParams", []string{}), 200, "132000", "has 1 body variables"},
		{"both templateName and templateGroupId", bodyWith(t, groupSend("demo_otp", "id"), "templateName", "otp_login"), 400, "400", "templateGroupId"},
		{"neither", bodyWith(t, groupSend("demo_otp", "id"), "templateGroupId", nil), 400, "400", "templateName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do("POST", path, tt.body, h).must(t, tt.status)
			e := r.envelope(t)
			assert.Equal(t, tt.code, e.Code, "%s", r.body)
			assert.Contains(t, e.Message, tt.says)
			assert.Empty(t, r.header.Values("X-Sandbox-Warning"), "templateGroupId is a known member")
		})
	}
}

func TestTemplateGroupsThroughTheControlAPI(t *testing.T) {
	s := newSandbox(t)
	acct, _, _ := s.account(false)
	base := "/_sandbox/template-groups/" + "w1" + "/login"
	s.control("POST", "/_sandbox/templates", map[string]any{"wabaId": "w1", "name": "login_a", "language": "en", "category": "AUTHENTICATION", "bodyParams": 1}, acct).must(t, 201)
	s.control("POST", "/_sandbox/templates", map[string]any{"wabaId": "w1", "name": "login_b", "language": "id", "category": "AUTHENTICATION", "bodyParams": 1}, acct).must(t, 201)

	r := s.control("PUT", base, map[string]any{"templates": []map[string]string{{"name": "login_a", "language": "en"}, {"name": "login_b", "language": "en"}}}, acct).must(t, 400)
	assert.Contains(t, r.envelope(t).Message, "/templates/1/language")
	r = s.control("PUT", base, map[string]any{"templates": []map[string]string{{"name": "login_b", "language": "en"}}}, acct).must(t, 400)
	assert.Contains(t, r.envelope(t).Message, `/templates/0: WABA w1 has no template "login_b" in en`)

	r = s.control("PUT", base, map[string]any{"templates": []map[string]string{{"name": "login_b", "language": "id"}, {"name": "login_a", "language": "en"}}}, acct).must(t, 200)
	assert.Contains(t, string(r.body), `"templates":[{"name":"login_a","language":"en"},{"name":"login_b","language":"id"}]`)
	s.control("GET", base, nil, acct).must(t, 200)
	list := s.control("GET", "/_sandbox/template-groups?wabaId=w1", nil, acct).must(t, 200)
	assert.Contains(t, string(list.body), `"groupId":"login"`)
	s.control("GET", base, nil, "").must(t, 404) // another account's group is not found

	s.control("DELETE", base, nil, acct).must(t, 204)
	s.control("GET", base, nil, acct).must(t, 404)
	require.NotContains(t, string(s.control("GET", "/_sandbox/template-groups", nil, acct).must(t, 200).body), "login")
}

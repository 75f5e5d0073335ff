package mockserver_test

import (
	"encoding/json"
	"github.com/innosandbox/innosandbox/mockserver"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// templateSend is a template message of the demo WABA.
func templateSend(name, lang string, params ...string) string {
	if params == nil {
		params = []string{}
	}
	b, _ := json.Marshal(map[string]any{"wabaId": demoWABA, "messageType": "template", "sendNumber": demoNumber,
		"recipientNumber": userNumber, "templateName": name, "language": lang, "bodyParams": params})
	return string(b)
}

func submitTemplate(name string) string {
	b, _ := json.Marshal(map[string]any{"wabaId": demoWABA, "name": name, "category": "3", "messageLanguage": "en",
		"headerType": 2, "caption": "Order {{1}}", "messageBody": "Hi {{1}}, your order {{2}} has shipped."})
	return string(b)
}

func TestTheSeedTemplatesCanBeSentAtOnce(t *testing.T) {
	s := newSandbox(t)
	r := s.do("POST", "/api/whatsapp/v3/msg/submit", templateSend("otp_login", "en_US", "245098"), publicHeaders(demoAppKey, demoToken)).must(t, 200)
	assert.Equal(t, "0", r.envelope(t).Code)
}

func TestATemplateIsReviewedOnTheSandboxClock(t *testing.T) {
	s := newSandbox(t)
	recv := newReceiver(t)
	s.control("POST", "/_sandbox/apps/"+demoAppKey+"/webhooks", map[string]any{"product": "whatsapp", "url": recv.srv.URL,
		"events": []string{"whatsapp_template_status_updated"}}, "").must(t, 201)

	r := s.do("POST", "/api/whatsapp/v3/template/submit", submitTemplate("order_paid"), publicHeaders(demoAppKey, demoToken)).must(t, 200)
	var created struct {
		Code string
		Data struct{ TemplateID, SID, Name, TemplateStatus string }
	}
	r.decode(t, &created)
	assert.Equal(t, "0", created.Code)
	assert.Equal(t, "PENDING", created.Data.TemplateStatus)
	assert.Regexp(t, `^[0-9a-f]{32}$`, created.Data.TemplateID)

	body := `{"wabaId":"` + demoWABA + `","messageType":"template","sendNumber":"` + demoNumber + `","recipientNumber":"` + userNumber +
		`","templateName":"order_paid","language":"en","bodyParams":["Tom","A1"],"header":{"type":"text","paramValue":"A1"}}`
	r = s.do("POST", "/api/whatsapp/v3/msg/submit", body, publicHeaders(demoAppKey, demoToken)).must(t, 200)
	assert.Equal(t, "132001", r.envelope(t).Code, "a PENDING template cannot be sent")
	assert.Zero(t, recv.count())

	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "10s"}, "").must(t, 200)
	push := recv.wait(t, 1)[0]
	var ev struct {
		Type string
		Body struct{ TemplateName, TemplateStatus, TemplateID, Category, Reason, TemplateLanguage string }
	}
	require.NoError(t, json.Unmarshal(push.body, &ev))
	assert.Equal(t, "whatsapp_template_status_updated", ev.Type)
	assert.Equal(t, "APPROVED", ev.Body.TemplateStatus)
	assert.Equal(t, "NONE", ev.Body.Reason)
	assert.Equal(t, "UTILITY", ev.Body.Category)
	assert.Equal(t, created.Data.SID, ev.Body.TemplateID, "the event's templateId is Meta's id")

	r = s.do("POST", "/api/whatsapp/v3/msg/submit", body, publicHeaders(demoAppKey, demoToken)).must(t, 200)
	assert.Equal(t, "0", r.envelope(t).Code, "once approved it can be sent")

	t.Run("the same name and language again is a conflict", func(t *testing.T) {
		r := s.do("POST", "/api/whatsapp/v3/template/submit", submitTemplate("order_paid"), publicHeaders(demoAppKey, demoToken)).must(t, 409)
		assert.Equal(t, "409", r.envelope(t).Code)
	})
	t.Run("a name starting reject_ is rejected with a reason", func(t *testing.T) {
		s.do("POST", "/api/whatsapp/v3/template/submit", submitTemplate("reject_spam"), publicHeaders(demoAppKey, demoToken)).must(t, 200)
		s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "10s"}, "").must(t, 200)
		got := recv.wait(t, 2)
		require.NoError(t, json.Unmarshal(got[1].body, &ev))
		assert.Equal(t, "reject_spam", ev.Body.TemplateName)
		assert.Equal(t, "REJECTED", ev.Body.TemplateStatus)
		assert.Equal(t, "INVALID_FORMAT", ev.Body.Reason)
	})
	t.Run("a name starting pending_ is never reviewed", func(t *testing.T) {
		s.do("POST", "/api/whatsapp/v3/template/submit", submitTemplate("pending_forever"), publicHeaders(demoAppKey, demoToken)).must(t, 200)
		s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "720h"}, "").must(t, 200)
		var list []map[string]any
		s.control("GET", "/_sandbox/templates?wabaId="+demoWABA, nil, "").must(t, 200).decode(t, &list)
		statuses := map[string]any{}
		for _, tm := range list {
			statuses[tm["name"].(string)] = tm["status"]
		}
		assert.Equal(t, "PENDING", statuses["pending_forever"])
		assert.Equal(t, "REJECTED", statuses["reject_spam"])
		assert.Equal(t, "APPROVED", statuses["otp_login"])
	})
}

func TestTemplateSendsAreChecked(t *testing.T) {
	s := newSandbox(t)
	tests := []struct {
		name, body, code, want string
	}{
		{"unknown template", templateSend("no_such", "en_US"), "143", `no template "no_such" in en_US`},
		{"known in another language", templateSend("otp_login", "pt_BR", "1"), "143", "it has it in en_US"},
		{"too few body parameters", templateSend("otp_login", "en_US"), "132000", "has 1 body variables, bodyParams gives 0"},
		{"too many body parameters", templateSend("otp_login", "en_US", "1", "2"), "132000", "bodyParams gives 2"},
		{"header variable without a value", templateSend("order_shipped_v1", "en", "Tom", "A1"), "132000", "header.paramValue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := s.do("POST", "/api/whatsapp/v3/msg/submit", tc.body, publicHeaders(demoAppKey, demoToken)).must(t, 200).envelope(t)
			assert.Equal(t, tc.code, e.Code)
			assert.Contains(t, e.Message, tc.want)
		})
	}
	t.Run("paused and disabled templates", func(t *testing.T) {
		recv := newReceiver(t)
		s.control("POST", "/_sandbox/apps/"+demoAppKey+"/webhooks", map[string]any{"product": "whatsapp", "url": recv.srv.URL,
			"events": []string{"whatsapp_template_status_updated"}}, "").must(t, 201)
		for _, c := range []struct{ status, code string }{{"PAUSED", "132015"}, {"DISABLED", "132016"}} {
			s.control("PUT", "/_sandbox/templates/"+demoWABA+"/welcome_offer/en_US/status", map[string]any{"status": c.status, "reason": "LOW_QUALITY"}, "").must(t, 200)
			e := s.do("POST", "/api/whatsapp/v3/msg/submit", templateSend("welcome_offer", "en_US"), publicHeaders(demoAppKey, demoToken)).must(t, 200).envelope(t)
			assert.Equal(t, c.code, e.Code)
		}
		// A seeded template has no submitting app: its pushes go to the default
		// app. Both are due at once and sent concurrently, in either order.
		got := recv.wait(t, 2)
		var statuses []string
		for _, g := range got {
			var ev struct {
				Body struct{ TemplateStatus, Reason string }
			}
			require.NoError(t, json.Unmarshal(g.body, &ev))
			assert.Equal(t, "LOW_QUALITY", ev.Body.Reason)
			statuses = append(statuses, ev.Body.TemplateStatus)
		}
		assert.ElementsMatch(t, []string{"PAUSED", "DISABLED"}, statuses)
		s.control("PUT", "/_sandbox/templates/"+demoWABA+"/welcome_offer/en_US/status", map[string]any{"status": "APPROVED"}, "").must(t, 200)
		s.do("POST", "/api/whatsapp/v3/msg/submit", templateSend("welcome_offer", "en_US"), publicHeaders(demoAppKey, demoToken)).must(t, 200)
	})
	t.Run("a status that cannot be set", func(t *testing.T) {
		r := s.control("PUT", "/_sandbox/templates/"+demoWABA+"/welcome_offer/en_US/status", map[string]any{"status": "PENDING"}, "").must(t, 400)
		assert.Contains(t, r.envelope(t).Message, "/status")
		s.control("PUT", "/_sandbox/templates/"+demoWABA+"/nope/en_US/status", map[string]any{"status": "PAUSED"}, "").must(t, 404)
	})
}

func TestASendingNumberMustBelongToTheWABA(t *testing.T) {
	s := newSandbox(t)
	body := strings.Replace(templateSend("otp_login", "en_US", "1"), demoNumber, "8618900000000", 1)
	e := s.do("POST", "/api/whatsapp/v3/msg/submit", body, publicHeaders(demoAppKey, demoToken)).must(t, 200).envelope(t)
	assert.Equal(t, "118", e.Code)
	assert.Contains(t, e.Message, "sending number 8618900000000 does not exist for WABA "+demoWABA+"; its numbers: "+demoNumber)

	s.control("POST", "/_sandbox/wabas/"+demoWABA+"/numbers", map[string]any{"number": "8618900000000"}, "").must(t, 201)
	s.do("POST", "/api/whatsapp/v3/msg/submit", body, publicHeaders(demoAppKey, demoToken)).must(t, 200)
	var nums struct{ Numbers []string }
	s.control("GET", "/_sandbox/wabas/"+demoWABA+"/numbers", nil, "").must(t, 200).decode(t, &nums)
	assert.Equal(t, []string{"8618900000000", demoNumber}, nums.Numbers)
	r := s.control("POST", "/_sandbox/wabas/999/numbers", map[string]any{"number": "8618900000000"}, "").must(t, 409)
	assert.Contains(t, r.envelope(t).Message, "another WABA")

	t.Run("a new WABA takes its first sending number", func(t *testing.T) {
		acct, appKey, token := s.account(false)
		s.control("POST", "/_sandbox/templates", map[string]any{"wabaId": "555", "name": "hello", "language": "en", "category": "UTILITY"}, acct).must(t, 201)
		send := func(number string) string {
			b, _ := json.Marshal(map[string]any{"wabaId": "555", "messageType": "template", "sendNumber": number,
				"recipientNumber": userNumber, "templateName": "hello", "language": "en"})
			return s.do("POST", "/api/whatsapp/v3/msg/submit", string(b), publicHeaders(appKey, token)).must(t, 200).envelope(t).Code
		}
		assert.Equal(t, "0", send("4400000055"))
		assert.Equal(t, "0", send("4400000055"))
		assert.Equal(t, "118", send("4400000056"))
	})
}

func TestTextMessagesOnlyWithinTwentyFourHoursOfTheUsersLastMessage(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	const stranger = "6285200000001"
	text := func(to string) string {
		return s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(to), publicHeaders(appKey, token)).must(t, 200).envelope(t).Code
	}
	assert.Equal(t, "131047", text(stranger), "a user who never wrote")
	s.converse(acct, demoNumber, stranger)
	assert.Equal(t, "0", text(stranger))
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "23h59m"}, acct).must(t, 200)
	assert.Equal(t, "0", text(stranger))
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2m"}, acct).must(t, 200)
	e := s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(stranger), publicHeaders(appKey, token)).must(t, 200).envelope(t)
	assert.Equal(t, "131047", e.Code)
	assert.Contains(t, e.Message, "more than 24 hours ago; send a template")
	assert.Equal(t, "131047", text(userNumber+","+stranger), "one recipient outside the window refuses the send")

	s.control("POST", "/_sandbox/templates", map[string]any{"wabaId": demoWABA, "name": "hello", "language": "en", "category": "UTILITY"}, acct).must(t, 201)
	b, _ := json.Marshal(map[string]any{"wabaId": demoWABA, "messageType": "template", "sendNumber": demoNumber,
		"recipientNumber": stranger, "templateName": "hello", "language": "en"})
	e = s.do("POST", "/api/whatsapp/v3/msg/submit", string(b), publicHeaders(appKey, token)).must(t, 200).envelope(t)
	assert.Equal(t, "0", e.Code, "a template needs no open window")
}

func TestTheSessionWindowCanBeSwitchedOff(t *testing.T) {
	s := newSandbox(t, func(c *mockserver.Config) { c.NoSessionWindow = true })
	e := s.do("POST", "/api/whatsapp/v3/msg/submit", textSend("6285200000009"), publicHeaders(demoAppKey, demoToken)).must(t, 200).envelope(t)
	assert.Equal(t, "0", e.Code)
}

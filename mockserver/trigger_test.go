package mockserver_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eventResult is the answer to a trigger or a simulated inbound message.
type eventResult struct {
	Routed   bool
	AppKey   *string
	Route    *string
	Reason   *string
	Delivery struct {
		ID      string
		Type    string
		Status  string
		DueAt   string
		Payload map[string]any
	}
}

// hookAll configures an app's webhook for a product, subscribed to every
// event type of it, pushing to recv.
func hookAll(t *testing.T, s *sandbox, appKey, product string, recv *receiver, extra map[string]any) {
	t.Helper()
	body := map[string]any{"product": product, "url": recv.srv.URL, "events": loadSpec().EventTypes(product)}
	for k, v := range extra {
		body[k] = v
	}
	s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", body, "").must(t, 201)
}

func (s *sandbox) trigger(body map[string]any, account string) response {
	s.t.Helper()
	return s.control("POST", "/_sandbox/events", body, account)
}

func TestTriggerEveryEventType(t *testing.T) {
	s := newSandbox(t)
	sp := loadSpec()
	acct, appKey, _ := s.account(false)
	recv := newReceiver(t)
	for _, p := range sp.Products() {
		hookAll(t, s, appKey, p, recv, map[string]any{"username": "shop", "authorization": "s3cret"})
	}
	// Move the account's clock: times in the payload follow it.
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "240h"}, acct).must(t, 200)
	var clock struct{ Now string }
	s.control("GET", "/_sandbox/clock", nil, acct).must(t, 200).decode(t, &clock)
	now, err := parseTime(clock.Now)
	require.NoError(t, err)

	types := sp.EventTypes("")
	require.GreaterOrEqual(t, len(types), 9)
	for i, typ := range types {
		t.Run(typ, func(t *testing.T) {
			var res eventResult
			s.trigger(map[string]any{"type": typ, "appKey": appKey}, "").must(t, 201).decode(t, &res)
			require.True(t, res.Routed)
			assert.Equal(t, appKey, *res.AppKey)
			assert.Equal(t, "trigger", *res.Route)
			assert.Equal(t, typ, res.Delivery.Type)
			due, err := parseTime(res.Delivery.DueAt)
			require.NoError(t, err)
			assert.WithinDuration(t, now, due, 5*time.Second, "due now on the account's clock")

			got := recv.wait(t, i+1)[i]
			require.NoError(t, sp.ValidatePayload(typ, got.body))
			var payload map[string]any
			require.NoError(t, json.Unmarshal(got.body, &payload))
			example, _ := sp.EventExample(typ)
			if body, ok := payload["body"].(map[string]any); ok {
				assert.Equal(t, res.Delivery.ID, payload["id"], "the envelope id is the event id")
				assert.NotEqual(t, example["id"], payload["id"])
				eventTime, err := parseTime(payload["eventTime"].(string))
				require.NoError(t, err)
				assert.WithinDuration(t, now, eventTime, 5*time.Second)
				if _, ok := body["accountName"]; ok {
					assert.Equal(t, acct, body["accountName"], "the account's own name")
				}
				if id, ok := body["wamid"]; ok {
					assert.NotEqual(t, example["body"].(map[string]any)["wamid"], id, "a fresh wamid")
				}
				return
			}
			// Flat payloads: their ids and times are fresh too.
			for _, k := range []string{"messageId", "msgid"} {
				if v, ok := payload[k]; ok {
					assert.NotEqual(t, example[k], v, k)
				}
			}
			if v, ok := payload["receiver"]; ok {
				assert.Equal(t, "shop", v, "SMS pushes carry the configured user name")
				assert.Equal(t, "s3cret", payload["pswd"])
			}
			if v, ok := payload["appKey"]; ok {
				assert.Equal(t, appKey, v)
			}
			// Filled from state as a real send's push is, not the example's.
			if v, ok := payload["accountNo"]; ok {
				assert.Equal(t, acct, v, "the OTP push's accountNo is the account, as on a real send")
			}
			if v, ok := payload["batchSeq"]; ok {
				assert.Regexp(t, `^I`+acct[2:]+`_[0-9]{10}_[0-9]+$`, v, "batchSeq carries the account's digits, as on a real send")
			}
		})
	}
}

func TestTriggerOverrides(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, _ := s.account(true)
	recv := newReceiver(t)
	hookAll(t, s, appKey, "whatsapp", recv, nil)
	hookAll(t, s, appKey, "sms", recv, nil)

	t.Run("set and unset reach the receiver", func(t *testing.T) {
		var res eventResult
		s.trigger(map[string]any{"type": "whatsapp_message_status_updated", "appKey": appKey,
			"set":   map[string]any{"/body/status": "read", "/body/uid": "order-17", "/body/sendPhone": "447700900123"},
			"unset": []string{"/body/conversation"}}, acct).must(t, 201).decode(t, &res)
		got := recv.wait(t, 1)[0]
		var ev struct {
			Body map[string]any
		}
		require.NoError(t, json.Unmarshal(got.body, &ev))
		assert.Equal(t, "read", ev.Body["status"])
		assert.Equal(t, "order-17", ev.Body["uid"])
		assert.Equal(t, "447700900123", ev.Body["sendPhone"])
		assert.NotContains(t, ev.Body, "conversation")
	})
	t.Run("objects on the way are created", func(t *testing.T) {
		var res eventResult
		s.trigger(map[string]any{"type": "whatsapp_message_status_updated", "appKey": appKey,
			"set":   map[string]any{"/body/status": "failed", "/body/errorData/errorCode": "131026", "/body/errorData/errorMessage": "undeliverable"},
			"unset": []string{"/body/conversation"}}, acct).must(t, 201).decode(t, &res)
		body := res.Delivery.Payload["body"].(map[string]any)
		assert.Equal(t, map[string]any{"errorCode": "131026", "errorMessage": "undeliverable"}, body["errorData"])
	})
	t.Run("an inbound of another type, with an array member", func(t *testing.T) {
		var res eventResult
		s.trigger(map[string]any{"type": "whatsapp_mo_message_received", "appKey": appKey,
			"set":   map[string]any{"/body/type": "unknown", "/body/errors": []any{map[string]any{"code": 131051}}, "/body/errors/-": map[string]any{"code": 131052}},
			"unset": []string{"/body/text"}}, acct).must(t, 201).decode(t, &res)
		body := res.Delivery.Payload["body"].(map[string]any)
		assert.Len(t, body["errors"], 2)
	})
	t.Run("a whole payload, sent as written", func(t *testing.T) {
		payload := map[string]any{"receiver": "", "pswd": "", "moTime": "1749545600123", "mobile": "8613800138000", "msg": "TD", "destcode": "10690000"}
		var res eventResult
		s.trigger(map[string]any{"type": "sms_mo_message_received", "payload": payload, "set": map[string]any{"/msg": "STOP"}}, acct).must(t, 201).decode(t, &res)
		assert.True(t, res.Routed, "to the default app")
		assert.Equal(t, "default-app", *res.Route)
		payload["msg"] = "STOP"
		assert.Equal(t, payload, res.Delivery.Payload)
	})
	t.Run("a whole enveloped payload gets the event id", func(t *testing.T) {
		ex, _ := loadSpec().EventExample("whatsapp_template_status_updated")
		delete(ex, "id")
		delete(ex, "eventTime")
		var res eventResult
		s.trigger(map[string]any{"type": "whatsapp_template_status_updated", "appKey": appKey, "payload": ex}, acct).must(t, 201).decode(t, &res)
		assert.Equal(t, res.Delivery.ID, res.Delivery.Payload["id"])
		assert.Equal(t, "998961841525295", res.Delivery.Payload["body"].(map[string]any)["templateId"], "as written")
		assert.NotEmpty(t, res.Delivery.Payload["eventTime"])
	})
}

func TestTriggerRefusesWhatItCannotSend(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, _ := s.account(false)
	other, _, _ := s.account(false)
	recv := newReceiver(t)
	hookAll(t, s, appKey, "whatsapp", recv, nil)
	status := func(set map[string]any, unset ...string) map[string]any {
		b := map[string]any{"type": "whatsapp_message_status_updated", "appKey": appKey}
		if set != nil {
			b["set"] = set
		}
		if unset != nil {
			b["unset"] = unset
		}
		return b
	}
	withPayload := func() map[string]any {
		ex, _ := loadSpec().EventExample("whatsapp_message_status_updated")
		return map[string]any{"type": "whatsapp_message_status_updated", "appKey": appKey, "payload": ex}
	}
	tests := []struct {
		name    string
		body    map[string]any
		account string
		status  int
		want    string
	}{
		{"a value the schema refuses", status(map[string]any{"/body/status": "seen"}), "", 400, `/body/status: value "seen" is not one of SMECL:FAILED, delivered, failed, read`},
		{"a member the schema does not define", status(map[string]any{"/body/colour": "red"}), "", 400, "/body/colour: the contract defines no such field"},
		{"a nested member the schema does not define", status(map[string]any{"/body/conversation/colour": "red"}), "", 400, "/body/conversation/colour: the contract defines no such field"},
		{"the wrong JSON type", status(map[string]any{"/body/wabaId": 110129512080569}), "", 400, "/body/wabaId: value must be a string"},
		{"a rule that ties members together", status(map[string]any{"/body/status": "failed"}), "", 400, `/body/errorData: property "errorData" is missing`},
		{"a required member removed", status(nil, "/body/wamid"), "", 400, `/body/wamid: property "wamid" is missing`},
		{"a pointer through a string", status(map[string]any{"/body/status/code": "x"}), "", 400, "/body/status/code: /body/status is a string, not an object or array"},
		{"not a pointer", status(map[string]any{"body/status": "read"}), "", 400, "body/status: is not a JSON pointer"},
		{"the event id", status(map[string]any{"/id": "mine"}), "", 400, "/id: is the event id"},
		{"removing what is not there", status(nil, "/body/conversaton"), "", 400, "/body/conversaton: is not in the payload"},
		{"removing the envelope", status(nil, "/body"), "", 400, "/body: cannot be removed"},
		{"an id in a whole payload", withPayload(), "", 400, "/id: is the event id"},
		{"an unknown event type", map[string]any{"type": "whatsapp_message_sent"}, "", 400, `/type: "whatsapp_message_sent" is not an event type of the contract; known: chat_mo_message_notify, `},
		{"an unknown app", map[string]any{"type": "whatsapp_message_status_updated", "appKey": "NOSUCHAPPKEY00000"}, "", 404, "NOSUCHAPPKEY00000"},
		{"an app of another account", map[string]any{"type": "whatsapp_message_status_updated", "appKey": appKey}, other, 404, "is not an app of account " + other},
		{"an unknown request member", map[string]any{"type": "whatsapp_message_status_updated", "overrides": map[string]any{}}, "", 400, "overrides"},
		{"a pointer of 33 segments", status(map[string]any{"/body" + strings.Repeat("/x", 32): 1}), "", 400,
			"/set: pointer \"/body" + strings.Repeat("/x", 32) + "\" has 33 segments; at most 32"},
		{"an unset pointer of 33 segments", status(nil, "/body/wamid", "/body"+strings.Repeat("/x", 32)), "", 400, "/unset/1: pointer"},
		{"101 pointers", status(manyPointers(101)), "", 400, "/set and /unset: 101 pointers; at most 100"},
	}
	var before, after []any
	s.control("GET", "/_sandbox/deliveries", nil, acct).must(t, 200).decode(t, &before)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.trigger(tc.body, tc.account).must(t, tc.status)
			assert.Contains(t, r.envelope(t).Message, tc.want)
		})
	}
	s.control("GET", "/_sandbox/deliveries", nil, acct).must(t, 200).decode(t, &after)
	assert.Len(t, after, len(before), "a refused trigger leaves nothing in the log")
	assert.Zero(t, recv.count())
}

// manyPointers sets n distinct members of the status event's body.
func manyPointers(n int) map[string]any {
	m := map[string]any{}
	for i := range n {
		m[fmt.Sprintf("/body/x%d", i)] = i
	}
	return m
}

// TestTriggerPointerBomb sends one pointer of a quarter of a million
// segments, which built as many nested objects (a gigabyte, seconds of
// CPU): it is refused with a 400 naming it, and the request allocates
// little more than its own body a few times over.
func TestTriggerPointerBomb(t *testing.T) {
	s := newSandbox(t)
	_, appKey, _ := s.account(false)
	pointer := strings.Repeat("/a", 250_000) // 500 KB, under the 1 MiB body limit
	body := `{"type":"whatsapp_message_status_updated","appKey":"` + appKey + `","set":{"` + pointer + `":1}}`

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := s.control("POST", "/_sandbox/events", body, "").must(t, 400)
	runtime.ReadMemStats(&after)
	assert.Contains(t, r.envelope(t).Message, "/set: pointer \"/a/a/a")
	assert.Contains(t, r.envelope(t).Message, "has 250000 segments; at most 32")
	// The body is read, decoded and validated once each: 32 MiB bounds that
	// (client and server are both in this process) with room to spare.
	allocated := after.TotalAlloc - before.TotalAlloc
	assert.Less(t, allocated, uint64(32<<20), "the refusal allocated %d MiB", allocated>>20)
}

// TestTriggerAcceptsPointersAtTheLimits: 32 segments and 100 pointers are fine.
func TestTriggerAcceptsPointersAtTheLimits(t *testing.T) {
	s := newSandbox(t)
	_, appKey, _ := s.account(false)
	set := manyPointers(99)
	set["/body/errorData"+strings.Repeat("/y", 30)] = 1
	r := s.trigger(map[string]any{"type": "whatsapp_message_status_updated", "appKey": appKey, "set": set}, "")
	// The contract defines none of these members: the schema refuses them,
	// which shows the pointers themselves were taken.
	r.must(t, 400)
	assert.NotContains(t, r.envelope(t).Message, "at most")
}

func TestTriggerRouting(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, _ := s.account(false)
	recv := newReceiver(t)
	s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{"product": "whatsapp", "url": recv.srv.URL,
		"events": []string{"whatsapp_mo_message_received"}}, "").must(t, 201)

	var res eventResult
	s.trigger(map[string]any{"type": "whatsapp_template_status_updated"}, acct).must(t, 201).decode(t, &res)
	assert.False(t, res.Routed)
	assert.Equal(t, "dropped", res.Delivery.Status)
	assert.Contains(t, *res.Reason, "no app was named and account "+acct+" has no default app")

	s.trigger(map[string]any{"type": "whatsapp_template_status_updated", "appKey": appKey}, "").must(t, 201).decode(t, &res)
	assert.Equal(t, "dropped", res.Delivery.Status)
	assert.Contains(t, *res.Reason, "does not subscribe to whatsapp_template_status_updated")

	s.trigger(map[string]any{"type": "otp_status_report", "appKey": appKey}, "").must(t, 201).decode(t, &res)
	assert.Contains(t, *res.Reason, "has no otp webhook configured")

	s.control("PUT", "/_sandbox/default-app", map[string]any{"appKey": appKey}, acct).must(t, 200)
	s.trigger(map[string]any{"type": "whatsapp_mo_message_received"}, acct).must(t, 201).decode(t, &res)
	assert.True(t, res.Routed)
	assert.Equal(t, "default-app", *res.Route)
	assert.Equal(t, "pending", res.Delivery.Status)
	s.waitStatus(res.Delivery.ID, "delivered", 1)
}

package mockserver_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// moEvent is the part of a pushed inbound message the tests look at.
type moEvent struct {
	ID   string
	Type string
	Body map[string]json.RawMessage
}

func decodeMO(t *testing.T, b []byte) moEvent {
	t.Helper()
	var ev moEvent
	require.NoError(t, json.Unmarshal(b, &ev), "%s", b)
	return ev
}

// inboundApp is a fresh account whose app is bound to number and pushes
// inbound messages to recv.
func inboundApp(t *testing.T, s *sandbox, recv *receiver, number string) (acct, appKey, token string) {
	t.Helper()
	acct, appKey, token = s.account(false)
	s.control("POST", "/_sandbox/apps/"+appKey+"/webhooks", map[string]any{"product": "whatsapp", "url": recv.srv.URL,
		"events": []string{"whatsapp_mo_message_received", "whatsapp_message_status_updated"}}, "").must(t, 201)
	s.control("POST", "/_sandbox/apps/"+appKey+"/bindings", map[string]any{"kind": "number", "value": number}, "").must(t, 201)
	return acct, appKey, token
}

func TestInboundOfEveryType(t *testing.T) {
	s := newSandbox(t)
	recv := newReceiver(t)
	acct, _, _ := inboundApp(t, s, recv, "4400000002")
	require.Len(t, state.MOTypes, 14, "the reference documents 14 inbound types")
	for i, typ := range state.MOTypes {
		t.Run(typ, func(t *testing.T) {
			var res struct {
				Routed   bool
				Delivery struct{ ID string }
			}
			s.control("POST", "/_sandbox/events/inbound", map[string]any{"to": "4400000002", "from": userNumber, "type": typ}, acct).
				must(t, 201).decode(t, &res)
			require.True(t, res.Routed)
			got := recv.wait(t, i+1)
			ev := decodeMO(t, got[i].body)
			assert.Equal(t, res.Delivery.ID, ev.ID)
			assert.NoError(t, loadSpec().ValidatePayload(state.EventWAMO, got[i].body))
			var bodyType string
			require.NoError(t, json.Unmarshal(ev.Body["type"], &bodyType))
			assert.Equal(t, typ, bodyType)
			assert.Contains(t, ev.Body, state.MOMember(typ), "the member the type names")
		})
	}
}

func TestInboundContentIsTheCallersAndIsJudgedByThePayloadSchema(t *testing.T) {
	s := newSandbox(t)
	recv := newReceiver(t)
	acct, _, _ := inboundApp(t, s, recv, "4400000003")
	inbound := func(body map[string]any) response {
		body["to"], body["from"] = "4400000003", userNumber
		return s.control("POST", "/_sandbox/events/inbound", body, acct)
	}

	t.Run("the given object is pushed as given", func(t *testing.T) {
		loc := map[string]any{"latitude": 51.5, "longitude": -0.12, "name": "Office"}
		var res struct{ Delivery struct{ Payload moEvent } }
		inbound(map[string]any{"location": loc}).must(t, 201).decode(t, &res)
		var got map[string]any
		require.NoError(t, json.Unmarshal(res.Delivery.Payload.Body["location"], &got))
		assert.Equal(t, loc, got)
		assert.JSONEq(t, `"location"`, string(res.Delivery.Payload.Body["type"]), "the type follows the one member given")
		recv.wait(t, 1)
	})
	tests := []struct {
		name string
		body map[string]any
		want string
	}{
		{"a required member is missing", map[string]any{"type": "image", "image": map[string]any{"mimeType": "image/png"}}, `/image/link: property "link" is missing`},
		{"a member has the wrong JSON type", map[string]any{"type": "location", "location": map[string]any{"latitude": "51.5", "longitude": 0}}, "/location/latitude"},
		{"an unknown member", map[string]any{"type": "button", "button": map[string]any{"text": "Yes", "payload": "y", "colour": "red"}}, "/button/colour: the contract defines no such field"},
		{"an interactive answer of an unknown kind", map[string]any{"type": "interactive", "interactive": map[string]any{"type": "menu"}}, "/interactive/type"},
		{"unknown errors must not be empty", map[string]any{"type": "unknown", "errors": []any{}}, "/errors"},
		{"a member of another type", map[string]any{"type": "text", "image": map[string]any{"link": "x", "mimeType": "y"}}, `/image: a message of type text carries only "text"`},
		{"two content members and no type", map[string]any{"text": map[string]any{"body": "a"}, "button": map[string]any{"text": "b", "payload": "c"}}, "/type: say which message this is"},
		{"an unknown type", map[string]any{"type": "poll"}, "/type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := recv.count()
			var logBefore, logAfter []any
			s.control("GET", "/_sandbox/deliveries", nil, acct).must(t, 200).decode(t, &logBefore)
			r := inbound(tc.body).must(t, 400)
			assert.Contains(t, r.envelope(t).Message, tc.want)
			s.control("GET", "/_sandbox/deliveries", nil, acct).must(t, 200).decode(t, &logAfter)
			assert.Len(t, logAfter, len(logBefore), "a refused inbound leaves nothing in the log")
			assert.Equal(t, before, recv.count())
		})
	}
}

func TestInboundReplyOfAnyTypeCarriesContext(t *testing.T) {
	s := newSandbox(t)
	recv := newReceiver(t)
	acct, appKey, token := inboundApp(t, s, recv, demoNumber)
	id := s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(appKey, token)).must(t, 200).envelope(t).Data.(string)

	for _, typ := range []string{"button", "interactive", "reaction"} {
		t.Run(typ, func(t *testing.T) {
			var res struct{ Delivery struct{ Payload moEvent } }
			s.control("POST", "/_sandbox/events/inbound", map[string]any{"to": demoNumber, "from": userNumber, "type": typ, "replyTo": id}, acct).
				must(t, 201).decode(t, &res)
			var ctx struct{ From, ID string }
			require.NoError(t, json.Unmarshal(res.Delivery.Payload.Body["context"], &ctx))
			assert.Equal(t, demoNumber, ctx.From)
			assert.Regexp(t, `^wamid\.`, ctx.ID)
			if typ == "reaction" {
				var r struct{ MessageID string }
				require.NoError(t, json.Unmarshal(res.Delivery.Payload.Body["reaction"], &r))
				assert.Equal(t, ctx.ID, r.MessageID, "a stand-in reaction reacts to the message replied to")
			}
		})
	}
}

func TestInboundOpensTheCustomerServiceWindow(t *testing.T) {
	s := newSandbox(t)
	acct, _, _ := s.account(false)
	// Not routed anywhere (no binding, no default app): the user still wrote.
	var res struct{ Routed bool }
	s.control("POST", "/_sandbox/events/inbound", map[string]any{"to": "4400000005", "from": userNumber, "type": "sticker"}, acct).
		must(t, 201).decode(t, &res)
	assert.False(t, res.Routed)
	var clock struct{ Now string }
	s.control("GET", "/_sandbox/clock", nil, acct).must(t, 200).decode(t, &clock)
	now, err := parseTime(clock.Now)
	require.NoError(t, err)
	last, err := s.srv.Sandbox().Store().LastInbound(context.Background(), acct, "4400000005", []string{userNumber, "6200000000"})
	require.NoError(t, err)
	require.Contains(t, last, userNumber)
	assert.NotContains(t, last, "6200000000")
	assert.WithinDuration(t, now, last[userNumber], 2e9, "on the account's clock")
}

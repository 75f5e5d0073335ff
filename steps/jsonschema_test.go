package steps

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/spec"
)

func payloadSchemas(t *testing.T) (*PayloadSchemas, *spec.Spec) {
	t.Helper()
	sp := spec.MustLoadEmbedded()
	ps, err := NewPayloadSchemas(sp.Public.Source)
	require.NoError(t, err)
	return ps, sp
}

// The independent validator knows exactly the event types the contract
// describes, and takes every one's example as the contract does.
func TestIndependentValidatorAcceptsEveryExample(t *testing.T) {
	ps, sp := payloadSchemas(t)
	require.Equal(t, sp.EventTypes(""), ps.EventTypes())
	for _, typ := range ps.EventTypes() {
		ex, ok := sp.EventExample(typ)
		require.True(t, ok, typ)
		b, err := json.Marshal(ex)
		require.NoError(t, err)
		assert.NoError(t, ps.Validate(typ, b), typ)
		assert.NoError(t, sp.ValidatePayload(typ, b), "kin-openapi agrees on %s", typ)
	}
}

// Valid, then change one thing: each broken payload is refused, naming the
// place, and the kin-openapi validator agrees.
func TestIndependentValidatorRejectsBrokenPayloads(t *testing.T) {
	ps, sp := payloadSchemas(t)
	tests := []struct {
		name, event string
		change      func(m map[string]any)
		where       string
	}{
		{"a status no report has", "whatsapp_message_status_updated",
			func(m map[string]any) { body(m)["status"] = "seen" }, "/body/status"},
		{"delivered without its conversation", "whatsapp_message_status_updated",
			func(m map[string]any) { delete(body(m), "conversation") }, "/body"},
		{"failed without errorData", "whatsapp_message_status_updated",
			func(m map[string]any) { body(m)["status"] = "failed"; delete(body(m), "conversation") }, "/body"},
		{"no event id", "whatsapp_message_status_updated",
			func(m map[string]any) { delete(m, "id") }, "/"},
		{"eventTime that is not a date-time", "whatsapp_mo_message_received",
			func(m map[string]any) { m["eventTime"] = "yesterday" }, "/eventTime"},
		{"an image message without its image", "whatsapp_mo_message_received",
			func(m map[string]any) { body(m)["type"] = "image" }, "/body"},
		{"an inbound location with text coordinates", "whatsapp_mo_message_received",
			func(m map[string]any) {
				body(m)["type"] = "location"
				body(m)["location"] = map[string]any{"latitude": "1.28", "longitude": 103.86}
			}, "/body/location/latitude"},
		{"a template status that does not exist", "whatsapp_template_status_updated",
			func(m map[string]any) { body(m)["templateStatus"] = "IN_REVIEW" }, "/body/templateStatus"},
		{"a message limit that does not exist", "whatsapp_phone_number_quality_update",
			func(m map[string]any) { body(m)["messageLimit"] = "500" }, "/body/messageLimit"},
		{"a chat message without context", "chat_mo_message_notify",
			func(m map[string]any) { delete(body(m), "context") }, "/body"},
		{"an OTP status out of range", "otp_status_report",
			func(m map[string]any) { m["status"] = "3" }, "/status"},
		{"an OTP errCode that is a number", "otp_status_report",
			func(m map[string]any) { m["errCode"] = 1 }, "/errCode"},
		{"an OTP reportTime in ISO form", "otp_status_report",
			func(m map[string]any) { m["reportTime"] = "2024-12-12T11:12:12Z" }, "/reportTime"},
		{"an SMS report without msgid", "sms_status_report",
			func(m map[string]any) { delete(m, "msgid") }, "/"},
		{"an SMS report time that is not epoch milliseconds", "sms_status_report",
			func(m map[string]any) { m["reportTime"] = "2025-06-10" }, "/reportTime"},
		{"an SMS MO without the user's number", "sms_mo_message_received",
			func(m map[string]any) { delete(m, "mobile") }, "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, ok := sp.EventExample(tt.event)
			require.True(t, ok)
			tt.change(ex)
			b, err := json.Marshal(ex)
			require.NoError(t, err)
			err = ps.Validate(tt.event, b)
			require.Error(t, err, "the independent validator should refuse %s", b)
			assert.Contains(t, err.Error(), tt.where+":", "the error names the place")
			assert.Contains(t, err.Error(), "independent validator")
			assert.Error(t, sp.ValidatePayload(tt.event, b), "kin-openapi should refuse it too")
		})
	}
}

// OpenAPI's nullable is honoured: errCode may be null (the docs' example),
// and still not a number.
func TestIndependentValidatorHonoursNullable(t *testing.T) {
	ps, sp := payloadSchemas(t)
	ex, _ := sp.EventExample("otp_status_report")
	ex["errCode"], ex["errMessage"] = nil, nil
	b, _ := json.Marshal(ex)
	assert.NoError(t, ps.Validate("otp_status_report", b))
}

func TestIndependentValidatorNamesUnknownEventsAndBadJSON(t *testing.T) {
	ps, _ := payloadSchemas(t)
	assert.ErrorContains(t, ps.Validate("whatsapp_message_status_update", []byte(`{}`)), "unknown event type")
	assert.ErrorContains(t, ps.Validate("sms_status_report", []byte(`{`)), "not JSON")
}

func TestConvertSchema(t *testing.T) {
	got := convertSchema(map[string]any{
		"type": "string", "nullable": true, "example": "x", "x-innopaas-source": "doc",
		"properties": map[string]any{"a": map[string]any{"$ref": "#/components/schemas/A", "description": "dropped"}},
		"minimum":    1.0, "exclusiveMinimum": true,
		"discriminator": map[string]any{"propertyName": "a"},
	})
	want := map[string]any{"anyOf": []any{
		map[string]any{"type": "null"},
		map[string]any{"type": "string", "exclusiveMinimum": 1.0,
			"properties": map[string]any{"a": map[string]any{"$ref": "#/$defs/A"}}},
	}}
	assert.Equal(t, want, got)
}

func TestNewPayloadSchemasRefusesADocumentWithoutWebhooks(t *testing.T) {
	_, err := NewPayloadSchemas([]byte("openapi: 3.0.3\ncomponents:\n  schemas:\n    A: {type: string}\n"))
	assert.ErrorContains(t, err, "x-webhooks")
	_, err = NewPayloadSchemas([]byte("openapi: 3.0.3\n"))
	assert.ErrorContains(t, err, "components/schemas")
	_, err = NewPayloadSchemas([]byte(strings.Repeat("[", 3)))
	assert.Error(t, err)
}

func body(m map[string]any) map[string]any {
	b, _ := m["body"].(map[string]any)
	return b
}

package spec_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/spec"
)

// The reference's endpoints (docs, legacy pages and client code), each with
// the trust level the contract must give it.
var referenceEndpoints = []struct{ method, path, source string }{
	{"POST", "/api/whatsapp/v3/msg/submit", "doc"},
	{"POST", "/api/whatsapp/v3/template/submit", "doc"},
	{"POST", "/api/whatsapp/v3/uploadFile", "doc"},
	{"POST", "/api/sms/v3/msg/send", "doc"},
	{"POST", "/api/otp/v3/msg/send/verify", "client"}, // known from client code only
}

// The reference's webhook events with a documented payload. The OTP and SMS
// pushes carry no type, so their names are the sandbox's (source inferred).
var referenceEvents = []struct{ name, product, source string }{
	{"whatsapp_message_status_updated", "whatsapp", "doc"},
	{"whatsapp_mo_message_received", "whatsapp", "doc"},
	{"whatsapp_template_status_updated", "whatsapp", "doc"},
	{"whatsapp_phone_number_quality_update", "whatsapp", "doc"},
	{"chat_mt_message_notify", "whatsapp", "doc"},
	{"chat_mo_message_notify", "whatsapp", "doc"},
	{"otp_status_report", "otp", "inferred"},
	{"sms_status_report", "sms", "inferred"},
	{"sms_mo_message_received", "sms", "inferred"},
}

func TestTheContractCoversTheReference(t *testing.T) {
	s := load(t)
	t.Run("endpoints", func(t *testing.T) {
		var want, got []string
		for _, e := range referenceEndpoints {
			want = append(want, e.method+" "+e.path)
			item := s.Public.Doc.Paths.Find(e.path)
			if !assert.NotNil(t, item, "path %s", e.path) {
				continue
			}
			op := item.GetOperation(e.method)
			if assert.NotNil(t, op, "%s %s", e.method, e.path) {
				assert.Equal(t, e.source, op.Extensions["x-innopaas-source"], "x-innopaas-source of %s %s", e.method, e.path)
			}
		}
		for path, item := range s.Public.Doc.Paths.Map() {
			for method := range item.Operations() {
				got = append(got, method+" "+path)
			}
		}
		assert.ElementsMatch(t, want, got, "the contract's operations are exactly the reference's")
	})
	t.Run("events", func(t *testing.T) {
		var want []string
		for _, e := range referenceEvents {
			want = append(want, e.name)
			ev, ok := s.Event(e.name)
			if !assert.True(t, ok, "x-webhooks.%s", e.name) {
				continue
			}
			assert.Equal(t, e.product, ev.Product, "x-innopaas-product of %s", e.name)
			assert.Equal(t, e.source, ev.Source, "x-innopaas-source of %s", e.name)
		}
		assert.ElementsMatch(t, want, s.EventTypes(""), "the contract's events are exactly the reference's")
	})
}

var validSources = []string{"doc", "legacy", "client", "inferred"}

// missingSources names every operation, component schema and x-webhooks
// entry of doc whose x-innopaas-source is absent or not a known level.
func missingSources(doc *openapi3.T) []string {
	var out []string
	check := func(where string, ext map[string]any) {
		v, ok := ext["x-innopaas-source"].(string)
		if !ok || !slices.Contains(validSources, v) {
			out = append(out, fmt.Sprintf("%s: x-innopaas-source %v", where, ext["x-innopaas-source"]))
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			check(method+" "+path, op.Extensions)
		}
	}
	if doc.Components != nil {
		for name, ref := range doc.Components.Schemas {
			check("components.schemas."+name, ref.Value.Extensions)
		}
	}
	if raw, ok := doc.Extensions["x-webhooks"].(map[string]any); ok {
		for name, hook := range raw {
			post, _ := hook.(map[string]any)["post"].(map[string]any)
			check("x-webhooks."+name+".post", post)
		}
	}
	sort.Strings(out)
	return out
}

func TestEverythingSaysHowFarToTrustIt(t *testing.T) {
	s := load(t)
	assert.Empty(t, missingSources(s.Public.Doc))
}

func TestMissingSourcesAreFound(t *testing.T) {
	doc, err := spec.ParseDocument(context.Background(), "t", []byte(`openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /a:
    post:
      x-innopaas-source: doc
      responses: {'200': {description: ok}}
    get:
      responses: {'200': {description: ok}}
components:
  schemas:
    Good: {type: string, x-innopaas-source: legacy}
    Bad: {type: string, x-innopaas-source: rumour}
x-webhooks:
  e1: {post: {x-innopaas-source: inferred}}
  e2: {post: {}}
`))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"GET /a: x-innopaas-source <nil>",
		"components.schemas.Bad: x-innopaas-source rumour",
		"x-webhooks.e2.post: x-innopaas-source <nil>",
	}, missingSources(doc.Doc))
}

func TestEveryRequestResponseAndSchemaHasAnExample(t *testing.T) {
	doc := load(t).Public.Doc
	for name, ref := range doc.Components.Schemas {
		assert.NotNil(t, ref.Value.Example, "components.schemas.%s has no example", name)
	}
	has := func(mt *openapi3.MediaType) bool { return mt.Example != nil || len(mt.Examples) > 0 }
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for ct, mt := range op.RequestBody.Value.Content {
				assert.True(t, has(mt), "%s %s request %s has no example", method, path, ct)
			}
			for code, r := range op.Responses.Map() {
				for ct, mt := range r.Value.Content {
					assert.True(t, has(mt), "%s %s response %s %s has no example", method, path, code, ct)
				}
			}
		}
	}
}

// businessRule is one entry of x-innopaas-business-rules.
type businessRule struct {
	Code, Operation, Field, Rule, Source string
}

func businessRules(t *testing.T, doc *openapi3.T) []businessRule {
	t.Helper()
	b, err := json.Marshal(doc.Extensions["x-innopaas-business-rules"])
	require.NoError(t, err)
	var rules []businessRule
	require.NoError(t, json.Unmarshal(b, &rules))
	require.NotEmpty(t, rules, "x-innopaas-business-rules")
	return rules
}

// propertySchemas finds the schemas a top-level request member is described
// by, through allOf, oneOf and anyOf.
func propertySchemas(s *openapi3.Schema, name string) []*openapi3.Schema {
	if s == nil {
		return nil
	}
	var out []*openapi3.Schema
	if p, ok := s.Properties[name]; ok && p.Value != nil {
		out = append(out, p.Value)
	}
	for _, group := range [][]*openapi3.SchemaRef{s.AllOf, s.OneOf, s.AnyOf} {
		for _, r := range group {
			out = append(out, propertySchemas(r.Value, name)...)
		}
	}
	return out
}

func operationByID(doc *openapi3.T, id string) *openapi3.Operation {
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.OperationID == id {
				return op
			}
		}
	}
	return nil
}

// A limit InnoPaaS answers with its own code must not be a schema rule too,
// or the sandbox would answer 400 before it could answer the code.
func TestBusinessRulesAreAnsweredWithTheirCodesNotBySchema(t *testing.T) {
	doc := load(t).Public.Doc
	codes, ok := doc.Components.Schemas["Code"].Value.Extensions["x-innopaas-codes"].(map[string]any)
	require.True(t, ok, "Code has x-innopaas-codes")
	for _, want := range []string{"0", "101", "102", "103", "104", "105", "106", "108", "109", "110", "112", "114", "115", "116", "117", "118", "143"} {
		assert.Contains(t, codes, want, "documented code %s", want)
	}
	assert.Equal(t, false, codes["117"].(map[string]any)["retrieved"], "117's text was not retrieved, and the spec says so")

	covered := map[string][]string{}
	for _, r := range businessRules(t, doc) {
		where := r.Operation + " " + r.Field + " -> " + r.Code
		assert.Contains(t, codes, r.Code, where)
		assert.Contains(t, validSources, r.Source, where)
		assert.NotEmpty(t, r.Rule, where)
		op := operationByID(doc, r.Operation)
		if !assert.NotNil(t, op, where) {
			continue
		}
		var body *openapi3.Schema
		for _, mt := range op.RequestBody.Value.Content {
			body = mt.Schema.Value
		}
		field := strings.TrimPrefix(r.Field, "/")
		schemas := propertySchemas(body, field)
		if assert.NotEmpty(t, schemas, "%s: no such request field", where) {
			for _, fs := range schemas {
				assert.Nil(t, fs.MaxLength, "%s: maxLength would answer 400 instead of the code", where)
				assert.Empty(t, fs.Pattern, "%s: a pattern would answer 400 instead of the code", where)
				assert.Contains(t, fs.Description, `"`+r.Code+`"`, "%s: the field's description names the code", where)
			}
		}
		covered[r.Operation] = append(covered[r.Operation], r.Code)
	}
	// The rules the issue names for the sandbox.
	assert.Subset(t, covered["whatsappSubmitMessage"], []string{"105", "106", "108", "109", "118", "143"})
	assert.Subset(t, covered["smsSendMessage"], []string{"105", "106", "108", "109"})
}

func TestInboundMessagesRequireTheObjectTheirTypeNames(t *testing.T) {
	s := load(t)
	member := map[string]string{
		"text": "text", "reaction": "reaction", "image": "image", "audio": "audio", "video": "video",
		"sticker": "sticker", "document": "document", "unknown": "errors", "location": "location",
		"contacts": "contacts", "button": "button", "interactive": "interactive", "order": "order", "system": "system",
	}
	typ := s.Public.Doc.Components.Schemas["WhatsappMoMessageCommon"].Value.Properties["type"].Value
	require.Len(t, typ.Enum, 14, "the 14 documented inbound types")
	for _, v := range typ.Enum {
		name := v.(string)
		key, ok := member[name]
		require.True(t, ok, "type %s has a member", name)
		t.Run(name, func(t *testing.T) {
			schema := "WhatsappMo" + strings.ToUpper(name[:1]) + name[1:]
			ex, ok := s.Public.Doc.Components.Schemas[schema].Value.Example.(map[string]any)
			require.True(t, ok, "%s has an example", schema)
			body := clone(t, ex)
			require.Equal(t, name, body["type"])
			assert.NoError(t, s.ValidatePayload("whatsapp_mo_message_received", moEvent(t, body)))

			delete(body, key)
			err := s.ValidatePayload("whatsapp_mo_message_received", moEvent(t, body))
			require.Error(t, err, "type %s without %s", name, key)
			if name != "contacts" {
				assert.Contains(t, err.Error(), fmt.Sprintf("/body/%s: property %q is missing", key, key))
			}
		})
	}
	t.Run("contact is accepted for contacts", func(t *testing.T) {
		body := clone(t, s.Public.Doc.Components.Schemas["WhatsappMoContacts"].Value.Example.(map[string]any))
		body["contact"] = body["contacts"]
		delete(body, "contacts")
		assert.NoError(t, s.ValidatePayload("whatsapp_mo_message_received", moEvent(t, body)))
	})
	t.Run("a list reply needs listReply", func(t *testing.T) {
		body := clone(t, s.Public.Doc.Components.Schemas["WhatsappMoInteractive"].Value.Example.(map[string]any))
		body["interactive"] = map[string]any{"type": "listReply", "buttonReply": map[string]any{"id": "a", "title": "b"}}
		err := s.ValidatePayload("whatsapp_mo_message_received", moEvent(t, body))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `/body/interactive/listReply: property "listReply" is missing`)
	})
}

func clone(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func moEvent(t *testing.T, body map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"id": "b5e984b3-21b2-42a9-b08b-72e5a4096ac6", "type": "whatsapp_mo_message_received",
		"eventTime": "2023-02-22T12:00:00.000Z", "body": body,
	})
	require.NoError(t, err)
	return b
}

func TestEveryEventsExampleIsAValidPayload(t *testing.T) {
	s := load(t)
	for _, name := range s.EventTypes("") {
		e, _ := s.Event(name)
		require.NotNil(t, e.Schema.Example, "%s (%s) has an example", name, e.SchemaName)
		b, err := json.Marshal(e.Schema.Example)
		require.NoError(t, err)
		assert.NoError(t, s.ValidatePayload(name, b), name)
		if ex, ok := e.Schema.Example.(map[string]any); ok && ex["type"] != nil {
			assert.Equal(t, name, ex["type"], "the example of %s carries its own type", name)
		}
	}
}

func TestTheTemplateEventsOtherSpellingIsAcceptedInPayloads(t *testing.T) {
	s := load(t)
	e, _ := s.Event("whatsapp_template_status_updated")
	ex := clone(t, e.Schema.Example.(map[string]any))
	ex["type"] = "whatsapp_template_status_update"
	b, err := json.Marshal(ex)
	require.NoError(t, err)
	assert.NoError(t, s.ValidatePayload("whatsapp_template_status_updated", b))
	_, ok := s.Event("whatsapp_template_status_update")
	assert.False(t, ok, "only the canonical spelling names an event in webhook configurations")
}

func TestTemplateRulesFollowTheCategory(t *testing.T) {
	s := load(t)
	req := s.Public.Doc.Components.Schemas["WhatsappTemplateSubmitRequest"].Value
	base := `"wabaId":"110129512080569","name":"x","messageLanguage":"en"`
	tests := []struct{ name, fields, want string }{
		{"marketing", `"category":"1"`, ""},
		{"authentication with safety advice and a copy-code button", `"category":"2","safetyAdvice":1,"footer":"10","buttons":[{"actionType":"4"}]`, ""},
		{"legacy integer actionType", `"category":"3","buttons":[{"actionType":2,"label":"Visit","targetUrl":"https://e.com"}]`, ""},
		{"unknown category", `"category":"4"`, `/category: value "4" is not one of 1, 2, 3`},
		{"safety advice outside authentication", `"category":"1","safetyAdvice":1`, "safetyAdvice is for AUTHENTICATION templates"},
		{"copy code outside authentication", `"category":"3","buttons":[{"actionType":4}]`, "/buttons/0/actionType: copy-code (4) and auto-fill (5) buttons are for AUTHENTICATION templates only"},
		{"authentication expiry over 90 minutes", `"category":"2","footer":"91"`, "/footer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			require.NoError(t, json.Unmarshal([]byte("{"+base+","+tc.fields+"}"), &v))
			err := req.VisitJSON(v)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, spec.DescribeSchemaError(err), tc.want)
		})
	}
}

// The sandbox warns about (or refuses) request members the contract does not
// define; a documented example must never trip that. This also catches a
// branch schema that lists only some of a nested object's properties, which
// would make the others look unknown.
func TestRequestExamplesHaveNoUnknownFields(t *testing.T) {
	doc := load(t).Public.Doc
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for ct, mt := range op.RequestBody.Value.Content {
				var values []any
				names := []string{}
				if mt.Example != nil {
					values, names = append(values, mt.Example), append(names, "example")
				}
				for name, ex := range mt.Examples {
					values, names = append(values, ex.Value.Value), append(names, name)
				}
				for i, v := range values {
					v = roundTrip(t, v)
					assert.Empty(t, spec.UnknownFields(mt.Schema.Value, v), "%s %s %s example %s", method, path, ct, names[i])
				}
			}
		}
	}
	for _, name := range []string{"WhatsappSubmitRequest", "WhatsappTemplateSubmitRequest", "SmsSendRequest", "OtpSendRequest", "WhatsappUploadFileRequest"} {
		sch := doc.Components.Schemas[name].Value
		assert.Empty(t, spec.UnknownFields(sch, roundTrip(t, sch.Example)), "components.schemas.%s example", name)
	}
	// Every branch's own example, judged by the request schema as a whole.
	for _, whole := range []string{"WhatsappSubmitRequest", "WhatsappTemplateSubmitRequest"} {
		req := doc.Components.Schemas[whole].Value
		require.NotEmpty(t, req.OneOf, whole)
		for _, branch := range req.OneOf {
			assert.Empty(t, spec.UnknownFields(req, roundTrip(t, branch.Value.Example)), "%s example", branch.Ref)
		}
	}
}

func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

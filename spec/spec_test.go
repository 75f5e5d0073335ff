package spec_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/spec"
)

func load(t *testing.T) *spec.Spec {
	t.Helper()
	s, err := spec.Load(context.Background(), spec.Sources{})
	require.NoError(t, err)
	return s
}

// example is one example found in a document, with the schema it must fit.
type example struct {
	where  string
	value  any
	schema *openapi3.Schema
}

// collectExamples finds every example of a document: on schemas (at any
// depth), on parameters, and on request and response media types.
func collectExamples(doc *openapi3.T) []example {
	var out []example
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, s *openapi3.Schema)
	walk = func(where string, s *openapi3.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		if s.Example != nil {
			out = append(out, example{where, s.Example, s})
		}
		names := make([]string, 0, len(s.Properties))
		for n := range s.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			walk(where+"."+n, s.Properties[n].Value)
		}
		if s.Items != nil {
			walk(where+"[]", s.Items.Value)
		}
		for i, group := range [][]*openapi3.SchemaRef{s.AllOf, s.OneOf, s.AnyOf} {
			for j, r := range group {
				walk(fmt.Sprintf("%s/%s[%d]", where, []string{"allOf", "oneOf", "anyOf"}[i], j), r.Value)
			}
		}
	}
	names := make([]string, 0, len(doc.Components.Schemas))
	for n := range doc.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		walk("components.schemas."+n, doc.Components.Schemas[n].Value)
	}
	media := func(where string, mt *openapi3.MediaType) {
		if mt == nil || mt.Schema == nil {
			return
		}
		if mt.Example != nil {
			out = append(out, example{where + ".example", mt.Example, mt.Schema.Value})
		}
		for name, ex := range mt.Examples {
			out = append(out, example{where + ".examples." + name, ex.Value.Value, mt.Schema.Value})
		}
	}
	for n, r := range doc.Components.Responses {
		for ct, mt := range r.Value.Content {
			media("components.responses."+n+"."+ct, mt)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.RequestBody != nil {
				for ct, mt := range op.RequestBody.Value.Content {
					media(where+" requestBody "+ct, mt)
				}
			}
			for code, r := range op.Responses.Map() {
				if r.Ref != "" {
					continue // components.responses are swept above
				}
				for ct, mt := range r.Value.Content {
					media(where+" "+code+" "+ct, mt)
				}
			}
		}
	}
	return out
}

func TestEveryExampleValidatesAgainstItsSchema(t *testing.T) {
	s := load(t)
	for _, d := range []struct {
		name string
		doc  *openapi3.T
		min  int
	}{{"innopaas.yaml", s.Public.Doc, 40}, {"sandbox.yaml", s.Control.Doc, 40}} {
		t.Run(d.name, func(t *testing.T) {
			examples := collectExamples(d.doc)
			require.GreaterOrEqual(t, len(examples), d.min, "the sweep must find the document's examples")
			for _, ex := range examples {
				// Round-trip through JSON so numbers and maps look as on the wire.
				raw, err := json.Marshal(ex.value)
				require.NoError(t, err, ex.where)
				var v any
				require.NoError(t, json.Unmarshal(raw, &v), ex.where)
				assert.NoError(t, ex.schema.VisitJSON(v), "example at %s", ex.where)
			}
		})
	}
}

func TestTheSweepCatchesABrokenExample(t *testing.T) {
	doc, err := spec.ParseDocument(context.Background(), "t", []byte(`openapi: 3.0.3
info: {title: t, version: '1'}
paths: {}
components:
  schemas:
    Thing:
      type: object
      required: [a]
      properties:
        a: {type: string}
`))
	require.NoError(t, err)
	doc.Doc.Components.Schemas["Thing"].Value.Example = map[string]any{"b": 1}
	examples := collectExamples(doc.Doc)
	require.Len(t, examples, 1)
	assert.Error(t, examples[0].schema.VisitJSON(examples[0].value))
}

func TestABrokenSpecStopsLoadingWithTheLoadersMessage(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	tests := []struct {
		name, text, want string
	}{
		{"not YAML", "openapi: [", "spec " + filepath.Join(dir, "not YAML")},
		{"bad reference", `openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /x:
    get:
      responses:
        '200': {$ref: '#/components/responses/Nope'}
`, "Nope"},
		{"example breaking its schema", `openapi: 3.0.3
info: {title: t, version: '1'}
paths: {}
components:
  schemas:
    N: {type: integer, example: seven}
`, "invalid"},
		{"absolute server", `openapi: 3.0.3
info: {title: t, version: '1'}
servers: [{url: 'https://api.innopaas.com'}]
paths: {}
`, "must be relative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := write(tc.name, tc.text)
			_, err := spec.Load(context.Background(), spec.Sources{ControlPath: p})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := spec.Load(context.Background(), spec.Sources{PublicPath: filepath.Join(dir, "none.yaml")})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "none.yaml")
	})
	t.Run("public spec without x-webhooks", func(t *testing.T) {
		p := write("nohooks.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n")
		_, err := spec.Load(context.Background(), spec.Sources{PublicPath: p})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "x-webhooks is missing")
	})
}

func TestEventCatalogueComesFromXWebhooks(t *testing.T) {
	s := load(t)
	assert.Equal(t, []string{
		"chat_mo_message_notify", "chat_mt_message_notify",
		"whatsapp_message_status_updated", "whatsapp_mo_message_received",
		"whatsapp_phone_number_quality_update", "whatsapp_template_status_updated",
	}, s.EventTypes("whatsapp"))
	assert.Equal(t, []string{"otp", "sms", "whatsapp"}, s.Products())
	e, ok := s.Event("whatsapp_message_status_updated")
	require.True(t, ok)
	assert.Equal(t, "WhatsappMessageStatusUpdatedEvent", e.SchemaName)
	assert.Equal(t, "doc", e.Source)
}

func TestValidatePayload(t *testing.T) {
	s := load(t)
	valid := `{"id":"e","type":"whatsapp_message_status_updated","eventTime":"2023-05-25T10:31:08.167Z","body":{"id":"356139161272397824","accountName":"IW123456","wabaId":"1","status":"read","wamid":"wamid.x","sendPhone":"6285234567899"}}`
	require.NoError(t, s.ValidatePayload("whatsapp_message_status_updated", []byte(valid)))
	tests := []struct{ name, payload, want string }{
		{"bad status", strings.Replace(valid, `"read"`, `"seen"`, 1), `/body/status: value "seen" is not one of SMECL:FAILED, delivered, failed, read`},
		{"delivered without conversation", strings.Replace(valid, `"read"`, `"delivered"`, 1), `/body/conversation: property "conversation" is missing`},
		{"failed without errorData", strings.Replace(valid, `"read"`, `"failed"`, 1), `/body/errorData: property "errorData" is missing`},
		{"missing wamid", strings.Replace(valid, `"wamid":"wamid.x",`, "", 1), `/body/wamid: property "wamid" is missing`},
		{"wrong type name", strings.Replace(valid, `"type":"whatsapp_message_status_updated"`, `"type":"x"`, 1), "/type"},
		{"not JSON", `{`, "is not JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.ValidatePayload("whatsapp_message_status_updated", []byte(tc.payload))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	err := s.ValidatePayload("nope", []byte(valid))
	assert.ErrorIs(t, err, spec.ErrUnknownEvent)
}

func TestUnknownFields(t *testing.T) {
	s := load(t)
	req := s.Public.Doc.Components.Schemas["WhatsappSubmitRequest"].Value
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"none", `{"messageType":"text","body":"x","media":{"link":"y"}}`, nil},
		{"top level", `{"messageType":"text","recipientNumbers":"1"}`, []string{"/recipientNumbers"}},
		{"nested and in arrays", `{"messageType":"contacts","contacts":[{"name":{"formattedName":"a","nick":"b"}}],"media":{"size":1}}`,
			[]string{"/contacts/0/name/nick", "/media/size"}},
		{"property of another message type is known", `{"messageType":"audio","media":{"link":"y","filename":"z"}}`, nil},
		{"escaped pointer", `{"messageType":"text","a/b":1}`, []string{"/a~1b"}},
		{"a member two schemas describe is named once", `{"messageType":"audio","media":{"link":"y","size":1}}`, []string{"/media/size"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			require.NoError(t, json.Unmarshal([]byte(tc.body), &v))
			assert.Equal(t, tc.want, spec.UnknownFields(req, v))
		})
	}
}

func TestEmbeddedFilesAreServedAsWritten(t *testing.T) {
	for _, name := range []string{spec.PublicFile, spec.ControlFile} {
		b, err := spec.Embedded(name)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(b), "openapi: 3.0.3"), name)
	}
}

func TestExactRoutesAgreeWithTheRouter(t *testing.T) {
	s := load(t)
	for _, d := range []*spec.Document{s.Public, s.Control} {
		for path, item := range d.Doc.Paths.Map() {
			if strings.Contains(path, "{") {
				continue
			}
			for method := range item.Operations() {
				req := httptest.NewRequest(method, path, nil)
				fast, _, err := d.FindRoute(req)
				require.NoError(t, err, "%s %s", method, path)
				slow, _, err := d.Router.FindRoute(req)
				require.NoError(t, err, "%s %s", method, path)
				assert.Equal(t, slow.Operation, fast.Operation, "%s %s", method, path)
				assert.Equal(t, slow.Path, fast.Path)
				assert.Equal(t, slow.Method, fast.Method)
			}
		}
	}
	// Paths the exact table does not hold still route, and still refuse.
	_, _, err := s.Control.FindRoute(httptest.NewRequest("GET", "/_sandbox/apps/XFbZY1rtTKo3UD4n1", nil))
	assert.NoError(t, err)
	_, _, err = s.Public.FindRoute(httptest.NewRequest("GET", "/api/whatsapp/v3/msg/submit", nil))
	assert.ErrorIs(t, err, routers.ErrMethodNotAllowed)
	_, _, err = s.Public.FindRoute(httptest.NewRequest("POST", "/nope", nil))
	assert.ErrorIs(t, err, routers.ErrPathNotFound)
}

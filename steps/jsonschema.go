package steps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	yaml "go.yaml.in/yaml/v4"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// PayloadSchemas is a second judge of webhook payloads, independent of
// kin-openapi (which the sandbox itself validates with): it reads the
// contract's text itself, turns the OpenAPI 3.0 schemas into JSON Schema
// 2020-12 and validates with a JSON Schema library. A payload the sandbox's
// own validator lets through because of a bug in that validator, or in how
// the contract is read, is still caught here.
//
// The OpenAPI 3.0 dialect differs from JSON Schema in a few ways, each
// translated here:
//
//   - nullable: true allows null: {anyOf: [{type: null}, <the schema>]}
//     (anyOf rather than a type list, so that allOf and enum siblings stay
//     right);
//   - $ref points into components/schemas: rewritten into $defs, and its
//     siblings dropped (OpenAPI 3.0 ignores them; 2020-12 would apply them);
//   - discriminator, example, xml, externalDocs and x- extensions are not
//     validation keywords: dropped (oneOf alone decides, which the
//     contract's branches make unambiguous with their enums);
//   - boolean exclusiveMinimum/exclusiveMaximum (draft 4) become the
//     numeric keywords of 2020-12.
type PayloadSchemas struct {
	schemas map[string]*jsonschema.Schema // by event type
	names   map[string]string             // event type -> components/schemas name
}

// schemaBase is the URL the converted document is known by to the compiler.
const schemaBase = "urn:innosandbox:innopaas"

// NewPayloadSchemas reads an OpenAPI 3.0 document (YAML or JSON) and compiles
// the payload schema of every event type under its x-webhooks.
func NewPayloadSchemas(source []byte) (*PayloadSchemas, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(source, &doc); err != nil {
		return nil, fmt.Errorf("independent validator: reading the contract: %w", err)
	}
	doc, _ = plainJSON(doc).(map[string]any)
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	if len(schemas) == 0 {
		return nil, errors.New("independent validator: the contract has no components/schemas")
	}
	defs := make(map[string]any, len(schemas))
	for name, s := range schemas {
		defs[name] = convertSchema(s)
	}
	root := map[string]any{"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs}
	// The compiler wants JSON values as its own decoder makes them.
	raw, err := json.Marshal(root)
	if err != nil {
		return nil, fmt.Errorf("independent validator: %w", err)
	}
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("independent validator: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(schemaBase, value); err != nil {
		return nil, fmt.Errorf("independent validator: %w", err)
	}

	hooks, _ := doc["x-webhooks"].(map[string]any)
	if len(hooks) == 0 {
		return nil, errors.New("independent validator: the contract has no x-webhooks")
	}
	ps := &PayloadSchemas{schemas: map[string]*jsonschema.Schema{}, names: map[string]string{}}
	for event, h := range hooks {
		ref := dig(h, "post", "requestBody", "content", "application/json", "schema", "$ref")
		name, ok := strings.CutPrefix(fmt.Sprint(ref), "#/components/schemas/")
		if !ok {
			return nil, fmt.Errorf("independent validator: x-webhooks.%s has no schema $ref into components/schemas", event)
		}
		sch, err := c.Compile(schemaBase + "#/$defs/" + name)
		if err != nil {
			return nil, fmt.Errorf("independent validator: compiling the schema of %s: %w", event, err)
		}
		ps.schemas[event], ps.names[event] = sch, name
	}
	return ps, nil
}

// EventTypes lists the event types the validator knows, sorted.
func (ps *PayloadSchemas) EventTypes() []string {
	out := make([]string, 0, len(ps.schemas))
	for k := range ps.schemas {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Validate judges a payload of an event type; the error lists every
// violation as "instance location: reason".
func (ps *PayloadSchemas) Validate(eventType string, payload []byte) error {
	sch, ok := ps.schemas[eventType]
	if !ok {
		return fmt.Errorf("independent validator: unknown event type %q", eventType)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("independent validator: payload of %s is not JSON: %w", eventType, err)
	}
	err = sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("independent validator: %w", err)
	}
	var leaves []string
	collectLeaves(ve, &leaves, map[string]bool{})
	if len(leaves) > maxLeaves {
		leaves = append(leaves[:maxLeaves], fmt.Sprintf("and %d more", len(leaves)-maxLeaves))
	}
	return fmt.Errorf("independent validator (JSON Schema 2020-12): payload of %s does not match schema %s: %s",
		eventType, ps.names[eventType], strings.Join(leaves, "; "))
}

// maxLeaves bounds the violations one error lists: a oneOf that no branch
// matches has a few per branch.
const maxLeaves = 8

var printer = message.NewPrinter(language.English)

// collectLeaves lists the violations at the leaves of the error tree (the
// inner nodes only say that an allOf, oneOf or $ref failed), without
// repeats.
func collectLeaves(e *jsonschema.ValidationError, out *[]string, seen map[string]bool) {
	if len(e.Causes) == 0 {
		loc := "/" + strings.Join(escapePointer(e.InstanceLocation), "/")
		line := loc + ": " + e.ErrorKind.LocalizedString(printer)
		if !seen[line] {
			seen[line] = true
			*out = append(*out, line)
		}
		return
	}
	for _, c := range e.Causes {
		collectLeaves(c, out, seen)
	}
}

func escapePointer(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
	}
	return out
}

// dig follows object members; nil when a step is missing.
func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// plainJSON turns decoded YAML into the values encoding/json makes: maps
// with string keys all the way down.
func plainJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = plainJSON(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = plainJSON(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = plainJSON(e)
		}
		return t
	}
	return v
}

// notKeywords are OpenAPI 3.0 schema members that JSON Schema does not
// validate with.
var notKeywords = map[string]bool{"discriminator": true, "example": true, "xml": true, "externalDocs": true, "nullable": true}

// convertSchema turns one OpenAPI 3.0 schema object into JSON Schema 2020-12.
func convertSchema(v any) any {
	s, ok := v.(map[string]any)
	if !ok {
		return v // true/false schemas and stray values stay as they are
	}
	if ref, ok := s["$ref"].(string); ok {
		return map[string]any{"$ref": strings.Replace(ref, "#/components/schemas/", "#/$defs/", 1)}
	}
	out := make(map[string]any, len(s))
	for k, e := range s {
		if notKeywords[k] || strings.HasPrefix(k, "x-") {
			continue
		}
		switch k {
		case "properties", "patternProperties":
			props, _ := e.(map[string]any)
			conv := make(map[string]any, len(props))
			for name, p := range props {
				conv[name] = convertSchema(p)
			}
			out[k] = conv
		case "items", "additionalProperties", "not":
			out[k] = convertSchema(e)
		case "allOf", "anyOf", "oneOf":
			list, _ := e.([]any)
			conv := make([]any, len(list))
			for i, p := range list {
				conv[i] = convertSchema(p)
			}
			out[k] = conv
		default:
			out[k] = e
		}
	}
	for _, pair := range [][2]string{{"exclusiveMinimum", "minimum"}, {"exclusiveMaximum", "maximum"}} {
		if b, ok := out[pair[0]].(bool); ok {
			delete(out, pair[0])
			if b {
				out[pair[0]] = out[pair[1]]
				delete(out, pair[1])
			}
		}
	}
	if n, _ := s["nullable"].(bool); n {
		return map[string]any{"anyOf": []any{map[string]any{"type": "null"}, out}}
	}
	return out
}

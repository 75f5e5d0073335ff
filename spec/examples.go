package spec

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// The contract's examples are the sandbox's raw material: a triggered event
// or a simulated inbound message starts from the example its schema gives,
// then gets fresh ids and times. Examples are kept encoded once, and each
// call decodes a fresh copy that the caller may change at will.

var exampleCache sync.Map // *openapi3.Schema -> []byte (nil: no example)

func exampleJSON(s *openapi3.Schema) []byte {
	if v, ok := exampleCache.Load(s); ok {
		return v.([]byte)
	}
	var b []byte
	if s.Example != nil {
		// Examples come from the loader as decoded JSON: they always encode.
		b, _ = json.Marshal(s.Example)
	}
	v, _ := exampleCache.LoadOrStore(s, b)
	return v.([]byte)
}

func decodeObject(b []byte) (map[string]any, bool) {
	if b == nil {
		return nil, false
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, false
	}
	return m, true
}

// EventExample returns a fresh copy of an event type's example payload (the
// example of its payload schema); ok is false for an unknown event type or
// one without an example.
func (s *Spec) EventExample(eventType string) (map[string]any, bool) {
	e, ok := s.events[eventType]
	if !ok {
		return nil, false
	}
	return decodeObject(exampleJSON(e.Schema))
}

// BranchExample returns a fresh copy of the example of the oneOf branch of
// the public schema 'schema' that its discriminator value 'tag' selects,
// e.g. BranchExample("WhatsappMoMessageBody", "image").
func (s *Spec) BranchExample(schema, tag string) (map[string]any, bool) {
	ref, ok := s.Public.Doc.Components.Schemas[schema]
	if !ok || ref.Value == nil || ref.Value.Discriminator == nil {
		return nil, false
	}
	target, ok := ref.Value.Discriminator.Mapping[tag]
	if !ok {
		return nil, false
	}
	for _, b := range ref.Value.OneOf {
		if b.Ref == target.Ref && b.Value != nil {
			return decodeObject(exampleJSON(b.Value))
		}
	}
	return nil, false
}

// PayloadViolations judges a decoded payload of an event type: every way it
// breaks the schema, and every member the schema does not define (Rule
// "unknown"), so that a caller who builds payloads learns of a misspelt
// field instead of having it pushed. Nil means the payload is good.
func (s *Spec) PayloadViolations(eventType string, payload any) ([]Violation, error) {
	e, ok := s.events[eventType]
	if !ok {
		return nil, fmt.Errorf("%w %q; known: %s", ErrUnknownEvent, eventType, strings.Join(s.EventTypes(""), ", "))
	}
	var out []Violation
	if err := e.Schema.VisitJSON(payload, openapi3.MultiErrors()); err != nil {
		out = Violations(err)
	}
	for _, p := range UnknownFields(e.Schema, payload) {
		out = append(out, Violation{Path: p, Rule: "unknown", Reason: "the contract defines no such field"})
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.Count(out[i].Path, "/") > strings.Count(out[j].Path, "/") })
	return out, nil
}

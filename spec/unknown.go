package spec

import (
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// UnknownFields lists, as JSON pointers, the object members of value that
// schema does not define. It follows properties, items, allOf, and oneOf or
// anyOf (through the discriminator when there is one, else through every
// branch). A schema that allows additional properties explicitly (true, or a
// schema for them) defines every member; one that leaves them unspecified
// does not, which is the point. Used to warn about (or refuse) typos such as
// "recipientNumbers" that a lenient real API would ignore silently.
func UnknownFields(schema *openapi3.Schema, value any) []string {
	var out []string
	walkUnknown(schema, value, "", &out)
	sort.Strings(out)
	return out
}

func walkUnknown(schema *openapi3.Schema, value any, path string, out *[]string) {
	if schema == nil {
		return
	}
	switch v := value.(type) {
	case map[string]any:
		props, open := knownProperties(schema, v)
		if open {
			return
		}
		for name, member := range v {
			p := path + "/" + escapePointer(name)
			subs, ok := props[name]
			if !ok {
				*out = append(*out, p)
				continue
			}
			for _, sub := range subs {
				walkUnknown(sub, member, p, out)
			}
		}
	case []any:
		items := collectItems(schema)
		for i, item := range v {
			for _, it := range items {
				walkUnknown(it, item, path+"/"+strconv.Itoa(i), out)
			}
		}
	}
}

// knownProperties gathers the property schemas that apply to obj; open is
// true when any member is allowed.
func knownProperties(schema *openapi3.Schema, obj map[string]any) (map[string][]*openapi3.Schema, bool) {
	props := map[string][]*openapi3.Schema{}
	open := false
	var visit func(s *openapi3.Schema)
	visit = func(s *openapi3.Schema) {
		if s == nil || open {
			return
		}
		if ap := s.AdditionalProperties; ap.Schema != nil || (ap.Has != nil && *ap.Has) {
			open = true
			return
		}
		for name, ref := range s.Properties {
			if ref != nil && ref.Value != nil {
				props[name] = append(props[name], ref.Value)
			}
		}
		for _, ref := range s.AllOf {
			visit(ref.Value)
		}
		for _, branch := range pickBranches(s, obj) {
			visit(branch)
		}
	}
	visit(schema)
	// A schema that names no properties at all (type: object) is open.
	if len(props) == 0 {
		open = true
	}
	return props, open
}

// pickBranches returns the oneOf/anyOf branches that apply: the mapped one
// when a discriminator names it, else all of them.
func pickBranches(s *openapi3.Schema, obj map[string]any) []*openapi3.Schema {
	branches := append(append([]*openapi3.SchemaRef{}, s.OneOf...), s.AnyOf...)
	if len(branches) == 0 {
		return nil
	}
	if d := s.Discriminator; d != nil {
		if tag, ok := obj[d.PropertyName].(string); ok {
			if ref, ok := d.Mapping[tag]; ok {
				for _, b := range branches {
					if b.Ref == ref.Ref && b.Value != nil {
						return []*openapi3.Schema{b.Value}
					}
				}
			}
		}
	}
	out := make([]*openapi3.Schema, 0, len(branches))
	for _, b := range branches {
		if b.Value != nil {
			out = append(out, b.Value)
		}
	}
	return out
}

func collectItems(s *openapi3.Schema) []*openapi3.Schema {
	var out []*openapi3.Schema
	if s.Items != nil && s.Items.Value != nil {
		out = append(out, s.Items.Value)
	}
	for _, ref := range s.AllOf {
		if ref.Value != nil {
			out = append(out, collectItems(ref.Value)...)
		}
	}
	return out
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

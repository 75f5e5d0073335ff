package spec

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

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
	// A member described by several schemas (allOf branches that each
	// describe it) is found once per schema; name it once.
	return slices.Compact(out)
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
			subs, ok := props[name]
			if !ok {
				*out = append(*out, path+"/"+escapePointer(name))
				continue
			}
			if !container(member) {
				continue // a string, number, boolean or null has no members
			}
			p := path + "/" + escapePointer(name) // built only when needed: most members are scalars
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

// container reports whether a decoded JSON value can hold members.
func container(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// shape is what a schema says about an object's members, computed once per
// schema (the documents are immutable after loading).
type shape struct {
	open   bool                          // any member allowed
	props  map[string][]*openapi3.Schema // member -> schemas that apply to it
	disc   []*openapi3.Schema            // parts with oneOf/anyOf branches
	mu     sync.RWMutex
	merged map[string]map[string][]*openapi3.Schema // branch selection key -> properties (nil: open)
}

var shapes sync.Map // *openapi3.Schema -> *shape

func shapeOf(s *openapi3.Schema) *shape {
	if v, ok := shapes.Load(s); ok {
		return v.(*shape)
	}
	sh := &shape{props: map[string][]*openapi3.Schema{}}
	var visit func(s *openapi3.Schema)
	visit = func(s *openapi3.Schema) {
		if s == nil || sh.open {
			return
		}
		if ap := s.AdditionalProperties; ap.Schema != nil || (ap.Has != nil && *ap.Has) {
			sh.open = true
			return
		}
		for name, ref := range s.Properties {
			if ref != nil && ref.Value != nil {
				sh.props[name] = append(sh.props[name], ref.Value)
			}
		}
		for _, ref := range s.AllOf {
			visit(ref.Value)
		}
		if len(s.OneOf)+len(s.AnyOf) > 0 {
			sh.disc = append(sh.disc, s)
		}
	}
	visit(s)
	v, _ := shapes.LoadOrStore(s, sh)
	return v.(*shape)
}

// knownProperties gathers the property schemas that apply to obj; open is
// true when any member is allowed.
func knownProperties(schema *openapi3.Schema, obj map[string]any) (map[string][]*openapi3.Schema, bool) {
	sh := shapeOf(schema)
	if sh.open {
		return nil, true
	}
	if len(sh.disc) == 0 {
		return sh.props, len(sh.props) == 0 // no properties at all (type: object) is open
	}
	// The branches that apply depend on the object's discriminator values.
	// Cache the merge per selection, but only for values the mappings know,
	// so that arbitrary input cannot grow the cache.
	var buf [64]byte
	key, cacheable := selectionKey(buf[:0], sh.disc, obj)
	if cacheable {
		sh.mu.RLock()
		props, ok := sh.merged[string(key)] // no string is allocated for the lookup
		sh.mu.RUnlock()
		if ok {
			return props, props == nil
		}
	}
	props := make(map[string][]*openapi3.Schema, len(sh.props)+8)
	for k, v := range sh.props {
		props[k] = v
	}
	for _, s := range sh.disc {
		for _, b := range pickBranches(s, obj) {
			bp, open := knownProperties(b, obj)
			if open {
				props = nil
				break
			}
			for k, v := range bp {
				props[k] = append(props[k][:len(props[k]):len(props[k])], v...)
			}
		}
		if props == nil {
			break
		}
	}
	if cacheable {
		sh.mu.Lock()
		if sh.merged == nil {
			sh.merged = map[string]map[string][]*openapi3.Schema{}
		}
		sh.merged[string(key)] = props
		sh.mu.Unlock()
	}
	return props, props == nil
}

// selectionKey names which branches pickBranches will choose for obj,
// appended to b (a caller's buffer, so that the usual key costs nothing).
func selectionKey(b []byte, disc []*openapi3.Schema, obj map[string]any) ([]byte, bool) {
	for _, s := range disc {
		b = append(b, '|')
		d := s.Discriminator
		if d == nil {
			continue // every branch applies
		}
		tag, ok := obj[d.PropertyName].(string)
		if !ok {
			continue
		}
		if _, known := d.Mapping[tag]; !known {
			return nil, false
		}
		b = append(b, tag...)
	}
	return b, true
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

// pointerEscaper escapes a member name for a JSON pointer (RFC 6901).
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapePointer(s string) string { return pointerEscaper.Replace(s) }

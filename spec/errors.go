package spec

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Violation is one way a value breaks a schema: where, and which rule.
type Violation struct {
	Path   string // JSON pointer into the value, "/" for the root
	Rule   string // the schema keyword that failed, e.g. "required", "maxLength"
	Reason string // kin-openapi's human-readable reason
}

// String renders a violation as "path: reason".
func (v Violation) String() string { return v.Path + ": " + v.Reason }

// Violations flattens a kin-openapi validation error into its leaf
// violations, deepest first, without duplicates. Errors that are not schema
// errors become one violation at "/".
func Violations(err error) []Violation {
	var out []Violation
	seen := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		var me openapi3.MultiError
		if errors.As(err, &me) {
			for _, e := range me {
				walk(e)
			}
			return
		}
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			// Descend into oneOf/anyOf/allOf causes, which carry deeper paths.
			if inner := errors.Unwrap(se.Origin); inner != nil {
				if nested, ok := inner.(openapi3.MultiError); ok && len(nested) > 0 {
					before := len(out)
					walk(nested)
					if len(out) > before {
						return
					}
				}
			}
			if se.Origin != nil {
				var deeper *openapi3.SchemaError
				if errors.As(se.Origin, &deeper) && deeper != se {
					walk(se.Origin)
					return
				}
			}
			v := violationOf(se)
			key := v.Path + "\x00" + v.Reason
			if !seen[key] {
				seen[key] = true
				out = append(out, v)
			}
			return
		}
		key := "/\x00" + err.Error()
		if !seen[key] {
			seen[key] = true
			out = append(out, Violation{Path: "/", Reason: err.Error()})
		}
	}
	walk(err)
	sort.SliceStable(out, func(i, j int) bool { return strings.Count(out[i].Path, "/") > strings.Count(out[j].Path, "/") })
	return out
}

// violationOf turns one schema error into a violation, rewording the two
// rules whose kin-openapi reasons do not help a caller: a discriminator
// (name the field and its allowed values) and "not" (say what it forbids).
func violationOf(se *openapi3.SchemaError) Violation {
	path := "/" + strings.Join(se.JSONPointer(), "/")
	v := Violation{Path: path, Rule: se.SchemaField, Reason: se.Reason}
	switch {
	case se.SchemaField == "discriminator" && se.Schema != nil && se.Schema.Discriminator != nil:
		d := se.Schema.Discriminator
		allowed := make([]string, 0, len(d.Mapping))
		for k := range d.Mapping {
			allowed = append(allowed, k)
		}
		sort.Strings(allowed)
		v.Path = strings.TrimSuffix(path, "/") + "/" + d.PropertyName
		if se.Value == nil {
			v.Reason = fmt.Sprintf("property %q is missing; one of %s", d.PropertyName, strings.Join(allowed, ", "))
		} else {
			v.Reason = fmt.Sprintf("value %v is not one of %s", jsonish(se.Value), strings.Join(allowed, ", "))
		}
	case se.SchemaField == "not" && se.Reason == "":
		if se.Schema != nil && se.Schema.Description != "" {
			v.Reason = se.Schema.Description
		} else {
			v.Reason = "matches a schema it must not match"
		}
	case v.Reason == "":
		v.Reason = "breaks the rule " + se.SchemaField
	}
	return v
}

func jsonish(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// DescribeSchemaError renders a validation error as "path: reason" clauses
// joined by "; ", the most specific first.
func DescribeSchemaError(err error) string {
	vs := Violations(err)
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
	}
	return strings.Join(parts, "; ")
}

package spec

import (
	"errors"
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
			v := Violation{Path: "/" + strings.Join(se.JSONPointer(), "/"), Rule: se.SchemaField, Reason: se.Reason}
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

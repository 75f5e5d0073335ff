// Package spec owns the contract: the InnoPaaS public API (innopaas.yaml) and
// the sandbox's control API (sandbox.yaml), embedded in the binary, loaded and
// validated once, and shared read-only by the mock server and the harness.
package spec

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

//go:embed innopaas.yaml sandbox.yaml
var files embed.FS

// Embedded file names.
const (
	PublicFile  = "innopaas.yaml"
	ControlFile = "sandbox.yaml"
)

// Embedded returns the bytes of an embedded spec file.
func Embedded(name string) ([]byte, error) { return files.ReadFile(name) }

// Document is one loaded OpenAPI document and the router built from it.
type Document struct {
	Doc    *openapi3.T
	Router routers.Router
	// Source is the text the document was parsed from (YAML or JSON), for
	// readers that want the contract without kin-openapi's reading of it,
	// such as the harness's second, independent payload validator.
	Source []byte
	// exact holds the routes of paths without parameters by method and
	// path: most requests are answered from it without the router's
	// regular-expression matching, with the same route values.
	exact map[string]*routers.Route
}

// FindRoute finds the route of a request: by exact path first, else through
// the gorilla/mux router (path parameters, 404 and 405 answers).
func (d *Document) FindRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	if rt, ok := d.exact[r.Method+" "+r.URL.Path]; ok {
		route := *rt
		return &route, nil, nil
	}
	return d.Router.FindRoute(r)
}

// EventType is one webhook event described under x-webhooks.
type EventType struct {
	Name       string // the event type, e.g. whatsapp_message_status_updated
	Product    string // x-innopaas-product
	Source     string // x-innopaas-source
	SchemaName string // the components/schemas entry of its payload
	Schema     *openapi3.Schema
}

// Spec is the whole contract.
type Spec struct {
	Public  *Document
	Control *Document
	events  map[string]*EventType
}

// Sources says where to read the documents from; an empty path means the
// embedded copy.
type Sources struct {
	PublicPath  string
	ControlPath string
}

// Load reads, resolves and validates both documents and builds their routers.
// Any problem stops here with the loader's or validator's message, naming the
// file: a sandbox must not start on a broken contract.
func Load(ctx context.Context, src Sources) (*Spec, error) {
	// The two documents load at once: start-up is mostly parsing them.
	var ctl *Document
	var ctlErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctl, ctlErr = loadDocument(ctx, ControlFile, src.ControlPath)
	}()
	pub, err := loadDocument(ctx, PublicFile, src.PublicPath)
	<-done
	if err != nil {
		return nil, err
	}
	if ctlErr != nil {
		return nil, ctlErr
	}
	events, err := readEvents(pub.Doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameOf(PublicFile, src.PublicPath), err)
	}
	return &Spec{Public: pub, Control: ctl, events: events}, nil
}

// MustLoadEmbedded loads the embedded documents and panics on error; the
// embedded copies are tested, so this is for tests and benchmarks.
func MustLoadEmbedded() *Spec {
	s, err := Load(context.Background(), Sources{})
	if err != nil {
		panic(err)
	}
	return s
}

func nameOf(embedded, path string) string {
	if path != "" {
		return path
	}
	return embedded + " (embedded)"
}

func loadDocument(ctx context.Context, embedded, path string) (*Document, error) {
	name := nameOf(embedded, path)
	var data []byte
	var err error
	if path != "" {
		data, err = os.ReadFile(path)
	} else {
		data, err = files.ReadFile(embedded)
	}
	if err != nil {
		return nil, fmt.Errorf("spec %s: %w", name, err)
	}
	if path == "" {
		// The embedded documents' examples are validated by the test suite
		// (TestEveryExampleValidatesAgainstItsSchema) before they can be
		// built in; a file given at run time gets every check.
		return parseDocument(ctx, name, data, openapi3.DisableExamplesValidation())
	}
	return ParseDocument(ctx, name, data)
}

// ParseDocument loads and validates one document from bytes. name is used
// in error messages only.
func ParseDocument(ctx context.Context, name string, data []byte) (*Document, error) {
	return parseDocument(ctx, name, data)
}

func parseDocument(ctx context.Context, name string, data []byte, opts ...openapi3.ValidationOption) (*Document, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("spec %s: %w", name, err)
	}
	if err := doc.Validate(ctx, opts...); err != nil {
		return nil, fmt.Errorf("spec %s is invalid: %w", name, err)
	}
	for _, srv := range doc.Servers {
		if !strings.HasPrefix(srv.URL, "/") {
			return nil, fmt.Errorf("spec %s: server URL %q must be relative (a base path), so one document routes every host", name, srv.URL)
		}
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("spec %s: building the router: %w", name, err)
	}
	d := &Document{Doc: doc, Router: router, Source: data, exact: map[string]*routers.Route{}}
	if len(doc.Servers) <= 1 {
		base := ""
		if len(doc.Servers) == 1 {
			base = strings.TrimSuffix(doc.Servers[0].URL, "/")
		}
		for path, item := range doc.Paths.Map() {
			if strings.Contains(path, "{") {
				continue
			}
			for method, op := range item.Operations() {
				rt := &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
				if len(doc.Servers) == 1 {
					rt.Server = doc.Servers[0]
				}
				d.exact[method+" "+base+path] = rt
			}
		}
	}
	return d, nil
}

// readEvents builds the event catalogue from the document's x-webhooks:
// event type -> post -> requestBody -> application/json -> schema $ref.
func readEvents(doc *openapi3.T) (map[string]*EventType, error) {
	raw, ok := doc.Extensions["x-webhooks"]
	if !ok {
		return nil, errors.New("x-webhooks is missing: the webhook payloads must be described")
	}
	// Extensions hold decoded JSON; re-encode into a typed view.
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("x-webhooks: %w", err)
	}
	var hooks map[string]struct {
		Post *struct {
			Product     string `json:"x-innopaas-product"`
			Source      string `json:"x-innopaas-source"`
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"post"`
	}
	if err := json.Unmarshal(b, &hooks); err != nil {
		return nil, fmt.Errorf("x-webhooks: %w", err)
	}
	const prefix = "#/components/schemas/"
	out := make(map[string]*EventType, len(hooks))
	for name, h := range hooks {
		if h.Post == nil {
			return nil, fmt.Errorf("x-webhooks.%s: needs a post operation", name)
		}
		if h.Post.Product == "" {
			return nil, fmt.Errorf("x-webhooks.%s.post: x-innopaas-product is missing", name)
		}
		media, ok := h.Post.RequestBody.Content["application/json"]
		if !ok || !strings.HasPrefix(media.Schema.Ref, prefix) {
			return nil, fmt.Errorf("x-webhooks.%s.post.requestBody: needs application/json with a $ref into %s", name, strings.TrimSuffix(prefix, "/"))
		}
		schemaName := strings.TrimPrefix(media.Schema.Ref, prefix)
		ref, ok := doc.Components.Schemas[schemaName]
		if !ok || ref.Value == nil {
			return nil, fmt.Errorf("x-webhooks.%s: schema %q is not in components/schemas", name, schemaName)
		}
		out[name] = &EventType{Name: name, Product: h.Post.Product, Source: h.Post.Source, SchemaName: schemaName, Schema: ref.Value}
	}
	return out, nil
}

// Event returns the description of an event type.
func (s *Spec) Event(name string) (*EventType, bool) {
	e, ok := s.events[name]
	return e, ok
}

// EventTypes returns the event types of a product ("" for all), sorted.
func (s *Spec) EventTypes(product string) []string {
	var out []string
	for name, e := range s.events {
		if product == "" || e.Product == product {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Products returns the products that have events, sorted.
func (s *Spec) Products() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range s.events {
		if !seen[e.Product] {
			seen[e.Product] = true
			out = append(out, e.Product)
		}
	}
	sort.Strings(out)
	return out
}

// FlatEventType names the event type of a payload without a type member
// (the OTP and SMS pushes): among the candidates, the one whose payload
// schema's required members are all there, or the only flat candidate when
// none fits ("" when it cannot tell). Enveloped events name their own type.
func (s *Spec) FlatEventType(payload map[string]any, candidates []string) string {
	var flat, fitting []string
	for _, t := range candidates {
		e, ok := s.Event(t)
		if !ok || e.Schema == nil || len(e.Schema.Required) == 0 || slices.Contains(e.Schema.Required, "type") {
			continue // an enveloped event, which names its own type
		}
		flat = append(flat, t)
		if !slices.ContainsFunc(e.Schema.Required, func(name string) bool { _, ok := payload[name]; return !ok }) {
			fitting = append(fitting, t)
		}
	}
	switch {
	case len(fitting) == 1:
		return fitting[0]
	case len(flat) == 1:
		return flat[0] // the only one it can be; its schema will say what is wrong
	}
	return ""
}

// ErrUnknownEvent is returned for an event type the contract does not describe.
var ErrUnknownEvent = errors.New("unknown event type")

// ValidatePayload checks a webhook payload against its event type's schema.
// The error names the field path and the rule.
func (s *Spec) ValidatePayload(eventType string, payload []byte) error {
	e, ok := s.events[eventType]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownEvent, eventType)
	}
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return fmt.Errorf("payload of %s is not JSON: %w", eventType, err)
	}
	if err := e.Schema.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("payload of %s does not match schema %s: %s", eventType, e.SchemaName, DescribeSchemaError(err))
	}
	return nil
}

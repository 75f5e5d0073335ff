package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/innosandbox/innosandbox/spec"
)

// SubmitPath is the public API's send endpoint.
const SubmitPath = "/api/whatsapp/v3/msg/submit"

// WhatsApp event types.
const (
	EventStatusUpdated = "whatsapp_message_status_updated"
	EventMOReceived    = "whatsapp_mo_message_received"
)

// Exchange is one HTTP call and its answer, as the steps saw it.
type Exchange struct {
	Method    string
	URL       string
	ReqHeader http.Header
	ReqBody   []byte
	Status    int
	Header    http.Header
	Body      []byte
}

// Summary renders an exchange for failure messages: the call, the status,
// the sandbox's explanation headers and the body (cut at 500 bytes).
func (e *Exchange) Summary() string {
	if e == nil {
		return "(no call was made)"
	}
	return fmt.Sprintf("%s %s answered %s", e.Method, e.URL, e.Answer())
}

// Request renders the call for people: method, URL and body (cut at 500 bytes).
func (e *Exchange) Request() string {
	s := e.Method + " " + e.URL
	if len(e.ReqBody) > 0 {
		s += " " + excerpt(e.ReqBody)
	}
	return s
}

// Answer renders the answer for people: the status, the sandbox's
// explanation headers and the body (cut at 500 bytes).
func (e *Exchange) Answer() string {
	var extra []string
	for _, h := range []string{"X-Sandbox-Auth-Reason", "X-Sandbox-Warning"} {
		if v := e.Header.Values(h); len(v) > 0 {
			extra = append(extra, fmt.Sprintf("%s: %s", h, strings.Join(v, " | ")))
		}
	}
	s := fmt.Sprintf("HTTP %d", e.Status)
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, "; ") + ")"
	}
	return s + ": " + excerpt(e.Body)
}

func excerpt(b []byte) string {
	if len(b) > 500 {
		return string(b[:500]) + "…"
	}
	return string(b)
}

// Envelope is the InnoPaaS answer {code, message, data}.
type Envelope struct {
	Code    string
	Message string
	Data    json.RawMessage
}

// ParseEnvelope reads the envelope of an answer. A numeric code (the legacy
// docs call it an integer) is read as its decimal text, so that judging a
// refusal does not depend on it; the spec check reports the type separately.
func ParseEnvelope(body []byte) (*Envelope, error) {
	var raw struct {
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("the answer is not a JSON envelope: %w", err)
	}
	if len(raw.Code) == 0 {
		return nil, errors.New("the answer has no code")
	}
	env := &Envelope{Message: raw.Message, Data: raw.Data}
	var s string
	if err := json.Unmarshal(raw.Code, &s); err == nil {
		env.Code = s
	} else {
		var n json.Number
		if err := json.Unmarshal(raw.Code, &n); err != nil {
			return nil, fmt.Errorf("the answer's code is neither a string nor a number: %s", raw.Code)
		}
		env.Code = n.String()
	}
	return env, nil
}

// DataString returns data when it is a JSON string, else "".
func (e *Envelope) DataString() string {
	var s string
	if e == nil || json.Unmarshal(e.Data, &s) != nil {
		return ""
	}
	return s
}

// Contract checks answers and pushes against the spec.
type Contract struct {
	Spec *spec.Spec
	// Independent judges every push a second time, without kin-openapi
	// (nil: only kin-openapi judges).
	Independent *PayloadSchemas
}

// API names the document an answer is checked against.
type API int

// The two APIs.
const (
	PublicAPI  API = iota // spec/innopaas.yaml
	ControlAPI            // spec/sandbox.yaml
)

func (c *Contract) document(api API) *spec.Document {
	if api == ControlAPI {
		return c.Spec.Control
	}
	return c.Spec.Public
}

// CheckResponse validates an answer against the operation the request was
// routed to. basePath is the target's path prefix (the spec's routes are
// relative), stripped before routing. An answer to a path or method the
// spec does not have must still be the error envelope. The error carries
// the validator's message.
func (c *Contract) CheckResponse(ctx context.Context, api API, basePath string, ex *Exchange) error {
	doc := c.document(api)
	u, err := url.Parse(ex.URL)
	if err != nil {
		return fmt.Errorf("contract: %w", err)
	}
	rel := *u
	rel.Scheme, rel.Host = "http", "target.invalid"
	rel.Path = "/" + strings.TrimPrefix(strings.TrimPrefix(u.Path, strings.TrimSuffix(basePath, "/")), "/")
	rel.RawPath = ""
	req, err := http.NewRequestWithContext(ctx, ex.Method, rel.String(), http.NoBody)
	if err != nil {
		return fmt.Errorf("contract: %w", err)
	}
	req.Header = ex.ReqHeader.Clone()

	route, params, err := doc.Router.FindRoute(req)
	if err != nil {
		if errors.Is(err, routers.ErrMethodNotAllowed) || errors.Is(err, routers.ErrPathNotFound) {
			return c.checkUnrouted(api, ex)
		}
		return fmt.Errorf("contract: routing %s %s: %w", ex.Method, rel.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: ex.Status, Header: ex.Header,
		Body: io.NopCloser(bytes.NewReader(ex.Body)), Options: in.Options,
	})
	if err != nil {
		return fmt.Errorf("the answer to %s %s (operation %s, HTTP %d) breaks the contract: %s",
			ex.Method, rel.Path, route.Operation.OperationID, ex.Status, describeResponseError(err))
	}
	return nil
}

// checkUnrouted holds an answer to a call the spec has no operation for to
// the error envelope: JSON, a refusal, never a 2xx.
func (c *Contract) checkUnrouted(api API, ex *Exchange) error {
	name := "ErrorEnvelope"
	if api == ControlAPI {
		name = "Problem"
	}
	where := fmt.Sprintf("the answer to %s %s (no operation in the contract, HTTP %d)", ex.Method, ex.URL, ex.Status)
	if ex.Status < 400 {
		return fmt.Errorf("%s breaks the contract: a call the contract does not describe must be refused, not answered with %d", where, ex.Status)
	}
	if ex.Method == http.MethodHead {
		return nil // an answer to HEAD has no body to check
	}
	ref := c.document(api).Doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("contract: schema %s is missing", name)
	}
	if err := checkJSONContentType(ex.Header.Get("Content-Type")); err != nil {
		return fmt.Errorf("%s breaks the contract: %w", where, err)
	}
	var v any
	if err := json.Unmarshal(ex.Body, &v); err != nil {
		return fmt.Errorf("%s breaks the contract: the body is not JSON: %w", where, err)
	}
	if err := ref.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("%s breaks the contract: %s", where, spec.DescribeSchemaError(err))
	}
	return nil
}

func checkJSONContentType(v string) error {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil || mt != "application/json" {
		return fmt.Errorf("Content-Type %q is not application/json", v)
	}
	return nil
}

// describeResponseError renders kin-openapi's response error with the field
// path and the rule when it is a schema error.
func describeResponseError(err error) string {
	var re *openapi3filter.ResponseError
	if errors.As(err, &re) {
		if re.Err != nil {
			var se *openapi3.SchemaError
			var me openapi3.MultiError
			if errors.As(re.Err, &se) || errors.As(re.Err, &me) {
				return re.Reason + ": " + spec.DescribeSchemaError(re.Err)
			}
		}
		return re.Error()
	}
	return err.Error()
}

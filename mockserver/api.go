package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/spec"
)

// MaxBodyBytes is the largest request body accepted (1 MiB), except by the
// operations that take multipart/form-data (MaxUploadBytes).
const MaxBodyBytes = 1 << 20

// call is one request as a handler sees it: validated, authenticated.
type call struct {
	ctx       context.Context
	r         *http.Request
	params    map[string]string
	body      []byte
	operation string
	auth      *authState
	warnings  []string
	value     any                 // the JSON body, decoded and validated (a form: its parts as strings)
	files     map[string]formFile // a multipart/form-data body's parts, by form name
}

// MaxStoredBody is the most of a request body kept with what it created (a
// message, a template): enough to see what was sent, while a store of many
// sends does not keep a mebibyte for each.
const MaxStoredBody = 16 << 10

// storedBody is the body as it is kept: at most MaxStoredBody bytes, in a
// copy of their own when cut, so that the whole body is not kept alive.
func (c *call) storedBody() []byte {
	if len(c.body) <= MaxStoredBody {
		return c.body
	}
	return bytes.Clone(c.body[:MaxStoredBody])
}

// handlerFunc answers one operation.
type handlerFunc func(c *call) reply

// authState carries the outcome of authentication from kin-openapi's
// AuthenticationFunc to the handler, through the request context.
type authState struct {
	done    bool
	refusal *reply // set when refused
	value   any    // what the authenticator established (e.g. a principal)
	err     error
	// signable: the operation lists the SignatureScheme security scheme,
	// so signed requests are taken (signed.go).
	signable bool
}

type authKey struct{}

// authenticator decides about a request; it returns the refusal, if any, and
// what it established about the caller.
type authenticator func(ctx context.Context, r *http.Request) (any, *reply, error)

// api serves one spec document: every request is routed and validated by
// kin-openapi before its handler, chosen by operationId, runs.
type api struct {
	name          string
	doc           *spec.Document
	handlers      map[string]handlerFunc
	authn         authenticator
	strict        bool // validate every answer against the spec (tests, CI)
	rejectUnknown bool // refuse fields the contract does not define
	log           *slog.Logger
	observe       func(op string, status int)
	opts          openapi3filter.Options
	// forms holds the multipart/form-data body of each operation that takes
	// one (uploadFile), found in the contract: those operations get their
	// own size limit and Content-Type rule (readForm).
	forms map[string]*openapi3.MediaType
	// uploads holds a place for each form body being read (nil: no bound).
	uploads chan struct{}
	// afterBody, when set, judges a call once its body is read and valid,
	// before the handler: what authentication could not decide without
	// the body (a signature over body members, signed.go).
	afterBody func(c *call) *reply
}

// newAPI binds handlers to the document's operations and refuses to start
// when an operation has no handler or a handler no operation.
func newAPI(name string, doc *spec.Document, handlers map[string]handlerFunc, authn authenticator) (*api, error) {
	var missing []string
	ops := map[string]bool{}
	for path, item := range doc.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				return nil, fmt.Errorf("%s spec: %s %s has no operationId", name, method, path)
			}
			ops[op.OperationID] = true
			if _, ok := handlers[op.OperationID]; !ok {
				missing = append(missing, op.OperationID)
			}
		}
	}
	var extra []string
	for id := range handlers {
		if !ops[id] {
			extra = append(extra, id)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		return nil, fmt.Errorf("%s spec and handlers disagree: operations without a handler %v, handlers without an operation %v", name, missing, extra)
	}
	a := &api{name: name, doc: doc, handlers: handlers, authn: authn, forms: formOperations(doc)}
	a.opts = openapi3filter.Options{
		ExcludeRequestBody:    true, // bodies are validated after auth and Content-Type, below
		AuthenticationFunc:    a.authenticate,
		IncludeResponseStatus: true,
	}
	a.opts.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string { return err.Reason })
	return a, nil
}

// authenticate is the kin-openapi AuthenticationFunc: it runs the api's
// authenticator once per request (the security requirement lists two
// schemes, AppKey and Authorization, which are judged together).
func (a *api) authenticate(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	st, _ := ctx.Value(authKey{}).(*authState)
	if st == nil {
		return errors.New("authentication state missing")
	}
	if !st.done {
		st.done = true
		st.signable = allowsSigning(in.RequestValidationInput.Route.Operation)
		st.value, st.refusal, st.err = a.authn(ctx, in.RequestValidationInput.Request)
	}
	if st.err != nil {
		return st.err
	}
	if st.refusal != nil {
		return errors.New("refused")
	}
	return nil
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := clock.Start()
	rep, c, input := a.serveSafely(r)
	body, err := encode(rep)
	if err != nil {
		a.log.Error("encoding an answer failed", "op", c.operation, "err", err)
		rep = fromError(err)
		rep.logged = true
		body, _ = encode(rep)
	}
	if a.strict && input != nil {
		if verr := a.checkAnswer(r.Context(), input, rep, body); verr != nil {
			a.log.Error("BUG: the sandbox's answer breaks its own contract", "api", a.name, "op", c.operation, "status", rep.status, "err", verr)
			rep = reply{status: http.StatusInternalServerError, body: Envelope{Code: "500", Message: "the sandbox's answer breaks its contract: " + verr.Error()}, logged: true}
			body, _ = encode(rep)
		}
	}
	for _, wmsg := range c.warnings {
		rep = rep.with(HeaderWarning, wmsg)
	}
	writeRaw(w, rep, body)
	if rep.status >= 500 && !rep.logged {
		// Every 5xx is logged with its cause: the answer only points here.
		cause := "none recorded"
		if rep.cause != nil {
			cause = rep.cause.Error()
		} else if e, ok := rep.body.(Envelope); ok {
			cause = e.Message
		}
		a.log.LogAttrs(r.Context(), slog.LevelError, "answered "+strconv.Itoa(rep.status), slog.String("api", a.name),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("op", c.operation), slog.String("cause", cause))
	}
	if a.observe != nil {
		a.observe(c.operation, rep.status)
	}
	if a.log.Enabled(r.Context(), slog.LevelInfo) {
		elapsed := sw.Elapsed()
		attrs := [7]slog.Attr{
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("op", c.operation),
			slog.Int("status", rep.status), slog.Float64("ms", float64(elapsed.Microseconds())/1000),
		}
		n := 5
		// The business code the client saw: a refusal answered with HTTP
		// 200 (a 108, say) must not read as a success.
		if code := businessCode(rep.body); code != "" {
			attrs[n] = slog.String("code", code)
			n++
		}
		if reason := rep.header.Get(HeaderAuthReason); reason != "" {
			attrs[n] = slog.String("auth_reason", reason)
			n++
		}
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs[:n]...)
	}
}

// serveSafely is serve that survives a panic in a handler (or below it): the
// caller gets the 500 envelope, the log the panic with its stack, and the
// process goes on serving. http.ErrAbortHandler is passed on, as net/http
// expects.
func (a *api) serveSafely(r *http.Request) (rep reply, c *call, input *openapi3filter.RequestValidationInput) {
	c = &call{r: r}
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		a.log.Error("a handler panicked; answered 500", "api", a.name, "method", r.Method, "path", r.URL.Path,
			"op", c.operation, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		rep, input = internalError(fmt.Errorf("panic: %v", v)), nil
		rep.logged = true
	}()
	return a.serve(r, c)
}

// businessCode is the code member of an answer's envelope; "" for answers
// that are not envelopes (control API views).
func businessCode(body any) string {
	switch b := body.(type) {
	case Envelope:
		return b.Code
	case OTPEnvelope:
		return b.Code
	}
	return ""
}

// serve routes, validates and runs the handler. input is nil when no route
// matched (nothing to validate an answer against).
func (a *api) serve(r *http.Request, c *call) (reply, *call, *openapi3filter.RequestValidationInput) {
	route, params, err := a.doc.FindRoute(r)
	if err != nil {
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			allowed := a.allowedMethods(r)
			return fail(http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed for %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allowed, ", "))).
				with("Allow", strings.Join(allowed, ", ")), c, nil
		}
		return fail(http.StatusNotFound, fmt.Sprintf("no operation at %s %s", r.Method, r.URL.Path)), c, nil
	}
	op := route.Operation
	c.operation, c.params = op.OperationID, params
	if limit := a.bodyLimit(c.operation); r.ContentLength > limit {
		return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit)), c, nil
	}

	st := &authState{}
	c.auth = st
	c.ctx = context.WithValue(r.Context(), authKey{}, st)
	// Security and parameters first, with the body set aside so that
	// kin-openapi does not read it before the caller is known.
	orig := r.Body
	vr := r.WithContext(c.ctx)
	vr.Body = http.NoBody
	input := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: &a.opts}
	if err := openapi3filter.ValidateRequest(c.ctx, input); err != nil {
		var sre *openapi3filter.SecurityRequirementsError
		switch {
		case errors.As(err, &sre) && st.refusal != nil:
			return *st.refusal, c, input
		case errors.As(err, &sre) && st.err != nil:
			a.log.Error("authentication failed to run", "op", c.operation, "err", st.err)
			return fromError(st.err), c, input
		default:
			return fail(http.StatusBadRequest, describeRequestError(err)), c, input
		}
	}

	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		rep, done := a.readBody(c, orig, vr, input, rb.Value)
		if done {
			return rep, c, input
		}
	}
	if a.afterBody != nil {
		if rep := a.afterBody(c); rep != nil {
			return *rep, c, input
		}
	}
	return a.handlers[c.operation](c), c, input
}

// readBody checks the Content-Type, reads at most the operation's limit, and
// validates the body against the operation's schema. done is true when it
// answered.
func (a *api) readBody(c *call, orig io.ReadCloser, vr *http.Request, input *openapi3filter.RequestValidationInput, rb *openapi3.RequestBody) (reply, bool) {
	limit := a.bodyLimit(c.operation)
	if form := a.forms[c.operation]; form != nil {
		// Uploads are read as they arrive, a bounded number at once.
		release, ok := a.acquireUpload()
		if !ok {
			return a.tooManyUploads(), true
		}
		defer release()
		return a.readForm(c, http.MaxBytesReader(nil, orig, limit), form)
	}
	data, err := readAll(orig, c.r.ContentLength, limit)
	if err != nil {
		if rep, ok := bodyReadError(err, limit); ok {
			return rep, true
		}
		return fail(http.StatusBadRequest, "reading the request body failed: "+err.Error()), true
	}
	if len(data) == 0 {
		if rb.Required {
			return fail(http.StatusBadRequest, "request body is required: send a JSON object"), true
		}
		return reply{}, false
	}
	if msg := checkContentType(c.r.Header.Values("Content-Type")); msg != "" {
		return fail(http.StatusUnsupportedMediaType, msg), true
	}
	c.body = data
	mt := rb.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		// Neither JSON nor a form (readForm): kin-openapi's request body
		// validator with its registered decoders.
		vr.Body = io.NopCloser(bytes.NewReader(data))
		vr.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		if err := openapi3filter.ValidateRequestBody(c.ctx, input, rb); err != nil {
			return fail(http.StatusBadRequest, describeRequestError(err)), true
		}
		return reply{}, false
	}
	// JSON: decode once, validate with the schema (kin-openapi), and hand
	// the decoded value to the handler. (openapi3filter.ValidateRequestBody
	// would decode again and deep-copy the body for every oneOf branch to
	// inject defaults, which this contract does not use.)
	if err := json.Unmarshal(data, &c.value); err != nil {
		return fail(http.StatusBadRequest, jsonSyntaxError(data, err)), true
	}
	schema := mt.Schema.Value
	if err := schema.VisitJSON(c.value); err != nil {
		return fail(http.StatusBadRequest, "request body: "+spec.DescribeSchemaError(err)), true
	}
	if unknown := spec.UnknownFields(schema, c.value); len(unknown) > 0 {
		if a.rejectUnknown {
			return fail(http.StatusBadRequest, fmt.Sprintf("request body: %s: the contract defines no such field", strings.Join(unknown, ", "))), true
		}
		for _, u := range unknown {
			c.warnings = append(c.warnings, fmt.Sprintf("unknown field %q ignored", u))
		}
	}
	return reply{}, false
}

// bodyReadError answers a body over its limit (413); ok is false for any
// other error.
func bodyReadError(err error, limit int64) (reply, bool) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit)), true
	}
	return reply{}, false
}

// readAll reads at most limit bytes. With a Content-Length it reads into a
// buffer of exactly that size: bodies are kept with the messages they carry,
// and io.ReadAll's growing buffer would keep several times their size.
func readAll(body io.Reader, length, limit int64) ([]byte, error) {
	limited := http.MaxBytesReader(nil, io.NopCloser(body), limit)
	if length <= 0 {
		return io.ReadAll(limited)
	}
	buf := make([]byte, length)
	n, err := io.ReadFull(limited, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return buf[:n], nil
}

// allowedMethods lists the methods the path supports, for 405 answers.
func (a *api) allowedMethods(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, _, err := a.doc.Router.FindRoute(probe); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// checkAnswer validates an answer against the spec (strict mode).
func (a *api) checkAnswer(ctx context.Context, input *openapi3filter.RequestValidationInput, rep reply, body []byte) error {
	h := http.Header{}
	for k, vs := range rep.header {
		h[k] = vs
	}
	if body != nil {
		h.Set("Content-Type", "application/json;charset=utf-8")
	}
	return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input, Status: rep.status, Header: h,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true},
	})
}

// checkContentType accepts application/json with or without charset=utf-8
// (any case, optional spaces) and explains any other value.
func checkContentType(values []string) string {
	const want = "send application/json;charset=utf-8"
	switch len(values) {
	case 0:
		return "header Content-Type is missing; " + want
	case 1:
	default:
		return fmt.Sprintf("header Content-Type is given %d times; %s once", len(values), want)
	}
	// The values nearly every client sends, without parsing.
	if strings.EqualFold(values[0], "application/json;charset=utf-8") || strings.EqualFold(values[0], "application/json") {
		return ""
	}
	mt, params, err := mime.ParseMediaType(values[0])
	if err != nil {
		return fmt.Sprintf("header Content-Type: %q is not a media type (%v); %s", values[0], err, want)
	}
	if mt != "application/json" {
		return fmt.Sprintf("header Content-Type: %q is not supported; %s", values[0], want)
	}
	for k, v := range params {
		if k != "charset" {
			return fmt.Sprintf("header Content-Type: parameter %q is not supported; %s", k, want)
		}
		if !strings.EqualFold(v, "utf-8") {
			return fmt.Sprintf("header Content-Type: charset %q is not supported; the body must be UTF-8 (%s)", v, want)
		}
	}
	return ""
}

// jsonSyntaxError explains a body that is not JSON, with the line and column
// of the problem.
func jsonSyntaxError(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(data, se.Offset)
		return fmt.Sprintf("request body is not valid JSON: %s (line %d, column %d, byte %d)", se.Error(), line, col, se.Offset)
	}
	return "request body is not valid JSON: " + err.Error()
}

// position turns encoding/json's SyntaxError.Offset (the count of bytes read,
// the offending one included) into the 1-based line and column of that byte.
func position(data []byte, offset int64) (int, int) {
	idx := int(min(max(offset-1, 0), int64(len(data))))
	before := data[:idx]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := idx - bytes.LastIndexByte(before, '\n')
	return line, col
}

// describeRequestError renders kin-openapi's request errors with the field
// path and the rule: "request body: /media/link: property ... is missing".
func describeRequestError(err error) string {
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		switch {
		case re.Parameter != nil:
			where := fmt.Sprintf("%s parameter %q", re.Parameter.In, re.Parameter.Name)
			if re.Parameter.In == openapi3.ParameterInHeader {
				where = fmt.Sprintf("header %s", re.Parameter.Name)
			}
			if re.Err != nil {
				return where + ": " + spec.DescribeSchemaError(re.Err)
			}
			return where + ": " + re.Reason
		case re.RequestBody != nil:
			if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
				return "request body is required: send a JSON object"
			}
			if re.Err != nil {
				return "request body: " + spec.DescribeSchemaError(re.Err)
			}
			return "request body: " + re.Reason
		}
	}
	return spec.DescribeSchemaError(err)
}

// headerProblem names what is wrong with a header that must be sent once
// and not empty, as an X-Sandbox-Auth-Reason value; "" when it is fine.
func headerProblem(h http.Header, name string) string {
	vs := h.Values(name)
	switch {
	case len(vs) == 0:
		return "header-missing:" + name
	case len(vs) > 1:
		return "header-repeated:" + name
	case strings.TrimSpace(vs[0]) == "":
		return "header-empty:" + name
	}
	return ""
}

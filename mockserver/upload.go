package mockserver

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/spec"
)

// MaxUploadBytes is the largest multipart/form-data body accepted (16 MiB):
// uploadFile takes media files, which the 1 MiB of JSON bodies would not
// hold, while every other operation keeps MaxBodyBytes.
const MaxUploadBytes = 16 << 20

// maxFormParts bounds the parts of one form, so that a body of many tiny
// unknown parts cannot turn into thousands of warning headers. The contract
// describes one part; a hundred leaves room for clients that add their own.
const maxFormParts = 100

const formMediaType = "multipart/form-data"

// formFile is one part of a multipart/form-data body. A part is read as it
// arrives, never held whole: only its first bytes are kept (for the schema
// and the handler), with its size and SHA-256, so that an upload of 16 MiB
// costs the sandbox a few kilobytes.
type formFile struct {
	ContentType string // the part's Content-Type header, as sent
	Head        []byte // the first maxPartKept bytes
	Size        int64
	Sum         [32]byte // SHA-256 of the whole part
}

// maxPartKept is how much of each part is kept; the rest is hashed and
// let go. No part the contract defines needs more (the file part is
// judged by its Content-Type and handed back as a hash).
const maxPartKept = 4 << 10

// readPart reads one part as it arrives into a formFile.
func readPart(part *multipart.Part, buf []byte) (formFile, error) {
	f := formFile{ContentType: part.Header.Get("Content-Type")}
	h := sha256.New()
	for {
		n, err := part.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			if keep := min(n, maxPartKept-len(f.Head)); keep > 0 {
				f.Head = append(f.Head, buf[:keep]...)
			}
			f.Size += int64(n)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return f, err
		}
	}
	h.Sum(f.Sum[:0])
	return f, nil
}

// boundaryWatch tells whether a body ever carried its boundary line, as
// it streams through: the multipart reader skips everything before the
// first boundary, so a body with the wrong one reads as an empty form.
type boundaryWatch struct {
	r      io.Reader
	needle []byte
	tail   []byte // the last len(needle)-1 bytes read
	seen   bool
}

func (b *boundaryWatch) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 && !b.seen {
		window := append(b.tail, p[:n]...)
		b.seen = bytes.Contains(window, b.needle)
		if keep := len(b.needle) - 1; len(window) > keep {
			window = window[len(window)-keep:]
		}
		b.tail = append(b.tail[:0], window...)
	}
	return n, err
}

// acquireUpload takes a place among the uploads in flight; ok is false
// when they are all taken. release gives it back.
func (a *api) acquireUpload() (release func(), ok bool) {
	if a.uploads == nil {
		return func() {}, true
	}
	select {
	case a.uploads <- struct{}{}:
		return func() { <-a.uploads }, true
	default:
		return nil, false
	}
}

// tooManyUploads answers an upload beyond Limits.Uploads.
func (a *api) tooManyUploads() reply {
	return fail(http.StatusServiceUnavailable, fmt.Sprintf("%s: at most %d at once; try again", MsgTooManyUploads, cap(a.uploads))).
		with("Retry-After", "1")
}

// MsgTooManyUploads starts the answer to an upload beyond Limits.Uploads.
const MsgTooManyUploads = "too many uploads in flight"

// formOperations finds the operations whose request body is a form, from the
// contract rather than a list here, so a form operation added to the spec
// gets the same treatment.
func formOperations(doc *spec.Document) map[string]*openapi3.MediaType {
	out := map[string]*openapi3.MediaType{}
	for _, item := range doc.Doc.Paths.Map() {
		for _, op := range item.Operations() {
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				if mt := rb.Value.Content[formMediaType]; mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
					out[op.OperationID] = mt
				}
			}
		}
	}
	return out
}

// bodyLimit is the largest body an operation accepts.
func (a *api) bodyLimit(operation string) int64 {
	if a.forms[operation] != nil {
		return MaxUploadBytes
	}
	return MaxBodyBytes
}

// readForm is readBody for a multipart/form-data operation. Rules a caller
// must meet, in order: the body is there (400), it is a form (415), it
// parses (400), each part's Content-Type is one its encoding allows (415,
// with the list), and the parts meet the schema (400: a missing part).
// Parts the contract does not define are warned about, or refused with
// RejectUnknownFields, as unknown JSON fields are (docs/DECISIONS.md row 17).
// The form is parsed once, here, as it arrives (body is limited to the
// operation's size); the handler reads c.files.
func (a *api) readForm(c *call, body io.Reader, form *openapi3.MediaType) (reply, bool) {
	want := describeForm(form)
	// One byte read ahead tells an empty body from a form without a
	// Content-Length.
	br := bufio.NewReaderSize(body, 1)
	if _, err := br.Peek(1); err != nil {
		if rep, ok := bodyReadError(err, MaxUploadBytes); ok {
			return rep, true
		}
		return fail(http.StatusBadRequest, "request body is required: "+want), true
	}
	boundary, status, msg := checkFormContentType(c.r.Header.Values("Content-Type"), want)
	if msg != "" {
		return fail(status, msg), true
	}
	files := map[string]formFile{}
	value := map[string]any{}
	watch := &boundaryWatch{r: br, needle: []byte("--" + boundary)}
	mr := multipart.NewReader(watch, boundary)
	buf := make([]byte, 32<<10)
	for n := 1; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if rep, ok := bodyReadError(err, MaxUploadBytes); ok {
			return rep, true
		}
		if err != nil {
			return fail(http.StatusBadRequest, "request body is not a valid multipart/form-data body: "+err.Error()), true
		}
		if n > maxFormParts {
			return fail(http.StatusBadRequest, fmt.Sprintf("request body: more than %d parts", maxFormParts)), true
		}
		name := part.FormName()
		if name == "" {
			return fail(http.StatusBadRequest, fmt.Sprintf("request body: part %d has no name (Content-Disposition: form-data; name=...)", n)), true
		}
		if _, dup := files[name]; dup {
			return fail(http.StatusBadRequest, fmt.Sprintf("request body: part %q is given more than once; send it once", name)), true
		}
		f, err := readPart(part, buf)
		if rep, ok := bodyReadError(err, MaxUploadBytes); ok {
			return rep, true
		}
		if err != nil {
			return fail(http.StatusBadRequest, "request body is not a valid multipart/form-data body: "+err.Error()), true
		}
		files[name] = f
		value[name] = string(f.Head)
	}
	if len(files) == 0 && !watch.seen {
		// The reader skips everything before the first boundary, so a body
		// with the wrong boundary reads as an empty form: say so rather
		// than that the file part is missing.
		return fail(http.StatusBadRequest, fmt.Sprintf("request body: no part starts with the boundary %q of the Content-Type", boundary)), true
	}
	// Encodings in name order, so that with several bad parts the answer
	// is the same every time.
	names := make([]string, 0, len(form.Encoding))
	for name := range form.Encoding {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f, ok := files[name]
		enc := form.Encoding[name]
		if !ok || enc.AllowsContentType(f.ContentType) {
			continue
		}
		if strings.TrimSpace(f.ContentType) == "" {
			return fail(http.StatusUnsupportedMediaType, fmt.Sprintf("%s: the part has no Content-Type; send %s", name, orList(enc.ContentType))), true
		}
		return fail(http.StatusUnsupportedMediaType, fmt.Sprintf("%s: type %q is not supported; send %s", name, f.ContentType, orList(enc.ContentType))), true
	}
	schema := form.Schema.Value
	if err := schema.VisitJSON(value); err != nil {
		return fail(http.StatusBadRequest, "request body: "+spec.DescribeSchemaError(err)), true
	}
	if unknown := spec.UnknownFields(schema, value); len(unknown) > 0 {
		if a.rejectUnknown {
			return fail(http.StatusBadRequest, fmt.Sprintf("request body: part %s: the contract defines no such part", strings.Join(unknown, ", "))), true
		}
		for _, u := range unknown {
			c.warnings = append(c.warnings, fmt.Sprintf("unknown part %q ignored", strings.TrimPrefix(u, "/")))
		}
	}
	c.value, c.files = value, files
	return reply{}, false
}

// checkFormContentType accepts multipart/form-data with a boundary. It
// returns the boundary, or the status and message of a refusal.
func checkFormContentType(values []string, want string) (string, int, string) {
	switch len(values) {
	case 0:
		return "", http.StatusUnsupportedMediaType, "header Content-Type is missing; " + want
	case 1:
	default:
		return "", http.StatusUnsupportedMediaType, fmt.Sprintf("header Content-Type is given %d times; %s", len(values), want)
	}
	mt, params, err := mime.ParseMediaType(values[0])
	if err != nil {
		return "", http.StatusUnsupportedMediaType, fmt.Sprintf("header Content-Type: %q is not a media type (%v); %s", values[0], err, want)
	}
	if mt != formMediaType {
		return "", http.StatusUnsupportedMediaType, fmt.Sprintf("header Content-Type: %q is not supported; %s", values[0], want)
	}
	if params["boundary"] == "" {
		// A form, but one nobody can split into parts: a malformed
		// request rather than an unsupported type.
		return "", http.StatusBadRequest, "header Content-Type: multipart/form-data needs its boundary parameter"
	}
	return params["boundary"], 0, ""
}

// describeForm says what a form operation takes, for its refusals.
func describeForm(form *openapi3.MediaType) string {
	var required []string
	if s := form.Schema.Value; s != nil {
		required = s.Required
	}
	if len(required) == 0 {
		return "send " + formMediaType
	}
	quoted := make([]string, len(required))
	for i, r := range required {
		quoted[i] = fmt.Sprintf("%q", r)
	}
	return fmt.Sprintf("send %s with the part %s", formMediaType, strings.Join(quoted, ", "))
}

// orList turns an encoding's "a, b, c" into "a, b or c".
func orList(list string) string {
	var items []string
	for item := range strings.SplitSeq(list, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// whatsappUploadFile answers a file handle (docs/DECISIONS.md row 33). The
// form was checked by readForm: the file part is there and of an allowed
// type. Nothing is stored: the handle carries the MIME type, which is all a
// later template check could want from the upload.
func (s *Server) whatsappUploadFile(c *call) reply {
	f := c.files["file"]
	mt, _, err := mime.ParseMediaType(f.ContentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(f.ContentType))
	}
	p := c.principal()
	handle := state.NewUploadHandleSum(mt, f.Sum, p.App.Key, s.sandbox.Now(p.Account))
	return ok(http.StatusOK, Envelope{Code: "0", Message: MsgSuccess, Data: handle})
}

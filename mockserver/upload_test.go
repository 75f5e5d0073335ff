package mockserver_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
)

const uploadPath = "/api/whatsapp/v3/uploadFile"

// formPart is one part of a test form; an empty contentType sends none.
type formPart struct {
	name, filename, contentType string
	data                        []byte
}

// form encodes parts as multipart/form-data; it returns the body and its
// Content-Type.
func form(t testing.TB, parts ...formPart) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.name + `"`
		if p.filename != "" {
			cd += `; filename="` + p.filename + `"`
		}
		h.Set("Content-Disposition", cd)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		require.NoError(t, err)
		_, err = w.Write(p.data)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return buf.String(), mw.FormDataContentType()
}

func formHeaders(contentType string) http.Header {
	h := publicHeaders(demoAppKey, demoToken)
	h["Content-Type"] = []string{contentType}
	return h
}

func filePart(contentType string, data []byte) formPart {
	return formPart{name: "file", filename: "header", contentType: contentType, data: data}
}

func TestUploadFileAnswersAHandlePerDocumentedType(t *testing.T) {
	s := newSandbox(t)
	for _, mt := range []string{"application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4"} {
		t.Run(mt, func(t *testing.T) {
			body, ct := form(t, filePart(mt, []byte("bytes of a "+mt)))
			r := s.do("POST", uploadPath, body, formHeaders(ct)).must(t, 200)
			e := r.envelope(t)
			assert.Equal(t, "0", e.Code)
			assert.Equal(t, mockserver.MsgSuccess, e.Message)
			handle, _ := e.Data.(string)
			assert.True(t, strings.HasPrefix(handle, "4::"+base64.StdEncoding.EncodeToString([]byte(mt))+":"), handle)
			assert.Regexp(t, `^4::[A-Za-z0-9+/=]+:AR[A-Za-z0-9_-]+:e:[0-9]+:[0-9]+:AR[A-Za-z0-9_-]+$`, handle)
		})
	}
	t.Run("type parameters and case are tolerated", func(t *testing.T) {
		body, ct := form(t, filePart("Image/PNG; name=logo.png", []byte("png")))
		e := s.do("POST", uploadPath, body, formHeaders(ct)).must(t, 200).envelope(t)
		assert.True(t, strings.HasPrefix(e.Data.(string), "4::"+base64.StdEncoding.EncodeToString([]byte("image/png"))+":"))
	})
	t.Run("a body over 1 MiB is fine here", func(t *testing.T) {
		body, ct := form(t, filePart("video/mp4", bytes.Repeat([]byte{0x42}, 3<<20)))
		s.do("POST", uploadPath, body, formHeaders(ct)).must(t, 200)
	})
	t.Run("the same file gives the same opaque parts", func(t *testing.T) {
		body, ct := form(t, filePart("image/png", []byte("same")))
		a := s.do("POST", uploadPath, body, formHeaders(ct)).must(t, 200).envelope(t).Data.(string)
		b := s.do("POST", uploadPath, body, formHeaders(ct)).must(t, 200).envelope(t).Data.(string)
		assert.Equal(t, strings.SplitN(a, ":", 5)[:4], strings.SplitN(b, ":", 5)[:4])
	})
}

func TestUploadFileRefusals(t *testing.T) {
	s := newSandbox(t)
	png := []byte("\x89PNG\r\n\x1a\n")
	good, goodCT := form(t, filePart("image/png", png))
	type tc struct {
		name   string
		body   string
		ct     []string // nil: no Content-Type header
		status int
		want   string
	}
	tests := []tc{
		{"wrong file type", must(form(t, filePart("image/gif", png))), nil, 415,
			`file: type "image/gif" is not supported; send application/pdf, image/jpeg, image/jpg, image/png or video/mp4`},
		{"file part without a type", must(form(t, filePart("", png))), nil, 415, "file: the part has no Content-Type"},
		{"missing file part", must(form(t, formPart{name: "other", contentType: "image/png", data: png})), nil, 400,
			`request body: /file: property "file" is missing`},
		{"file given twice", must(form(t, filePart("image/png", png), filePart("image/png", png))), nil, 400,
			`part "file" is given more than once`},
		{"JSON instead of a form", `{"file":"x"}`, []string{"application/json"}, 415,
			`"application/json" is not supported; send multipart/form-data with the part "file"`},
		{"no Content-Type", good, []string{}, 415, "header Content-Type is missing"},
		{"form without a boundary", good, []string{"multipart/form-data"}, 400, "needs its boundary parameter"},
		{"wrong boundary", good, []string{"multipart/form-data; boundary=nothere"}, 400, `no part starts with the boundary "nothere"`},
		{"truncated form", good[:len(good)-10], []string{goodCT}, 400, "not a valid multipart/form-data body"},
		{"empty body", "", []string{goodCT}, 400, `request body is required: send multipart/form-data with the part "file"`},
		{"an empty form", "--b--\r\n", []string{"multipart/form-data; boundary=b"}, 400, `/file: property "file" is missing`},
		{"a part without a name", "--b\r\nContent-Type: image/png\r\n\r\nx\r\n--b--\r\n", []string{"multipart/form-data; boundary=b"}, 400,
			"part 1 has no name"},
		{"too many parts", manyParts(101), []string{"multipart/form-data; boundary=b"}, 400, "more than 100 parts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := publicHeaders(demoAppKey, demoToken)
			switch {
			case tc.ct == nil:
				h["Content-Type"] = []string{formCT(tc.body)}
			case len(tc.ct) == 0:
				delete(h, "Content-Type")
			default:
				h["Content-Type"] = tc.ct
			}
			e := s.do("POST", uploadPath, tc.body, h).must(t, tc.status).envelope(t)
			assert.Contains(t, e.Message, tc.want)
			assert.Nil(t, e.Data)
		})
	}
	t.Run("authentication comes first", func(t *testing.T) {
		h := formHeaders(goodCT)
		h["Authorization"] = []string{"wrong"}
		r := s.do("POST", uploadPath, good, h).must(t, 401)
		assert.Equal(t, "token-invalid", r.header.Get(mockserver.HeaderAuthReason))
	})
}

// must drops the Content-Type form returns; formCT finds the boundary again
// from the body's first line.
func must(body, _ string) string { return body }

func formCT(body string) string {
	first, _, _ := strings.Cut(body, "\r\n")
	return "multipart/form-data; boundary=" + strings.TrimPrefix(first, "--")
}

func manyParts(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "--b\r\nContent-Disposition: form-data; name=\"x%d\"\r\n\r\n1\r\n", i)
	}
	b.WriteString("--b--\r\n")
	return b.String()
}

func TestUploadFileSizeLimit(t *testing.T) {
	s := newSandbox(t)
	big := bytes.Repeat([]byte{0x42}, mockserver.MaxUploadBytes)
	body, ct := form(t, filePart("video/mp4", big))
	t.Run("with a Content-Length", func(t *testing.T) {
		e := s.do("POST", uploadPath, body, formHeaders(ct)).must(t, 413).envelope(t)
		assert.Equal(t, "413", e.Code)
		assert.Contains(t, e.Message, "larger than 16777216 bytes")
	})
	t.Run("chunked", func(t *testing.T) {
		// No Content-Length: the limit holds while reading.
		req, err := http.NewRequest("POST", s.url+uploadPath, io.MultiReader(strings.NewReader(body)))
		require.NoError(t, err)
		req.Header = formHeaders(ct)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, 413, resp.StatusCode)
	})
	t.Run("JSON operations keep 1 MiB", func(t *testing.T) {
		e := s.do("POST", smsPath, `{"mobile":"8613800138000","msg":"`+strings.Repeat("a", mockserver.MaxBodyBytes)+`"}`,
			publicHeaders(demoAppKey, demoToken)).must(t, 413).envelope(t)
		assert.Contains(t, e.Message, "larger than 1048576 bytes")
	})
}

func TestUploadFileUnknownPartsAreWarnedOrRefused(t *testing.T) {
	body, ct := form(t, filePart("image/png", []byte("png")), formPart{name: "type", data: []byte("header")})
	t.Run("accepted with a warning by default", func(t *testing.T) {
		s := newSandbox(t)
		r := s.do("POST", uploadPath, body, formHeaders(ct)).must(t, 200)
		assert.Equal(t, []string{`unknown part "type" ignored`}, r.header.Values(mockserver.HeaderWarning))
	})
	t.Run("refused when asked", func(t *testing.T) {
		s := newSandbox(t, func(c *mockserver.Config) { c.RejectUnknownFields = true })
		r := s.do("POST", uploadPath, body, formHeaders(ct)).must(t, 400)
		assert.Contains(t, r.envelope(t).Message, "part /type: the contract defines no such part")
	})
}

// FuzzUploadFile throws arbitrary bodies and Content-Types at the form path:
// every answer must be a clear envelope, never a 5xx.
func FuzzUploadFile(f *testing.F) {
	srv := fuzzServer(f)
	good, ct := form(f, filePart("image/png", []byte("png")))
	f.Add([]byte(good), ct)
	f.Add([]byte(good), "multipart/form-data")
	f.Add([]byte(must(form(f, filePart("image/gif", []byte("gif"))))), ct)
	f.Add([]byte("--b\r\n\r\n--b--"), "multipart/form-data; boundary=b")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"file\"\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=FF=\r\n--b--\r\n"), "multipart/form-data; boundary=b")
	f.Add([]byte(`{"file":"x"}`), "application/json")
	allowed := map[int]bool{200: true, 400: true, 413: true, 415: true}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		req := httptest.NewRequest("POST", uploadPath, bytes.NewReader(body))
		req.Header = formHeaders(contentType)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		checkEnvelope(t, rec, allowed)
	})
}

// TestSlowLargeUploadsKeepMemoryBounded starts many uploads that each
// declare nearly 16 MiB and send 256 KiB, then stall. A bounded number is
// read at once (the others are answered 503 with Retry-After at once), and
// those being read hold what has arrived, not what was declared: the heap
// grows by a small multiple of the in-flight bound, where reading into a
// buffer of the declared length would take 16 MiB each.
func TestSlowLargeUploadsKeepMemoryBounded(t *testing.T) {
	const inFlight, uploads = 4, 24
	s := newSandbox(t, func(c *mockserver.Config) { c.Limits.Uploads = inFlight })
	// What one upload may hold while read: its part's kept head, the read
	// buffer and the connection's buffers, well under 1 MiB.
	const perUpload = 1 << 20
	const slack = 8 << 20 // the test's own clients and the runtime

	runtime.GC()
	var before, during runtime.MemStats
	runtime.ReadMemStats(&before)

	type result struct {
		status     int
		retryAfter string
		err        error
	}
	results := make(chan result, uploads)
	writers := make([]*io.PipeWriter, uploads)
	for i := range uploads {
		pr, pw := io.Pipe()
		writers[i] = pw
		mw := multipart.NewWriter(pw)
		req, err := http.NewRequest("POST", s.url+uploadPath, pr)
		require.NoError(t, err)
		req.Header = formHeaders(mw.FormDataContentType())
		req.ContentLength = mockserver.MaxUploadBytes - 1
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results <- result{err: err}
				return
			}
			resp.Body.Close()
			results <- result{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
		}()
		go func() {
			w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Disposition": {`form-data; name="file"; filename="big"`}, "Content-Type": {"video/mp4"}})
			if err == nil {
				_, _ = w.Write(bytes.Repeat([]byte{0x42}, 256<<10))
			}
			// Then stall until the test ends the upload.
		}()
	}
	// The ones over the bound are refused at once, so once they have all
	// been answered, inFlight uploads are being read.
	for range uploads - inFlight {
		r := <-results
		require.NoError(t, r.err)
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.Equal(t, "1", r.retryAfter)
	}
	runtime.GC()
	runtime.ReadMemStats(&during)
	grown := int64(during.HeapAlloc) - int64(before.HeapAlloc)
	assert.Less(t, grown, int64(inFlight*perUpload+slack), "the heap grew by %d KiB with %d uploads being read", grown>>10, inFlight)

	for _, w := range writers {
		w.CloseWithError(errors.New("the client gave up"))
	}
	for range inFlight {
		<-results // cut short: refused or failed, but answered
	}
	// The places are free again.
	body, ct := form(t, filePart("image/png", []byte("png")))
	s.do("POST", uploadPath, body, formHeaders(ct)).must(t, 200)
}

package mockserver_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/mockserver/state/sqlite"
)

// benchServer is a sandbox as `serve` runs it (not strict, no dispatcher:
// the events it schedules stay in the store), fed requests in process. The
// demo user has written to the demo number, so text messages to them are
// inside the 24-hour window.
func benchServer(b *testing.B) *mockserver.Server { return benchServerOn(b, memstore.New()) }

func benchServerOn(b *testing.B, store state.Store, tweak ...func(*mockserver.Config)) *mockserver.Server {
	cfg := mockserver.Config{Spec: loadSpec(), Store: store}
	for _, f := range tweak {
		f(&cfg)
	}
	srv, err := mockserver.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	rec := serve(srv, "POST", "/_sandbox/events/inbound", `{"to":"`+demoNumber+`","from":"`+userNumber+`","text":{"body":"hi"}}`,
		http.Header{"Content-Type": {"application/json"}})
	if rec.Code != 201 {
		b.Fatalf("inbound: status %d: %s", rec.Code, rec.Body.Bytes())
	}
	return srv
}

// serve sends one request through the handler, from a loopback caller (the
// control API answers only those when no admin token is set).
func serve(srv http.Handler, method, path, body string, h http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header = h
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

// accepted reports whether a public API answer is a success envelope.
func accepted(rec *httptest.ResponseRecorder) bool {
	return rec.Code == 200 && strings.Contains(rec.Body.String(), `"code":"0"`)
}

func benchSubmit(b *testing.B, token string, want int) {
	benchSubmitOn(b, benchServer(b), token, want)
}

func benchSubmitOn(b *testing.B, srv *mockserver.Server, token string, want int) {
	b.SetParallelism(16) // many clients at once, as under load: the SQLite writer batches them
	body := textSend(userNumber)
	benchParallel(b, srv, "/api/whatsapp/v3/msg/submit", want, func() (string, http.Header) {
		return body, publicHeaders(demoAppKey, token)
	})
}

// benchParallel POSTs next's body and headers to path from many goroutines
// at once. It fails on the first answer whose status is not want (with 200:
// not a success envelope), so that it never measures an unexpected refusal.
func benchParallel(b *testing.B, srv http.Handler, path string, want int, next func() (string, http.Header)) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body, h := next()
			if rec := serve(srv, "POST", path, body, h); rec.Code != want || (want == 200 && !accepted(rec)) {
				b.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
			}
		}
	})
}

// BenchmarkSubmitAuthenticated: a valid, authenticated msg/submit through the
// whole handler: validator, auth, state, scheduling of two status reports.
func BenchmarkSubmitAuthenticated(b *testing.B) { benchSubmit(b, demoToken, 200) }

// BenchmarkSubmitLimits: BenchmarkSubmitAuthenticated without limits and
// with serve's (mockserver.DefaultLimits: quotas checked, the pending
// deliveries counted on every send), the rate limit set so high that it
// never refuses, so that its bucket is paid for on every call. Run with
// -count: the two cases then alternate within one run.
func BenchmarkSubmitLimits(b *testing.B) {
	for _, tc := range []struct {
		name   string
		limits mockserver.Limits
	}{
		{"off", mockserver.Limits{}},
		{"on", func() mockserver.Limits { l := mockserver.DefaultLimits; l.Rate, l.Burst = 1e9, 1e9; return l }()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			srv := benchServerOn(b, memstore.New(), func(c *mockserver.Config) { c.Limits = tc.limits })
			benchSubmitOn(b, srv, demoToken, 200)
		})
	}
}

// BenchmarkSubmitSQLite: BenchmarkSubmitAuthenticated on the SQLite file
// store (`make run`'s default): the message, its two reports and the
// session lookup go through the database.
func BenchmarkSubmitSQLite(b *testing.B) {
	store, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	benchSubmitOn(b, benchServerOn(b, store), demoToken, 200)
}

// BenchmarkSubmitRefused: the same request with a wrong token (401).
func BenchmarkSubmitRefused(b *testing.B) { benchSubmit(b, strings.Repeat("X", 56), 401) }

// BenchmarkSubmit1000Recipients: the heaviest send, a template to 1000
// numbers (2000 status reports scheduled), through the whole handler.
func BenchmarkSubmit1000Recipients(b *testing.B) {
	srv := benchServer(b)
	numbers := make([]string, 1000)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("62852%08d", i)
	}
	body := `{"wabaId":"` + demoWABA + `","messageType":"template","sendNumber":"` + demoNumber + `","recipientNumber":"` +
		strings.Join(numbers, ",") + `","templateName":"otp_login","language":"en_US","bodyParams":["245098"]}`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := serve(srv, "POST", "/api/whatsapp/v3/msg/submit", body, publicHeaders(demoAppKey, demoToken))
		if !accepted(rec) {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
	}
}

// BenchmarkTemplateSubmit: a template submitted for review (stored PENDING,
// its review scheduled), each under a new name.
func BenchmarkTemplateSubmit(b *testing.B) {
	srv := benchServer(b)
	var n atomic.Int64
	benchParallel(b, srv, "/api/whatsapp/v3/template/submit", 200, func() (string, http.Header) {
		return submitTemplate(fmt.Sprintf("bench_%d", n.Add(1))), publicHeaders(demoAppKey, demoToken)
	})
}

// BenchmarkUploadFile: a 64 KiB PNG uploaded as multipart/form-data.
func BenchmarkUploadFile(b *testing.B) {
	srv := benchServer(b)
	body, ct := form(b, filePart("image/png", bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 16<<10)))
	b.SetBytes(int64(len(body)))
	benchParallel(b, srv, uploadPath, 200, func() (string, http.Header) { return body, formHeaders(ct) })
}

// BenchmarkTrigger: POST /_sandbox/events, an event built from the
// contract's example with one override validated against its schema.
func BenchmarkTrigger(b *testing.B) {
	srv := benchServer(b)
	body := `{"type":"whatsapp_message_status_updated","appKey":"` + demoAppKey + `","set":{"/body/status":"read"},"unset":["/body/conversation"]}`
	benchParallel(b, srv, "/_sandbox/events", 201, func() (string, http.Header) {
		return body, http.Header{"Content-Type": {"application/json"}}
	})
}

// BenchmarkInbound: POST /_sandbox/events/inbound, a user's text message.
func BenchmarkInbound(b *testing.B) {
	srv := benchServer(b)
	body := `{"to":"` + demoNumber + `","from":"` + userNumber + `","text":{"body":"hello"}}`
	benchParallel(b, srv, "/_sandbox/events/inbound", 201, func() (string, http.Header) {
		return body, http.Header{"Content-Type": {"application/json"}}
	})
}

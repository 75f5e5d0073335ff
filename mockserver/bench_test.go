package mockserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
)

// benchServer is a sandbox as `serve` runs it (not strict, no dispatcher:
// the events it schedules stay in the store), fed requests in process.
func benchServer(b *testing.B) *mockserver.Server {
	srv, err := mockserver.New(context.Background(), mockserver.Config{Spec: loadSpec(), Store: memstore.New()})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

func benchSubmit(b *testing.B, token string, want int) {
	srv := benchServer(b)
	body := textSend(userNumber)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/api/whatsapp/v3/msg/submit", strings.NewReader(body))
			req.Header = http.Header{"Content-Type": {"application/json;charset=utf-8"}, "Appkey": {demoAppKey}, "Authorization": {token}}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != want {
				b.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
			}
		}
	})
}

// BenchmarkSubmitAuthenticated: a valid, authenticated msg/submit through the
// whole handler: validator, auth, state, scheduling of two status reports.
func BenchmarkSubmitAuthenticated(b *testing.B) { benchSubmit(b, demoToken, 200) }

// BenchmarkSubmitRefused: the same request with a wrong token (401).
func BenchmarkSubmitRefused(b *testing.B) { benchSubmit(b, strings.Repeat("X", 56), 401) }

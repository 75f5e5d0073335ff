package mockserver_test

import (
	"context"
	"fmt"
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
		req := httptest.NewRequest("POST", "/api/whatsapp/v3/msg/submit", strings.NewReader(body))
		req.Header = http.Header{"Content-Type": {"application/json;charset=utf-8"}, "Appkey": {demoAppKey}, "Authorization": {demoToken}}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"code":"0"`) {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
	}
}

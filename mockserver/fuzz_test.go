package mockserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
)

// fuzzServer builds a strict sandbox without a running dispatcher: requests
// go straight into the handler.
func fuzzServer(f *testing.F) *mockserver.Server {
	srv, err := mockserver.New(context.Background(), mockserver.Config{Spec: loadSpec(), Store: memstore.New(), Strict: true})
	if err != nil {
		f.Fatal(err)
	}
	return srv
}

// checkEnvelope fails unless an answer is a well-formed envelope and no 5xx.
func checkEnvelope(t *testing.T, rec *httptest.ResponseRecorder, allowed map[int]bool) mockserver.Envelope {
	t.Helper()
	if !allowed[rec.Code] {
		t.Fatalf("status %d not expected; body %s", rec.Code, rec.Body.Bytes())
	}
	var e mockserver.Envelope
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("status %d with a body that is not an envelope: %q", rec.Code, rec.Body.Bytes())
	}
	if e.Code == "" || e.Message == "" {
		t.Fatalf("envelope without code or message: %s", rec.Body.Bytes())
	}
	if rec.Code != 200 && e.Code == "0" {
		t.Fatalf("a refusal with code 0: %s", rec.Body.Bytes())
	}
	return e
}

// businessCodes are the codes a send may be refused with, HTTP 200.
var businessCodes = map[string]bool{"0": true,
	state.CodeUIDTooLong: true, state.CodeContentTooLong: true, state.CodeBadNumber: true, state.CodeRecipientCount: true,
	state.CodeSendNumber: true, state.CodeTemplateNotFound: true, state.CodeTemplateNotReady: true,
	state.CodeTemplatePaused: true, state.CodeTemplateDisabled: true, state.CodeParamMismatch: true, state.CodeReengagement: true,
}

// FuzzPublicSubmit throws arbitrary bodies, Content-Types and credentials at
// the validator path of msg/submit: every answer must be a clear envelope
// (success, a documented code, or a 4xx naming the problem), never a 5xx.
func FuzzPublicSubmit(f *testing.F) {
	srv := fuzzServer(f)
	f.Add([]byte(textSend(userNumber)), "application/json;charset=utf-8", demoToken)
	f.Add([]byte(`{"messageType":"audio","media":{"link":"x","caption":"c"}}`), "application/json", demoToken)
	f.Add([]byte(`{"wabaId":1}`), "text/plain", "")
	f.Add([]byte("{\"a\":\"\xff\"}"), "application/json; charset=utf-8", "Bearer x")
	f.Add([]byte(`[[[[[[[[[[`), "application/json", demoToken)
	f.Add([]byte(`{"wabaId":"1","messageType":"contacts","sendNumber":"8618912123456","recipientNumber":"1,2","contacts":[{"name":null}]}`), "application/json", demoToken)
	allowed := map[int]bool{200: true, 400: true, 401: true, 413: true, 415: true}
	f.Fuzz(func(t *testing.T, body []byte, contentType, token string) {
		req := httptest.NewRequest("POST", "/api/whatsapp/v3/msg/submit", strings.NewReader(string(body)))
		req.Header["Content-Type"] = []string{contentType}
		req.Header.Set("AppKey", demoAppKey)
		req.Header["Authorization"] = []string{token}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		e := checkEnvelope(t, rec, allowed)
		if rec.Code == 200 && !businessCodes[e.Code] {
			t.Fatalf("HTTP 200 with undocumented code %s: %s", e.Code, rec.Body.Bytes())
		}
	})
}

// FuzzWebhookConfig throws arbitrary configurations at the control API: a
// configuration is either refused with a 4xx naming the field, or stored in a
// form a dispatcher can use (http(s) URL with a host, POST or PUT, events of
// the product).
func FuzzWebhookConfig(f *testing.F) {
	srv := fuzzServer(f)
	f.Add(`{"product":"whatsapp","url":"https://example.com/h","events":["whatsapp_mo_message_received"]}`)
	f.Add(`{"product":"whatsapp","url":"http://[::1]:80/h?x=1","events":["whatsapp_message_status_updated"],"method":"put","username":"u"}`)
	f.Add(`{"product":"sms","url":"https://e.com","events":["x"]}`)
	f.Add(`{"product":"whatsapp","url":"javascript:alert(1)","events":[]}`)
	f.Add(`{"product":"whatsapp","url":"https://e.com","events":["whatsapp_mo_message_received"],"authorization":"a\r\nb"}`)
	f.Add(`{"product":"whatsapp","url":"https://e.com","events":["whatsapp_mo_message_received"],"retry":{"maxAttempts":5,"initial":"10s"},"chaos":{"seed":1,"delay":"2s","drop":0.5}}`)
	f.Add(`{"product":"otp","url":"https://e.com","events":["otp_status_report"],"retry":{"initial":"1h","multiplier":1e308},"chaos":{"delay":"-1ns","duplicate":1}}`)
	allowed := map[int]bool{201: true, 400: true, 409: true}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/_sandbox/apps/"+demoAppKey+"/webhooks", strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != 201 {
			checkEnvelope(t, rec, allowed)
			return
		}
		var w struct {
			URL, Method, Product string
			Events               []string
			Username             *string
			Retry                *struct {
				MaxAttempts          int
				Initial, MaxInterval string
				Multiplier           float64
			}
			Chaos *struct {
				Delay                    string
				Duplicate, Reorder, Drop float64
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &w); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			t.Fatalf("stored an unusable URL %q", w.URL)
		}
		if w.Method != http.MethodPost && w.Method != http.MethodPut {
			t.Fatalf("stored method %q", w.Method)
		}
		if w.Username != nil && strings.ContainsAny(*w.Username, "\r\n") {
			t.Fatalf("stored a header value with CR/LF")
		}
		if r := w.Retry; r != nil {
			initial, err1 := time.ParseDuration(r.Initial)
			maxInterval, err2 := time.ParseDuration(r.MaxInterval)
			if err1 != nil || err2 != nil || r.MaxAttempts < 1 || initial <= 0 || maxInterval < initial || r.Multiplier < 1 {
				t.Fatalf("stored an unusable retry policy %+v", *r)
			}
		}
		if c := w.Chaos; c != nil {
			d, err := time.ParseDuration(c.Delay)
			for _, p := range []float64{c.Duplicate, c.Reorder, c.Drop} {
				if p < 0 || p > 1 {
					t.Fatalf("stored a probability %g", p)
				}
			}
			if err != nil || d < 0 {
				t.Fatalf("stored a delay %q", c.Delay)
			}
		}
		// Leave room for the next input.
		del := httptest.NewRequest("DELETE", "/_sandbox/apps/"+demoAppKey+"/webhooks/"+w.Product, nil)
		del.RemoteAddr = "127.0.0.1:40000"
		srv.ServeHTTP(httptest.NewRecorder(), del)
	})
}

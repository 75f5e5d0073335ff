package mockserver_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzTrigger throws arbitrary event types, pointers and values at the
// trigger: it is refused with a 4xx naming the problem, or it stores a
// payload that its schema accepts. Never a 5xx (a strict sandbox answers a
// 500 for an answer that breaks its own contract), never a bad payload.
func FuzzTrigger(f *testing.F) {
	srv := fuzzServer(f)
	sp := loadSpec()
	f.Add("whatsapp_message_status_updated", "/body/status", `"read"`, "/body/conversation")
	f.Add("whatsapp_mo_message_received", "/body/errors/-", `{"code":1}`, "/body/text")
	f.Add("sms_status_report", "/status", `"UNDELIV"`, "")
	f.Add("otp_status_report", "/errCode", `null`, "/errMessage")
	f.Add("whatsapp_template_status_updated", "/body/~1x~0", `[]`, "/body/wabaId/0")
	f.Add("nope", "a/b", `1e999`, "/")
	allowed := map[int]bool{201: true, 400: true}
	f.Fuzz(func(t *testing.T, typ, pointer, value, unset string) {
		body := `{"type":` + quote(typ) + `,"set":{` + quote(pointer) + `:` + value + `}`
		if unset != "" {
			body += `,"unset":[` + quote(unset) + `]`
		}
		body += `}`
		req := httptest.NewRequest("POST", "/_sandbox/events", strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != 201 {
			if rec.Code == 400 && !json.Valid([]byte(body)) {
				return // the fuzzed value broke the JSON itself
			}
			checkEnvelope(t, rec, allowed)
			return
		}
		var res struct {
			Delivery struct {
				Type    string
				Payload json.RawMessage
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		if err := sp.ValidatePayload(res.Delivery.Type, res.Delivery.Payload); err != nil {
			t.Fatalf("stored a payload its schema refuses: %v\n%s", err, res.Delivery.Payload)
		}
	})
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

package reference

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/spec"
)

const submit = `{"wabaId":"110129512080569","messageType":"text","sendNumber":"8618912123456","recipientNumber":"6285234567899","body":"hi"}`

func call(t *testing.T, h http.Handler, body string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/whatsapp/v3/msg/submit", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// The reference answers a valid submit with the contract's example, and
// refuses bodies the contract refuses: it validates, it does not just
// answer. (Its authenticator accepts any credentials: it has no state.)
func TestTheReferenceValidatesAndAnswersTheExample(t *testing.T) {
	h, err := Handler(spec.MustLoadEmbedded().Public.Doc)
	require.NoError(t, err)
	creds := map[string]string{"AppKey": "XFbZY1rtTKo3UD4n1", "Authorization": "token"}

	rec := call(t, h, submit, creds)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"code":"0","message":"Success","data":"356139161272397824"}`, rec.Body.String())

	tests := []struct {
		name   string
		body   string
		header map[string]string
	}{
		{"a missing required field", strings.Replace(submit, `"wabaId":"110129512080569",`, ``, 1), creds},
		{"body not matching the schema", strings.Replace(submit, `"messageType":"text"`, `"messageType":"fax"`, 1), creds},
		{"no body", "", creds},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, 400, call(t, h, tc.body, tc.header).Code)
		})
	}
}

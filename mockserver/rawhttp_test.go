package mockserver_test

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawRequest writes bytes no HTTP client library would send and reads the answer.
func rawRequest(t *testing.T, base, raw string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = conn.Write([]byte(raw))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "the server must answer, not hang or drop the connection")
	return resp
}

func TestMalformedHeadersAreRefusedWithoutSideEffects(t *testing.T) {
	s := newSandbox(t)
	before := s.deliveryCount("")
	body := textSend(userNumber)
	head := "POST /api/whatsapp/v3/msg/submit HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\nConnection: close\r\n"
	tail := "Content-Length: " + itoa(len(body)) + "\r\n\r\n" + body
	tests := []struct {
		name, headers string
		status        int
		reason        string
	}{
		{"bare CR inside a value", "AppKey: " + demoAppKey + "\rX-Injected: 1\r\nAuthorization: " + demoToken + "\r\n", 400, ""},
		{"NUL in a value", "AppKey: " + demoAppKey + "\x00\r\nAuthorization: " + demoToken + "\r\n", 400, ""},
		// An obsolete folded line is joined to the value (RFC 9112 5.2), so
		// the AppKey no longer names an app.
		{"folded header line", "AppKey: " + demoAppKey + "\r\n folded\r\nAuthorization: " + demoToken + "\r\n", 401, "appkey-unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := rawRequest(t, s.url, head+tc.headers+tail)
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.reason, resp.Header.Get("X-Sandbox-Auth-Reason"))
		})
	}
	t.Run("the same request, well formed, is accepted", func(t *testing.T) {
		resp := rawRequest(t, s.url, head+"AppKey: "+demoAppKey+"\r\nAuthorization: "+demoToken+"\r\n"+tail)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	assert.Equal(t, before+2, s.deliveryCount(""), "only the well-formed request scheduled its two reports")
}

func itoa(n int) string { return strconv.Itoa(n) }

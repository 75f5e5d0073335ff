package listen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/internal/syncbuf"
	"github.com/innosandbox/innosandbox/spec"
)

const (
	testToken    = "TOKENAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWXYZ"
	testUserName = "acme-hooks"
)

var (
	testSpec = spec.MustLoadEmbedded()
	testTime = time.Date(2026, 11, 27, 18, 0, 1, 123e6, time.UTC)
)

// validStatus returns a status report that matches the contract, as a map so
// that a test can change one thing.
func validStatus() map[string]any {
	return map[string]any{
		"id":        "e5cb1bc6-ad90-419d-8f83-aa394c0b7cc7",
		"type":      "whatsapp_message_status_updated",
		"eventTime": "2026-11-27T18:00:00.000Z",
		"body": map[string]any{
			"id": "356139161272397824", "accountName": "IW1234567", "wabaId": "110129512080569",
			"wamid": "wamid.HBgNODYxODkxMjEyMzQ1NhUCABEYEjA5", "sendPhone": "6285234567899",
			"status":       "delivered",
			"conversation": map[string]any{"initiateType": "business_initiated", "expireAt": "2026-11-28 18:00:00"},
		},
	}
}

func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// newReceiver builds a receiver with a fixed clock and the embedded contract;
// change sets what the test is about.
func newReceiver(t *testing.T, change func(*Config)) (*Receiver, *syncbuf.Buffer) {
	t.Helper()
	out := &syncbuf.Buffer{}
	cfg := Config{Out: out, Spec: testSpec, Clock: clock.NewFake(testTime), HealthPath: "/healthz"}
	if change != nil {
		change(&cfg)
	}
	rc, err := New(cfg)
	require.NoError(t, err)
	return rc, out
}

// push sends one request through the receiver the way the dispatcher sends
// a webhook, and returns the answer.
func push(t *testing.T, h http.Handler, method, path string, body []byte, header map[string]string) *http.Response {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	for k, v := range header {
		req.Header[k] = []string{v} // as configured, not canonicalised
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func credentials() map[string]string {
	return map[string]string{"UserName": testUserName, "Authorization": testToken}
}

// lastRecord decodes the only (or last) JSON record printed.
func lastRecord(t *testing.T, out string) Record {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.NotEmpty(t, lines[0], "nothing was printed")
	var rec Record
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &rec), "line: %s", lines[len(lines)-1])
	return rec
}

func TestPushIsPrintedForPeople(t *testing.T) {
	rc, out := newReceiver(t, nil)
	resp := push(t, rc, http.MethodPost, "/hook", jsonOf(t, validStatus()), credentials())

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	got := out.String()
	for _, want := range []string{
		"--- 2026-11-27T18:00:01.123Z  POST /hook  -> 200",
		"event:       whatsapp_message_status_updated  id e5cb1bc6-ad90-419d-8f83-aa394c0b7cc7",
		"contract:    PASS  WhatsappMessageStatusUpdatedEvent",
		"UserName: " + testUserName,
		"Authorization: ****WXYZ",
		"Content-Type: application/json;charset=utf-8",
		"body (",
		"\n        \"body\": {\n", // pretty-printed, indented under the block
	} {
		assert.Contains(t, got, want)
	}
	assert.NotContains(t, got, testToken, "the token must be masked")
	assert.NotContains(t, got, "credentials:", "no credentials were expected, so none were checked")
}

func TestPushIsPrintedAsOneJSONLine(t *testing.T) {
	rc, out := newReceiver(t, func(c *Config) { c.Format = FormatJSON })
	body := jsonOf(t, validStatus())
	push(t, rc, http.MethodPut, "/hook?x=1", body, credentials())

	require.Equal(t, 1, strings.Count(out.String(), "\n"), "one line per push")
	rec := lastRecord(t, out.String())
	assert.Equal(t, testTime, rec.Time)
	assert.Equal(t, http.MethodPut, rec.Method)
	assert.Equal(t, "/hook", rec.Path)
	assert.Equal(t, "x=1", rec.Query)
	assert.Equal(t, http.StatusOK, rec.Status)
	assert.Equal(t, "whatsapp_message_status_updated", rec.EventType)
	assert.Equal(t, "e5cb1bc6-ad90-419d-8f83-aa394c0b7cc7", rec.EventID)
	assert.Equal(t, []string{testUserName}, rec.Header["UserName"], "InnoPaaS's spelling of the header name")
	assert.Equal(t, []string{"****WXYZ"}, rec.Header["Authorization"])
	assert.Equal(t, &Check{Result: Pass, Detail: "WhatsappMessageStatusUpdatedEvent"}, rec.Contract)
	assert.JSONEq(t, string(body), string(rec.Body))
	assert.Equal(t, len(body), rec.BodyBytes)
}

func TestContractCheck(t *testing.T) {
	tests := []struct {
		name       string
		body       func(t *testing.T) []byte
		result     string
		detailHas  string
		eventType  string
		bodyErrHas string
	}{
		{name: "valid status report", body: func(t *testing.T) []byte { return jsonOf(t, validStatus()) },
			result: Pass, detailHas: "WhatsappMessageStatusUpdatedEvent", eventType: "whatsapp_message_status_updated"},
		{name: "status outside the enum", body: func(t *testing.T) []byte {
			p := validStatus()
			p["body"].(map[string]any)["status"] = "sent"
			return jsonOf(t, p)
		}, result: Fail, detailHas: "status", eventType: "whatsapp_message_status_updated"},
		{name: "required field missing", body: func(t *testing.T) []byte {
			p := validStatus()
			delete(p["body"].(map[string]any), "wamid")
			return jsonOf(t, p)
		}, result: Fail, detailHas: "wamid", eventType: "whatsapp_message_status_updated"},
		{name: "envelope without eventTime", body: func(t *testing.T) []byte {
			p := validStatus()
			delete(p, "eventTime")
			return jsonOf(t, p)
		}, result: Fail, detailHas: "eventTime", eventType: "whatsapp_message_status_updated"},
		{name: "no type field", body: func(t *testing.T) []byte {
			p := validStatus()
			delete(p, "type")
			return jsonOf(t, p)
		}, result: Skip, detailHas: "cannot tell the event type"},
		{name: "type the contract does not describe", body: func(t *testing.T) []byte {
			p := validStatus()
			// Named by InnoPaaS ("being updated"), but without a documented payload.
			p["type"] = "whatsapp_account_review_updated"
			return jsonOf(t, p)
		}, result: Skip, detailHas: "not in the contract", eventType: "whatsapp_account_review_updated"},
		{name: "not JSON", body: func(*testing.T) []byte { return []byte(`{"id": "x", "type": `) },
			result: Fail, detailHas: "not JSON", bodyErrHas: "not JSON"},
		{name: "a JSON array", body: func(*testing.T) []byte { return []byte(`[1, 2]`) },
			result: Skip, detailHas: "cannot tell the event type"},
		{name: "empty body", body: func(*testing.T) []byte { return nil }, result: Skip, detailHas: "empty body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, out := newReceiver(t, func(c *Config) { c.Format = FormatJSON })
			resp := push(t, rc, http.MethodPost, "/", tt.body(t), nil)

			assert.Equal(t, http.StatusOK, resp.StatusCode, "a listener answers whatever it gets")
			rec := lastRecord(t, out.String())
			require.NotNil(t, rec.Contract)
			assert.Equal(t, tt.result, rec.Contract.Result, rec.Contract.Detail)
			assert.Contains(t, rec.Contract.Detail, tt.detailHas)
			assert.Equal(t, tt.eventType, rec.EventType)
			if tt.bodyErrHas != "" {
				assert.Contains(t, rec.BodyError, tt.bodyErrHas)
				assert.NotEmpty(t, rec.BodyText, "a body that is not JSON is still shown")
			}
		})
	}
}

func TestBadJSONIsPrintedForPeople(t *testing.T) {
	rc, out := newReceiver(t, nil)
	resp := push(t, rc, http.MethodPost, "/", []byte("status=delivered&id=1"), nil)

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, out.String(), "body (21 bytes, not JSON: invalid character")
	assert.Contains(t, out.String(), "      status=delivered&id=1\n")
	assert.Contains(t, out.String(), "contract:    FAIL  payload is not JSON")
}

func TestNoValidationWithoutSpec(t *testing.T) {
	rc, out := newReceiver(t, func(c *Config) { c.Spec = nil; c.Format = FormatJSON })
	push(t, rc, http.MethodPost, "/", []byte(`{"type":"whatsapp_message_status_updated"}`), nil)

	assert.Nil(t, lastRecord(t, out.String()).Contract)
}

func TestCredentialsCheck(t *testing.T) {
	tests := []struct {
		name        string
		expectUser  string
		expectAuth  string
		showSecrets bool
		header      func(h map[string]string)
		status      int
		result      string // "" when nothing is checked
		detail      string
	}{
		{name: "nothing expected", status: http.StatusOK},
		{name: "both match", expectUser: testUserName, expectAuth: testToken, status: http.StatusOK, result: Pass},
		{name: "only the user name expected", expectUser: testUserName, status: http.StatusOK, result: Pass},
		{name: "wrong token", expectUser: testUserName, expectAuth: testToken,
			header: func(h map[string]string) { h["Authorization"] = "OTHERTOKEN0000001234" },
			status: http.StatusUnauthorized, result: Fail, detail: "Authorization is ****1234, want ****WXYZ"},
		{name: "wrong token, secrets shown", expectAuth: testToken, showSecrets: true,
			header: func(h map[string]string) { h["Authorization"] = "OTHERTOKEN0000001234" },
			status: http.StatusUnauthorized, result: Fail, detail: `Authorization is "OTHERTOKEN0000001234", want "` + testToken + `"`},
		{name: "user name missing", expectUser: testUserName, expectAuth: testToken,
			header: func(h map[string]string) { delete(h, "UserName") },
			status: http.StatusUnauthorized, result: Fail, detail: "UserName is missing"},
		{name: "user name differs", expectUser: testUserName,
			header: func(h map[string]string) { h["UserName"] = "someone" },
			status: http.StatusUnauthorized, result: Fail, detail: `UserName is "someone", want "acme-hooks"`},
		{name: "both wrong", expectUser: testUserName, expectAuth: testToken,
			header: func(h map[string]string) { delete(h, "UserName"); delete(h, "Authorization") },
			status: http.StatusUnauthorized, result: Fail, detail: "UserName is missing; Authorization is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, out := newReceiver(t, func(c *Config) {
				c.Format, c.ExpectUserName, c.ExpectAuthorization, c.ShowSecrets = FormatJSON, tt.expectUser, tt.expectAuth, tt.showSecrets
			})
			h := credentials()
			if tt.header != nil {
				tt.header(h)
			}
			resp := push(t, rc, http.MethodPost, "/hook", jsonOf(t, validStatus()), h)

			assert.Equal(t, tt.status, resp.StatusCode)
			rec := lastRecord(t, out.String())
			assert.Equal(t, tt.status, rec.Status)
			if tt.result == "" {
				assert.Nil(t, rec.Credentials)
				return
			}
			require.NotNil(t, rec.Credentials)
			assert.Equal(t, tt.result, rec.Credentials.Result)
			assert.Equal(t, tt.detail, rec.Credentials.Detail)
			if !tt.showSecrets {
				assert.NotContains(t, out.String(), testToken)
			}
		})
	}
}

func TestSecretsShownOnRequest(t *testing.T) {
	rc, out := newReceiver(t, func(c *Config) { c.ShowSecrets = true })
	push(t, rc, http.MethodPost, "/", jsonOf(t, validStatus()), credentials())

	assert.Contains(t, out.String(), "Authorization: "+testToken)
}

// TestSMSPasswordIsMaskedInTheBody pushes an SMS report, whose pswd carries
// the configured password: listen prints it masked, in both formats,
// unless asked to show secrets, and forwards it whole.
func TestSMSPasswordIsMaskedInTheBody(t *testing.T) {
	const pswd = "sms-pass-w0rd-1234"
	body := jsonOf(t, map[string]any{"receiver": "shop", "pswd": pswd, "msgid": "1"})
	for _, format := range []string{FormatPretty, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			fwd := &app{}
			fsrv := httptest.NewServer(fwd)
			t.Cleanup(fsrv.Close)
			rc, out := newReceiver(t, func(c *Config) { c.Format, c.Spec, c.Forward = format, nil, fsrv.URL })
			push(t, rc, http.MethodPost, "/", body, nil)
			assert.NotContains(t, out.String(), "w0rd")
			assert.Contains(t, out.String(), "****1234")
			fwd.mu.Lock()
			defer fwd.mu.Unlock()
			assert.Contains(t, string(fwd.body), pswd, "the app gets the password whole")
		})
	}
	rc, out := newReceiver(t, func(c *Config) { c.ShowSecrets, c.Spec = true, nil })
	push(t, rc, http.MethodPost, "/", body, nil)
	assert.Contains(t, out.String(), pswd)
}

// app is a stand-in for the developer's own webhook endpoint.
type app struct {
	mu     sync.Mutex
	method string
	body   []byte
	header http.Header
	calls  int
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.method, a.body, a.header = r.Method, body, r.Header.Clone()
	a.calls++
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"queued":true}`)
}

func TestForward(t *testing.T) {
	a := &app{}
	appSrv := httptest.NewServer(a)
	defer appSrv.Close()
	rc, out := newReceiver(t, func(c *Config) { c.Format = FormatJSON; c.Forward = appSrv.URL + "/webhooks/innopaas" })
	body := jsonOf(t, validStatus())
	resp := push(t, rc, http.MethodPut, "/hook", body, credentials())

	assert.Equal(t, http.StatusAccepted, resp.StatusCode, "the sender gets the app's status")
	answer, _ := io.ReadAll(resp.Body)
	assert.JSONEq(t, `{"queued":true}`, string(answer))
	a.mu.Lock()
	defer a.mu.Unlock()
	assert.Equal(t, http.MethodPut, a.method)
	assert.Equal(t, body, a.body)
	assert.Equal(t, testUserName, a.header.Get("UserName"))
	assert.Equal(t, testToken, a.header.Get("Authorization"), "the app gets the secret as sent")
	assert.Equal(t, "application/json;charset=utf-8", a.header.Get("Content-Type"))

	rec := lastRecord(t, out.String())
	require.NotNil(t, rec.Forward)
	assert.Equal(t, appSrv.URL+"/webhooks/innopaas", rec.Forward.URL)
	assert.Equal(t, http.StatusAccepted, rec.Forward.Status)
	assert.Empty(t, rec.Forward.Error)
	assert.Equal(t, http.StatusAccepted, rec.Status)
}

func TestForwardIsPrintedForPeople(t *testing.T) {
	appSrv := httptest.NewServer(&app{})
	defer appSrv.Close()
	rc, out := newReceiver(t, func(c *Config) { c.Forward = appSrv.URL })
	push(t, rc, http.MethodPost, "/", jsonOf(t, validStatus()), nil)

	assert.Contains(t, out.String(), "forward:     "+appSrv.URL+" -> 202 in ")
	assert.Contains(t, out.String(), "POST /  -> 202")
}

func TestRefusedPushIsNotForwarded(t *testing.T) {
	a := &app{}
	appSrv := httptest.NewServer(a)
	defer appSrv.Close()
	rc, _ := newReceiver(t, func(c *Config) { c.Forward = appSrv.URL; c.ExpectAuthorization = "SOMETHINGELSE" })
	resp := push(t, rc, http.MethodPost, "/", jsonOf(t, validStatus()), credentials())

	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	a.mu.Lock()
	defer a.mu.Unlock()
	assert.Zero(t, a.calls)
}

func TestForwardToNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := "http://" + ln.Addr().String() + "/hook"
	require.NoError(t, ln.Close()) // nothing listens there any more
	rc, out := newReceiver(t, func(c *Config) { c.Format = FormatJSON; c.Forward = dead })
	resp := push(t, rc, http.MethodPost, "/", jsonOf(t, validStatus()), nil)

	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	rec := lastRecord(t, out.String())
	require.NotNil(t, rec.Forward)
	assert.Zero(t, rec.Forward.Status)
	assert.Contains(t, rec.Forward.Error, "refused")
}

func TestForwardTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	rc, out := newReceiver(t, func(c *Config) { c.Format = FormatJSON; c.Forward = slow.URL; c.ForwardTimeout = 50 * time.Millisecond })
	resp := push(t, rc, http.MethodPost, "/", []byte(`{}`), nil)

	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, "no answer within 50ms", lastRecord(t, out.String()).Forward.Error)
}

func TestCopyHeaderKeepsInnoPaaSSpellingAndDropsHopByHop(t *testing.T) {
	src := http.Header{}
	src.Set("UserName", "acme")
	src.Set("AppKey", "k")
	src.Set("Authorization", "t")
	src.Set("Connection", "keep-alive, X-Hop")
	src.Set("X-Hop", "1")
	src.Set("Accept-Encoding", "gzip")
	src.Set("Content-Length", "12")
	src.Set("X-Request-Id", "r1")
	dst := http.Header{}
	copyHeader(dst, src)

	assert.Equal(t, http.Header{
		"UserName": {"acme"}, "AppKey": {"k"}, "Authorization": {"t"}, "X-Request-Id": {"r1"},
	}, dst)
}

func TestBodyTooLarge(t *testing.T) {
	rc, out := newReceiver(t, func(c *Config) { c.Format = FormatJSON })
	big := append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), DefaultMaxBody)...)
	resp := push(t, rc, http.MethodPost, "/", append(big, `"}`...), nil)

	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	rec := lastRecord(t, out.String())
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Status)
	assert.Equal(t, "body over the 1048576-byte limit: refused", rec.Note)
	assert.Empty(t, rec.Body)
}

func TestBodyAtTheLimitIsTaken(t *testing.T) {
	rc, _ := newReceiver(t, func(c *Config) { c.MaxBody = 10 })
	resp := push(t, rc, http.MethodPost, "/", []byte(`"12345678"`), nil)

	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestPath(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		target string
		status int
	}{
		{name: "root takes every path", path: "/", target: "/any/thing", status: http.StatusOK},
		{name: "exact path", path: "/hook", target: "/hook", status: http.StatusOK},
		{name: "exact path takes nothing below", path: "/hook", target: "/hook/x", status: http.StatusNotFound},
		{name: "another path", path: "/hook", target: "/other", status: http.StatusNotFound},
		{name: "a trailing slash takes the subtree", path: "/hooks/", target: "/hooks/whatsapp", status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, out := newReceiver(t, func(c *Config) { c.Path = tt.path; c.Format = FormatJSON })
			resp := push(t, rc, http.MethodPost, tt.target, []byte(`{}`), nil)

			assert.Equal(t, tt.status, resp.StatusCode)
			rec := lastRecord(t, out.String())
			if tt.status == http.StatusNotFound {
				assert.Equal(t, "not under --path "+tt.path+": ignored", rec.Note, "a misdirected push is still shown")
			}
		})
	}
}

func TestStatusFlag(t *testing.T) {
	rc, _ := newReceiver(t, func(c *Config) { c.Status = http.StatusServiceUnavailable })
	resp := push(t, rc, http.MethodPost, "/", []byte(`{}`), nil)

	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "lets a developer watch the sender retry")
}

func TestHealthPathIsAnsweredQuietly(t *testing.T) {
	rc, out := newReceiver(t, nil)
	resp := push(t, rc, http.MethodGet, "/healthz", nil, nil)

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, out.String())

	resp = push(t, rc, http.MethodPost, "/healthz", []byte(`{}`), nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotEmpty(t, out.String(), "only GET and HEAD are health checks; a push there is printed")
}

func TestConcurrentPushesDoNotInterleave(t *testing.T) {
	rc, out := newReceiver(t, func(c *Config) { c.Format = FormatJSON })
	srv := httptest.NewServer(rc)
	defer srv.Close()
	body := jsonOf(t, validStatus())
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := srv.Client().Post(srv.URL, "application/json", bytes.NewReader(body))
			if assert.NoError(t, err) {
				_ = resp.Body.Close()
			}
		})
	}
	wg.Wait()

	sc := bufio.NewScanner(strings.NewReader(out.String()))
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		assert.True(t, json.Valid(sc.Bytes()), "line %d: %s", lines, sc.Text())
	}
	assert.Equal(t, n, lines)
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: "", want: "****"},
		{in: "abcd", want: "****"},
		{in: "abcdefgh", want: "****"},
		{in: "abcdefghi", want: "****fghi"},
		{in: testToken, want: "****WXYZ"},
		{in: "Bearer tökenä123", want: "****ä123"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, mask(tt.in), tt.in)
	}
}

func TestConfigValidate(t *testing.T) {
	valid := func() Config { return Config{Out: io.Discard} }
	tests := []struct {
		name   string
		change func(*Config)
		errHas string
	}{
		{name: "valid", change: func(*Config) {}},
		{name: "no output", change: func(c *Config) { c.Out = nil }, errHas: "Out is required"},
		{name: "relative path", change: func(c *Config) { c.Path = "hook" }, errHas: "--path"},
		{name: "relative health path", change: func(c *Config) { c.HealthPath = "healthz" }, errHas: "--health-path"},
		{name: "status too low", change: func(c *Config) { c.Status = 101 }, errHas: "--status 101"},
		{name: "status too high", change: func(c *Config) { c.Status = 600 }, errHas: "--status 600"},
		{name: "unknown format", change: func(c *Config) { c.Format = "yaml" }, errHas: "--format"},
		{name: "relative forward URL", change: func(c *Config) { c.Forward = "127.0.0.1:3000/hook" }, errHas: "--forward"},
		{name: "forward URL of another scheme", change: func(c *Config) { c.Forward = "ftp://127.0.0.1/hook" }, errHas: "--forward"},
		{name: "forward URL", change: func(c *Config) { c.Forward = "http://127.0.0.1:3000/hook" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.change(&c)
			err := c.Validate()
			if tt.errHas == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.errHas)
		})
	}
}

func TestServeStopsWhenTheContextEnds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	rc, out := newReceiver(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, rc, time.Second) }()

	resp, err := http.Post("http://"+ln.Addr().String()+"/", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotEmpty(t, out.String())

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	assert.Error(t, err, "the listener is closed")
}

package steps

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statusEvent is a valid whatsapp_message_status_updated payload.
const statusEvent = `{"id":"e5cb1bc6-ad90-419d-8f83-aa394c0b7cc7","type":"whatsapp_message_status_updated","eventTime":"2023-05-25T10:31:08.167Z",
"body":{"id":"356139161272397824","accountName":"IW1000001","wabaId":"110129512080569","wamid":"wamid.X","sendPhone":"6285234567899","status":"delivered",
"conversation":{"initiateType":"business_initiated","expireAt":"2023-05-26 10:31:08"}}}`

func push(t *testing.T, url, method string, header map[string]string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = []string{v}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

func TestReceiverRecordsAndAnswersAsScripted(t *testing.T) {
	r, err := StartReceiver()
	require.NoError(t, err)
	defer r.Close()
	require.True(t, strings.HasPrefix(r.URL(), "http://127.0.0.1:"), r.URL())
	r.Script(Answer{Status: 500}, Answer{Status: 429, RetryAfter: "30"}, Answer{Status: 200})

	h := map[string]string{"Content-Type": "application/json;charset=utf-8", "UserName": "shop"}
	var statuses []int
	var retryAfter []string
	for range 4 {
		resp := push(t, r.URL(), http.MethodPut, h, statusEvent)
		statuses = append(statuses, resp.StatusCode)
		retryAfter = append(retryAfter, resp.Header.Get("Retry-After"))
	}
	assert.Equal(t, []int{500, 429, 200, 200}, statuses, "the answers in order, the last one repeated")
	assert.Equal(t, []string{"", "30", "", ""}, retryAfter)

	r.Script(Answer{Status: 410}, Answer{Status: 201})
	resp := push(t, r.URL(), http.MethodPost, h, statusEvent)
	assert.Equal(t, 410, resp.StatusCode, "a new script starts with its first answer")
	resp = push(t, r.URL(), http.MethodPost, h, statusEvent)
	assert.Equal(t, 201, resp.StatusCode)

	got := r.Pushes()
	require.Len(t, got, 6)
	p := got[0]
	assert.Equal(t, 1, p.N)
	assert.Equal(t, http.MethodPut, p.Method)
	assert.Equal(t, "/hook", p.Path)
	assert.Equal(t, "shop", p.Header.Get("UserName"))
	assert.Equal(t, 500, p.Answered)
	assert.Equal(t, "e5cb1bc6-ad90-419d-8f83-aa394c0b7cc7", p.ID)
	assert.Equal(t, EventStatusUpdated, p.Type)
	assert.Equal(t, "delivered", p.BodyField("status"))
	assert.JSONEq(t, statusEvent, string(p.Body))
}

func TestReceiverWaitFor(t *testing.T) {
	r, err := StartReceiver()
	require.NoError(t, err)
	defer r.Close()
	ctx := context.Background()

	go func() {
		time.Sleep(20 * time.Millisecond) // the push comes while WaitFor waits
		push(t, r.URL(), http.MethodPost, nil, statusEvent)
	}()
	start := time.Now()
	got, err := r.WaitFor(ctx, 5*time.Second, func(ps []Push) bool { return len(ps) == 1 })
	require.NoError(t, err)
	assert.Len(t, got, 1)
	assert.Less(t, time.Since(start), 2*time.Second, "WaitFor wakes on the push, not at its deadline")

	got, err = r.WaitFor(ctx, 30*time.Millisecond, func(ps []Push) bool { return len(ps) == 2 })
	assert.ErrorIs(t, err, ErrTimeout)
	assert.Len(t, got, 1, "what arrived so far, for the failure message")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = r.WaitFor(cctx, time.Minute, func(ps []Push) bool { return false })
	assert.ErrorIs(t, err, context.Canceled)
}

func TestCheckPush(t *testing.T) {
	str := func(s string) *string { return &s }
	valid := func() Push {
		return Push{Method: http.MethodPost, Header: http.Header{"Content-Type": {"application/json;charset=utf-8"}},
			Body: []byte(statusEvent), Type: EventStatusUpdated}
	}
	tests := []struct {
		name    string
		change  func(p *Push)
		expect  *Expect
		problem string // "" when the push is fine
	}{
		{name: "a push as configured", expect: &Expect{Method: http.MethodPost}},
		{name: "no configuration to compare with", expect: nil},
		{name: "configured credentials sent exactly", expect: &Expect{Method: http.MethodPut, Username: str("shop"), Authorization: str("s3cret")},
			change: func(p *Push) {
				p.Method = http.MethodPut
				p.Header.Set("UserName", "shop")
				p.Header.Set("Authorization", "s3cret")
			}},
		{name: "charset in another case", change: func(p *Push) { p.Header.Set("Content-Type", "application/json; charset=UTF-8") }},
		{name: "no charset", change: func(p *Push) { p.Header.Set("Content-Type", "application/json") }, problem: "Content-Type"},
		{name: "not JSON", change: func(p *Push) { p.Header.Set("Content-Type", "text/plain") }, problem: "Content-Type"},
		{name: "a UserName nobody configured", expect: &Expect{Method: http.MethodPost}, change: func(p *Push) { p.Header.Set("UserName", "shop") }, problem: "none is configured"},
		{name: "the configured Authorization missing", expect: &Expect{Method: http.MethodPost, Authorization: str("s3cret")}, problem: "Authorization"},
		{name: "another Authorization", expect: &Expect{Method: http.MethodPost, Authorization: str("s3cret")},
			change: func(p *Push) { p.Header.Set("Authorization", "Bearer s3cret") }, problem: "configured \"s3cret\""},
		{name: "the wrong method", expect: &Expect{Method: http.MethodPut}, problem: "pushed with POST, configured PUT"},
		{name: "a payload that breaks its schema", change: func(p *Push) {
			p.Body = []byte(strings.Replace(statusEvent, `"status":"delivered"`, `"status":"sent"`, 1))
		}, problem: "/body/status"},
		{name: "a body that is not an event", change: func(p *Push) { p.Body, p.Type = []byte(`ok`), "" }, problem: "not an event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			if tt.change != nil {
				tt.change(&p)
			}
			problems := testContract.CheckPush(p, tt.expect)
			if tt.problem == "" {
				assert.Empty(t, problems)
				return
			}
			assert.Contains(t, strings.Join(problems, "\n"), tt.problem)
		})
	}
}

func TestHub(t *testing.T) {
	h, err := StartHub("127.0.0.1:0", "")
	require.NoError(t, err)
	defer h.Close()
	a, b := h.NewReceiver(), h.NewReceiver()
	assert.NotEqual(t, a.URL(), b.URL())
	assert.True(t, strings.HasPrefix(a.URL(), "http://"+h.Addr()+"/"), a.URL())

	push(t, a.URL(), http.MethodPost, nil, statusEvent)
	push(t, b.URL(), http.MethodPost, nil, statusEvent)
	push(t, b.URL(), http.MethodPost, nil, statusEvent)
	assert.Len(t, a.Pushes(), 1)
	assert.Len(t, b.Pushes(), 2)

	a.Close()
	resp := push(t, a.URL(), http.MethodPost, nil, statusEvent)
	assert.Equal(t, http.StatusGone, resp.StatusCode, "a receiver whose scenario ended asks not to be sent again")

	// A public URL with a path prefix that a proxy keeps.
	h2, err := StartHub("127.0.0.1:0", "https://hooks.example.com/ci/")
	require.NoError(t, err)
	defer h2.Close()
	c := h2.NewReceiver()
	assert.True(t, strings.HasPrefix(c.URL(), "https://hooks.example.com/ci/r"), c.URL())
	local := "http://" + h2.Addr() + strings.TrimPrefix(c.URL(), "https://hooks.example.com")
	push(t, local, http.MethodPost, nil, statusEvent)
	assert.Len(t, c.Pushes(), 1)
}

func TestFlatEventType(t *testing.T) {
	flat := []string{"sms_status_report", "sms_mo_message_received", "otp_status_report", EventStatusUpdated}
	example := func(typ string) map[string]any {
		ex, ok := testContract.Spec.EventExample(typ)
		require.True(t, ok, typ)
		return ex
	}
	for _, typ := range []string{"sms_status_report", "sms_mo_message_received", "otp_status_report"} {
		assert.Equal(t, typ, testContract.FlatEventType(example(typ), flat), "the example of %s is told apart", typ)
	}
	broken := example("sms_status_report")
	delete(broken, "msgid")
	assert.Equal(t, "", testContract.FlatEventType(broken, flat), "a broken report fits no type among several")
	assert.Equal(t, "sms_status_report", testContract.FlatEventType(broken, []string{"sms_status_report", EventStatusUpdated}),
		"the only flat type subscribed is the type, so that its schema says what is missing")
	assert.Equal(t, "", testContract.FlatEventType(example("otp_status_report"), []string{EventStatusUpdated}), "enveloped types name themselves")
}

// A push that breaks its schema is reported by both validators, each named.
func TestCheckPushJudgesWithBothValidators(t *testing.T) {
	ps, err := NewPayloadSchemas(testContract.Spec.Public.Source)
	require.NoError(t, err)
	c := &Contract{Spec: testContract.Spec, Independent: ps}
	p := Push{Method: http.MethodPost, Header: http.Header{"Content-Type": {"application/json;charset=utf-8"}},
		Body: []byte(strings.Replace(statusEvent, `"status":"delivered"`, `"status":"sent"`, 1)), Type: EventStatusUpdated}
	problems := strings.Join(c.CheckPush(p, nil), "\n")
	assert.Contains(t, problems, "kin-openapi: ")
	assert.Contains(t, problems, "independent validator (JSON Schema 2020-12)")
	p.Body = []byte(statusEvent)
	assert.Empty(t, c.CheckPush(p, nil))
}

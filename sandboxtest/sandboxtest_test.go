package sandboxtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/fixtures"
	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/sandboxtest"
)

const statusUpdated = "whatsapp_message_status_updated"

// send posts a text message through the public API with the demo app's
// credentials and returns the status and the answer.
func send(t *testing.T, sb *sandboxtest.Sandbox, appKey, token string) (int, string) {
	t.Helper()
	body := `{"wabaId":"` + sb.WABA + `","messageType":"text","sendNumber":"` + sb.Number + `","recipientNumber":"` +
		sandboxtest.DemoUser + `","body":"Your order has shipped."}`
	req, err := http.NewRequest(http.MethodPost, sb.URL+"/api/whatsapp/v3/msg/submit", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	req.Header.Set("Appkey", appKey)
	req.Header.Set("Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// sendOK sends and returns the message id.
func sendOK(t *testing.T, sb *sandboxtest.Sandbox) string {
	t.Helper()
	status, answer := send(t, sb, sb.AppKey, sb.Authorization)
	require.Equal(t, http.StatusOK, status, answer)
	var env struct{ Code, Data string }
	require.NoError(t, json.Unmarshal([]byte(answer), &env))
	require.Equal(t, "0", env.Code, answer)
	return env.Data
}

func TestAReceiverGetsASendsReportsOnTheSandboxClock(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.New(t)
	require.True(t, strings.HasPrefix(sb.URL, "http://127.0.0.1:"), sb.URL)
	rcv := sb.NewReceiver(t, "whatsapp", sandboxtest.Credentials("shop", "s3cret"))

	mo := sb.Inbound(t, sandboxtest.Inbound{Text: "Where is my order?"})
	assert.Equal(t, sb.AppKey, mo.AppKey, "routed to the demo app by its number")
	p := rcv.WaitFor(t, "whatsapp_mo_message_received", 5*time.Second)
	var in struct {
		Body struct{ Text struct{ Body string } }
	}
	p.Decode(t, &in)
	assert.Equal(t, "Where is my order?", in.Body.Text.Body)

	msgID := sendOK(t, sb)
	sb.Advance(t, 3*time.Second) // past both reports
	var statuses []string
	for range 2 {
		p := rcv.WaitFor(t, statusUpdated, 5*time.Second)
		assert.Equal(t, statusUpdated, p.Type)
		assert.Equal(t, "POST", p.Method)
		assert.Equal(t, "s3cret", p.Header.Get("Authorization"))
		assert.Equal(t, "shop", p.Header.Get("UserName"))
		var r struct{ Body struct{ ID, Status string } }
		p.Decode(t, &r)
		assert.Equal(t, msgID, r.Body.ID)
		statuses = append(statuses, r.Body.Status)
	}
	assert.ElementsMatch(t, []string{"delivered", "read"}, statuses)
	assert.Len(t, rcv.Pushes(), 3)
}

// fakeT records a failure instead of ending the test, to check the
// messages the package fails with.
type fakeT struct {
	mu       sync.Mutex
	failures []string
	cleanups []func()
}

func (*fakeT) Helper()             {}
func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (*fakeT) Logf(string, ...any) {}
func (f *fakeT) Fatalf(s string, a ...any) {
	f.mu.Lock()
	f.failures = append(f.failures, fmt.Sprintf(s, a...))
	f.mu.Unlock()
}
func (f *fakeT) close() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestWaitForFailsOnTimeOutSayingWhatArrived(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.New(t)
	ft := &fakeT{}
	defer ft.close()
	rcv := sb.NewReceiver(ft, "whatsapp", sandboxtest.ForEvents("whatsapp_template_status_updated"))
	sb.Trigger(t, sandboxtest.Event{Type: "whatsapp_template_status_updated"})
	rcv.WaitFor(t, "whatsapp_template_status_updated", 5*time.Second)
	require.Empty(t, ft.failures)

	rcv.WaitFor(ft, statusUpdated, 100*time.Millisecond)
	require.Len(t, ft.failures, 1)
	assert.Contains(t, ft.failures[0], "this receiver is not subscribed to whatsapp_message_status_updated")

	all := sb.NewReceiver(ft, "whatsapp") // replaces the webhook: every event now
	require.Len(t, ft.failures, 1)
	all.WaitFor(ft, statusUpdated, 100*time.Millisecond)
	require.Len(t, ft.failures, 2)
	msg := ft.failures[1]
	assert.Contains(t, msg, "no whatsapp_message_status_updated push within 100ms")
	assert.Contains(t, msg, "received: none")
	assert.Contains(t, msg, "the delivery log has no whatsapp_message_status_updated event")

	// A push is returned once: a second wait for the same type times out.
	rcv.WaitFor(ft, "whatsapp_template_status_updated", 100*time.Millisecond)
	require.Len(t, ft.failures, 3)
	assert.Contains(t, ft.failures[2], "received: whatsapp_template_status_updated")
	assert.Contains(t, ft.failures[2], "[whatsapp_template_status_updated ", "the log's entry is shown")
	assert.Contains(t, ft.failures[2], " delivered, 1 attempts]")
}

func TestASeedOfOnesOwnGivesTheDemoFields(t *testing.T) {
	t.Parallel()
	seed, err := fixtures.ParseSeed(fixtures.SeedYAML())
	require.NoError(t, err)
	seed.Accounts[0].Name = "IW7000001"
	seed.Accounts[0].Apps[0].AppKey = "ShopApp0000000001"
	seed.Accounts[0].Apps[0].Token = strings.Repeat("S", 56)
	sb := sandboxtest.New(t, sandboxtest.WithSeed(seed), sandboxtest.NoSessionWindow())
	assert.Equal(t, "IW7000001", sb.Account)
	assert.Equal(t, "ShopApp0000000001", sb.AppKey)
	assert.Equal(t, strings.Repeat("S", 56), sb.Authorization)
	sendOK(t, sb) // with these credentials
	status, _ := send(t, sb, "XFbZY1rtTKo3UD4n1", "YUIYIUIAIIASUDIAOSIDUOIWUOQWUEOIUWOEUQWOEUOQWUOUWOUWQOWU")
	assert.Equal(t, http.StatusUnauthorized, status, "the embedded seed's demo app is not there")
}

func TestSandboxesAreIsolated(t *testing.T) {
	t.Parallel()
	a, b := sandboxtest.New(t), sandboxtest.New(t)
	assert.NotEqual(t, a.URL, b.URL)
	before := b.Now(t)
	a.Advance(t, time.Hour)
	assert.WithinDuration(t, before, b.Now(t), 30*time.Minute, "b's clock did not move")
	assert.WithinDuration(t, before.Add(time.Hour), a.Now(t), 30*time.Minute, "a's did")
	a.Trigger(t, sandboxtest.Event{Type: "whatsapp_template_status_updated"})
	assert.Len(t, a.Deliveries(t, sandboxtest.Filter{Type: "whatsapp_template_status_updated"}), 1)
	assert.Empty(t, b.Deliveries(t, sandboxtest.Filter{Type: "whatsapp_template_status_updated"}))
}

func TestWaitDeliveryAndFilters(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.New(t)
	sb.NewReceiver(t, "whatsapp")
	fired := sb.Trigger(t, sandboxtest.Event{Type: statusUpdated, Set: map[string]any{"/body/status": "read"}, Unset: []string{"/body/conversation"}})
	assert.Equal(t, "pending", fired.Status)
	got := sb.WaitDelivery(t, sandboxtest.Filter{Type: statusUpdated, Status: "delivered"}, 5*time.Second)
	assert.Equal(t, fired.ID, got.ID)
	assert.Equal(t, 1, got.Attempts)
	assert.Contains(t, string(got.Payload), `"status":"read"`)

	sb.Inbound(t, sandboxtest.Inbound{Text: "hi"}) // opens the 24-hour window
	msgID := sendOK(t, sb)
	byMsg := sb.Deliveries(t, sandboxtest.Filter{MessageID: msgID})
	require.Len(t, byMsg, 2, "the send's two reports")
	for _, d := range byMsg {
		assert.Equal(t, "pending", d.Status, "due on the sandbox clock, not yet")
	}
	assert.Empty(t, sb.Deliveries(t, sandboxtest.Filter{Since: time.Now().Add(time.Hour)}))

	ft := &fakeT{}
	sb.WaitDelivery(ft, sandboxtest.Filter{Type: "sms_status_report"}, 100*time.Millisecond)
	require.Len(t, ft.failures, 1)
	assert.Contains(t, ft.failures[0], "no delivery matched")
}

func TestAFailingReceiverMakesADeadLetter(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.New(t, sandboxtest.Retry(2, time.Second, 1, time.Second))
	rcv := sb.NewReceiver(t, "whatsapp", sandboxtest.Answer(500, 500))
	d := sb.Trigger(t, sandboxtest.Event{Type: "whatsapp_template_status_updated"})
	rcv.WaitFor(t, "whatsapp_template_status_updated", 5*time.Second)
	sb.Advance(t, time.Second) // the retry comes due
	rcv.WaitFor(t, "whatsapp_template_status_updated", 5*time.Second)
	dead := sb.WaitDelivery(t, sandboxtest.Filter{Status: "failed", Type: "whatsapp_template_status_updated"}, 5*time.Second)
	assert.Equal(t, d.ID, dead.ID)
	assert.Equal(t, 2, dead.Attempts)
}

func TestFlatPushesAreNamedByTheirSchema(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.New(t)
	rcv := sb.NewReceiver(t, "sms")
	sb.Trigger(t, sandboxtest.Event{Type: "sms_status_report"})
	p := rcv.WaitFor(t, "sms_status_report", 5*time.Second)
	assert.NotContains(t, string(p.Body), `"type"`, "an SMS report names no type")
}

func TestTriggerFailsWithTheFieldTheContractRefuses(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.New(t)
	ft := &fakeT{}
	sb.Trigger(ft, sandboxtest.Event{Type: statusUpdated, Set: map[string]any{"/body/status": "seen"}})
	require.Len(t, ft.failures, 1)
	assert.Contains(t, ft.failures[0], "HTTP 400")
	assert.Contains(t, ft.failures[0], "/body/status")

	ft = &fakeT{}
	sb.NewReceiver(ft, "fax")
	require.Len(t, ft.failures, 1)
	assert.Contains(t, ft.failures[0], `product "fax" has no events; the products are`)
}

func TestRestartKeepsTheState(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]sandboxtest.Option{
		"memory":      nil,
		"sqlite file": {sandboxtest.WithSQLite("")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sb := sandboxtest.New(t, opts...)
			var app struct{ AppKey string }
			sb.Control(t, http.MethodPost, "/_sandbox/apps", map[string]any{"name": "second"}, &app)
			url := sb.URL
			sb.Restart(t)
			assert.Equal(t, url, sb.URL)
			var got struct{ Name string }
			sb.Control(t, http.MethodGet, "/_sandbox/apps/"+app.AppKey, nil, &got)
			assert.Equal(t, "second", got.Name)
		})
	}
}

// TestOptions starts a sandbox with each option that changes behaviour and
// checks the behaviour against the default's.
func TestOptions(t *testing.T) {
	t.Parallel()
	rawControl := func(sb *sandboxtest.Sandbox) int {
		resp, err := http.Get(sb.URL + "/_sandbox/accounts")
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name  string
		opt   sandboxtest.Option
		check func(t *testing.T, sb *sandboxtest.Sandbox, on bool)
	}{
		{"AdminToken", sandboxtest.AdminToken("admin-secret-0123456789"), func(t *testing.T, sb *sandboxtest.Sandbox, on bool) {
			if on {
				assert.Equal(t, http.StatusForbidden, rawControl(sb), "a call without the token")
			} else {
				assert.Equal(t, http.StatusOK, rawControl(sb))
			}
			sb.Advance(t, time.Second) // the package's own calls carry it
		}},
		{"AuthFailureStatus", sandboxtest.AuthFailureStatus(200), func(t *testing.T, sb *sandboxtest.Sandbox, on bool) {
			status, _ := send(t, sb, sb.AppKey, "WRONG")
			assert.Equal(t, map[bool]int{true: 200, false: 401}[on], status)
		}},
		{"NoSessionWindow", sandboxtest.NoSessionWindow(), func(t *testing.T, sb *sandboxtest.Sandbox, on bool) {
			_, answer := send(t, sb, sb.AppKey, sb.Authorization) // the user never wrote
			assert.Equal(t, on, strings.Contains(answer, `"code":"0"`), answer)
		}},
		{"ReportTimes", sandboxtest.ReportTimes(time.Minute, 2*time.Minute), func(t *testing.T, sb *sandboxtest.Sandbox, on bool) {
			sb.Inbound(t, sandboxtest.Inbound{Text: "hi"})
			msgID := sendOK(t, sb)
			sb.Advance(t, 3*time.Second)
			d := sb.WaitDelivery(t, sandboxtest.Filter{MessageID: msgID}, 5*time.Second)
			first := d.DueAt
			for _, d := range sb.Deliveries(t, sandboxtest.Filter{MessageID: msgID}) {
				if d.DueAt.Before(first) {
					first = d.DueAt
				}
			}
			assert.Equal(t, on, first.After(sb.Now(t)), "the first report is still ahead of the clock: %s", first)
		}},
		{"RejectUnknownFields", sandboxtest.RejectUnknownFields(), func(t *testing.T, sb *sandboxtest.Sandbox, on bool) {
			req, err := http.NewRequest(http.MethodPost, sb.URL+"/api/whatsapp/v3/msg/submit", strings.NewReader(
				`{"wabaId":"`+sb.WABA+`","messageType":"text","sendNumber":"`+sb.Number+`","recipientNumber":"`+sandboxtest.DemoUser+`","body":"x","colour":"red"}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json;charset=utf-8")
			req.Header.Set("Appkey", sb.AppKey)
			req.Header.Set("Authorization", sb.Authorization)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, on, strings.Contains(string(b), "colour") && resp.Header.Get("X-Sandbox-Warning") == "", "%s", b)
		}},
		{"Configure", sandboxtest.Configure(func(c *mockserver.Config) { c.AuthFailureStatus = 403 }), func(t *testing.T, sb *sandboxtest.Sandbox, on bool) {
			status, _ := send(t, sb, sb.AppKey, "WRONG")
			assert.Equal(t, map[bool]int{true: 403, false: 401}[on], status)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.check(t, sandboxtest.New(t), false)
			tc.check(t, sandboxtest.New(t, tc.opt), true)
		})
	}
}

func TestStandaloneRunsCleanupsAndPanicsOnFailure(t *testing.T) {
	s := sandboxtest.NewStandalone()
	sb := sandboxtest.New(s)
	resp, err := http.Get(sb.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	s.Close()
	_, err = http.Get(sb.URL + "/healthz")
	assert.Error(t, err, "closed with the standalone")
	assert.PanicsWithValue(t, "boom 1", func() { s.Fatalf("boom %d", 1) })
}

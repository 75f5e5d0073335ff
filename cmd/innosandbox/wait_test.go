package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWaitCommand(t *testing.T) {
	hs := inProcessSandbox(t, "")
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	t.Cleanup(recv.Close)
	cc := controlClient{sandbox: hs.URL, timeout: 5 * time.Second}
	call := func(method, path, body string) []byte {
		t.Helper()
		status, answer, err := cc.do(context.Background(), method, path, []byte(body))
		require.NoError(t, err)
		require.Less(t, status, 300, "%s", answer)
		return answer
	}
	call("POST", "/_sandbox/apps/"+demoAppKey+"/webhooks", `{"product":"whatsapp","url":"`+recv.URL+`","events":["whatsapp_template_status_updated"]}`)
	opts := func(timeout time.Duration) *waitOptions {
		return &waitOptions{sandbox: hs.URL, app: demoAppKey, eventType: "whatsapp_template_status_updated", status: "delivered", timeout: timeout}
	}

	t.Run("prints the push once it is delivered", func(t *testing.T) {
		var out, errOut bytes.Buffer
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- runWait(context.Background(), opts(30*time.Second), start, &out, &errOut) }()
		var res struct{ Delivery struct{ ID string } }
		require.NoError(t, json.Unmarshal(call("POST", "/_sandbox/events", `{"type":"whatsapp_template_status_updated","appKey":"`+demoAppKey+`"}`), &res))
		require.NoError(t, <-done, errOut.String())
		var push struct{ ID, Type string }
		require.NoError(t, json.Unmarshal(out.Bytes(), &push), "the payload as JSON: %s", out.String())
		assert.Equal(t, res.Delivery.ID, push.ID)
		assert.Equal(t, "whatsapp_template_status_updated", push.Type)
	})
	t.Run("--json prints the delivery records", func(t *testing.T) {
		var out bytes.Buffer
		o := opts(5 * time.Second)
		o.json = true
		require.NoError(t, runWait(context.Background(), o, time.Now(), &out, io.Discard))
		var list []struct{ Status string }
		require.NoError(t, json.Unmarshal(out.Bytes(), &list))
		require.NotEmpty(t, list)
		assert.Equal(t, "delivered", list[0].Status)
	})
	t.Run("exits 1 on time-out, naming what it waited for", func(t *testing.T) {
		var out, errOut bytes.Buffer
		o := opts(300 * time.Millisecond)
		o.since = "now" // the delivery above is older
		err := runWait(context.Background(), o, time.Now(), &out, &errOut)
		var ee exitError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, 1, ee.code)
		assert.Empty(t, out.String())
		assert.Contains(t, errOut.String(), "no delivery matched within 300ms")
		assert.Contains(t, errOut.String(), "type=whatsapp_template_status_updated")
	})
	t.Run("bad input is named", func(t *testing.T) {
		o := opts(time.Second)
		o.since = "yesterday"
		assert.ErrorContains(t, runWait(context.Background(), o, time.Now(), io.Discard, io.Discard), `--since "yesterday"`)
		o = opts(0)
		assert.ErrorContains(t, runWait(context.Background(), o, time.Now(), io.Discard, io.Discard), "--timeout 0s")
		var errOut bytes.Buffer
		o = opts(time.Second)
		o.status = "lost"
		err := runWait(context.Background(), o, time.Now(), io.Discard, &errOut)
		var ee exitError
		require.ErrorAs(t, err, &ee)
		assert.Contains(t, errOut.String(), "HTTP 400")
		assert.Contains(t, errOut.String(), "status")
		o = opts(time.Second)
		o.sandbox = "http://127.0.0.1:1"
		assert.ErrorContains(t, runWait(context.Background(), o, time.Now(), io.Discard, io.Discard), "is the sandbox running at http://127.0.0.1:1")
	})
	t.Run("the command line", func(t *testing.T) {
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs([]string{"wait", "--sandbox", hs.URL, "--type", "whatsapp_template_status_updated", "--app", demoAppKey, "--timeout", "5s"})
		require.NoError(t, root.Execute())
		assert.Contains(t, out.String(), `"type":"whatsapp_template_status_updated"`)
	})
}

// An account's control token waits on its own account's deliveries only:
// another account's push never matches (the wall of the control API), and
// its own does.
func TestWaitWithAnAccountToken(t *testing.T) {
	const admin = "wait-test-admin-token-0123456789"
	hs := inProcessSandbox(t, admin)
	ctx := context.Background()
	adminClient := controlClient{sandbox: hs.URL, adminToken: admin, timeout: 5 * time.Second}
	newAccount := func(name string) (token, appKey string) {
		t.Helper()
		status, answer, err := adminClient.do(ctx, "POST", "/_sandbox/accounts", []byte(`{"name":"`+name+`"}`))
		require.NoError(t, err)
		require.Equal(t, 201, status, "%s", answer)
		var acct struct{ ControlToken string }
		require.NoError(t, json.Unmarshal(answer, &acct))
		require.NotEmpty(t, acct.ControlToken)
		own := controlClient{sandbox: hs.URL, accountToken: acct.ControlToken, timeout: 5 * time.Second}
		status, answer, err = own.do(ctx, "POST", "/_sandbox/apps", []byte(`{"name":"Orders service","default":true}`))
		require.NoError(t, err)
		require.Equal(t, 201, status, "%s", answer)
		var app struct{ AppKey string }
		require.NoError(t, json.Unmarshal(answer, &app))
		return acct.ControlToken, app.AppKey
	}
	mine, _ := newAccount("IW2000001")
	theirs, theirApp := newAccount("IW2000002")

	// The other account fires an event; mine waits for that type and sees nothing.
	other := controlClient{sandbox: hs.URL, accountToken: theirs, timeout: 5 * time.Second}
	status, answer, err := other.do(ctx, "POST", "/_sandbox/events", []byte(`{"type":"whatsapp_template_status_updated","appKey":"`+theirApp+`"}`))
	require.NoError(t, err)
	require.Equal(t, 201, status, "%s", answer)
	o := &waitOptions{sandbox: hs.URL, accountToken: mine, eventType: "whatsapp_template_status_updated", timeout: 500 * time.Millisecond}
	var out, errOut bytes.Buffer
	err = runWait(ctx, o, time.Now(), &out, &errOut)
	var ee exitError
	require.ErrorAs(t, err, &ee, "another account's delivery must not match: %s", out.String())
	assert.Equal(t, 1, ee.code)
	assert.Empty(t, out.String())

	// The other account's own token sees it.
	o.accountToken = theirs
	out.Reset()
	require.NoError(t, runWait(ctx, o, time.Now(), &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), `"type":"whatsapp_template_status_updated"`)
}

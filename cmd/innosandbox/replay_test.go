package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplayCommand(t *testing.T) {
	hs := inProcessSandbox(t, "")
	var failing atomic.Bool
	failing.Store(true)
	var mu sync.Mutex
	got := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ ID string }
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &ev)
		if failing.Load() {
			w.WriteHeader(500)
			return
		}
		mu.Lock()
		got[ev.ID]++
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	received := func(id string) int { mu.Lock(); defer mu.Unlock(); return got[id] }

	cc := controlClient{sandbox: hs.URL, timeout: 5 * time.Second}
	call := func(method, path, body string) []byte {
		t.Helper()
		var b []byte
		if body != "" {
			b = []byte(body)
		}
		_, answer, err := cc.do(context.Background(), method, path, b)
		require.NoError(t, err)
		return answer
	}
	call("POST", "/_sandbox/apps/"+demoAppKey+"/webhooks", `{"product":"whatsapp","url":"`+recv.URL+
		`","events":["whatsapp_template_status_updated"],"retry":{"maxAttempts":1}}`)
	var ids []string
	for range 2 {
		var res struct{ Delivery struct{ ID string } }
		require.NoError(t, json.Unmarshal(call("POST", "/_sandbox/events", `{"type":"whatsapp_template_status_updated","appKey":"`+demoAppKey+`"}`), &res))
		ids = append(ids, res.Delivery.ID)
	}
	status := func(id string) string {
		var d struct{ Status string }
		require.NoError(t, json.Unmarshal(call("GET", "/_sandbox/deliveries/"+id, ""), &d))
		return d.Status
	}
	for _, id := range ids {
		require.Eventually(t, func() bool { return status(id) == "failed" }, 5*time.Second, 10*time.Millisecond, "%s becomes a dead letter", id)
	}
	failing.Store(false) // the receiver is fixed

	t.Run("every dead letter of an app", func(t *testing.T) {
		var out, errOut bytes.Buffer
		require.NoError(t, runReplay(context.Background(), &replayOptions{sandbox: hs.URL, app: demoAppKey, timeout: 5 * time.Second}, "", &out, &errOut))
		assert.Contains(t, out.String(), "2 dead letters of app "+demoAppKey+" queued again")
		for _, id := range ids {
			assert.Contains(t, out.String(), id)
			require.Eventually(t, func() bool { return received(id) == 1 }, 5*time.Second, 10*time.Millisecond, "%s arrives with its event id", id)
		}
	})
	t.Run("one delivery by its event id", func(t *testing.T) {
		require.Eventually(t, func() bool { return status(ids[0]) == "delivered" }, 5*time.Second, 10*time.Millisecond)
		var out, errOut bytes.Buffer
		require.NoError(t, runReplay(context.Background(), &replayOptions{sandbox: hs.URL, timeout: 5 * time.Second}, ids[0], &out, &errOut))
		assert.Contains(t, out.String(), "event "+ids[0]+" queued again")
		require.Eventually(t, func() bool { return received(ids[0]) == 2 }, 5*time.Second, 10*time.Millisecond)
	})
	t.Run("bad input is named", func(t *testing.T) {
		o := &replayOptions{sandbox: hs.URL, timeout: 5 * time.Second}
		assert.ErrorContains(t, runReplay(context.Background(), o, "", io.Discard, io.Discard), "an event id, or --app APPKEY")
		o.app = demoAppKey
		assert.ErrorContains(t, runReplay(context.Background(), o, ids[0], io.Discard, io.Discard), "not both")
		var errOut bytes.Buffer
		o.app = "NoSuchApp00000000"
		err := runReplay(context.Background(), o, "", io.Discard, &errOut)
		var ee exitError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, 1, ee.code)
		assert.True(t, strings.Contains(errOut.String(), "HTTP 404") && strings.Contains(errOut.String(), "NoSuchApp00000000"), errOut.String())
		o.app, o.sandbox = demoAppKey, "http://127.0.0.1:1"
		assert.ErrorContains(t, runReplay(context.Background(), o, "", io.Discard, io.Discard), "is the sandbox running at http://127.0.0.1:1")
	})
}

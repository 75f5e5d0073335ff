package mockserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state/sqlite"
)

func TestRetryAndChaosSettingsAreValidatedAndShown(t *testing.T) {
	s := newSandbox(t)
	_, appKey, _ := s.account(false)
	path := "/_sandbox/apps/" + appKey + "/webhooks"
	valid := func() map[string]any {
		return map[string]any{"product": "whatsapp", "url": "https://example.com/hook", "events": []string{"whatsapp_mo_message_received"},
			"retry": map[string]any{"maxAttempts": 5, "initial": "10s"},
			"chaos": map[string]any{"seed": 42, "delay": "2s", "duplicate": 0.2, "reorder": 0.5, "drop": 0.1}}
	}
	t.Run("shown in full", func(t *testing.T) {
		var w struct {
			Retry map[string]any
			Chaos map[string]any
		}
		s.control("POST", path, valid(), "").must(t, 201).decode(t, &w)
		assert.Equal(t, map[string]any{"maxAttempts": 5.0, "initial": "10s", "multiplier": 2.0, "maxInterval": "10m0s"}, w.Retry,
			"members left out take the sandbox's schedule's values")
		assert.Equal(t, map[string]any{"seed": 42.0, "delay": "2s", "duplicate": 0.2, "reorder": 0.5, "drop": 0.1}, w.Chaos)

		// Replaced without them: gone.
		s.control("PUT", path+"/whatsapp", map[string]any{"url": "https://example.com/hook", "events": []string{"whatsapp_mo_message_received"},
			"chaos": map[string]any{"drop": 1}}, "").must(t, 200).decode(t, &w)
		assert.Nil(t, w.Retry)
		require.NotNil(t, w.Chaos)
		assert.NotNil(t, w.Chaos["seed"], "a seed is drawn and shown, so the run can be repeated")
		assert.Equal(t, "0s", w.Chaos["delay"])
		s.control("GET", path+"/whatsapp", nil, "").must(t, 200).decode(t, &w)
		assert.Equal(t, 1.0, w.Chaos["drop"])
		s.control("DELETE", path+"/whatsapp", nil, "").must(t, 204)
	})
	tests := []struct {
		name   string
		change func(m map[string]any)
		want   string
	}{
		{"a probability above 1", func(m map[string]any) { m["chaos"].(map[string]any)["drop"] = 1.5 }, "/chaos/drop"},
		{"a negative probability", func(m map[string]any) { m["chaos"].(map[string]any)["reorder"] = -0.1 }, "/chaos/reorder"},
		{"a delay that is not a duration", func(m map[string]any) { m["chaos"].(map[string]any)["delay"] = "soon" }, `/chaos/delay: "soon" is not a duration`},
		{"a delay too long", func(m map[string]any) { m["chaos"].(map[string]any)["delay"] = "2h" }, "/chaos/delay: must be a duration from 0 to 1h0m0s"},
		{"a negative delay", func(m map[string]any) { m["chaos"].(map[string]any)["delay"] = "-1s" }, "/chaos/delay"},
		{"an unknown chaos member", func(m map[string]any) { m["chaos"].(map[string]any)["latency"] = "1s" }, "latency"},
		{"no attempts", func(m map[string]any) { m["retry"].(map[string]any)["maxAttempts"] = 0 }, "/retry/maxAttempts"},
		{"an initial wait that is not a duration", func(m map[string]any) { m["retry"].(map[string]any)["initial"] = "10" }, `/retry/initial: "10" is not a duration`},
		{"a zero initial wait", func(m map[string]any) { m["retry"].(map[string]any)["initial"] = "0s" }, "/retry/initial: must be a positive duration"},
		{"a cap below the first wait", func(m map[string]any) { m["retry"].(map[string]any)["maxInterval"] = "5s" }, "/retry/maxInterval: must be at least initial (10s)"},
		{"a shrinking wait", func(m map[string]any) { m["retry"].(map[string]any)["multiplier"] = 0.5 }, "/retry/multiplier"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := valid()
			tc.change(m)
			r := s.control("POST", path, m, "").must(t, 400)
			assert.Contains(t, r.envelope(t).Message, tc.want)
		})
	}
}

// chaosApp is a fresh account whose app pushes every WhatsApp event to
// recv, with the given retry and chaos settings.
func chaosApp(t *testing.T, s *sandbox, recv *receiver, retry, chaos map[string]any) (acct, appKey, token string) {
	t.Helper()
	acct, appKey, token = s.account(false)
	extra := map[string]any{}
	if retry != nil {
		extra["retry"] = retry
	}
	if chaos != nil {
		extra["chaos"] = chaos
	}
	hookAll(t, s, appKey, "whatsapp", recv, extra)
	return acct, appKey, token
}

func (s *sandbox) fire(appKey string) eventResult {
	s.t.Helper()
	var res eventResult
	s.trigger(map[string]any{"type": "whatsapp_template_status_updated", "appKey": appKey}, "").must(s.t, 201).decode(s.t, &res)
	return res
}

// delayOf is a delivery's nextAttemptAt less its dueAt: the delay chaos drew.
func delayOf(t *testing.T, s *sandbox, id string) time.Duration {
	t.Helper()
	var d struct{ DueAt, NextAttemptAt string }
	s.control("GET", "/_sandbox/deliveries/"+id, nil, "").must(t, 200).decode(t, &d)
	due, err := parseTime(d.DueAt)
	require.NoError(t, err)
	next, err := parseTime(d.NextAttemptAt)
	require.NoError(t, err)
	return next.Sub(due)
}

func TestTheSameSeedRepeatsTheSameChaos(t *testing.T) {
	s := newSandbox(t)
	chaos := func(seed int) map[string]any {
		return map[string]any{"seed": seed, "delay": "10s", "duplicate": 0.5, "drop": 0.5}
	}
	const n = 12
	// run fires n events at a fresh app with the given seed and returns,
	// for each, the delay drawn and the outcomes of its attempts.
	run := func(seed int) []string {
		recv := newReceiver(t)
		acct, appKey, _ := chaosApp(t, s, recv, nil, chaos(seed))
		ids := make([]string, n)
		delays := make([]time.Duration, n)
		for i := range ids {
			ids[i] = s.fire(appKey).Delivery.ID
			delays[i] = delayOf(t, s, ids[i])
			assert.GreaterOrEqual(t, delays[i], time.Duration(0))
			assert.LessOrEqual(t, delays[i], 10*time.Second, "at most the configured delay")
		}
		s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "11s"}, acct).must(t, 200)
		out := make([]string, n)
		for i, id := range ids {
			var d deliveryDetail
			require.Eventually(t, func() bool {
				d = s.delivery(id)
				return d.Status == "delivered" && d.Reason == nil
			}, 5*time.Second, 10*time.Millisecond, "delivery %s: %+v", id, d)
			outcomes := ""
			for _, a := range d.AttemptLog {
				outcomes += a.Outcome + " "
			}
			out[i] = fmt.Sprintf("%s %s", delays[i], outcomes)
		}
		return out
	}
	first := run(7)
	second := run(7)
	assert.Equal(t, first, second, "the same seed decides the same way")
	assert.NotEqual(t, first, run(8), "another seed, other decisions")
	joined := fmt.Sprint(first)
	assert.Contains(t, joined, "dropped", "seed 7 loses some first attempts")
	assert.Contains(t, joined, "duplicate", "and duplicates some deliveries")
}

func TestChaosRestartsWhenTheConfigurationIsReplaced(t *testing.T) {
	s := newSandbox(t)
	recv := newReceiver(t)
	cfg := map[string]any{"seed": 3, "delay": "30s"}
	_, appKey, _ := chaosApp(t, s, recv, nil, cfg)
	draw := func() []time.Duration {
		var out []time.Duration
		for range 5 {
			out = append(out, delayOf(t, s, s.fire(appKey).Delivery.ID))
		}
		return out
	}
	first := draw()
	assert.NotEqual(t, first, draw(), "the generator advances per event")
	s.control("PUT", "/_sandbox/apps/"+appKey+"/webhooks/whatsapp", map[string]any{"url": recv.srv.URL,
		"events": loadSpec().EventTypes("whatsapp"), "chaos": cfg}, "").must(t, 200)
	assert.Equal(t, first, draw(), "a replaced configuration starts its sequence again")
}

func TestChaosDuplicateArrivesTwiceWithTheSameID(t *testing.T) {
	s := newSandbox(t)
	recv := newReceiver(t)
	_, appKey, _ := chaosApp(t, s, recv, nil, map[string]any{"duplicate": 1})
	res := s.fire(appKey)
	got := recv.wait(t, 2)
	for _, g := range got {
		var ev struct{ ID string }
		require.NoError(t, json.Unmarshal(g.body, &ev))
		assert.Equal(t, res.Delivery.ID, ev.ID)
		assert.Equal(t, string(got[0].body), string(g.body), "the same payload")
	}
	d := s.waitStatus(res.Delivery.ID, "delivered", 2)
	require.Len(t, d.AttemptLog, 2)
	assert.Equal(t, "delivered", d.AttemptLog[0].Outcome)
	assert.Equal(t, "duplicate", d.AttemptLog[1].Outcome)
	assert.Never(t, func() bool { return recv.count() > 2 }, 200*time.Millisecond, 20*time.Millisecond, "exactly one duplicate")
}

func TestChaosDropThenRedeliver(t *testing.T) {
	s := newSandbox(t)
	recv := newReceiver(t)
	_, appKey, _ := chaosApp(t, s, recv, nil, map[string]any{"drop": 1})
	res := s.fire(appKey)
	d := s.waitStatus(res.Delivery.ID, "pending", 1)
	require.Len(t, d.AttemptLog, 1)
	assert.Equal(t, "dropped", d.AttemptLog[0].Outcome)
	require.NotNil(t, d.AttemptLog[0].Error)
	assert.Equal(t, "chaos: lost in transit", *d.AttemptLog[0].Error)
	assert.Nil(t, d.AttemptLog[0].Response, "nothing was sent")
	assert.Zero(t, recv.count())

	d = s.waitStatus(res.Delivery.ID, "delivered", 2)
	assert.Equal(t, "delivered", d.AttemptLog[1].Outcome)
	assert.Equal(t, 1, recv.count(), "received once, after the loss")
	var first, second struct{ StartedAt string }
	raw := s.control("GET", "/_sandbox/deliveries/"+res.Delivery.ID, nil, "").must(t, 200)
	var full struct {
		AttemptLog []json.RawMessage
	}
	raw.decode(t, &full)
	require.NoError(t, json.Unmarshal(full.AttemptLog[0], &first))
	require.NoError(t, json.Unmarshal(full.AttemptLog[1], &second))
	t1, _ := parseTime(first.StartedAt)
	t2, _ := parseTime(second.StartedAt)
	assert.GreaterOrEqual(t, t2.Sub(t1), 900*time.Millisecond, "redelivered a second later")
}

func TestChaosDropDoesNotUseUpTheRetryPolicy(t *testing.T) {
	s := newSandbox(t)
	recv := newReceiver(t, 500)
	_, appKey, _ := chaosApp(t, s, recv, map[string]any{"maxAttempts": 1}, map[string]any{"drop": 1})
	res := s.fire(appKey)
	d := s.waitStatus(res.Delivery.ID, "failed", 2)
	assert.Equal(t, []string{"dropped", "failed"}, []string{d.AttemptLog[0].Outcome, d.AttemptLog[1].Outcome})
	require.NotNil(t, d.Reason)
	assert.Contains(t, *d.Reason, "gave up after 1 attempts", "the lost attempt is not the receiver's")
}

func TestChaosReorderSendsReadBeforeDelivered(t *testing.T) {
	s := newSandbox(t)
	recv := newReceiver(t)
	acct, appKey, token := chaosApp(t, s, recv, nil, map[string]any{"reorder": 1})
	s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(appKey, token)).must(t, 200)
	status := func(b []byte) string {
		var ev struct{ Body struct{ Status string } }
		require.NoError(t, json.Unmarshal(b, &ev))
		return ev.Body.Status
	}
	// Reports are due at +1s and +3s; reordered, read takes the first slot.
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1s"}, acct).must(t, 200)
	got := recv.wait(t, 1)
	assert.Equal(t, "read", status(got[0].body))
	assert.Never(t, func() bool { return recv.count() > 1 }, 200*time.Millisecond, 20*time.Millisecond, "delivered is not due yet")
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "2s"}, acct).must(t, 200)
	got = recv.wait(t, 2)
	assert.Equal(t, "delivered", status(got[1].body))
}

func TestChaosDelayIsNotDueBeforeTheClockPassesIt(t *testing.T) {
	s := newSandbox(t)
	recv := newReceiver(t)
	acct, appKey, _ := chaosApp(t, s, recv, nil, map[string]any{"seed": 1, "delay": "1m"})
	res := s.fire(appKey)
	delay := delayOf(t, s, res.Delivery.ID)
	require.Greater(t, delay, 2*time.Second, "seed 1 draws a delay worth testing")
	assert.Never(t, func() bool { return recv.count() > 0 }, 200*time.Millisecond, 20*time.Millisecond)
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": (delay - time.Second).String()}, acct).must(t, 200)
	assert.Never(t, func() bool { return recv.count() > 0 }, 200*time.Millisecond, 20*time.Millisecond, "a second short of the delay")
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1s"}, acct).must(t, 200)
	got := recv.wait(t, 1)
	var ev struct{ EventTime string }
	require.NoError(t, json.Unmarshal(got[0].body, &ev))
	et, err := parseTime(ev.EventTime)
	require.NoError(t, err)
	due, err := parseTime(res.Delivery.DueAt)
	require.NoError(t, err)
	assert.True(t, et.Equal(due), "eventTime says when the event happened, not when the slow push arrived")
}

func TestAWebhooksRetryPolicyOverridesTheSandboxSchedule(t *testing.T) {
	s := newSandbox(t)
	recv := newReceiver(t, 500, 500, 500)
	acct, appKey, _ := chaosApp(t, s, recv, map[string]any{"maxAttempts": 2, "initial": "10s"}, nil)
	res := s.fire(appKey)
	d := s.waitStatus(res.Delivery.ID, "pending", 1)
	require.NotNil(t, d.NextAttemptAt)
	next, err := parseTime(*d.NextAttemptAt)
	require.NoError(t, err)
	due, err := parseTime(res.Delivery.DueAt)
	require.NoError(t, err)
	assert.InDelta(t, 10, next.Sub(due).Seconds(), 1, "10 s, not the sandbox's minute")
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "10s"}, acct).must(t, 200)
	d = s.waitStatus(res.Delivery.ID, "failed", 2)
	require.NotNil(t, d.Reason)
	assert.Contains(t, *d.Reason, "gave up after 2 attempts")
}

// The SQLite store keeps what chaos decided and the retry policy with each
// event, across the claims of its attempts.
func TestChaosAndRetryOnTheSQLiteStore(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "chaos.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	s := newSandboxOn(t, store)
	recv := newReceiver(t, 500)
	acct, appKey, _ := chaosApp(t, s, recv, map[string]any{"maxAttempts": 2, "initial": "5s"}, map[string]any{"duplicate": 1, "drop": 1})
	res := s.fire(appKey)
	d := s.waitStatus(res.Delivery.ID, "pending", 2)
	assert.Equal(t, []string{"dropped", "retry"}, []string{d.AttemptLog[0].Outcome, d.AttemptLog[1].Outcome})
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "5s"}, acct).must(t, 200)
	d = s.waitStatus(res.Delivery.ID, "delivered", 4)
	assert.Equal(t, []string{"delivered", "duplicate"}, []string{d.AttemptLog[2].Outcome, d.AttemptLog[3].Outcome})
}

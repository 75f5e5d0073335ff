package mockserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
)

// listed is a deliveries list as a test reads it.
type listed struct {
	ID, Type, Status, CreatedAt string
	AppKey                      *string
	Payload                     json.RawMessage
}

func (s *sandbox) deliveries(query url.Values, account string) []listed {
	s.t.Helper()
	var out []listed
	s.control("GET", "/_sandbox/deliveries?"+query.Encode(), nil, account).must(s.t, 200).decode(s.t, &out)
	return out
}

func TestWaitAnswersWithTheDeliveryThatComes(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, token := s.account(false)
	recv := newReceiver(t)
	hookAll(t, s, appKey, "whatsapp", recv, nil)

	// Asked before the send: nothing matches yet, so the answer waits for
	// the report, which is pushed only once the clock passes its time.
	q := url.Values{"appKey": {appKey}, "type": {state.EventWAStatus}, "status": {"delivered"}, "wait": {"30s"}}
	answer := make(chan []listed, 1)
	go func() { answer <- s.deliveries(q, acct) }()

	r := s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(appKey, token)).must(t, 200)
	msgID, _ := r.envelope(t).Data.(string)
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1s"}, acct).must(t, 200)

	got := <-answer
	require.NotEmpty(t, got, "the wait ended with the report, not empty")
	assert.Equal(t, state.EventWAStatus, got[0].Type)
	assert.Equal(t, "delivered", got[0].Status)
	var p struct{ Body struct{ ID, Status string } }
	require.NoError(t, json.Unmarshal(got[0].Payload, &p))
	assert.Equal(t, msgID, p.Body.ID)
	assert.Equal(t, "delivered", p.Body.Status)
}

func TestWaitAnswersAnEmptyListAtTheDeadline(t *testing.T) {
	s := newSandbox(t)
	got := s.deliveries(url.Values{"type": {"sms_status_report"}, "wait": {"200ms"}}, "")
	assert.Empty(t, got)
	assert.NotNil(t, got, "an empty list, not null")
}

func TestWaitAnswersAtOnceWhenADeliveryMatchesAlready(t *testing.T) {
	s := newSandbox(t)
	acct, appKey, _ := s.account(true)
	id := s.fire(appKey).Delivery.ID
	// 60s: were the answer to wait, the test would hang for a minute.
	got := s.deliveries(url.Values{"appKey": {appKey}, "type": {"whatsapp_template_status_updated"}, "wait": {"60s"}}, acct)
	require.Len(t, got, 1)
	assert.Equal(t, id, got[0].ID)
}

func TestDeliveryFiltersEachNarrowTheList(t *testing.T) {
	s := newSandbox(t)
	acct, appA, token := s.account(true)
	recv := newReceiver(t)
	hookAll(t, s, appA, "whatsapp", recv, nil)
	var b struct{ AppKey string }
	s.control("POST", "/_sandbox/apps", map[string]any{"name": "b"}, acct).must(t, 201).decode(t, &b)

	before := s.deliveries(url.Values{}, acct)
	fired := s.fire(appA).Delivery.ID // whatsapp_template_status_updated
	s.waitStatus(fired, "delivered", 1)
	onB := s.fire(b.AppKey).Delivery.ID // no webhook: dropped
	r := s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(appA, token)).must(t, 200)
	msgID, _ := r.envelope(t).Data.(string)
	all := s.deliveries(url.Values{}, acct)
	require.Len(t, all, len(before)+4, "the fired events and the send's two reports")
	reports := []string{all[0].ID, all[1].ID}
	since := all[3].CreatedAt // the first one fired: onB's createdAt is at or after it

	for _, tc := range []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"appKey", url.Values{"appKey": {b.AppKey}}, []string{onB}},
		{"type", url.Values{"type": {"whatsapp_template_status_updated"}}, []string{onB, fired}},
		{"status", url.Values{"status": {"delivered"}}, []string{fired}},
		{"status and appKey", url.Values{"status": {"dropped"}, "appKey": {b.AppKey}}, []string{onB}},
		{"status and another appKey", url.Values{"status": {"delivered"}, "appKey": {b.AppKey}}, []string{}},
		{"messageId", url.Values{"messageId": {msgID}}, reports},
		{"messageId of no message", url.Values{"messageId": {"100000000000000000"}}, []string{}},
		{"since", url.Values{"since": {since}, "type": {"whatsapp_template_status_updated"}}, []string{onB, fired}},
		{"since later", url.Values{"since": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.deliveries(tc.query, acct)
			ids := []string{}
			for _, d := range got {
				ids = append(ids, d.ID)
			}
			assert.Equal(t, tc.want, ids)
		})
	}
}

func TestWaitRefusesBadParametersByName(t *testing.T) {
	s := newSandbox(t)
	for _, tc := range []struct{ name, query, want string }{
		{"wait too long", "wait=2m", fmt.Sprintf("wait: \"2m\" is not a duration of at most %gs", mockserver.MaxDeliveryWait.Seconds())},
		{"wait not a duration", "wait=soon", "wait"},
		{"since not a time", "since=yesterday", "since"},
		{"messageId with a quote", "messageId=a%22b", "messageId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.control("GET", "/_sandbox/deliveries?"+tc.query, nil, "")
			r.must(t, 400)
			assert.Contains(t, r.envelope(t).Message, tc.want)
		})
	}
}

func TestEndWaitsAnswersTheWaitingAtOnce(t *testing.T) {
	s := newSandbox(t)
	answer := make(chan []state.Event, 1)
	go func() {
		list, err := s.srv.WaitDeliveries(context.Background(), state.EventFilter{Type: "sms_status_report"})
		assert.NoError(t, err)
		answer <- list
	}()
	s.srv.EndWaits()
	select {
	case list := <-answer:
		assert.Empty(t, list)
	case <-time.After(10 * time.Second):
		require.FailNow(t, "the wait did not end with EndWaits")
	}
	// From then on, a wait reads once and answers.
	list, err := s.srv.WaitDeliveries(context.Background(), state.EventFilter{Type: "sms_status_report"})
	require.NoError(t, err)
	assert.Empty(t, list)
}

// sharedMem is a memory store that says it is shared by replicas, as
// PostgreSQL is: writes made to it behind the server's back stand for
// another replica's.
type sharedMem struct{ state.Store }

func (sharedMem) SharedByReplicas() bool { return true }

func TestAWaitOnASharedStoreSeesAnotherReplicasWrite(t *testing.T) {
	store := sharedMem{memstore.New()}
	s := newSandboxOn(t, store)
	assert.Equal(t, 50*time.Millisecond, s.srv.DeliveryRecheck(), "the dispatcher's poll interval")
	answer := make(chan []state.Event, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		list, err := s.srv.WaitDeliveries(ctx, state.EventFilter{Type: "sms_status_report"})
		assert.NoError(t, err)
		answer <- list
	}()
	now := time.Now()
	// Written to the store directly: this server is not told.
	require.NoError(t, store.AddEvents(context.Background(), []state.Event{{ID: "elsewhere", Account: demoAccount, Type: "sms_status_report",
		Product: "sms", Status: state.EventDropped, Reason: "no app", Payload: []byte(`{}`), DueAt: now, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}}))
	list := <-answer
	require.Len(t, list, 1)
	assert.Equal(t, "elsewhere", list[0].ID)
}

func TestADeliveryWatchWakesOnAWrite(t *testing.T) {
	s := newSandbox(t)
	w := s.srv.WatchDeliveries()
	assert.Zero(t, s.srv.DeliveryRecheck(), "a memory store needs no recheck")
	s.fire(demoAppKey) // a write after the watch began
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	assert.True(t, w.Wait(ctx), "the write woke the watch")
	cancel()
	assert.False(t, w.Wait(ctx), "no write since, and the context ended")
}

package orderupdates_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/innosandbox/innosandbox/sandboxtest"

	"example.com/orderupdates"
)

// shop is the client and its webhook, wired to a sandbox of its own.
type shop struct {
	sb       *sandboxtest.Sandbox
	hookURL  string
	client   *orderupdates.Client
	statuses chan orderupdates.Status
	replies  chan orderupdates.Reply
}

const secret = "hook-s3cret"

// newShop starts a sandbox and configures the shop's own webhook handler
// as the demo app's WhatsApp webhook, as a shop does in InnoPaaS's console.
func newShop(t *testing.T, opts ...sandboxtest.Option) *shop {
	t.Helper()
	sb := sandboxtest.New(t, opts...)
	s := &shop{sb: sb, statuses: make(chan orderupdates.Status, 16), replies: make(chan orderupdates.Reply, 16),
		client: &orderupdates.Client{BaseURL: sb.URL, AppKey: sb.AppKey, Token: sb.Authorization, WabaID: sb.WABA, Number: sb.Number}}
	hook := httptest.NewServer(&orderupdates.Webhook{Authorization: secret,
		OnStatus: func(st orderupdates.Status) { s.statuses <- st },
		OnReply:  func(r orderupdates.Reply) { s.replies <- r }})
	t.Cleanup(hook.Close)
	s.hookURL = hook.URL
	sb.Control(t, http.MethodPost, "/_sandbox/apps/"+sb.AppKey+"/webhooks", map[string]any{
		"product": "whatsapp", "url": hook.URL, "authorization": secret,
		"events": []string{"whatsapp_message_status_updated", "whatsapp_mo_message_received"},
	}, nil)
	return s
}

func next[T any](t *testing.T, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no push reached the shop's webhook")
		var zero T
		return zero
	}
}

func TestACustomerHearsTheOrderShippedAndReadsIt(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.sb.Inbound(t, sandboxtest.Inbound{Text: "Where is order 1042?"})
	reply := next(t, s.replies)
	if reply.Text != "Where is order 1042?" || reply.From != sandboxtest.DemoUser {
		t.Fatalf("reply %+v", reply)
	}

	id, err := s.client.NotifyShipped(context.Background(), reply.From, "1042")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"delivered", "read"} {
		s.sb.Advance(t, 2*time.Second) // delivered 1s after the send, read 3s after
		got := next(t, s.statuses)
		if got != (orderupdates.Status{MessageID: id, Recipient: reply.From, Status: want}) {
			t.Fatalf("got %+v, want %s of %s", got, want, id)
		}
	}
}

func TestAFreeFormMessageOutsideTheWindowIsRefused(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	_, err := s.client.NotifyShipped(context.Background(), sandboxtest.DemoUser, "1042") // the customer never wrote
	var e *orderupdates.Error
	if !errors.As(err, &e) || e.Code != orderupdates.CodeNotInWindow {
		t.Fatalf("got %v, want InnoPaaS code %s", err, orderupdates.CodeNotInWindow)
	}
}

func TestAWrongTokenIsRefused(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.client.Token = "NOT-THE-TOKEN"
	_, err := s.client.NotifyShipped(context.Background(), sandboxtest.DemoUser, "1042")
	var e *orderupdates.Error
	if !errors.As(err, &e) || e.HTTPStatus != http.StatusUnauthorized {
		t.Fatalf("got %v, want an HTTP 401 refusal", err)
	}
}

// The webhook must understand every failed report the contract allows:
// the sandbox fires one, the test's receiver catches it, the handler reads it.
func TestTheWebhookReadsAFailedReport(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.New(t)
	rcv := sb.NewReceiver(t, "whatsapp")
	sb.Trigger(t, sandboxtest.Event{Type: "whatsapp_message_status_updated",
		Set:   map[string]any{"/body/status": "failed", "/body/errorData": map[string]any{"errorCode": "131026", "errorMessage": "Message undeliverable"}},
		Unset: []string{"/body/conversation"}})
	p := rcv.WaitFor(t, "whatsapp_message_status_updated", 5*time.Second)

	var got orderupdates.Status
	h := &orderupdates.Webhook{Authorization: secret, OnStatus: func(s orderupdates.Status) { got = s }}
	req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(p.Body))
	req.Header.Set("Authorization", secret)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK || got.Status != "failed" || got.ErrorCode != "131026" || got.MessageID == "" {
		t.Fatalf("HTTP %d, status %+v", w.Code, got)
	}
}

// A webhook that refuses the sandbox's credentials leaves a dead letter in
// the delivery log, with the reason.
func TestAWebhookWithoutTheSecretLeavesADeadLetter(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandboxtest.Retry(1, time.Second, 1, time.Second))
	s.sb.Control(t, http.MethodPut, "/_sandbox/apps/"+s.sb.AppKey+"/webhooks/whatsapp", map[string]any{
		"url": s.hookURL, "events": []string{"whatsapp_mo_message_received"}, "authorization": "an old secret",
	}, nil)
	sent := s.sb.Inbound(t, sandboxtest.Inbound{Text: "hello?"})
	dead := s.sb.WaitDelivery(t, sandboxtest.Filter{Type: "whatsapp_mo_message_received", Status: "failed"}, 5*time.Second)
	if dead.ID != sent.ID || !strings.Contains(dead.Reason, "HTTP 401") {
		t.Fatalf("got %+v, want %s failed with HTTP 401", dead, sent.ID)
	}
	if len(s.replies) != 0 {
		t.Fatal("the handler acted on a push without the secret")
	}
}

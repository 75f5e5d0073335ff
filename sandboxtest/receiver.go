package sandboxtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/internal/broadcast"
)

// Receiver is a webhook receiver on a loopback port, configured as an
// app's webhook for one product. It keeps every push it gets and answers
// 200 (or the statuses queued with Answer).
type Receiver struct {
	// URL is where the sandbox pushes.
	URL string

	sb      *Sandbox
	app     string
	product string
	events  []string
	srv     *httptest.Server
	arrived *broadcast.Broadcast

	mu      sync.Mutex
	pushes  []Push
	taken   []bool
	answers []int
}

// Push is one webhook request as the receiver got it.
type Push struct {
	// Type is the event type: the payload's type member, or for the flat
	// payloads of SMS and OTP the configured event type whose schema it fits.
	Type   string
	Method string
	Header http.Header
	// Body is the raw JSON pushed.
	Body json.RawMessage
	// Received is when it arrived (real time).
	Received time.Time
}

// Decode unmarshals the push's body into v, failing t when it cannot.
func (p Push) Decode(t TB, v any) {
	t.Helper()
	if err := json.Unmarshal(p.Body, v); err != nil {
		t.Fatalf("sandboxtest: decoding the %s push: %v; body: %s", p.Type, err, p.Body)
	}
}

// ReceiverOption changes the webhook NewReceiver configures.
type ReceiverOption func(*receiverConfig)

type receiverConfig struct {
	app                     string
	events                  []string
	method                  string
	username, authorization *string
	answers                 []int
}

// ForApp configures the receiver as the webhook of another app than the
// demo app (one made with Control, say).
func ForApp(appKey string) ReceiverOption { return func(c *receiverConfig) { c.app = appKey } }

// ForEvents subscribes the webhook to these event types only; by default it
// gets every event type of its product.
func ForEvents(types ...string) ReceiverOption {
	return func(c *receiverConfig) { c.events = types }
}

// Credentials configures the UserName and Authorization headers the
// sandbox sends with each push ("" leaves one out).
func Credentials(username, authorization string) ReceiverOption {
	return func(c *receiverConfig) {
		if username != "" {
			c.username = &username
		}
		if authorization != "" {
			c.authorization = &authorization
		}
	}
}

// Method is the HTTP method of the pushes (POST by default; PUT is the other).
func Method(m string) ReceiverOption { return func(c *receiverConfig) { c.method = m } }

// Answer queues the statuses of the receiver's first answers (then 200):
// Answer(500, 500) fails two attempts, so a test sees the sandbox retry.
func Answer(statuses ...int) ReceiverOption {
	return func(c *receiverConfig) { c.answers = statuses }
}

// NewReceiver starts a receiver and configures it as the demo app's webhook
// for product ("whatsapp", "sms", ...), replacing the one there is, for
// every event type of the product. It stops when the test ends.
func (sb *Sandbox) NewReceiver(t TB, product string, opts ...ReceiverOption) *Receiver {
	t.Helper()
	c := receiverConfig{app: sb.AppKey}
	for _, o := range opts {
		o(&c)
	}
	if c.events == nil {
		c.events = sb.spec.EventTypes(product)
		if len(c.events) == 0 {
			t.Fatalf("sandboxtest: product %q has no events; the products are %s", product, strings.Join(sb.spec.Products(), ", "))
			return nil
		}
	}
	r := &Receiver{sb: sb, app: c.app, product: product, events: c.events, arrived: broadcast.New(), answers: c.answers}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	r.URL = r.srv.URL + "/hook"
	hook := map[string]any{"product": product, "url": r.URL, "events": c.events}
	if c.method != "" {
		hook["method"] = c.method
	}
	if c.username != nil {
		hook["username"] = *c.username
	}
	if c.authorization != nil {
		hook["authorization"] = *c.authorization
	}
	base := "/_sandbox/apps/" + url.PathEscape(c.app) + "/webhooks"
	status, answer, err := sb.call(context.Background(), http.MethodPost, base, hook)
	if err == nil && status == http.StatusConflict {
		// The app has a webhook for the product: this receiver replaces it.
		delete(hook, "product")
		status, answer, err = sb.call(context.Background(), http.MethodPut, base+"/"+url.PathEscape(product), hook)
	}
	switch {
	case err != nil:
		t.Fatalf("sandboxtest: configuring the %s webhook: %v", product, err)
	case status >= 300:
		t.Fatalf("sandboxtest: configuring the %s webhook: the sandbox refused (HTTP %d): %s", product, status, message(answer))
	}
	return r
}

// serve records a push and answers it.
func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 4<<20))
	p := Push{Type: r.typeOf(body), Method: req.Method, Header: req.Header.Clone(), Body: body, Received: time.Now()}
	r.mu.Lock()
	r.pushes = append(r.pushes, p)
	r.taken = append(r.taken, false)
	status := http.StatusOK
	if len(r.answers) > 0 {
		status, r.answers = r.answers[0], r.answers[1:]
	}
	r.mu.Unlock()
	r.arrived.Signal()
	w.WriteHeader(status)
}

// typeOf names a push's event type: its type member, else the subscribed
// flat type its members fit.
func (r *Receiver) typeOf(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	if t, ok := m["type"].(string); ok && t != "" {
		return t
	}
	return r.sb.spec.FlatEventType(m, r.events)
}

// WaitFor returns the first push of eventType ("" for any) that no earlier
// WaitFor returned, waiting for it until timeout; then it fails t, saying
// what did arrive and what the delivery log says of that type.
func (r *Receiver) WaitFor(t TB, eventType string, timeout time.Duration) Push {
	t.Helper()
	if eventType != "" && !slices.Contains(r.events, eventType) {
		t.Fatalf("sandboxtest: this receiver is not subscribed to %s, so it never gets one; it gets %s (ForEvents)", eventType, strings.Join(r.events, ", "))
		return Push{}
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		arrived := r.arrived.Next() // before looking: a push in between wakes us
		if p, ok := r.take(eventType); ok {
			return p
		}
		select {
		case <-arrived:
		case <-deadline.C:
			t.Fatalf("sandboxtest: no %s push within %s; %s", orAny(eventType), timeout, r.explain(eventType))
			return Push{}
		}
	}
}

func (r *Receiver) take(eventType string) (Push, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, p := range r.pushes {
		if !r.taken[i] && (eventType == "" || p.Type == eventType) {
			r.taken[i] = true
			return p, true
		}
	}
	return Push{}, false
}

// Pushes returns every push received so far, oldest first.
func (r *Receiver) Pushes() []Push {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Push(nil), r.pushes...)
}

// explain says what the receiver got and what the log says of eventType.
func (r *Receiver) explain(eventType string) string {
	r.mu.Lock()
	var got []string
	for _, p := range r.pushes {
		got = append(got, orAny(p.Type))
	}
	r.mu.Unlock()
	out := "received: none"
	if len(got) > 0 {
		out = "received: " + strings.Join(got, ", ")
	}
	list, err := r.sb.list(context.Background(), Filter{App: r.app, Type: eventType, Limit: 5})
	switch {
	case err != nil:
		return out + "; the delivery log could not be read: " + err.Error()
	case len(list) == 0:
		return out + fmt.Sprintf("; the delivery log has no %s event for app %s (was it raised, and for this app?)", orAny(eventType), r.app)
	}
	out += "; the delivery log's newest:"
	for _, d := range list {
		out += fmt.Sprintf(" [%s %s %s, %d attempts", d.Type, d.ID, d.Status, d.Attempts)
		if d.Reason != "" {
			out += ": " + d.Reason
		}
		out += "]"
	}
	return out
}

func orAny(eventType string) string {
	if eventType == "" {
		return "event"
	}
	return eventType
}

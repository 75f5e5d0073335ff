package sandboxtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/innosandbox/innosandbox/mockserver"
)

// Delivery is an event in the sandbox's delivery log with its state, as
// GET /_sandbox/deliveries lists it.
type Delivery struct {
	ID      string // the event id (the payload's id)
	Type    string
	Product string
	AppKey  string // "" when no app matched
	Route   string // how the app was found, e.g. binding:number
	Status  string // pending, delivered, failed or dropped
	Reason  string // why dropped or failed; the last error while pending
	// Attempts is how many pushes were tried.
	Attempts int
	// DueAt is the event time, on the account's clock.
	DueAt time.Time
	// CreatedAt is when it was written (real time).
	CreatedAt time.Time
	// Payload is the JSON pushed (or to be pushed).
	Payload json.RawMessage
}

// delivery is the control API's JSON of a delivery (nullable members).
type delivery struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Product   string          `json:"product"`
	AppKey    *string         `json:"appKey"`
	Route     *string         `json:"route"`
	Status    string          `json:"status"`
	Reason    *string         `json:"reason"`
	Attempts  int             `json:"attempts"`
	DueAt     time.Time       `json:"dueAt"`
	CreatedAt time.Time       `json:"createdAt"`
	Payload   json.RawMessage `json:"payload"`
}

func (d delivery) public() Delivery {
	return Delivery{ID: d.ID, Type: d.Type, Product: d.Product, AppKey: str(d.AppKey), Route: str(d.Route), Status: d.Status,
		Reason: str(d.Reason), Attempts: d.Attempts, DueAt: d.DueAt, CreatedAt: d.CreatedAt, Payload: d.Payload}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Filter narrows the delivery log; empty fields match everything.
type Filter struct {
	App    string // AppKey
	Type   string // event type
	Status string // pending, delivered, failed or dropped
	// MessageID keeps the events about one message: the id a send answered
	// with, or a recipient's wamid (the payload carries it).
	MessageID string
	// Since keeps the events created at or after it (real time).
	Since time.Time
	// Limit caps the list (100 when 0; at most 1000).
	Limit int
}

// Deliveries lists the demo account's deliveries matching f, newest first.
func (sb *Sandbox) Deliveries(t TB, f Filter) []Delivery {
	t.Helper()
	list, err := sb.list(context.Background(), f)
	if err != nil {
		t.Fatalf("sandboxtest: listing deliveries: %v", err)
	}
	return list
}

// WaitDelivery returns the newest delivery matching f as soon as there is
// one, waiting until timeout; then it fails t. It long-polls the delivery
// log, which the sandbox answers as soon as a write makes a delivery
// match: Filter{Status: "delivered"} waits until the receiver acknowledged
// the push.
func (sb *Sandbox) WaitDelivery(t TB, f Filter, timeout time.Duration) Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		left := time.Until(deadlineOf(ctx)).Truncate(time.Millisecond)
		if left <= 0 {
			t.Fatalf("sandboxtest: no delivery matched %+v within %s", f, timeout)
			return Delivery{}
		}
		list, err := sb.listWaiting(ctx, f, min(left, mockserver.MaxDeliveryWait))
		if err != nil && ctx.Err() == nil {
			t.Fatalf("sandboxtest: waiting for a delivery: %v", err)
			return Delivery{}
		}
		if len(list) > 0 {
			return list[0]
		}
	}
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

func (sb *Sandbox) list(ctx context.Context, f Filter) ([]Delivery, error) {
	return sb.listWaiting(ctx, f, 0)
}

// listWaiting lists deliveries, the sandbox waiting up to wait for one.
func (sb *Sandbox) listWaiting(ctx context.Context, f Filter, wait time.Duration) ([]Delivery, error) {
	q := f.query()
	if wait > 0 {
		q.Set("wait", fmt.Sprintf("%dms", wait.Milliseconds()))
	}
	status, answer, err := sb.call(ctx, http.MethodGet, "/_sandbox/deliveries?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("the sandbox refused (HTTP %d): %s", status, message(answer))
	}
	var raw []delivery
	if err := json.Unmarshal(answer, &raw); err != nil {
		return nil, err
	}
	out := make([]Delivery, len(raw))
	for i, d := range raw {
		out[i] = d.public()
	}
	return out, nil
}

// Event is an event to fire with Trigger: the contract's example of Type,
// with fresh ids and times, changed by Set and Unset.
type Event struct {
	// Type is any event type of the contract, e.g. whatsapp_message_status_updated.
	Type string
	// App is the app it goes to; the demo app when "".
	App string
	// Set maps JSON pointers into the payload to their new values, e.g.
	// {"/body/status": "read"}.
	Set map[string]any
	// Unset lists JSON pointers of members to remove.
	Unset []string
	// Payload, when set, is the whole payload instead of the example.
	Payload json.RawMessage
}

// Trigger fires an event at an app's webhook as InnoPaaS would, and
// returns its delivery (pending, or dropped when no webhook takes it). A
// payload the contract refuses fails t with the field and the rule.
func (sb *Sandbox) Trigger(t TB, e Event) Delivery {
	t.Helper()
	body := map[string]any{"type": e.Type}
	app := e.App
	if app == "" {
		app = sb.AppKey
	}
	if app != "" {
		body["appKey"] = app
	}
	if e.Set != nil {
		body["set"] = e.Set
	}
	if e.Unset != nil {
		body["unset"] = e.Unset
	}
	if e.Payload != nil {
		body["payload"] = e.Payload
	}
	var res struct{ Delivery delivery }
	sb.Control(t, http.MethodPost, "/_sandbox/events", body, &res)
	return res.Delivery.public()
}

// Inbound is a user's WhatsApp message to a business number.
type Inbound struct {
	// From is the user's number; 6285234567899 when "".
	From string
	// To is the business number; the demo number when "".
	To string
	// Type is one of the 14 inbound types (text, image, location, ...);
	// "" means text.
	Type string
	// Text is the body of a text message ("" with no Content: the example's).
	Text string
	// Content is the member of the type, with the payload's field names,
	// e.g. {"caption": "My receipt", "mimeType": "image/jpeg", "link": "..."};
	// the contract's example of the type when nil.
	Content map[string]any
	// CustomerName is the user's profile name.
	CustomerName string
}

// DemoUser is the user number Inbound writes from by default.
const DemoUser = "6285234567899"

// Inbound simulates a user's message: it is routed like InnoPaaS routes it
// (the app bound to To, else the WABA's, else the default app), opens the
// user's 24-hour window with the business number, and is pushed as a
// whatsapp_mo_message_received event. It returns the delivery.
func (sb *Sandbox) Inbound(t TB, m Inbound) Delivery {
	t.Helper()
	body := map[string]any{"from": m.From, "to": m.To}
	if m.From == "" {
		body["from"] = DemoUser
	}
	if m.To == "" {
		body["to"] = sb.Number
	}
	if m.CustomerName != "" {
		body["customerName"] = m.CustomerName
	}
	if m.Type != "" {
		body["type"] = m.Type
	}
	switch {
	case m.Content != nil && m.Type == "":
		t.Fatalf("sandboxtest: Inbound: Content needs its Type (image, location, ...)")
		return Delivery{}
	case m.Content != nil:
		body[member(m.Type)] = m.Content
	case m.Text != "":
		body["text"] = map[string]any{"body": m.Text}
	}
	var res struct{ Delivery delivery }
	sb.Control(t, http.MethodPost, "/_sandbox/events/inbound", body, &res)
	return res.Delivery.public()
}

// member is the payload member an inbound type's content is in.
func member(typ string) string {
	if typ == "unknown" {
		return "errors"
	}
	return typ
}

package state

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/innosandbox/innosandbox/internal/payload"
)

// MOTypes are the documented types of an inbound (MO) WhatsApp message, in
// the order the reference lists them.
var MOTypes = []string{"text", "reaction", "image", "audio", "video", "sticker", "document", "unknown",
	"location", "contacts", "button", "interactive", "order", "system"}

// MOMember names the payload member that carries a message of an MO type:
// the type's own name, except "unknown", whose content is its "errors".
func MOMember(moType string) string {
	if moType == "unknown" {
		return "errors"
	}
	return moType
}

// inboundBody is one whatsapp_mo_message_received body.
type inboundBody struct {
	ID, AccountName, WabaID, Wamid, From, To, SendTime, CustomerName string
	Type                                                             string
	Content                                                          []byte // JSON value of the type's member
	ContextFrom, ContextID                                           string // set on replies
}

func marshalInbound(e *Event, m inboundBody) {
	n := 300 + len(m.AccountName) + len(m.WabaID) + len(m.Wamid) + len(m.CustomerName) + len(m.Content) + len(m.ContextID)
	w := payload.NewWriter(n)
	envelopeStart(&w, e)
	w.String("id", m.ID)
	w.String("accountName", m.AccountName)
	w.String("wabaId", m.WabaID)
	w.String("wamid", m.Wamid)
	w.String("from", m.From)
	w.String("to", m.To)
	w.String("sendTime", m.SendTime)
	if m.CustomerName != "" {
		w.Object("customerProfile")
		w.String("name", m.CustomerName)
		w.Close()
	}
	w.String("type", m.Type)
	w.RawMember(MOMember(m.Type), m.Content)
	if m.ContextID != "" {
		w.Object("context")
		w.String("from", m.ContextFrom)
		w.String("id", m.ContextID)
		w.Close()
	}
	w.Close()
	w.Close()
	e.Payload = w.Bytes()
}

// textContent is the member of a text message: {"body": text}.
func textContent(text string) []byte {
	var w payload.Writer
	w.Open()
	w.String("body", text)
	w.Close()
	return w.Bytes()
}

// Inbound is a simulated user message to a business number.
type Inbound struct {
	To           string // business number
	From         string // user's number
	WabaID       string // optional
	CustomerName string // optional
	// Type is one of MOTypes; "" means text.
	Type string
	// Content is the JSON value of the type's member (MOMember), e.g.
	// {"body":"Yes"} for text; nil for a text message means {"body": Text}.
	Content []byte
	// Defaulted says Content is a stand-in the caller did not choose; a
	// defaulted reaction then reacts to the message replied to (or to a
	// fresh wamid), not to the stand-in's.
	Defaulted bool
	Text      string // the text of a text message when Content is nil
	ReplyTo   string // optional: id of a message sent to From
	// Check, when set, judges the built payload before anything is stored;
	// its error is returned as is (an *InvalidError names the field).
	Check func(payload []byte) error
}

// SimulateInbound raises whatsapp_mo_message_received for an account and
// routes it: to the app bound to the business number, else to the WABA's
// app, else to the default app, else it is dropped. The returned event says
// which (Route, AppKey) or why not (Reason). Whatever the routing, the user
// has written to the business number: its 24-hour customer service window
// opens (Store.TouchSession).
func (s *Sandbox) SimulateInbound(ctx context.Context, acct Account, in Inbound) (Event, error) {
	now := s.Now(acct)
	e := s.newEvent(acct, EventWAMO, ProductWhatsApp, now)
	if in.Type == "" {
		in.Type = "text"
	}
	if !slices.Contains(MOTypes, in.Type) {
		return Event{}, invalid("/type", "%q is not an inbound message type; use one of %s", in.Type, strings.Join(MOTypes, ", "))
	}
	body := inboundBody{ID: NewHexID(24), AccountName: acct.Name, WabaID: in.WabaID, Wamid: NewWamid(),
		From: in.From, To: in.To, SendTime: now.UTC().Format(eventTimeLayout), CustomerName: in.CustomerName,
		Type: in.Type, Content: in.Content}
	if body.Content == nil && in.Type == "text" {
		body.Content = textContent(in.Text)
	}
	if body.Content == nil {
		return Event{}, invalid("/"+MOMember(in.Type), "is required for a message of type %s", in.Type)
	}
	if in.ReplyTo != "" {
		m, err := s.store.GetMessage(ctx, in.ReplyTo)
		if errors.Is(err, ErrNotFound) || (err == nil && m.Account != acct.Name) {
			return Event{}, invalid("/replyTo", "message %s was not sent from account %s", in.ReplyTo, acct.Name)
		} else if err != nil {
			return Event{}, err
		}
		if m.Product != ProductWhatsApp || len(m.Wamids) != len(m.Recipients) {
			return Event{}, invalid("/replyTo", "message %s is a %s message; a WhatsApp reply answers a WhatsApp message", in.ReplyTo, m.Product)
		}
		i := slices.Index(m.Recipients, in.From)
		if i < 0 {
			return Event{}, invalid("/replyTo", "message %s was not sent to %s", in.ReplyTo, in.From)
		}
		body.ContextFrom, body.ContextID = m.SendNumber, m.Wamids[i]
		if body.WabaID == "" {
			body.WabaID = m.WabaID
		}
	}
	if in.Type == "reaction" && in.Defaulted {
		// A stand-in reaction reacts to a real message: the one replied
		// to, else one the user could have received.
		target := body.ContextID
		if target == "" {
			target = NewWamid()
		}
		var r map[string]any
		if err := json.Unmarshal(body.Content, &r); err != nil {
			return Event{}, invalid("/reaction", "not a JSON object: %v", err)
		}
		r["messageId"] = target
		b, err := json.Marshal(r)
		if err != nil {
			return Event{}, err
		}
		body.Content = b
	}
	if err := s.routeUnmatched(ctx, &e, acct, in.To, body.WabaID); err != nil {
		return Event{}, err
	}
	if body.WabaID == "" {
		body.WabaID = s.wabaOf(ctx, acct, e.AppKey)
	}
	marshalInbound(&e, body)
	if in.Check != nil {
		if err := in.Check(e.Payload); err != nil {
			return Event{}, err
		}
	}
	written := []Event{e}
	if err := s.checkPending(ctx, acct.Name, written); err != nil {
		return Event{}, err
	}
	if err := s.store.AddEvents(ctx, written); err != nil {
		return Event{}, err
	}
	e = written[0] // as chaos left it
	if err := s.store.TouchSession(ctx, acct.Name, in.To, in.From, now); err != nil {
		return Event{}, err
	}
	s.notify()
	return e, nil
}

// wabaOf names a WABA for an inbound payload that gave none: one bound to
// the app, else a placeholder made from the account's digits.
func (s *Sandbox) wabaOf(ctx context.Context, acct Account, appKey string) string {
	if appKey != "" {
		if bs, err := s.store.ListBindings(ctx, appKey); err == nil {
			for _, b := range bs {
				if b.Kind == BindWABA {
					return b.Value
				}
			}
		}
	}
	return "1101" + strings.TrimPrefix(acct.Name, "IW") + "0000"
}

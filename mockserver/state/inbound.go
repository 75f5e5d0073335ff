package state

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// inboundText is one whatsapp_mo_message_received body of type text.
type inboundText struct {
	ID, AccountName, WabaID, Wamid, From, To, SendTime, CustomerName, Text string
	ContextFrom, ContextID                                                 string // set on replies
}

func marshalInbound(e *Event, m inboundText) {
	n := 300 + len(m.AccountName) + len(m.WabaID) + len(m.Wamid) + len(m.CustomerName) + len(m.Text) + len(m.ContextID)
	w := jsonw{b: make([]byte, 0, n)}
	envelopeStart(&w, e)
	w.field("id", m.ID)
	w.field("accountName", m.AccountName)
	w.field("wabaId", m.WabaID)
	w.field("wamid", m.Wamid)
	w.field("from", m.From)
	w.field("to", m.To)
	w.field("sendTime", m.SendTime)
	if m.CustomerName != "" {
		w.obj("customerProfile")
		w.comma = false
		w.field("name", m.CustomerName)
		w.close()
	}
	w.field("type", "text")
	w.obj("text")
	w.comma = false
	w.field("body", m.Text)
	w.close()
	if m.ContextID != "" {
		w.obj("context")
		w.comma = false
		w.field("from", m.ContextFrom)
		w.field("id", m.ContextID)
		w.close()
	}
	w.close()
	w.close()
	e.Payload = w.b
}

// Inbound is a simulated user message to a business number.
type Inbound struct {
	To           string // business number
	From         string // user's number
	WabaID       string // optional
	CustomerName string // optional
	Text         string
	ReplyTo      string // optional: id of a message sent to From
}

// SimulateInbound raises whatsapp_mo_message_received for an account and
// routes it: to the app bound to the business number, else to the WABA's
// app, else to the default app, else it is dropped. The returned event says
// which (Route, AppKey) or why not (Reason).
func (s *Sandbox) SimulateInbound(ctx context.Context, acct Account, in Inbound) (Event, error) {
	now := s.Now(acct)
	e := s.newEvent(acct, EventWAMO, ProductWhatsApp, now)
	body := inboundText{ID: NewHexID(24), AccountName: acct.Name, WabaID: in.WabaID, Wamid: NewWamid(),
		From: in.From, To: in.To, SendTime: now.UTC().Format(eventTimeLayout), CustomerName: in.CustomerName, Text: in.Text}
	if in.ReplyTo != "" {
		m, err := s.store.GetMessage(ctx, in.ReplyTo)
		if errors.Is(err, ErrNotFound) || (err == nil && m.Account != acct.Name) {
			return Event{}, invalid("/replyTo", "message %s was not sent from account %s", in.ReplyTo, acct.Name)
		} else if err != nil {
			return Event{}, err
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
	if err := s.routeUnmatched(ctx, &e, acct, in.To, body.WabaID); err != nil {
		return Event{}, err
	}
	if body.WabaID == "" {
		body.WabaID = s.wabaOf(ctx, acct, e.AppKey)
	}
	marshalInbound(&e, body)
	if err := s.store.AddEvents(ctx, []Event{e}); err != nil {
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

package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/innosandbox/innosandbox/internal/payload"
)

// Override sets one member of a payload.
type Override struct {
	Pointer string // RFC 6901 JSON pointer into the payload, e.g. "/body/status"
	Value   any    // decoded JSON
}

// Trigger is an event fired on request (POST /_sandbox/events): any event
// type of the contract, for an app, built from a base payload.
type Trigger struct {
	Type    string
	Product string
	// AppKey is the app to push to; "" means the account's default app.
	AppKey string
	// Base is the payload to start from, decoded: the contract's example of
	// the event type, or the caller's own payload. It is changed in place.
	Base map[string]any
	// Fresh gives Base fresh ids and times and the account's real values
	// (accountName, wabaId, appKey): true for an example, false for a
	// payload the caller wrote, which is sent as written.
	Fresh bool
	// Envelope says the event type travels in the WhatsApp envelope
	// {id, type, eventTime, body}; its id is always the event's own.
	Envelope bool
	// Set is applied in order after the base is made fresh.
	Set []Override
	// Unset lists JSON pointers of members to remove, after Set.
	Unset []string
	// Check, when set, judges the built payload before it is stored; its
	// error is returned as is (an *InvalidError names the field).
	Check func(payload []byte) error
}

// FireEvent builds a triggered event, routes it (to t.AppKey's webhook for
// the event's product, else to the default app's, else nowhere, with the
// reason) and stores it due now on the account's clock, so the dispatcher
// pushes it at once.
func (s *Sandbox) FireEvent(ctx context.Context, acct Account, t Trigger) (Event, error) {
	now := s.Now(acct)
	e := s.newEvent(acct, t.Type, t.Product, now)
	switch {
	case t.AppKey != "":
		app, err := s.store.GetApp(ctx, t.AppKey)
		if err != nil {
			return Event{}, err
		}
		if app.Account != acct.Name {
			return Event{}, fmt.Errorf("app %s is not an app of account %s: %w", t.AppKey, acct.Name, ErrNotFound)
		}
		if err := s.route(ctx, &e, app.Key, "trigger"); err != nil {
			return Event{}, err
		}
	case acct.DefaultApp != "":
		if err := s.route(ctx, &e, acct.DefaultApp, "default-app"); err != nil {
			return Event{}, err
		}
	default:
		e.Status = EventDropped
		e.Reason = fmt.Sprintf("no app was named and account %s has no default app", acct.Name)
	}

	p := t.Base
	if p == nil {
		p = map[string]any{}
	}
	if t.Envelope {
		if _, ok := p["id"]; ok && !t.Fresh {
			return Event{}, invalid("/id", "is the event id, which the sandbox draws (a fresh UUID per event, kept across retries and replays); leave it out, or replay a delivery to push one id twice")
		}
		p["id"] = e.ID
		if _, ok := p["type"]; !ok || t.Fresh {
			p["type"] = t.Type
		}
		if _, ok := p["eventTime"]; !ok || t.Fresh {
			p["eventTime"] = now.UTC().Format(eventTimeLayout)
		}
	}
	if t.Fresh {
		f := s.refresh(ctx, acct, e, now)
		if body, ok := p["body"].(map[string]any); ok && t.Envelope {
			f.Apply(body)
		} else if !t.Envelope {
			f.Apply(p)
			// The SMS report's batchSeq names the account and the message,
			// as a real send's does; it follows the fresh msgid.
			if msgID, ok := p["msgid"].(string); ok {
				if _, ok := p["batchSeq"].(string); ok {
					p["batchSeq"] = batchSeq(acct.Name, msgID, now)
				}
			}
		}
	}
	for _, o := range t.Set {
		if t.Envelope && o.Pointer == "/id" {
			return Event{}, invalid("/id", "is the event id, which the sandbox draws (a fresh UUID per event, kept across retries and replays); replay a delivery to push one id twice")
		}
		if err := setPointer(p, o.Pointer, o.Value); err != nil {
			return Event{}, err
		}
	}
	for _, ptr := range t.Unset {
		if t.Envelope && slices.Contains([]string{"/id", "/type", "/eventTime", "/body"}, ptr) {
			return Event{}, invalid(ptr, "cannot be removed: every pushed event has it")
		}
		if err := unsetPointer(p, ptr); err != nil {
			return Event{}, err
		}
	}
	b, err := encodePayload(p, t.Envelope)
	if err != nil {
		return Event{}, invalid("/", "the payload cannot be encoded: %v", err)
	}
	e.Payload = b
	if t.Check != nil {
		if err := t.Check(e.Payload); err != nil {
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
	s.notify()
	return e, nil
}

// encodePayload writes a payload as a JSON library would send it (<, >
// and & unescaped), an envelope's members in the documented order (id,
// type, eventTime, body) so that the log reads like the docs.
func encodePayload(p map[string]any, envelope bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if !envelope {
		if err := enc.Encode(p); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	first := []string{"id", "type", "eventTime", "body"}
	keys := make([]string, 0, len(p))
	for _, k := range first {
		if _, ok := p[k]; ok {
			keys = append(keys, k)
		}
	}
	var rest []string
	for k := range p {
		if !slices.Contains(first, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	keys = append(keys, rest...)
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		trimNewline(&buf)
		buf.WriteByte(':')
		if err := enc.Encode(p[k]); err != nil {
			return nil, err
		}
		trimNewline(&buf)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func trimNewline(b *bytes.Buffer) {
	if n := b.Len(); n > 0 && b.Bytes()[n-1] == '\n' {
		b.Truncate(n - 1)
	}
}

// refresh is how a triggered example gets fresh ids and times (payload's
// rules) and the account's real values: its name, the app's key, the
// WABA's id, and the webhook's user name and password, which the SMS
// pushes carry in their body (empty when not configured).
func (s *Sandbox) refresh(ctx context.Context, acct Account, e Event, now time.Time) payload.Refresh {
	var receiver, pswd, waba string
	if tg := e.Target; tg != nil {
		receiver, pswd = deref(tg.Username), deref(tg.Authorization)
	}
	return payload.Refresh{Now: now, IDTime: s.clock.Now(), Fill: func(member string) (string, bool) {
		switch member {
		case "accountName", "accountNo": // WhatsApp envelopes' body; the OTP push
			return acct.Name, true
		case "receiver":
			return receiver, true
		case "pswd":
			return pswd, true
		case "appKey":
			return e.AppKey, e.AppKey != ""
		case "wabaId":
			if waba == "" {
				waba = s.wabaOf(ctx, acct, e.AppKey)
			}
			return waba, true
		}
		return "", false
	}}
}

// setPointer and unsetPointer are payload.Set and payload.Unset, their
// errors an *InvalidError naming the pointer, as every refusal does.
func setPointer(doc map[string]any, pointer string, value any) error {
	return pointerInvalid(payload.Set(doc, pointer, value))
}

func unsetPointer(doc map[string]any, pointer string) error {
	return pointerInvalid(payload.Unset(doc, pointer))
}

func pointerInvalid(err error) error {
	var pe *payload.PointerError
	if errors.As(err, &pe) {
		return invalid(pe.Pointer, "%s", pe.Reason)
	}
	return err
}

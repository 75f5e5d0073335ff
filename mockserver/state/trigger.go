package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
		f := freshener{now: now, realNow: s.clock.Now(), account: acct.Name, appKey: e.AppKey}
		if tg := e.Target; tg != nil {
			f.receiver, f.pswd = deref(tg.Username), deref(tg.Authorization)
		}
		f.wabaID = func() string { return s.wabaOf(ctx, acct, e.AppKey) }
		if body, ok := p["body"].(map[string]any); ok && t.Envelope {
			f.object(body)
		} else if !t.Envelope {
			f.object(p)
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

// freshener gives an example payload fresh ids and times and the account's
// real values, member by member, keeping each value's shape (an 18-digit
// id stays 18 digits, an epoch-milliseconds time stays one).
type freshener struct {
	now, realNow time.Time // the account's sandbox time; real time (for time-ordered ids)
	account      string
	appKey       string
	// receiver and pswd are the webhook's user name and password, which
	// the SMS pushes carry in their body (empty when not configured).
	receiver, pswd string
	wabaID         func() string
	waba           string
}

var (
	uuidShape = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	hexShape  = regexp.MustCompile(`^[0-9a-f]+$`)
)

// Members renewed wherever they appear.
var (
	freshIDs   = []string{"id", "wamid", "messageId", "msgid"}
	freshTimes = []string{"sendTime", "reportTime", "notifyTime", "requestTime", "moTime"}
)

func (f *freshener) object(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			f.object(x)
			continue
		case []any:
			for _, it := range x {
				if o, ok := it.(map[string]any); ok {
					f.object(o)
				}
			}
			continue
		}
		s, ok := v.(string)
		if !ok {
			continue
		}
		switch {
		case k == "accountName":
			m[k] = f.account
		case k == "receiver":
			m[k] = f.receiver
		case k == "pswd":
			m[k] = f.pswd
		case k == "appKey" && f.appKey != "":
			m[k] = f.appKey
		case k == "wabaId":
			if f.waba == "" {
				f.waba = f.wabaID()
			}
			m[k] = f.waba
		case k == "expireAt":
			m[k] = timeLike(s, f.now.Add(24*time.Hour))
		case slices.Contains(freshTimes, k):
			m[k] = timeLike(s, f.now)
		case slices.Contains(freshIDs, k):
			m[k] = idLike(s, f.realNow)
		}
	}
}

// idLike returns a fresh id shaped like example.
func idLike(example string, now time.Time) string {
	switch {
	case strings.HasPrefix(example, "wamid."):
		return NewWamid()
	case uuidShape.MatchString(example):
		return NewEventID(now)
	case isNumber(example, 18, 18):
		return NewMessageID(now)
	case isNumber(example, 1, 64):
		return randomString("123456789", 1) + randomString(digits, len(example)-1)
	case hexShape.MatchString(example):
		return NewHexID(len(example))
	}
	return example
}

// timeLike formats t as example is formatted: epoch milliseconds,
// "yyyy-MM-dd HH:mm:ss", or ISO-8601 UTC with milliseconds.
func timeLike(example string, t time.Time) string {
	switch {
	case isNumber(example, 1, 20):
		return strconv.FormatInt(t.UnixMilli(), 10)
	case len(example) == len(expireAtLayout) && example[10] == ' ':
		return t.UTC().Format(expireAtLayout)
	}
	return t.UTC().Format(eventTimeLayout)
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

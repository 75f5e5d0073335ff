package certify

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/internal/clock"
	payloads "github.com/innosandbox/innosandbox/internal/payload"
	"github.com/innosandbox/innosandbox/spec"
)

// payload is one push body, ready to send.
type payload struct {
	Event string
	// ID is what identifies the event to a receiver: the envelope's id for
	// WhatsApp events; the message id for the flat SMS and OTP reports.
	ID string
	// Message is the id of the message the event is about, if any.
	Message string
	Body    []byte
}

// builder makes payloads from the contract's examples: each event type's
// example under x-webhooks, with fresh ids and times for every push, so
// that no two checks' pushes look like one event (CERT-DUP-01 repeats one
// on purpose). Every payload is validated against its schema before it is
// sent: a payload the contract refuses is a bug of this tool, and sending
// it would blame the partner for it.
type builder struct {
	contract *spec.Spec
	clock    clock.Clock
	// creds fill the SMS payloads' receiver and pswd, which carry the
	// webhook's configured user name and password in the body.
	user, pass string
}

// template returns a deep copy of the event's example.
func (b *builder) template(event string) (map[string]any, error) {
	ev, ok := b.contract.Event(event)
	if !ok {
		return nil, fmt.Errorf("%w %q", spec.ErrUnknownEvent, event)
	}
	if ev.Schema.Example == nil {
		return nil, fmt.Errorf("the contract has no example payload for %s (components/schemas/%s): add one", event, ev.SchemaName)
	}
	raw, err := json.Marshal(ev.Schema.Example)
	if err != nil {
		return nil, fmt.Errorf("the example payload of %s: %w", event, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("the example payload of %s is not a JSON object: %w", event, err)
	}
	return m, nil
}

// fresh returns the event's example with new ids and times.
func (b *builder) fresh(event string) (map[string]any, error) {
	m, err := b.template(event)
	if err != nil {
		return nil, err
	}
	now := b.clock.Now().UTC()
	payloads.Refresh{Now: now, Fill: b.fill(m)}.Apply(m)
	newMobile(m)
	if body, ok := m["body"].(map[string]any); ok {
		newMobile(body)
	}
	return m, nil
}

// fill gives the SMS payloads' receiver and pswd the webhook's configured
// user name and password, which they carry in the body.
func (b *builder) fill(m map[string]any) func(string) (string, bool) {
	if _, ok := m["receiver"]; !ok {
		return nil
	}
	return func(member string) (string, bool) {
		switch member {
		case "receiver":
			return b.user, true
		case "pswd":
			return b.pass, true
		}
		return "", false
	}
}

// newMobile gives a flat report or message a number of its own per push,
// so that no two pushes look alike to a receiver that keys on the number
// and the time (an SMS MO has no id). The rest of the refresh is
// payload.Refresh, the sandbox's.
func newMobile(m map[string]any) {
	if s, ok := m["mobile"].(string); ok && isDigits(s) && len(s) > 6 {
		m["mobile"] = s[:4] + payloads.Digits(len(s)-4)
	}
}

// encode marshals a payload and validates it against its event's schema.
func (b *builder) encode(event string, m map[string]any) (payload, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return payload{}, err
	}
	if err := b.contract.ValidatePayload(event, body); err != nil {
		return payload{}, fmt.Errorf("BUG: this tool built a payload its own contract refuses, so it was not sent: %w", err)
	}
	return payload{Event: event, ID: eventID(m), Message: messageRef(m), Body: body}, nil
}

// withCreds returns a builder whose SMS payloads carry these credentials.
func (b *builder) withCreds(user, pass string) *builder {
	c := *b
	c.user, c.pass = user, pass
	return &c
}

// messageRef is the id of the message an event is about.
func messageRef(m map[string]any) string {
	if body, ok := m["body"].(map[string]any); ok {
		if s, ok := body["id"].(string); ok {
			return s
		}
		return ""
	}
	for _, k := range []string{"messageId", "msgid"} {
		if s, ok := m[k].(string); ok {
			return s
		}
	}
	return ""
}

// valid returns a fresh valid payload of the event.
func (b *builder) valid(event string) (payload, error) {
	m, err := b.fresh(event)
	if err != nil {
		return payload{}, err
	}
	return b.encode(event, m)
}

// eventID is what identifies the pushed event to a receiver.
func eventID(m map[string]any) string {
	for _, k := range []string{"id", "messageId", "msgid"} {
		if s, ok := m[k].(string); ok {
			return s
		}
	}
	// An SMS MO has no id: its number and time tell it apart.
	return fmt.Sprint(m["mobile"], "@", m["moTime"])
}

// outOfOrder returns two reports of one message, the later one first:
//
//   - WhatsApp: "read" before "delivered" (same body.id and wamid);
//   - OTP: "2" (succeeded) before "0" (in progress), same messageId;
//   - SMS: a send's report for a second number, reported later, before the
//     report for its first number (same msgid and batch, the second push's
//     reportTime earlier than the first's): SMS reports have one status
//     each, so what can come out of order is the reports of one send.
func (b *builder) outOfOrder(event string) (later, earlier payload, err error) {
	first, err := b.fresh(event)
	if err != nil {
		return payload{}, payload{}, err
	}
	second, err := b.fresh(event)
	if err != nil {
		return payload{}, payload{}, err
	}
	now := b.clock.Now().UTC()
	switch event {
	case "whatsapp_message_status_updated":
		fb, _ := first["body"].(map[string]any)
		sb, _ := second["body"].(map[string]any)
		if fb == nil || sb == nil {
			return payload{}, payload{}, fmt.Errorf("the example payload of %s has no body", event)
		}
		for _, k := range []string{"id", "wamid", "sendPhone", "uid", "accountName", "wabaId"} {
			if v, ok := fb[k]; ok {
				sb[k] = v
			}
		}
		fb["status"] = "read"
		delete(fb, "conversation")
		delete(fb, "errorData")
		sb["status"] = "delivered"
		delete(sb, "errorData")
		if _, ok := sb["conversation"]; !ok {
			sb["conversation"] = map[string]any{"initiateType": "business_initiated", "expireAt": now.Add(24 * time.Hour).Format(time.DateTime)}
		}
		first["eventTime"] = now.Format("2006-01-02T15:04:05.000Z")
		second["eventTime"] = now.Add(-2 * time.Second).Format("2006-01-02T15:04:05.000Z")
	case "otp_status_report":
		second["messageId"] = first["messageId"]
		first["status"], first["code"] = "2", "success"
		second["status"], second["code"] = "0", "success"
		delete(first, "errCode")
		delete(first, "errMessage")
		delete(second, "errCode")
		delete(second, "errMessage")
		first["reportTime"] = now.Format(time.DateTime)
		second["reportTime"] = now.Add(-2 * time.Second).Format(time.DateTime)
	case "sms_status_report":
		for _, k := range []string{"msgid", "batchSeq", "uid", "requestTime"} {
			second[k] = first[k]
		}
		second["mobile"] = otherNumber(fmt.Sprint(first["mobile"]))
		first["reportTime"] = epochMs(now)
		second["reportTime"] = epochMs(now.Add(-2 * time.Second))
	default:
		return payload{}, payload{}, fmt.Errorf("no out-of-order reports are defined for %s", event)
	}
	if later, err = b.encode(event, first); err != nil {
		return payload{}, payload{}, err
	}
	if earlier, err = b.encode(event, second); err != nil {
		return payload{}, payload{}, err
	}
	return later, earlier, nil
}

// withUnknownFields returns a valid payload that also carries members no
// version of the contract has: an object and a string, at the top and in
// the body. InnoPaaS may add members at any time; a receiver that refuses
// what it does not know breaks on that day.
func (b *builder) withUnknownFields(event string) (payload, error) {
	m, err := b.fresh(event)
	if err != nil {
		return payload{}, err
	}
	addUnknown := func(o map[string]any) {
		o["innopaasFutureField"] = map[string]any{"kind": "added-later", "version": 2, "flags": []any{"a", "b"}}
		o["innopaasFutureNote"] = "a member added in a later version of the payload"
	}
	addUnknown(m)
	if body, ok := m["body"].(map[string]any); ok {
		addUnknown(body)
	}
	return b.encode(event, m)
}

// withLongText returns a valid message of the event whose text has n
// characters, many of them outside ASCII, as users write.
func (b *builder) withLongText(event string, n int) (payload, error) {
	m, err := b.fresh(event)
	if err != nil {
		return payload{}, err
	}
	text := longText(n)
	body, _ := m["body"].(map[string]any)
	switch event {
	case "whatsapp_mo_message_received":
		if body == nil {
			return payload{}, fmt.Errorf("the example payload of %s has no body", event)
		}
		body["type"] = "text"
		body["text"] = map[string]any{"body": text}
	case "chat_mo_message_notify", "chat_mt_message_notify":
		if body == nil {
			return payload{}, fmt.Errorf("the example payload of %s has no body", event)
		}
		body["messageType"] = "text"
		body["context"] = map[string]any{"text": text}
	case "sms_mo_message_received":
		m["msg"] = text
	default:
		return payload{}, fmt.Errorf("%s carries no message text", event)
	}
	return b.encode(event, m)
}

// longText returns exactly n characters of a text in several scripts,
// mostly Chinese, with emoji: about 3 bytes a character in UTF-8, so that
// the payload is as large in bytes as a text of n characters gets in
// practice (the limits count characters, not bytes).
func longText(n int) string {
	const unit = "请把包裹送到新地址，谢谢！配送时间可以改到明天上午吗？👍🙏 Привет! Merci. "
	var sb strings.Builder
	count := 0
	for count < n {
		for _, r := range unit {
			if count == n {
				break
			}
			sb.WriteRune(r)
			count++
		}
	}
	return sb.String()
}

// ------------------------------------------------------------ fresh values

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func randomBase64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// otherNumber returns a phone number of the same length that differs from s.
func otherNumber(s string) string {
	if !isDigits(s) || len(s) < 5 {
		return "6285234567800"
	}
	last := s[len(s)-1]
	return s[:len(s)-1] + string('0'+(last-'0'+1)%10)
}

func epochMs(t time.Time) string { return fmt.Sprint(t.UnixMilli()) }

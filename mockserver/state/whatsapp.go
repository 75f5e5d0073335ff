package state

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/internal/payload"
)

// Event types the sandbox raises itself.
const (
	EventWAStatus = "whatsapp_message_status_updated"
	EventWAMO     = "whatsapp_mo_message_received"
)

// Time formats of the payloads.
const (
	eventTimeLayout = payload.ISOTime  // eventTime, sendTime
	expireAtLayout  = payload.DateTime // conversation.expireAt
)

// Documented limits, counted in characters (see spec x-innopaas-business-rules).
const (
	MaxWhatsAppUID  = 32   // msg/submit uid
	MaxWhatsAppText = 3000 // msg/submit text body (the error table's figure)
)

// WhatsAppSend is an accepted send request's fields the domain needs.
type WhatsAppSend struct {
	WabaID      string
	MessageType string
	SendNumber  string
	Recipients  []string
	UID         string
	Template    *TemplateUse // for messageType template
	Request     []byte       // the body as received
}

// SessionWindow is how long after a user's last message a business may send
// them anything but a template.
const SessionWindow = 24 * time.Hour

// envelopeStart writes the WhatsApp envelope up to the body object's
// opening brace; the caller writes the body's members and closes twice.
func envelopeStart(w *payload.Writer, e *Event) {
	envelopeAt(w, e, e.DueAt.UTC().Format(eventTimeLayout))
}

// envelopeAt is envelopeStart with eventTime already formatted (a send's
// reports share a few due times).
func envelopeAt(w *payload.Writer, e *Event, eventTime string) {
	w.Open()
	w.Plain("id", e.ID)
	w.Plain("type", e.Type)
	w.Plain("eventTime", eventTime)
	w.Object("body")
}

// statusReport is one whatsapp_message_status_updated body.
type statusReport struct {
	EventTime                                                     string // formatted due time
	MessageID, AccountName, WabaID, Status, Wamid, SendPhone, UID string
	ConversationExpireAt                                          string // set for delivered
	ErrorCode, ErrorMessage                                       string // set for failed
}

// marshalStatus writes one status report's payload into e.Payload.
func marshalStatus(e *Event, r statusReport) {
	if r.EventTime == "" {
		r.EventTime = e.DueAt.UTC().Format(eventTimeLayout)
	}
	sw := newStatusWriter(e.Type, r.MessageID, r.AccountName, r.WabaID, r.UID)
	t := sw.timing(r.EventTime, r.ConversationExpireAt)
	part := statusPart{status: r.Status, wamid: r.Wamid, to: r.SendPhone, conversation: r.ConversationExpireAt != ""}
	if r.ErrorCode != "" {
		part.errorData = errorData(r.ErrorCode, r.ErrorMessage)
	}
	e.Payload = sw.append(make([]byte, 0, sw.size(t, part, len(e.ID))), e.ID, t, part)
}

// statusWriter writes the status reports of one send. A 1000-number send
// makes 2000 of them, alike but for a few values, so what they share is
// rendered (and escaped) once, and each report is a few copies.
type statusWriter struct {
	typ  string // `","type":"…","eventTime":"`
	body string // `","body":{"id":"…","accountName":…,"wabaId":…,"status":"`
	uid  string // `,"uid":…` or ""
}

// statusTiming is what the reports due at one time share.
type statusTiming struct {
	head         string // typ, the eventTime and body
	conversation string // the conversation member a delivered report carries
}

// statusPart is what differs between the reports of a send.
type statusPart struct {
	status, wamid, to string // made or validated by the sandbox: nothing to escape
	conversation      bool   // delivered: the conversation member
	errorData         string // failed: the errorData member
}

func newStatusWriter(typ, messageID, account, waba, uid string) statusWriter {
	var w payload.Writer
	w.Raw(`","type":"`)
	w.Raw(typ)
	w.Raw(`","eventTime":"`)
	sw := statusWriter{typ: string(w.Bytes())}
	w = payload.Writer{}
	w.Follow()
	w.Raw(`","body":{"id":"`)
	w.Raw(messageID)
	w.Raw(`"`)
	w.String("accountName", account)
	w.String("wabaId", waba)
	w.Raw(`,"status":"`)
	sw.body = string(w.Bytes())
	if uid != "" {
		w = payload.Writer{}
		w.Follow()
		w.String("uid", uid)
		sw.uid = string(w.Bytes())
	}
	return sw
}

// timing renders the parts of the reports due at eventTime; expireAt is
// the conversation's end ("" when no report due then is delivered).
func (sw statusWriter) timing(eventTime, expireAt string) statusTiming {
	t := statusTiming{head: sw.typ + eventTime + sw.body}
	if expireAt != "" {
		t.conversation = `,"conversation":{"initiateType":"business_initiated","expireAt":"` + expireAt + `"}`
	}
	return t
}

// errorData renders a failed report's errorData member.
func errorData(code, message string) string {
	var w payload.Writer
	w.Follow()
	w.Object("errorData")
	w.String("errorCode", code)
	w.String("errorMessage", message)
	w.Close()
	return string(w.Bytes())
}

const (
	statusOpen   = `{"id":"`
	statusWamid  = `","wamid":"`
	statusPhone  = `","sendPhone":"`
	statusCloses = `}}`
)

// size is the exact length of a report's payload.
func (sw statusWriter) size(t statusTiming, p statusPart, idLen int) int {
	n := len(statusOpen) + idLen + len(t.head) + len(p.status) + len(statusWamid) + len(p.wamid) +
		len(statusPhone) + len(p.to) + 1 + len(sw.uid) + len(p.errorData) + len(statusCloses)
	if p.conversation {
		n += len(t.conversation)
	}
	return n
}

// append writes a report's payload (the event id is the envelope's id).
func (sw statusWriter) append(b []byte, id string, t statusTiming, p statusPart) []byte {
	b = append(b, statusOpen...)
	b = append(b, id...)
	b = append(b, t.head...)
	b = append(b, p.status...)
	b = append(b, statusWamid...)
	b = append(b, p.wamid...)
	b = append(b, statusPhone...)
	b = append(b, p.to...)
	b = append(b, '"')
	b = append(b, sw.uid...)
	if p.conversation {
		b = append(b, t.conversation...)
	}
	b = append(b, p.errorData...)
	return append(b, statusCloses...)
}

// SubmitWhatsApp accepts a send: it records the message, binds the sending
// number to the app if it is unbound, and schedules each recipient's status
// reports (delivered, then read) for the sending app's webhook, all in one
// transaction. Reports are routed when the message is accepted.
func (s *Sandbox) SubmitWhatsApp(ctx context.Context, p Principal, send WhatsAppSend) (Message, error) {
	register, err := s.checkSendNumber(ctx, p.Account, send.WabaID, send.SendNumber)
	if err != nil {
		return Message{}, err
	}
	if register != nil {
		// A WABA's first sending number is registered and bound with the
		// send: sends naming ever new WABAs must not bind without bound.
		if err := s.checkQuota(ctx, p.Account.Name, ResourceBindings, 1); err != nil {
			return Message{}, err
		}
	}
	if send.MessageType == "template" {
		if send.Template == nil {
			return Message{}, invalid("/templateName", "a template message names its template")
		}
		if err := s.checkTemplate(ctx, p.Account, send.WabaID, *send.Template); err != nil {
			return Message{}, err
		}
	} else if err := s.checkSessions(ctx, p.Account, send.SendNumber, send.Recipients); err != nil {
		return Message{}, err
	}
	hook, err := s.webhookFor(ctx, p.App.Key, ProductWhatsApp)
	if err != nil {
		return Message{}, err
	}
	msg := Message{
		Account: p.Account.Name, AppKey: p.App.Key, Product: ProductWhatsApp,
		MessageType: send.MessageType, WabaID: send.WabaID, SendNumber: send.SendNumber,
		Recipients: send.Recipients, Wamids: make([]string, len(send.Recipients)), UID: send.UID,
		Request: send.Request, CreatedAt: s.clock.Now(),
	}
	wamids := payload.Wamids(len(msg.Wamids))
	for i := range msg.Wamids {
		msg.Wamids[i] = wamids[i*payload.WamidLen : (i+1)*payload.WamidLen]
	}
	bind := &Binding{Account: p.Account.Name, Kind: BindNumber, Value: send.SendNumber, AppKey: p.App.Key, CreatedAt: msg.CreatedAt}
	return s.recordSend(ctx, Submission{Message: msg, BindSender: bind, RegisterNumber: register}, func(msg Message) []Event {
		return s.statusReports(p, msg, hook)
	})
}

// checkSendNumber refuses a sending number that is not a number of the WABA
// (code 118). A WABA the account has never sent from has no numbers yet:
// its first sending number becomes its number (the returned registration,
// written with the send), so that a new account works at once.
func (s *Sandbox) checkSendNumber(ctx context.Context, acct Account, wabaID, number string) (*WabaNumber, error) {
	nums, err := s.store.WabaNumbers(ctx, acct.Name, wabaID)
	if err != nil {
		return nil, err
	}
	if len(nums) == 0 {
		return &WabaNumber{Account: acct.Name, WabaID: wabaID, Number: number, CreatedAt: s.clock.Now()}, nil
	}
	if slices.Contains(nums, number) {
		return nil, nil
	}
	return nil, &BusinessError{Code: CodeSendNumber, Field: "/sendNumber",
		Message: fmt.Sprintf("sending number %s does not exist for WABA %s; its numbers: %s", number, wabaID, strings.Join(nums, ", "))}
}

// checkSessions refuses a non-template message to a user who has not
// written to the sending number within the last 24 hours (the account's
// clock), as WhatsApp does (Meta error 131047), unless switched off.
func (s *Sandbox) checkSessions(ctx context.Context, acct Account, business string, users []string) error {
	if s.opts.NoSessionWindow {
		return nil
	}
	last, err := s.store.LastInbound(ctx, acct.Name, business, users)
	if err != nil {
		return err
	}
	now := s.Now(acct)
	for _, u := range users {
		at, ok := last[u]
		switch {
		case !ok:
			return &BusinessError{Code: CodeReengagement, Field: "/recipientNumber",
				Message: fmt.Sprintf("re-engagement message: %s has never written to %s; the first message to a user must be a template", u, business)}
		case now.Sub(at) > SessionWindow:
			return &BusinessError{Code: CodeReengagement, Field: "/recipientNumber",
				Message: fmt.Sprintf("re-engagement message: %s last wrote to %s at %s, more than 24 hours ago; send a template", u, business, at.UTC().Format(time.RFC3339))}
		}
	}
	return nil
}

// statusReports builds each recipient's status reports of a message,
// routed to the sending app's webhook (hook, nil when none): delivered,
// then read — or what a magic recipient number asks for (see Magic).
func (s *Sandbox) statusReports(p Principal, msg Message, hook *Webhook) []Event {
	now := s.Now(p.Account)
	route := routeFor(p.App.Key, "sender", ProductWhatsApp, EventWAStatus, hook)
	first, second := s.opts.DeliveredAfter, s.opts.ReadAfter
	sw := newStatusWriter(EventWAStatus, msg.ID, p.Account.Name, msg.WabaID, msg.UID)
	// A send's reports share two due times: render each once.
	var dues [2]time.Time
	var timings [2]statusTiming
	for k, d := range [2]time.Duration{first, second} {
		dues[k] = now.Add(d)
		timings[k] = sw.timing(dues[k].UTC().Format(eventTimeLayout), dues[k].Add(24*time.Hour).UTC().Format(expireAtLayout))
	}
	// Which reports, when: walked twice, to size the allocations (one
	// each for the events, their ids and their payloads), then to fill them.
	each := func(visit func(k int, part statusPart)) {
		for i, to := range msg.Recipients {
			magic := Magic(to)
			part := func(status string) statusPart {
				return statusPart{status: status, wamid: msg.Wamids[i], to: to, conversation: status == "delivered"}
			}
			switch magic.Kind {
			case MagicFail:
				failed := part("failed")
				failed.errorData = errorData(metaError(magic.Code))
				visit(0, failed)
			case MagicDeliveredNotRead:
				visit(0, part("delivered"))
			case MagicReadBeforeDelivered:
				visit(0, part("read"))
				visit(1, part("delivered"))
			case MagicSilent:
			case MagicSMECLFailed:
				visit(0, part("SMECL:FAILED"))
			default:
				visit(0, part("delivered"))
				visit(1, part("read"))
			}
		}
	}
	n, size := 0, 0
	each(func(k int, part statusPart) {
		n++
		size += sw.size(timings[k], part, payload.UUIDLen)
	})
	realNow := s.clock.Now()
	ids := payload.UUIDs(realNow, n)
	payloads := make([]byte, 0, size)
	events := make([]Event, n)
	j := 0
	each(func(k int, part statusPart) {
		e := &events[j]
		e.ID, e.Account, e.Type, e.Product = ids[j*payload.UUIDLen:(j+1)*payload.UUIDLen], p.Account.Name, EventWAStatus, ProductWhatsApp
		e.DueAt, e.NextAttemptAt, e.CreatedAt, e.UpdatedAt = dues[k], dues[k].Add(-p.Account.ClockOffset), realNow, realNow
		start := len(payloads)
		payloads = sw.append(payloads, e.ID, timings[k], part)
		e.Payload = payloads[start:len(payloads):len(payloads)]
		route.apply(e)
		j++
	})
	return events
}

// metaErrors are the texts of Meta's error codes a failed report carries
// (WhatsApp Cloud API); a magic number may ask for any code.
var metaErrors = map[string]string{
	"130429": "Rate limit hit",
	"130472": "User's number is part of an experiment",
	"131000": "Something went wrong",
	"131005": "Access denied",
	"131008": "Required parameter is missing",
	"131009": "Parameter value is not valid",
	"131014": "media URL returned 404",
	"131021": "Recipient cannot be sender",
	"131026": "Message undeliverable",
	"131031": "Account has been locked",
	"131042": "Business eligibility payment issue",
	"131045": "Incorrect certificate",
	"131047": "Re-engagement message",
	"131048": "Spam rate limit hit",
	"131049": "This message was not delivered to maintain healthy ecosystem engagement",
	"131051": "Unsupported message type",
	"131052": "Media download error",
	"131053": "Media upload error",
	"131056": "(Business Account, Consumer Account) pair rate limit hit",
	"132000": "Template param count mismatch",
	"132001": "Template does not exist",
	"132015": "Template is paused",
	"132016": "Template is disabled",
	"133010": "Phone number not registered",
}

// DefaultMetaError is the code a failing magic number with no code gets.
const DefaultMetaError = "131026"

func metaError(code string) (string, string) {
	if code == "" {
		code = DefaultMetaError
	}
	if msg, ok := metaErrors[code]; ok {
		return code, msg
	}
	return code, "Meta error " + code
}

package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Event types the sandbox raises itself.
const (
	EventWAStatus = "whatsapp_message_status_updated"
	EventWAMO     = "whatsapp_mo_message_received"
)

// MaxRecipients is the documented limit of numbers in one send.
const MaxRecipients = 1000

// Time formats of the payloads.
const (
	eventTimeLayout = "2006-01-02T15:04:05.000Z" // eventTime, sendTime
	expireAtLayout  = "2006-01-02 15:04:05"      // conversation.expireAt
)

// BusinessError is a refusal InnoPaaS documents with its own code
// (answered with the envelope, not as a malformed request).
type BusinessError struct {
	Code    string // e.g. "108"
	Field   string // JSON pointer of the field at fault
	Message string
}

func (e *BusinessError) Error() string { return e.Message }

// Documented result codes the sandbox returns.
const (
	CodeUIDTooLong     = "105" // batch number (uid) too long
	CodeContentTooLong = "106" // content too long
	CodeBadNumber      = "108" // bad phone number format (fewer than 5 or more than 20 digits)
	CodeRecipientCount = "109" // wrong number of phone numbers
)

// Documented limits, counted in characters (see spec x-innopaas-business-rules).
const (
	MaxWhatsAppUID  = 32   // msg/submit uid
	MaxWhatsAppText = 3000 // msg/submit text body (the error table's figure)
)

// CheckLength refuses a value longer than max characters with code.
func CheckLength(field, value string, max int, code string) error {
	if n := utf8.RuneCountInString(value); n > max {
		return &BusinessError{Code: code, Field: field,
			Message: fmt.Sprintf("%s: %d characters; at most %d are allowed", field, n, max)}
	}
	return nil
}

// ParseRecipients splits a comma-separated recipient list and checks each
// number (5 to 20 digits) and the count (1 to 1000).
func ParseRecipients(field, list string) ([]string, error) {
	parts := strings.Split(list, ",")
	if len(parts) > MaxRecipients {
		return nil, &BusinessError{Code: CodeRecipientCount, Field: field,
			Message: fmt.Sprintf("%s: %d numbers given; at most %d are allowed", field, len(parts), MaxRecipients)}
	}
	out := make([]string, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if !isNumber(p, 5, 20) {
			return nil, &BusinessError{Code: CodeBadNumber, Field: field,
				Message: fmt.Sprintf("%s: number %d (%q) must be 5 to 20 digits: country code and number, no + or spaces", field, i+1, p)}
		}
		out = append(out, p)
	}
	return out, nil
}

func isNumber(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// WhatsAppSend is an accepted send request's fields the domain needs.
type WhatsAppSend struct {
	WabaID      string
	MessageType string
	SendNumber  string
	Recipients  []string
	UID         string
	Request     []byte // the body as received
}

// envelopeStart writes the WhatsApp envelope up to the body object's
// opening brace; the caller writes the body's members and closes twice.
func envelopeStart(w *jsonw, e *Event) {
	w.open()
	w.field("id", e.ID)
	w.field("type", e.Type)
	w.field("eventTime", e.DueAt.UTC().Format(eventTimeLayout))
	w.obj("body")
	w.comma = false
}

// statusReport is one whatsapp_message_status_updated body.
type statusReport struct {
	MessageID, AccountName, WabaID, Status, Wamid, SendPhone, UID string
	ConversationExpireAt                                          string // set for delivered
	ErrorCode, ErrorMessage                                       string // set for failed
}

func marshalStatus(e *Event, r statusReport) {
	// Sized to the payload (fixed text plus the values), since events are
	// kept in the delivery log.
	n := 330 + len(r.AccountName) + len(r.WabaID) + len(r.Wamid) + len(r.SendPhone) + len(r.UID) + len(r.ErrorMessage)
	w := jsonw{b: make([]byte, 0, n)}
	envelopeStart(&w, e)
	w.field("id", r.MessageID)
	w.field("accountName", r.AccountName)
	w.field("wabaId", r.WabaID)
	w.field("status", r.Status)
	w.field("wamid", r.Wamid)
	w.field("sendPhone", r.SendPhone)
	w.fieldIf("uid", r.UID)
	if r.ConversationExpireAt != "" {
		w.obj("conversation")
		w.comma = false
		w.field("initiateType", "business_initiated")
		w.field("expireAt", r.ConversationExpireAt)
		w.close()
	}
	if r.ErrorCode != "" {
		w.obj("errorData")
		w.comma = false
		w.field("errorCode", r.ErrorCode)
		w.field("errorMessage", r.ErrorMessage)
		w.close()
	}
	w.close()
	w.close()
	e.Payload = w.b
}

// webhookFor returns the app's webhook for a product, nil when none.
func (s *Sandbox) webhookFor(ctx context.Context, appKey, product string) (*Webhook, error) {
	w, err := s.store.GetWebhook(ctx, appKey, product)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &w, nil
}

// applyRoute sets where e goes given the app's webhook w (nil: none).
func applyRoute(e *Event, appKey, how string, w *Webhook) {
	routeFor(appKey, how, e.Product, e.Type, w).apply(e)
}

// routing is where events of one type from one app go; a send computes it
// once for all its reports.
type routing struct {
	appKey, how string
	status      EventStatus
	reason      string
	target      *Target
	chaos       *chaosTag
}

func routeFor(appKey, how, product, typ string, w *Webhook) routing {
	r := routing{appKey: appKey, how: how}
	switch {
	case w == nil:
		r.status, r.reason = EventDropped, fmt.Sprintf("app %s has no %s webhook configured", appKey, product)
	case !slices.Contains(w.Events, typ):
		r.status, r.reason = EventDropped, fmt.Sprintf("app %s's %s webhook does not subscribe to %s", appKey, product, typ)
	default:
		r.status = EventPending
		r.target = &Target{URL: w.URL, Method: w.Method, Username: w.Username, Authorization: w.Authorization, Retry: w.Retry}
		r.chaos = tagFor(w)
	}
	return r
}

func (r routing) apply(e *Event) {
	e.AppKey, e.Route, e.Status, e.Reason = r.appKey, r.how, r.status, r.reason
	if r.target != nil {
		t := *r.target
		e.Target = &t
	}
	e.chaos = r.chaos
}

// SubmitWhatsApp accepts a send: it records the message, binds the sending
// number to the app if it is unbound, and schedules each recipient's status
// reports (delivered, then read) for the sending app's webhook, all in one
// transaction. Reports are routed when the message is accepted.
func (s *Sandbox) SubmitWhatsApp(ctx context.Context, p Principal, send WhatsAppSend) (Message, error) {
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
	for i := range msg.Wamids {
		msg.Wamids[i] = NewWamid()
	}
	bind := &Binding{Account: p.Account.Name, Kind: BindNumber, Value: send.SendNumber, AppKey: p.App.Key, CreatedAt: msg.CreatedAt}
	for tries := 0; ; tries++ {
		msg.ID = NewMessageID(s.clock.Now())
		err = s.store.RecordSubmission(ctx, Submission{Message: msg, BindSender: bind, Events: s.statusReports(p, msg, hook)})
		// A replica sharing the database may have drawn the same
		// time-ordered id in the same millisecond: draw again.
		if !errors.Is(err, ErrConflict) || tries == 3 {
			break
		}
	}
	if err != nil {
		return Message{}, err
	}
	s.notify()
	return msg, nil
}

// statusReports builds each recipient's delivered and read reports of a
// message, routed to the sending app's webhook (hook, nil when none).
func (s *Sandbox) statusReports(p Principal, msg Message, hook *Webhook) []Event {
	now := s.Now(p.Account)
	route := routeFor(p.App.Key, "sender", ProductWhatsApp, EventWAStatus, hook)
	events := make([]Event, 0, 2*len(msg.Recipients))
	for i, to := range msg.Recipients {
		for _, st := range []struct {
			status string
			after  time.Duration
		}{{"delivered", s.opts.DeliveredAfter}, {"read", s.opts.ReadAfter}} {
			e := s.newEvent(p.Account, EventWAStatus, ProductWhatsApp, now.Add(st.after))
			r := statusReport{MessageID: msg.ID, AccountName: p.Account.Name, WabaID: msg.WabaID, Status: st.status,
				Wamid: msg.Wamids[i], SendPhone: to, UID: msg.UID}
			if st.status == "delivered" {
				r.ConversationExpireAt = e.DueAt.Add(24 * time.Hour).UTC().Format(expireAtLayout)
			}
			marshalStatus(&e, r)
			route.apply(&e)
			events = append(events, e)
		}
	}
	return events
}

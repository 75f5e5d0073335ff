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
	Template    *TemplateUse // for messageType template
	Request     []byte       // the body as received
}

// SessionWindow is how long after a user's last message a business may send
// them anything but a template.
const SessionWindow = 24 * time.Hour

// envelopeStart writes the WhatsApp envelope up to the body object's
// opening brace; the caller writes the body's members and closes twice.
func envelopeStart(w *jsonw, e *Event) {
	envelopeAt(w, e, e.DueAt.UTC().Format(eventTimeLayout))
}

// envelopeAt is envelopeStart with eventTime already formatted (a send's
// reports share a few due times).
func envelopeAt(w *jsonw, e *Event, eventTime string) {
	w.open()
	w.plain("id", e.ID)
	w.plain("type", e.Type)
	w.plain("eventTime", eventTime)
	w.obj("body")
	w.comma = false
}

// statusReport is one whatsapp_message_status_updated body.
type statusReport struct {
	EventTime                                                     string // formatted due time
	MessageID, AccountName, WabaID, Status, Wamid, SendPhone, UID string
	ConversationExpireAt                                          string // set for delivered
	ErrorCode, ErrorMessage                                       string // set for failed
}

func marshalStatus(e *Event, r statusReport) { appendStatus(e, r, nil) }

// statusSize is the length a status report's payload can reach: the fixed
// text plus the values.
func statusSize(r statusReport) int {
	return 330 + len(r.AccountName) + len(r.WabaID) + len(r.Wamid) + len(r.SendPhone) + len(r.UID) + len(r.ErrorMessage)
}

// appendStatus writes a status report's payload into the free capacity of
// buf when it fits (a large send's payloads share one allocation; each is
// capped so that none can grow into the next), else into its own buffer.
// It returns what is left of buf.
func appendStatus(e *Event, r statusReport, buf []byte) []byte {
	n := statusSize(r)
	var w jsonw
	if cap(buf)-len(buf) >= n {
		w.b = buf[len(buf):len(buf)]
	} else {
		w.b = make([]byte, 0, n)
	}
	if r.EventTime == "" {
		r.EventTime = e.DueAt.UTC().Format(eventTimeLayout)
	}
	envelopeAt(&w, e, r.EventTime)
	// Values the sandbox made or validated as digits go out as they are;
	// what a caller chose freely (wabaId, uid, texts) is escaped.
	w.plain("id", r.MessageID)
	w.field("accountName", r.AccountName)
	w.field("wabaId", r.WabaID)
	w.field("status", r.Status)
	w.plain("wamid", r.Wamid)
	w.plain("sendPhone", r.SendPhone)
	w.fieldIf("uid", r.UID)
	if r.ConversationExpireAt != "" {
		w.obj("conversation")
		w.comma = false
		w.plain("initiateType", "business_initiated")
		w.plain("expireAt", r.ConversationExpireAt)
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
	if cap(buf)-len(buf) >= n {
		e.Payload = buf[len(buf) : len(buf)+len(w.b) : len(buf)+len(w.b)]
		return buf[:len(buf)+len(w.b)]
	}
	e.Payload = w.b
	return buf
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
	register, err := s.checkSendNumber(ctx, p.Account, send.WabaID, send.SendNumber)
	if err != nil {
		return Message{}, err
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
	random := randomBatch(wamidRandom * len(msg.Wamids))
	for i := range msg.Wamids {
		msg.Wamids[i] = wamidFrom(random[i*wamidRandom:])
	}
	bind := &Binding{Account: p.Account.Name, Kind: BindNumber, Value: send.SendNumber, AppKey: p.App.Key, CreatedAt: msg.CreatedAt}
	for tries := 0; ; tries++ {
		msg.ID = NewMessageID(s.clock.Now())
		err = s.store.RecordSubmission(ctx, Submission{Message: msg, BindSender: bind, RegisterNumber: register,
			Events: s.statusReports(p, msg, hook)})
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
	events := make([]Event, 0, 2*len(msg.Recipients))
	type report struct {
		status string
		after  time.Duration
	}
	first, second := s.opts.DeliveredAfter, s.opts.ReadAfter
	// A send's reports share two due times: format each once, not per report.
	type timing struct {
		after               time.Duration
		eventTime, expireAt string
	}
	timings := [2]timing{}
	for k, d := range []time.Duration{first, second} {
		due := now.Add(d)
		timings[k] = timing{d, due.UTC().Format(eventTimeLayout), due.Add(24 * time.Hour).UTC().Format(expireAtLayout)}
	}
	timesOf := func(d time.Duration) timing {
		if d == timings[0].after {
			return timings[0]
		}
		return timings[1]
	}
	random := randomBatch(eventIDRandom * 2 * len(msg.Recipients))
	realNow := s.clock.Now()
	sample := statusReport{AccountName: p.Account.Name, WabaID: msg.WabaID, Wamid: "wamid.", SendPhone: "12345678901234567890",
		UID: msg.UID, ErrorMessage: "0123456789012345678901234567890123456789012345678901234567890123456789"}
	payloads := make([]byte, 0, 2*len(msg.Recipients)*(statusSize(sample)+40))
	for i, to := range msg.Recipients {
		magic := Magic(to)
		var plan []report
		switch magic.Kind {
		case MagicFail:
			plan = []report{{"failed", first}}
		case MagicDeliveredNotRead:
			plan = []report{{"delivered", first}}
		case MagicReadBeforeDelivered:
			plan = []report{{"read", first}, {"delivered", second}}
		case MagicSilent:
		case MagicSMECLFailed:
			plan = []report{{"SMECL:FAILED", first}}
		default:
			plan = []report{{"delivered", first}, {"read", second}}
		}
		for j, st := range plan {
			e := s.newEventWith(p.Account, EventWAStatus, ProductWhatsApp, now.Add(st.after), realNow,
				random[(2*i+j)*eventIDRandom:])
			times := timesOf(st.after)
			r := statusReport{EventTime: times.eventTime, MessageID: msg.ID, AccountName: p.Account.Name, WabaID: msg.WabaID,
				Status: st.status, Wamid: msg.Wamids[i], SendPhone: to, UID: msg.UID}
			switch st.status {
			case "delivered":
				r.ConversationExpireAt = times.expireAt
			case "failed":
				r.ErrorCode, r.ErrorMessage = metaError(magic.Code)
			}
			payloads = appendStatus(&e, r, payloads)
			route.apply(&e)
			events = append(events, e)
		}
	}
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

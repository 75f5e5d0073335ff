// Package state is the sandbox's domain: accounts, apps, tokens, webhook
// configurations, number bindings, submitted messages and the events (with
// their delivery state) that InnoPaaS would push. It knows nothing of HTTP.
//
// Time: every account has its own sandbox clock, the real clock plus the
// account's ClockOffset, so parallel users of one sandbox never move each
// other's time. Values a user sees (token expiry, eventTime, dueAt) are in
// sandbox time; Event.NextAttemptAt is in real time, so that the outbox can be
// claimed with one index scan; advancing an account's clock shifts its pending
// events' NextAttemptAt back by the same amount.
package state

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Products that can have webhook configurations.
const (
	ProductWhatsApp = "whatsapp"
	ProductSMS      = "sms"
	ProductOTP      = "otp"
)

// Sentinel errors every Store returns (wrapped, so use errors.Is).
var (
	// ErrNotFound: the named account, app, token, webhook, binding or event does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the thing being created exists already (or is bound elsewhere).
	ErrConflict = errors.New("already exists")
	// ErrUnavailable: the store cannot be reached; the caller should answer 503, never 401.
	ErrUnavailable = errors.New("store unavailable")
)

// NotFound is ErrNotFound naming what was looked for: `app "KEY": not found`.
// Its text is built only when read: a miss ("no webhook configured") is an
// ordinary answer on the hot path.
func NotFound(what, key string) error { return &keyError{what, key, ErrNotFound} }

// Conflict is ErrConflict naming what exists: `app "KEY": already exists`.
func Conflict(what, key string) error { return &keyError{what, key, ErrConflict} }

type keyError struct {
	what, key string
	kind      error // ErrNotFound or ErrConflict
}

func (e *keyError) Error() string { return fmt.Sprintf("%s %q: %v", e.what, e.key, e.kind) }
func (e *keyError) Unwrap() error { return e.kind }

// Account is one InnoPaaS customer account: its apps, its one default app,
// its bindings and its events. Name doubles as the accountName in payloads.
type Account struct {
	Name        string        // "IW" + 7 digits, unique
	Label       string        // free text for people
	DefaultApp  string        // AppKey of the default app, "" when none
	ClockOffset time.Duration // sandbox clock = real clock + ClockOffset
	CreatedAt   time.Time     // real time
}

// App is an InnoPaaS application: an AppKey that owns tokens and webhooks.
type App struct {
	Key       string // 17 letters and digits, unique across accounts
	Account   string
	Name      string
	CreatedAt time.Time // real time
}

// TokenState says whether a token can still authenticate.
type TokenState string

// Token states. Only TokenCurrent authenticates, and only until it expires.
const (
	TokenCurrent    TokenState = "current"
	TokenSuperseded TokenState = "superseded" // a newer token was issued for the app
	TokenRevoked    TokenState = "revoked"    // revoked through the control API
)

// Token is what is kept of an issued token: never the secret, only its SHA-256.
type Token struct {
	Hash      [32]byte
	AppKey    string
	State     TokenState
	IssuedAt  time.Time  // sandbox time of the app's account
	ExpiresAt *time.Time // sandbox time; nil: never expires
	EndedAt   *time.Time // sandbox time it was superseded or revoked
}

// Webhook is one app's callback configuration for one product.
type Webhook struct {
	AppKey        string
	Product       string
	URL           string
	Events        []string
	Method        string       // POST or PUT
	Username      *string      // sent as the UserName header; nil: header absent
	Authorization *string      // sent as the Authorization header; nil: header absent
	Retry         *RetryPolicy // nil: the sandbox's schedule
	Chaos         *Chaos       // nil: deliveries as they come
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Clone returns a copy that shares nothing a caller could change in place
// (stores hand out clones, so that what they keep stays as written).
func (w Webhook) Clone() Webhook {
	w.Events = slices.Clone(w.Events)
	w.Username, w.Authorization = ClonePtr(w.Username), ClonePtr(w.Authorization)
	w.Retry, w.Chaos = ClonePtr(w.Retry), ClonePtr(w.Chaos)
	return w
}

// ClonePtr returns a pointer to a copy of *p, or nil.
func ClonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// RetryPolicy overrides the sandbox's retry schedule for one webhook.
type RetryPolicy struct {
	MaxAttempts int           // attempts in all, the first included
	Initial     time.Duration // wait after the first failure
	Multiplier  float64       // growth of the wait per further failure
	MaxInterval time.Duration // cap on one wait
}

// Chaos makes a webhook's deliveries misbehave on purpose, so that a
// receiver can prove it is idempotent and order-tolerant. Decisions come
// from a generator seeded with Seed, so a sequential run repeats exactly.
type Chaos struct {
	Seed      int64
	Delay     time.Duration // each event is delayed by up to this much
	Duplicate float64       // probability an event is delivered twice (same id)
	Reorder   float64       // probability a send's reports come in reverse order
	Drop      float64       // probability the first attempt is lost and redelivered
}

// EventChaos is what chaos decided for one event.
type EventChaos struct {
	Duplicate bool // deliver once more after a successful delivery
	Drop      bool // lose the first attempt (recorded, not sent), then redeliver
}

// BindingKind says what a binding attaches to an app.
type BindingKind string

// Binding kinds.
const (
	BindNumber BindingKind = "number" // a business (sender) phone number
	BindWABA   BindingKind = "waba"   // a WhatsApp Business Account id
)

// Binding attaches a business number or WABA id to an app, so that inbound
// events for it are routed to that app. Values are unique per account.
type Binding struct {
	Account   string
	Kind      BindingKind
	Value     string
	AppKey    string
	CreatedAt time.Time
}

// Message is one accepted send request.
type Message struct {
	ID          string // 18 digits, returned as data
	Account     string
	AppKey      string
	Product     string
	MessageType string
	WabaID      string
	SendNumber  string
	Recipients  []string
	Wamids      []string // Meta message id per recipient, same order as Recipients
	UID         string
	Request     []byte // the request body as received (JSON)
	CreatedAt   time.Time
}

// EventStatus is where an event is in its delivery.
type EventStatus string

// Event statuses.
const (
	EventPending   EventStatus = "pending"   // waiting for its first or next attempt
	EventDelivered EventStatus = "delivered" // a 2xx answer was received
	EventFailed    EventStatus = "failed"    // attempts exhausted or 410 Gone: a dead letter
	EventDropped   EventStatus = "dropped"   // never pushed: no app, no webhook, event not subscribed
)

// Target is where and how an event is pushed: a snapshot of the webhook
// configuration taken when the event was routed, kept across retries.
type Target struct {
	URL           string
	Method        string
	Username      *string
	Authorization *string
	Retry         *RetryPolicy // nil: the sandbox's schedule
}

// Event is one push InnoPaaS would make, together with its delivery state
// (the outbox row). One event has at most one target, because an app has at
// most one webhook configuration per product.
type Event struct {
	ID            string // the payload's event id; kept across retries and replays
	Account       string
	Type          string
	Product       string
	AppKey        string // the app it was routed to; "" when no app matched
	Route         string // how the app was chosen, e.g. "sender", "binding:number", "default-app"
	Status        EventStatus
	Reason        string // why dropped or failed; last error while pending
	Payload       []byte // JSON, exactly what is sent
	Target        *Target
	Chaos         *EventChaos // nil: no chaos
	Attempts      int
	DueAt         time.Time // sandbox time of the first attempt (the event's eventTime)
	NextAttemptAt time.Time // real time of the next attempt, while pending
	LeaseOwner    string    // dispatcher holding a claim on it
	LeaseUntil    time.Time // real time the claim ends
	CreatedAt     time.Time // real time
	UpdatedAt     time.Time // real time

	// chaos is set by routing when the webhook asks for chaos, and used up
	// when the event is written (chaos.go); stores never see it.
	chaos *chaosTag
}

// Attempt records one try at pushing an event.
type Attempt struct {
	EventID         string
	N               int       // 1 for the first attempt
	StartedAt       time.Time // real time
	Latency         time.Duration
	Method          string
	URL             string
	RequestHeaders  map[string][]string
	RequestBody     []byte
	ResponseStatus  int // 0 when no answer was received
	ResponseHeaders map[string][]string
	ResponseBody    []byte // an excerpt
	Error           string
	Outcome         string // "delivered", "retry", "failed" or "gone"
}

// AttemptResult is what the dispatcher decided after an attempt.
type AttemptResult struct {
	Attempt       Attempt
	Owner         string      // the lease owner recording it; a stale owner's result is refused
	Status        EventStatus // EventPending (retry), EventDelivered or EventFailed
	NextAttemptAt time.Time   // real time, when Status is EventPending
	Reason        string
}

// EventFilter narrows ListEvents. Empty fields match everything.
type EventFilter struct {
	Account string
	AppKey  string
	Type    string
	Status  EventStatus
	// MessageID keeps the events whose payload carries it as a string
	// value: a send's status reports name its message id (WhatsApp's body.id,
	// SMS's msgid) and each recipient's wamid (PayloadMentions).
	MessageID string
	// Since keeps the events created at or after it (real time).
	Since time.Time
	Limit int // 0: DefaultEventLimit
}

// PayloadMentions says whether a JSON payload carries id as a string value
// (or key): the quoted id appears in it. Ids are made of letters, digits
// and punctuation that JSON does not escape, so the quoted form is exact.
// The SQL stores run the same test on the payload column.
func PayloadMentions(payload []byte, id string) bool {
	return bytes.Contains(payload, QuotedID(id))
}

// QuotedID is id as it appears in a JSON payload: between double quotes.
func QuotedID(id string) []byte { return []byte(`"` + id + `"`) }

// DefaultEventLimit is how many events ListEvents returns when the filter
// sets no Limit.
const DefaultEventLimit = 100

// Submission is an accepted send with everything it causes, written at once.
type Submission struct {
	Message Message
	// BindSender, when set, binds the sending number to the sending app
	// unless that number is bound already.
	BindSender *Binding
	// RegisterNumber, when set, records the sending number as a number of
	// the WABA unless it is one already.
	RegisterNumber *WabaNumber
	Events         []Event
}

// TemplateStatus is where a template is in its review.
type TemplateStatus string

// Template statuses (the documented templateStatus values).
const (
	TemplatePending  TemplateStatus = "PENDING"
	TemplateApproved TemplateStatus = "APPROVED"
	TemplateRejected TemplateStatus = "REJECTED"
	TemplatePaused   TemplateStatus = "PAUSED"
	TemplateDisabled TemplateStatus = "DISABLED"
)

// Template is a WhatsApp message template of a WABA. It is PENDING until
// ReviewAt (the account's sandbox time), then Status.
type Template struct {
	Account      string
	WabaID       string
	Name         string
	Language     string
	Category     string         // MARKETING, AUTHENTICATION or UTILITY
	TemplateID   string         // InnoPaaS's id, 32 hex digits
	SID          string         // Meta's id (the status event's templateId)
	AppKey       string         // the app that submitted it; "" when seeded
	BodyParams   int            // variables {{n}} in the body
	HeaderParams int            // variables in a text header (0 or 1)
	Status       TemplateStatus // the status once reviewed
	Reason       string         // why rejected, paused or disabled; "NONE" when approved
	ReviewAt     time.Time      // sandbox time the review ends
	Request      []byte         // the template/submit body, when submitted
	CreatedAt    time.Time      // real time
	UpdatedAt    time.Time      // real time
}

// StatusAt is the template's status at sandbox time now.
func (t Template) StatusAt(now time.Time) TemplateStatus {
	if now.Before(t.ReviewAt) {
		return TemplatePending
	}
	return t.Status
}

// WabaNumber is a sending number of a WhatsApp Business Account.
type WabaNumber struct {
	Account   string
	WabaID    string
	Number    string
	CreatedAt time.Time
}

package state

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/internal/clock"
)

// ErrInvalid marks a request the domain refuses; InvalidError says which field.
var ErrInvalid = errors.New("invalid")

// InvalidError is a refusal that names the field and the rule broken.
type InvalidError struct {
	Field   string // JSON pointer of the field, e.g. "/url"
	Message string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// EventCatalog tells which event types each product has; the contract
// (spec package) implements it, so state stays free of OpenAPI.
type EventCatalog interface {
	EventTypes(product string) []string
}

// Options tunes a Sandbox. Zero values take the defaults in parentheses.
type Options struct {
	// DeliveredAfter is how long after a send its "delivered" report comes (1s).
	DeliveredAfter time.Duration
	// ReadAfter is how long after a send its "read" report comes (3s).
	ReadAfter time.Duration
	// DefaultAccount is the account used when a call names none (the seed's).
	DefaultAccount string
	// TemplateReview is how long a submitted template stays PENDING (10s).
	TemplateReview time.Duration
	// NoSessionWindow accepts non-template messages outside the 24 hours
	// after the user's last message (WhatsApp refuses them; off by default).
	NoSessionWindow bool
	// Quotas bound what each account may own (none when zero).
	Quotas Quotas
	// Signing configures signed requests (signing.go).
	Signing SigningOptions
	// CheckDestination refuses a push URL whose host is an address the
	// sandbox may not push to, when it is configured (a webhook's url, an
	// SMS callBackUrl); its message says why. Nil allows every URL.
	CheckDestination func(rawURL string) error
}

// Sandbox is the domain service: every rule of the sandbox, on top of a Store.
type Sandbox struct {
	store   Store
	clock   clock.Clock
	catalog EventCatalog
	opts    Options
	notify  func() // called after events come due earlier than planned
}

// New returns a Sandbox over store. notify, if not nil, is called whenever
// events were added or moved so that a dispatcher should look again.
func New(store Store, clk clock.Clock, catalog EventCatalog, opts Options, notify func()) *Sandbox {
	if opts.DeliveredAfter == 0 {
		opts.DeliveredAfter = time.Second
	}
	if opts.ReadAfter == 0 {
		opts.ReadAfter = 3 * time.Second
	}
	if opts.TemplateReview == 0 {
		opts.TemplateReview = 10 * time.Second
	}
	if notify == nil {
		notify = func() {}
	}
	// Events are written through chaosStore, which applies each webhook's
	// chaos settings to them (chaos.go).
	return &Sandbox{store: chaosStore{Store: store, book: &chaosBook{}}, clock: clk, catalog: catalog, opts: opts, notify: notify}
}

// Store returns the store the sandbox writes through: the one given to New,
// wrapped so that events written get their webhook's chaos (chaos.go).
func (s *Sandbox) Store() Store { return s.store }

// Options returns the options in force, defaults filled in (the dashboard
// places a send's acceptance on its timeline with DeliveredAfter).
func (s *Sandbox) Options() Options { return s.opts }

// DefaultAccount is the account used when a call names none.
func (s *Sandbox) DefaultAccount() string { return s.opts.DefaultAccount }

// Now returns the account's sandbox time.
func (s *Sandbox) Now(a Account) time.Time { return s.clock.Now().Add(a.ClockOffset) }

// RealNow returns the real time (the clock without any account's offset).
func (s *Sandbox) RealNow() time.Time { return s.clock.Now() }

// ---------------------------------------------------------------- accounts

// CreateAccount creates an account; name "" draws a fresh one.
func (s *Sandbox) CreateAccount(ctx context.Context, name, label string) (Account, error) {
	a := Account{Name: name, Label: label, CreatedAt: s.clock.Now()}
	if name != "" {
		return a, s.store.CreateAccount(ctx, a)
	}
	for range 10 {
		a.Name = NewAccountName()
		err := s.store.CreateAccount(ctx, a)
		if !errors.Is(err, ErrConflict) {
			return a, err
		}
	}
	return Account{}, fmt.Errorf("could not draw an unused account name: %w", ErrConflict)
}

// IssueAccountToken gives the account a new control token and returns it;
// the one it had stops working. Only its hash is kept, so this is the one
// time it can be shown.
func (s *Sandbox) IssueAccountToken(ctx context.Context, account string) (string, error) {
	plain := NewAccountToken()
	return plain, s.store.SetAccountToken(ctx, account, HashToken(plain))
}

// AccountOfToken names the account a control token belongs to; ErrNotFound
// when it belongs to none (never issued, rotated, or its account deleted).
func (s *Sandbox) AccountOfToken(ctx context.Context, plain string) (string, error) {
	return s.store.AccountByTokenHash(ctx, HashToken(plain))
}

// ResolveAccount returns the named account, or the default one for "".
func (s *Sandbox) ResolveAccount(ctx context.Context, name string) (Account, error) {
	if name == "" {
		name = s.opts.DefaultAccount
	}
	return s.store.GetAccount(ctx, name)
}

// MaxClockOffset bounds how far an account's sandbox clock may run from
// real time, either way. time.Duration reaches only about 292 years, so
// without a bound a clock moved far enough would saturate (PUT answered a
// time other than the one asked for) or wrap around (two advances into
// the future landed in the past).
const MaxClockOffset = 100 * 365 * 24 * time.Hour

// AdvanceClock moves the account's sandbox clock forward by d (d > 0).
func (s *Sandbox) AdvanceClock(ctx context.Context, account string, d time.Duration) (Account, error) {
	if d <= 0 {
		return Account{}, invalid("/by", "must be a positive duration, got %s", d)
	}
	a, err := s.store.GetAccount(ctx, account)
	if err != nil {
		return Account{}, err
	}
	if d > MaxClockOffset-a.ClockOffset {
		return Account{}, invalid("/by", "%s would take the sandbox clock (now %s) more than 100 years past real time",
			d, s.Now(a).Format(time.RFC3339))
	}
	a, err = s.store.ShiftClock(ctx, account, d)
	if err == nil {
		s.notify()
	}
	return a, err
}

// SetClock moves the account's sandbox clock to t (forward or back), at
// most MaxClockOffset from real time.
func (s *Sandbox) SetClock(ctx context.Context, account string, t time.Time) (Account, error) {
	a, err := s.store.GetAccount(ctx, account)
	if err != nil {
		return Account{}, err
	}
	if off := t.Sub(s.clock.Now()); off > MaxClockOffset || off < -MaxClockOffset {
		return Account{}, invalid("/now", "%s is more than 100 years from real time", t.UTC().Format(time.RFC3339))
	}
	a, err = s.store.ShiftClock(ctx, account, t.Sub(s.Now(a)))
	if err == nil {
		s.notify()
	}
	return a, err
}

// -------------------------------------------------------------------- apps

// CreateApp adds an app to an account; appKey "" draws a fresh one.
func (s *Sandbox) CreateApp(ctx context.Context, account, name, appKey string, makeDefault bool) (App, error) {
	if strings.TrimSpace(name) == "" {
		return App{}, invalid("/name", "must not be empty")
	}
	if err := s.checkQuota(ctx, account, ResourceApps, 1); err != nil {
		return App{}, err
	}
	app := App{Key: appKey, Account: account, Name: name, CreatedAt: s.clock.Now()}
	var err error
	if appKey != "" {
		err = s.store.CreateApp(ctx, app)
	} else {
		for range 10 {
			app.Key = NewAppKey()
			if err = s.store.CreateApp(ctx, app); !errors.Is(err, ErrConflict) {
				break
			}
		}
	}
	if err != nil {
		return App{}, err
	}
	if makeDefault {
		if err := s.store.SetDefaultApp(ctx, account, app.Key); err != nil {
			return App{}, err
		}
	}
	return app, nil
}

// ------------------------------------------------------------------ tokens

// AuthReason says why a request failed authentication; "" means it passed.
type AuthReason string

// Why authentication fails. Reported only in the sandbox-only header
// X-Sandbox-Auth-Reason; every one of them gets the same response body.
const (
	ReasonAppKeyUnknown   AuthReason = "appkey-unknown"
	ReasonTokenInvalid    AuthReason = "token-invalid"
	ReasonTokenOtherApp   AuthReason = "token-other-app"
	ReasonTokenSuperseded AuthReason = "token-superseded"
	ReasonTokenRevoked    AuthReason = "token-revoked"
	ReasonTokenExpired    AuthReason = "token-expired"
	ReasonBearerPrefix    AuthReason = "token-bearer-prefix"
)

// Principal is who an authenticated request acts as.
type Principal struct {
	App     App
	Account Account
}

// Authenticate checks an AppKey and a token. It returns the principal, or a
// reason when they do not identify an app and its current, unexpired token.
// The token is compared as a SHA-256 hash in constant time; it is never kept.
func (s *Sandbox) Authenticate(ctx context.Context, appKey, token string) (Principal, AuthReason, error) {
	app, acct, current, ok, err := s.store.AuthContext(ctx, appKey)
	if errors.Is(err, ErrNotFound) {
		return Principal{}, ReasonAppKeyUnknown, nil
	}
	if err != nil {
		return Principal{}, "", err
	}
	if len(token) > 7 && strings.EqualFold(token[:7], "Bearer ") {
		return Principal{}, ReasonBearerPrefix, nil
	}
	hash := HashToken(token)
	if ok && subtle.ConstantTimeCompare(hash[:], current.Hash[:]) == 1 {
		if current.ExpiresAt != nil && !s.Now(acct).Before(*current.ExpiresAt) {
			return Principal{}, ReasonTokenExpired, nil
		}
		return Principal{App: app, Account: acct}, "", nil
	}
	// Failed: find out why, for the developer's eyes only.
	t, err := s.store.TokenByHash(ctx, hash)
	switch {
	case errors.Is(err, ErrNotFound):
		return Principal{}, ReasonTokenInvalid, nil
	case err != nil:
		return Principal{}, "", err
	case t.AppKey != appKey:
		return Principal{}, ReasonTokenOtherApp, nil
	case t.State == TokenRevoked:
		return Principal{}, ReasonTokenRevoked, nil
	default:
		return Principal{}, ReasonTokenSuperseded, nil
	}
}

// IssueToken issues a new token for an app, invalidating every earlier one.
// expiresAt nil: never expires; it must lie after the account's now. The
// plain token is returned once and only its hash is stored.
func (s *Sandbox) IssueToken(ctx context.Context, appKey string, expiresAt *time.Time) (string, Token, error) {
	app, err := s.store.GetApp(ctx, appKey)
	if err != nil {
		return "", Token{}, err
	}
	acct, err := s.store.GetAccount(ctx, app.Account)
	if err != nil {
		return "", Token{}, err
	}
	now := s.Now(acct)
	if expiresAt != nil && !expiresAt.After(now) {
		return "", Token{}, invalid("/expiresAt", "%s is not in the future (the account's clock reads %s)",
			expiresAt.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
	}
	plain := NewToken()
	t, err := s.storeToken(ctx, appKey, plain, now, expiresAt)
	return plain, t, err
}

// InstallToken makes a known token the app's current one (used by the seed,
// whose demo credentials are fixed so that docs and scripts can rely on them).
func (s *Sandbox) InstallToken(ctx context.Context, appKey, plain string, expiresAt *time.Time) error {
	app, err := s.store.GetApp(ctx, appKey)
	if err != nil {
		return err
	}
	acct, err := s.store.GetAccount(ctx, app.Account)
	if err != nil {
		return err
	}
	_, err = s.storeToken(ctx, appKey, plain, s.Now(acct), expiresAt)
	return err
}

func (s *Sandbox) storeToken(ctx context.Context, appKey, plain string, now time.Time, expiresAt *time.Time) (Token, error) {
	var exp *time.Time
	if expiresAt != nil {
		e := expiresAt.UTC()
		exp = &e
	}
	t := Token{Hash: HashToken(plain), AppKey: appKey, State: TokenCurrent, IssuedAt: now, ExpiresAt: exp}
	if err := s.checkAppQuota(ctx, appKey, ResourceTokens); err != nil {
		return Token{}, err
	}
	return t, s.store.IssueToken(ctx, t)
}

// TokenStatus describes an app's token for display: current, expired or none.
func (s *Sandbox) TokenStatus(ctx context.Context, appKey string) (string, *Token, error) {
	_, acct, cur, ok, err := s.store.AuthContext(ctx, appKey)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return "none", nil, nil
	}
	if cur.ExpiresAt != nil && !s.Now(acct).Before(*cur.ExpiresAt) {
		return "expired", &cur, nil
	}
	return "current", &cur, nil
}

// IsExpired tells whether a token has expired on the account's clock.
func (s *Sandbox) IsExpired(t Token, a Account) bool {
	return t.ExpiresAt != nil && !s.Now(a).Before(*t.ExpiresAt)
}

// RevokeToken revokes the app's current token.
func (s *Sandbox) RevokeToken(ctx context.Context, appKey string) error {
	app, err := s.store.GetApp(ctx, appKey)
	if err != nil {
		return err
	}
	acct, err := s.store.GetAccount(ctx, app.Account)
	if err != nil {
		return err
	}
	return s.store.RevokeToken(ctx, appKey, s.Now(acct))
}

// ---------------------------------------------------------------- webhooks

// Methods a webhook may use. GET is refused: InnoPaaS does not document how a
// JSON payload would travel in a GET, and guessing would mislead integrators.
var webhookMethods = []string{"POST", "PUT"}

// NormalizeWebhook checks a configuration and fills defaults; the error names
// the field and the rule.
func (s *Sandbox) NormalizeWebhook(w Webhook) (Webhook, error) {
	if !slices.Contains([]string{ProductWhatsApp, ProductSMS, ProductOTP}, w.Product) {
		return w, invalid("/product", "%q is not a product; use whatsapp, sms or otp", w.Product)
	}
	if err := checkWebhookURL(w.URL); err != nil {
		return w, err
	}
	if err := s.checkDestination("/url", w.URL); err != nil {
		return w, err
	}
	if len(w.Events) == 0 {
		return w, invalid("/events", "must name at least one event type")
	}
	known := s.catalog.EventTypes(w.Product)
	for i, e := range w.Events {
		if !slices.Contains(known, e) {
			if len(known) == 0 {
				return w, invalid(fmt.Sprintf("/events/%d", i), "%q: the contract describes no events for product %s yet", e, w.Product)
			}
			return w, invalid(fmt.Sprintf("/events/%d", i), "%q is not a %s event type; known: %s", e, w.Product, strings.Join(known, ", "))
		}
		if slices.Index(w.Events, e) != i {
			return w, invalid(fmt.Sprintf("/events/%d", i), "%q is listed twice", e)
		}
	}
	w.Method = strings.ToUpper(strings.TrimSpace(w.Method))
	if w.Method == "" {
		w.Method = "POST"
	}
	if w.Method == "GET" {
		return w, invalid("/method", "GET is not supported: InnoPaaS does not document how a JSON payload is sent in a GET; use POST or PUT")
	}
	if !slices.Contains(webhookMethods, w.Method) {
		return w, invalid("/method", "%q is not supported; use POST (the default) or PUT", w.Method)
	}
	for _, h := range []struct {
		field string
		v     *string
	}{{"/username", w.Username}, {"/authorization", w.Authorization}} {
		if h.v != nil && (*h.v == "" || strings.ContainsAny(*h.v, "\r\n\x00")) {
			return w, invalid(h.field, "must be a non-empty header value without CR, LF or NUL; omit it to send no header")
		}
	}
	if err := checkRetry(w.Retry); err != nil {
		return w, err
	}
	if err := checkChaos(w.Chaos); err != nil {
		return w, err
	}
	return w, nil
}

// checkWebhookURL refuses URLs a webhook cannot use: only http and https
// with a host.
func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("/url", "not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return invalid("/url", "scheme %q is not allowed; use http or https", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return invalid("/url", "has no host")
	}
	if u.Fragment != "" {
		return invalid("/url", "must not have a fragment (#%s)", u.Fragment)
	}
	return nil
}

// checkDestination applies Options.CheckDestination to a URL, naming field.
func (s *Sandbox) checkDestination(field, raw string) error {
	if s.opts.CheckDestination == nil {
		return nil
	}
	if err := s.opts.CheckDestination(raw); err != nil {
		return invalid(field, "%v", err)
	}
	return nil
}

// CreateWebhook validates and stores an app's configuration for a product.
func (s *Sandbox) CreateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	if _, err := s.store.GetApp(ctx, w.AppKey); err != nil {
		return Webhook{}, err
	}
	w, err := s.NormalizeWebhook(w)
	if err != nil {
		return Webhook{}, err
	}
	if err := s.checkAppQuota(ctx, w.AppKey, ResourceWebhooks); err != nil {
		return Webhook{}, err
	}
	w.CreatedAt = s.clock.Now()
	w.UpdatedAt = w.CreatedAt
	return w, s.store.CreateWebhook(ctx, w)
}

// UpdateWebhook validates and replaces an app's configuration for a product.
func (s *Sandbox) UpdateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	old, err := s.store.GetWebhook(ctx, w.AppKey, w.Product)
	if err != nil {
		return Webhook{}, err
	}
	w, err = s.NormalizeWebhook(w)
	if err != nil {
		return Webhook{}, err
	}
	w.CreatedAt = old.CreatedAt
	w.UpdatedAt = s.clock.Now()
	return w, s.store.UpdateWebhook(ctx, w)
}

// ---------------------------------------------------------------- bindings

// Bind attaches a number or WABA id to an app.
func (s *Sandbox) Bind(ctx context.Context, appKey string, kind BindingKind, value string) (Binding, error) {
	app, err := s.store.GetApp(ctx, appKey)
	if err != nil {
		return Binding{}, err
	}
	if kind != BindNumber && kind != BindWABA {
		return Binding{}, invalid("/kind", "%q is not a binding kind; use number or waba", kind)
	}
	if existing, err := s.store.FindBinding(ctx, app.Account, kind, value); err == nil {
		return Binding{}, fmt.Errorf("%s %s is bound to app %s already: %w", kind, value, existing.AppKey, ErrConflict)
	}
	if err := s.checkQuota(ctx, app.Account, ResourceBindings, 1); err != nil {
		return Binding{}, err
	}
	b := Binding{Account: app.Account, Kind: kind, Value: value, AppKey: appKey, CreatedAt: s.clock.Now()}
	return b, s.store.CreateBinding(ctx, b)
}

// Unbind removes an app's binding of a number or WABA id.
func (s *Sandbox) Unbind(ctx context.Context, appKey string, kind BindingKind, value string) error {
	app, err := s.store.GetApp(ctx, appKey)
	if err != nil {
		return err
	}
	b, err := s.store.FindBinding(ctx, app.Account, kind, value)
	if err != nil {
		return err
	}
	if b.AppKey != appKey {
		return fmt.Errorf("%s %s is bound to another app: %w", kind, value, ErrNotFound)
	}
	return s.store.DeleteBinding(ctx, app.Account, kind, value)
}

// ----------------------------------------------------------------- routing

// route sends e to an app: to its webhook for the product if that webhook
// subscribes to the event type, else nowhere (with the reason).
func (s *Sandbox) route(ctx context.Context, e *Event, appKey, how string) error {
	w, err := s.webhookFor(ctx, appKey, e.Product)
	if err != nil {
		return err
	}
	applyRoute(e, appKey, how, w)
	return nil
}

// routeUnmatched finds the app for an event that names no app: the app bound
// to the business number, else to the WABA, else the default app.
func (s *Sandbox) routeUnmatched(ctx context.Context, e *Event, acct Account, number, waba string) error {
	if number != "" {
		if b, err := s.store.FindBinding(ctx, acct.Name, BindNumber, number); err == nil {
			return s.route(ctx, e, b.AppKey, "binding:number")
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if waba != "" {
		if b, err := s.store.FindBinding(ctx, acct.Name, BindWABA, waba); err == nil {
			return s.route(ctx, e, b.AppKey, "binding:waba")
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if acct.DefaultApp != "" {
		return s.route(ctx, e, acct.DefaultApp, "default-app")
	}
	e.Status = EventDropped
	e.Reason = fmt.Sprintf("no app is bound to number %s or WABA %s, and account %s has no default app", orNone(number), orNone(waba), acct.Name)
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// newEvent prepares an event of the account due at sandbox time 'due'.
func (s *Sandbox) newEvent(acct Account, typ, product string, due time.Time) Event {
	return s.newEventWith(acct, typ, product, due, s.clock.Now(), randomBatch(eventIDRandom))
}

// newEventWith is newEvent with the real time and the id's random bytes
// given, for sends that make thousands of events at once.
func (s *Sandbox) newEventWith(acct Account, typ, product string, due, now time.Time, random []byte) Event {
	return Event{
		ID: eventIDFrom(now, random), Account: acct.Name, Type: typ, Product: product,
		DueAt: due, NextAttemptAt: due.Add(-acct.ClockOffset), CreatedAt: now, UpdatedAt: now,
	}
}

// ------------------------------------------------------------------ events

// ListEvents lists an account's events.
func (s *Sandbox) ListEvents(ctx context.Context, f EventFilter) ([]Event, error) {
	return s.store.ListEvents(ctx, f)
}

// Replay queues a delivered or failed event again, due now, with its id.
func (s *Sandbox) Replay(ctx context.Context, id string) (Event, error) {
	e, _, err := s.store.GetEvent(ctx, id)
	if err != nil {
		return Event{}, err
	}
	if e.Status != EventDelivered && e.Status != EventFailed {
		return Event{}, fmt.Errorf("event %s is %s; only delivered or failed events can be replayed: %w", id, e.Status, ErrConflict)
	}
	if err := s.checkQuota(ctx, e.Account, ResourcePending, 1); err != nil {
		return Event{}, err
	}
	if err := s.store.Requeue(ctx, id, s.clock.Now()); err != nil {
		return Event{}, err
	}
	s.notify()
	e, _, err = s.store.GetEvent(ctx, id)
	return e, err
}

// ReplayDeadLetters queues every dead letter (failed delivery) of an app
// again, due now, each with its event id, and returns them as queued.
// ErrNotFound when the app does not exist. Deliveries that fail again while
// this runs are not replayed twice.
func (s *Sandbox) ReplayDeadLetters(ctx context.Context, appKey string) ([]Event, error) {
	app, err := s.store.GetApp(ctx, appKey)
	if err != nil {
		return nil, err
	}
	const page = 500
	seen := map[string]bool{}
	var out []Event
	for {
		list, err := s.store.ListEvents(ctx, EventFilter{Account: app.Account, AppKey: appKey, Status: EventFailed, Limit: page})
		if err != nil {
			return out, err
		}
		fresh := 0
		for _, e := range list {
			if seen[e.ID] {
				continue
			}
			seen[e.ID] = true
			fresh++
			if err := s.checkQuota(ctx, e.Account, ResourcePending, 1); err != nil {
				return out, err
			}
			if err := s.store.Requeue(ctx, e.ID, s.clock.Now()); err != nil {
				if errors.Is(err, ErrNotFound) {
					continue // replayed or removed meanwhile
				}
				return out, err
			}
			e.Status, e.Reason, e.NextAttemptAt = EventPending, "", s.clock.Now()
			out = append(out, e)
		}
		if len(out) > 0 {
			s.notify()
		}
		if len(list) < page || fresh == 0 {
			return out, nil
		}
	}
}

// Reset wipes every account.
func (s *Sandbox) Reset(ctx context.Context) error { return s.store.Reset(ctx) }

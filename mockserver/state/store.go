package state

import (
	"context"
	"time"
)

// Store keeps the sandbox's state. Implementations: memstore (throw-away,
// in process), sqlite (the embedded default, one file) and postgres (shared
// by several replicas). They must behave identically; storetest.Run holds
// them to it.
//
// Every method is atomic. Methods that create return ErrConflict when the key
// exists; methods that read, change or delete return ErrNotFound when it does
// not. A store that cannot be reached returns an error wrapping ErrUnavailable.
type Store interface {
	// CreateAccount adds an account; its name must be unused.
	CreateAccount(ctx context.Context, a Account) error
	// GetAccount returns one account.
	GetAccount(ctx context.Context, name string) (Account, error)
	// ListAccounts returns all accounts ordered by name.
	ListAccounts(ctx context.Context) ([]Account, error)
	// DeleteAccount removes an account and everything it owns: apps, tokens,
	// webhooks, bindings, messages, events and attempts.
	DeleteAccount(ctx context.Context, name string) error
	// SetDefaultApp makes appKey the account's default app; "" clears it.
	// The app must belong to the account (ErrNotFound otherwise).
	SetDefaultApp(ctx context.Context, account, appKey string) error
	// ShiftClock adds d to the account's clock offset and moves the real
	// NextAttemptAt of its pending events back by d, in one transaction,
	// so events come due as if that much time had passed. It returns the
	// updated account.
	ShiftClock(ctx context.Context, account string, d time.Duration) (Account, error)
	// SetAccountToken makes hash the account's control token, replacing
	// the one it had (which stops working at once); ErrNotFound when the
	// account does not exist. Only the hash is ever kept.
	SetAccountToken(ctx context.Context, account string, hash [32]byte) error
	// AccountByTokenHash names the account whose control token has this
	// hash; ErrNotFound when none has.
	AccountByTokenHash(ctx context.Context, hash [32]byte) (string, error)

	// CreateApp adds an app to an existing account.
	CreateApp(ctx context.Context, a App) error
	// GetApp returns one app by AppKey.
	GetApp(ctx context.Context, key string) (App, error)
	// ListApps returns an account's apps ordered by creation.
	ListApps(ctx context.Context, account string) ([]App, error)
	// DeleteApp removes an app with its tokens, webhooks and bindings, and
	// clears it as its account's default app. Its events stay in the log.
	DeleteApp(ctx context.Context, key string) error

	// AuthContext returns, in one read, what authenticating a request needs:
	// the app, its account (for the sandbox clock) and its current token
	// (ErrNotFound for the token alone is reported as ok=false).
	AuthContext(ctx context.Context, appKey string) (app App, account Account, current Token, ok bool, err error)
	// IssueToken stores a new current token for t.AppKey and marks the
	// app's previous current token superseded (EndedAt = t.IssuedAt),
	// atomically; revoked tokens stay revoked with their own EndedAt.
	IssueToken(ctx context.Context, t Token) error
	// RevokeToken marks the app's current token revoked at 'at';
	// ErrNotFound when the app has no current token.
	RevokeToken(ctx context.Context, appKey string, at time.Time) error
	// TokenByHash finds a token of any app and state by its hash.
	TokenByHash(ctx context.Context, hash [32]byte) (Token, error)
	// ListTokens returns the app's tokens, newest first (hashes included).
	ListTokens(ctx context.Context, appKey string) ([]Token, error)

	// CreateWebhook adds the app's configuration for w.Product.
	CreateWebhook(ctx context.Context, w Webhook) error
	// UpdateWebhook replaces the app's configuration for w.Product.
	UpdateWebhook(ctx context.Context, w Webhook) error
	// GetWebhook returns the app's configuration for a product.
	GetWebhook(ctx context.Context, appKey, product string) (Webhook, error)
	// ListWebhooks returns the app's configurations ordered by product.
	ListWebhooks(ctx context.Context, appKey string) ([]Webhook, error)
	// DeleteWebhook removes the app's configuration for a product.
	DeleteWebhook(ctx context.Context, appKey, product string) error

	// CreateBinding binds a number or WABA id to an app; ErrConflict when the
	// value is bound to any app of the account already.
	CreateBinding(ctx context.Context, b Binding) error
	// FindBinding returns the binding of a value within an account.
	FindBinding(ctx context.Context, account string, kind BindingKind, value string) (Binding, error)
	// ListBindings returns an app's bindings ordered by kind, then value.
	ListBindings(ctx context.Context, appKey string) ([]Binding, error)
	// DeleteBinding removes the binding of a value within an account.
	DeleteBinding(ctx context.Context, account string, kind BindingKind, value string) error

	// RecordSubmission writes a message, the sender binding (only if the
	// number is not bound yet), the WABA number (only if not registered
	// yet) and the events it causes, in one transaction.
	RecordSubmission(ctx context.Context, s Submission) error
	// GetMessage returns one message by id.
	GetMessage(ctx context.Context, id string) (Message, error)
	// AddEvents writes events (pending or dropped) in one transaction.
	AddEvents(ctx context.Context, events []Event) error
	// GetEvent returns an event with all its attempts, oldest first.
	GetEvent(ctx context.Context, id string) (Event, []Attempt, error)
	// ListEvents returns events matching f, newest first.
	ListEvents(ctx context.Context, f EventFilter) ([]Event, error)

	// ClaimDue leases up to limit pending events whose NextAttemptAt <= now
	// and whose lease is free or has ended, oldest due first, to owner until
	// leaseUntil, skipping events whose target's Destination is in exclude
	// (destinations the caller is busy with). An event is leased to one
	// owner at a time.
	ClaimDue(ctx context.Context, now time.Time, limit int, owner string, leaseUntil time.Time, exclude []string) ([]Event, error)
	// ReleaseLeases frees every lease owner holds, so that its claims can be
	// taken at once by others (a dispatcher shutting down); it returns how
	// many it freed.
	ReleaseLeases(ctx context.Context, owner string) (int, error)
	// Prune applies the retention policy: it removes finished events
	// (delivered, failed, dropped) with their attempts when they were last
	// updated before 'before' (real time) or are not among the newest 'keep'
	// finished events, and messages created before 'before' or not among
	// the newest 'keep'. keep <= 0 keeps any number. Pending events are never
	// removed. It returns how many events it removed.
	Prune(ctx context.Context, before time.Time, keep int) (int, error)
	// NextDue returns when the earliest pending event can next be claimed:
	// its NextAttemptAt, or the end of its lease if it is leased longer
	// (ok=false when no event is pending). A dispatcher sleeps until then.
	NextDue(ctx context.Context) (at time.Time, ok bool, err error)
	// OutboxStats counts the pending events (claimed ones included) and
	// those due at 'now' (real time), and returns the earliest NextAttemptAt
	// of a due one (zero when none is due): queue depth and age for
	// metrics, read on every scrape, so it must be cheap.
	OutboxStats(ctx context.Context, now time.Time) (OutboxStats, error)
	// RecordAttempt stores an attempt and the event's new status, and frees
	// the lease. It returns ErrNotFound when the event is not leased to
	// r.Owner any more (the lease ended and someone else took it).
	RecordAttempt(ctx context.Context, r AttemptResult) error
	// Requeue makes a delivered or failed event pending again, due at 'at'
	// (real time), keeping its id, payload and attempts (a replay);
	// ErrNotFound for an unknown event or one in any other status.
	Requeue(ctx context.Context, id string, at time.Time) error

	// CreateTemplate adds a template and the events its submission causes
	// (its review's status push), in one transaction; ErrConflict when the
	// account has a template with the same WABA, name and language;
	// ErrNotFound for an unknown account.
	CreateTemplate(ctx context.Context, t Template, events []Event) error
	// GetTemplate returns a template by account, WABA, name and language.
	GetTemplate(ctx context.Context, account, wabaID, name, language string) (Template, error)
	// ListTemplates returns an account's templates of a WABA ("" for all),
	// in creation order.
	ListTemplates(ctx context.Context, account, wabaID string) ([]Template, error)
	// UpdateTemplateStatus sets the Status, Reason, ReviewAt and UpdatedAt
	// of the template t names (account, WABA, name, language).
	UpdateTemplateStatus(ctx context.Context, t Template) error

	// AddWabaNumber registers a sending number of a WABA; adding it again
	// is not an error. ErrConflict when the number belongs to another WABA
	// of the account; ErrNotFound for an unknown account.
	AddWabaNumber(ctx context.Context, n WabaNumber) error
	// WabaNumbers returns the sending numbers of a WABA, sorted.
	WabaNumbers(ctx context.Context, account, wabaID string) ([]string, error)

	// TouchSession records that user last wrote to the business number at
	// 'at' (sandbox time): the 24-hour customer service window.
	TouchSession(ctx context.Context, account, business, user string, at time.Time) error
	// LastInbound returns, for each of users that ever wrote to the business
	// number, when they last did (sandbox time).
	LastInbound(ctx context.Context, account, business string, users []string) (map[string]time.Time, error)

	// Reset removes everything, leaving an empty store.
	Reset(ctx context.Context) error
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// OutboxStats describes the outbox at one moment (Store.OutboxStats).
type OutboxStats struct {
	Pending   int       // events waiting for delivery, in flight or not
	Due       int       // of those, the ones whose next attempt is due
	OldestDue time.Time // the earliest next attempt among the due ones; zero when none
}

// AttemptBatcher is a Store that can record several attempts in one round
// trip to its database: for a server database, where each statement costs
// a round trip, a dispatcher that records as many attempts as have ended
// together saves most of them. RecordAttempts returns one error per result,
// each what RecordAttempt would have returned for it.
type AttemptBatcher interface {
	RecordAttempts(ctx context.Context, rs []AttemptResult) []error
}

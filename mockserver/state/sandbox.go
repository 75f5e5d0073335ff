package state

import (
	"context"
	"time"

	"github.com/innosandbox/innosandbox/internal/clock"
)

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

// Reset wipes every account.
func (s *Sandbox) Reset(ctx context.Context) error { return s.store.Reset(ctx) }

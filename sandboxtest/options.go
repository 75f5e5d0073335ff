package sandboxtest

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/innosandbox/innosandbox/fixtures"
	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/dispatch"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/mockserver/state/sqlite"
)

// Option changes how New starts the sandbox.
type Option func(*options)

type options struct {
	strict     bool
	seed       *fixtures.Seed
	seedFile   string
	sqlitePath *string
	openStore  func(ctx context.Context) (state.Store, error)
	adminToken string
	config     []func(*mockserver.Config)
}

// storeOpener returns what opens the store at every start: the same memory
// store each time (so Restart keeps the state, as a process on a file
// would), a SQLite file, or the caller's store.
func (o *options) storeOpener(t TB) (func(ctx context.Context) (state.Store, string, error), error) {
	switch {
	case o.openStore != nil:
		return func(ctx context.Context) (state.Store, string, error) {
			s, err := o.openStore(ctx)
			return s, "", err
		}, nil
	case o.sqlitePath != nil:
		path := *o.sqlitePath
		if path == "" {
			dir, err := os.MkdirTemp("", "sandboxtest-*")
			if err != nil {
				return nil, err
			}
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			path = filepath.Join(dir, "sandbox.db")
		}
		return func(ctx context.Context) (state.Store, string, error) {
			s, err := sqlite.Open(ctx, path)
			return s, "sqlite", err
		}, nil
	}
	mem := memstore.New()
	return func(context.Context) (state.Store, string, error) { return keepOpen{mem}, "memory", nil }, nil
}

// keepOpen is a memory store that a restart's Close leaves as it is.
type keepOpen struct{ *memstore.Store }

// Close implements state.Store: the memory stays for the next start.
func (keepOpen) Close() error { return nil }

// WithSQLite keeps the state in a SQLite file, as `innosandbox serve` does
// by default; "" makes one in a temporary directory removed after the test.
// Restart reopens the file.
func WithSQLite(path string) Option { return func(o *options) { o.sqlitePath = &path } }

// WithStore runs the sandbox on the store open returns, called at every
// start (New and Restart), e.g. a PostgreSQL store shared with another
// sandbox. The sandbox closes it when it stops.
func WithStore(open func(ctx context.Context) (state.Store, error)) Option {
	return func(o *options) { o.openStore = open }
}

// WithSeed replaces the embedded seed (the demo account, app and
// credentials); the demo fields of the Sandbox come from its first account.
func WithSeed(seed *fixtures.Seed) Option { return func(o *options) { o.seed = seed } }

// WithSeedFile reads the seed from a YAML file shaped like the embedded one
// (`innosandbox serve --seed`).
func WithSeedFile(path string) Option { return func(o *options) { o.seedFile = path } }

// Lenient turns off strict mode, which sandboxtest turns on: an answer or
// a push that breaks the contract is then logged instead of failing.
func Lenient() Option { return func(o *options) { o.strict = false } }

// RejectUnknownFields refuses request fields the public contract does not
// define (`serve --reject-unknown-fields`); by default they are accepted
// with an X-Sandbox-Warning header.
func RejectUnknownFields() Option {
	return Configure(func(c *mockserver.Config) { c.RejectUnknownFields = true })
}

// AdminToken requires token on every control call (`serve --admin-token`);
// the Sandbox's own methods send it.
func AdminToken(token string) Option {
	return func(o *options) {
		o.adminToken = token
		o.config = append(o.config, func(c *mockserver.Config) { c.AdminToken = token })
	}
}

// AuthFailureStatus answers authentication failures with status instead
// of 401 (`serve --auth-failure-status`; 200 mimics an endpoint that
// refuses with HTTP 200).
func AuthFailureStatus(status int) Option {
	return Configure(func(c *mockserver.Config) { c.AuthFailureStatus = status })
}

// NoSessionWindow accepts non-template WhatsApp messages to users who have
// not written within 24 hours (`serve --no-session-window`); by default
// they are refused with 131047, as WhatsApp does.
func NoSessionWindow() Option {
	return Configure(func(c *mockserver.Config) { c.NoSessionWindow = true })
}

// ReportTimes places a send's "delivered" and "read" reports on the sandbox
// clock (1s and 3s after the send; `serve --delivered-after --read-after`).
func ReportTimes(delivered, read time.Duration) Option {
	return Configure(func(c *mockserver.Config) { c.DeliveredAfter, c.ReadAfter = delivered, read })
}

// TemplateReview is how long a submitted template stays PENDING (10s;
// `serve --template-review`).
func TemplateReview(d time.Duration) Option {
	return Configure(func(c *mockserver.Config) { c.TemplateReview = d })
}

// WebhookTimeout is how long one push may take before it counts as failed
// (5s; `serve --webhook-timeout`).
func WebhookTimeout(d time.Duration) Option {
	return Configure(func(c *mockserver.Config) { c.Dispatch.Timeout = d })
}

// Retry is the retry policy of webhooks that set none: attempts in all,
// the wait after the first failure, its growth and its cap, on the sandbox
// clock (3 attempts, 1m, ×2, 10m; `serve --retry-attempts --retry-initial
// --retry-max-interval`). A webhook's own retry policy wins.
func Retry(attempts int, initial time.Duration, multiplier float64, maxInterval time.Duration) Option {
	return Configure(func(c *mockserver.Config) {
		c.Dispatch.Schedule = dispatch.Schedule{MaxAttempts: attempts, Initial: initial, Multiplier: multiplier, MaxInterval: maxInterval}
	})
}

// Configure changes the server's configuration directly, for any setting
// without an option of its own. Options apply in the order given.
func Configure(f func(*mockserver.Config)) Option {
	return func(o *options) { o.config = append(o.config, f) }
}

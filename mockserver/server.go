// Package mockserver is the stateful InnoPaaS sandbox as an http.Handler: the
// public API (same paths and bodies as api.innopaas.com) and the control API
// under /_sandbox/, each validated by kin-openapi against its spec, on top of
// the state domain and the webhook dispatcher.
package mockserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/fixtures"
	"github.com/innosandbox/innosandbox/internal/broadcast"
	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/mockserver/dispatch"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/ui"
	"github.com/innosandbox/innosandbox/spec"
)

// Config is everything a Server needs. Spec and Store are required.
type Config struct {
	Spec      *spec.Spec
	Store     state.Store
	StoreKind string         // shown by /healthz, e.g. "sqlite"
	Clock     clock.Clock    // (clock.Real)
	Seed      *fixtures.Seed // (the embedded seed)
	Logger    *slog.Logger   // (discards)
	// Strict validates every answer against the spec (a mismatch becomes a
	// 500) and refuses to push payloads that break their schema. For tests
	// and CI; a running sandbox logs such bugs instead.
	Strict bool
	// RejectUnknownFields refuses request fields the contract does not
	// define; by default they are accepted with an X-Sandbox-Warning.
	RejectUnknownFields bool
	// AdminToken, when set, is required on every control call that does
	// not carry an account token; at least MinAdminTokenLen characters.
	AdminToken string
	// ControlOpen opens the control API to non-loopback callers without a
	// token (and to forwarded ones: trusted networks only).
	ControlOpen bool
	// AuthFailureStatus is the HTTP status of an authentication failure
	// (401). Set 200 to mimic an endpoint that refuses with HTTP 200.
	AuthFailureStatus int
	// Dispatch tunes webhook delivery.
	Dispatch DispatchConfig
	// DeliveredAfter and ReadAfter place a send's status reports on the
	// sandbox clock (1s and 3s).
	DeliveredAfter, ReadAfter time.Duration
	// TemplateReview is how long a submitted template stays PENDING (10s).
	TemplateReview time.Duration
	// NoSessionWindow accepts non-template messages to users who have not
	// written within 24 hours (WhatsApp refuses them with 131047).
	NoSessionWindow bool
	// Retention bounds the delivery log (off when zero); Run prunes it
	// every Retention.Interval.
	Retention Retention
	// Limits bound what one caller can take (quotas, request rate,
	// uploads); each is off when zero. DefaultLimits are serve's defaults.
	Limits Limits
	// OTPSuccessCode is the code of an accepted OTP send: "000000" (the
	// newer known client; the default when empty) or "0" (the older one).
	OTPSuccessCode string
	// SMSDataString answers an accepted SMS send's data as the bare message
	// id string, as the WhatsApp send does, instead of {messageId}.
	SMSDataString bool
	// SecretKey is the key material app secrets are sealed with at rest
	// (--secret-key). Empty: BuiltInSecretKey, which hides secrets from a
	// casual look at the database but protects nothing (docs/DECISIONS.md
	// row 69). Secrets sealed under another key cannot be used.
	SecretKey string
	// SignatureWindow is how far a signed request's timestamp may be from
	// the account's sandbox clock, and how long a nonce is remembered (5m).
	SignatureWindow time.Duration
}

// BuiltInSecretKey is the sealing key material used without --secret-key.
// It is public (it is in the source), so it protects nothing; it keeps a
// sandbox without configuration working across restarts.
const BuiltInSecretKey = "innosandbox built-in app secret key; set --secret-key to protect secrets at rest"

// DispatchConfig tunes webhook delivery; zero values take dispatch's defaults.
type DispatchConfig struct {
	Schedule     dispatch.Schedule
	Timeout      time.Duration
	Workers      int
	PerHost      int
	PollInterval time.Duration
	Client       *http.Client
	Owner        string
	// Guard decides where pushes may connect (nil: loopback, private and
	// public addresses, as for a sandbox on loopback). Register the
	// sandbox's listeners with Server.AddListener.
	Guard *dispatch.Guard
}

// Validate reports a configuration that cannot work, naming the setting.
func (c *Config) Validate() error {
	switch {
	case c.Spec == nil:
		return errors.New("config: Spec is required")
	case c.Store == nil:
		return errors.New("config: Store is required")
	case c.AuthFailureStatus != 0 && (c.AuthFailureStatus < 200 || c.AuthFailureStatus > 599):
		return fmt.Errorf("config: auth failure status %d is not an HTTP status", c.AuthFailureStatus)
	case c.Retention.MaxAge < 0:
		return fmt.Errorf("config: retention age %s is negative", c.Retention.MaxAge)
	case c.AdminToken != "" && len(c.AdminToken) < MinAdminTokenLen:
		return fmt.Errorf("config: the admin token has %d characters; use at least %d (e.g. openssl rand -hex 24)", len(c.AdminToken), MinAdminTokenLen)
	case c.OTPSuccessCode != "" && c.OTPSuccessCode != OTPSuccessCodeNewer && c.OTPSuccessCode != OTPSuccessCodeDoc:
		return fmt.Errorf("config: OTP success code %q: use %q or %q", c.OTPSuccessCode, OTPSuccessCodeNewer, OTPSuccessCodeDoc)
	case c.SignatureWindow < 0:
		return fmt.Errorf("config: signature window %s is negative", c.SignatureWindow)
	case c.Retention.Keep < 0:
		return fmt.Errorf("config: retention count %d is negative", c.Retention.Keep)
	}
	if err := c.Limits.Validate(); err != nil {
		return err
	}
	if c.Dispatch.Schedule.MaxAttempts != 0 {
		if err := c.Dispatch.Schedule.Validate(); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	return nil
}

// Server is the sandbox.
type Server struct {
	cfg        Config
	store      state.Store
	storeKind  string
	sandbox    *state.Sandbox
	seeder     *state.Sandbox // sandbox without quotas, for the seed
	dispatcher *dispatch.Dispatcher
	public     *api
	control    *api
	ui         *ui.Handler // the dashboard, under ui.Prefix
	log        *slog.Logger
	metrics    *metrics
	rate       *rateLimiter // nil: no rate limit
	guard      *dispatch.Guard
	// stopJanitor is closed by Shutdown.
	stopJanitor chan struct{}
	stopOnce    sync.Once
	// Waiting for deliveries (deliverywait.go): changes is signalled by
	// every write to the delivery log; waitsEnded is closed by EndWaits.
	changes      *broadcast.Broadcast
	recheck      time.Duration
	waitsEnded   chan struct{}
	endWaitsOnce sync.Once
}

// New builds a Server and, when its store is empty, applies the seed.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AuthFailureStatus == 0 {
		cfg.AuthFailureStatus = http.StatusUnauthorized
	}
	if cfg.Seed == nil {
		seed, err := fixtures.LoadSeed("")
		if err != nil {
			return nil, err
		}
		cfg.Seed = seed
	}
	if cfg.StoreKind == "" {
		cfg.StoreKind = fmt.Sprint(cfg.Store)
	}
	s := &Server{cfg: cfg, store: cfg.Store, storeKind: cfg.StoreKind, log: cfg.Logger, metrics: newMetrics(cfg.Store, cfg.Clock),
		stopJanitor: make(chan struct{}), changes: broadcast.New(), recheck: deliveryRecheck(cfg), waitsEnded: make(chan struct{})}
	s.rate = newRateLimiter(cfg.Limits.Rate, cfg.Limits.Burst, cfg.Clock)
	d := cfg.Dispatch
	if d.Guard == nil {
		d.Guard = dispatch.NewGuard(dispatch.DefaultPolicy(nil))
	}
	s.guard = d.Guard
	s.dispatcher = dispatch.New(newOutbox(cfg.Store, s.signalDeliveries), dispatch.Options{
		Owner: d.Owner, Clock: cfg.Clock, Client: d.Client, Timeout: d.Timeout, Schedule: d.Schedule, UserAgent: PushUserAgent, Guard: d.Guard,
		Workers: d.Workers, PerHost: d.PerHost, PollInterval: d.PollInterval, Logger: cfg.Logger.With("component", "dispatch"),
		ValidatePayload: cfg.Spec.ValidatePayload, StrictPayloads: cfg.Strict, OnAttempt: s.metrics.attempt,
	})
	sealer, err := state.NewSealer([]byte(cmp.Or(cfg.SecretKey, BuiltInSecretKey)))
	if err != nil {
		return nil, err
	}
	opts := state.Options{
		DeliveredAfter: cfg.DeliveredAfter, ReadAfter: cfg.ReadAfter, DefaultAccount: cfg.Seed.Accounts[0].Name,
		TemplateReview: cfg.TemplateReview, NoSessionWindow: cfg.NoSessionWindow, CheckDestination: s.checkDestination,
		Signing: state.SigningOptions{Sealer: sealer, Window: cfg.SignatureWindow},
	}
	notify := func() { s.dispatcher.Notify(); s.signalDeliveries() }
	// The seed is the operator's: it is applied whatever the quotas.
	s.seeder = state.New(cfg.Store, cfg.Clock, cfg.Spec, opts, notify)
	opts.Quotas = cfg.Limits.Quotas
	s.sandbox = state.New(cfg.Store, cfg.Clock, cfg.Spec, opts, notify)

	if s.public, err = newAPI("public", cfg.Spec.Public, s.publicHandlers(), s.authenticatePublic); err != nil {
		return nil, err
	}
	if s.control, err = newAPI("control", cfg.Spec.Control, s.controlHandlers(), s.authenticateControl); err != nil {
		return nil, err
	}
	for _, a := range []*api{s.public, s.control} {
		a.strict, a.log = cfg.Strict, cfg.Logger
		name := a.name
		a.observe = func(op string, status int) { s.metrics.request(name, op, status) }
	}
	if s.ui, err = ui.New(dashboard{s}, cfg.Logger.With("component", "dashboard")); err != nil {
		return nil, err
	}
	// The public API mirrors a real one that may ignore unknown fields, so
	// they only warn there unless asked; the control API is the sandbox's
	// own, where a typo must fail.
	s.public.rejectUnknown = cfg.RejectUnknownFields
	if n := cfg.Limits.Uploads; n > 0 {
		s.public.uploads = make(chan struct{}, n)
	}
	s.public.afterBody = s.verifySigned
	s.control.rejectUnknown = true

	accounts, err := cfg.Store.ListAccounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the store: %w", err)
	}
	if len(accounts) == 0 {
		// A conflict on the seed's first account means that another
		// replica sharing the store is seeding it right now.
		if err := s.applySeed(ctx); err != nil && !errors.Is(err, state.ErrConflict) {
			return nil, fmt.Errorf("applying the seed: %w", err)
		}
	}
	return s, nil
}

// ServeHTTP sends /_sandbox/, /healthz and /readyz to the control API,
// /metrics to the Prometheus handler and everything else to the public API;
// each API answers unknown paths with its envelope. It serves a sandbox on
// one listener; PublicHandler and ControlHandler split it over two.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.route(w, r, true, true) }

// PublicHandler serves the public API (and /healthz, /readyz) for a public
// listener when the control API has its own (--control-addr): /_sandbox/
// and /metrics answer 404 with the envelope there, as any unknown path.
func (s *Server) PublicHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.route(w, r, true, false) })
}

// ControlHandler serves the control API, /metrics, /healthz and /readyz for
// the control listener; the public API's paths answer 404 there.
func (s *Server) ControlHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.route(w, r, false, true) })
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, public, control bool) {
	switch {
	case control && r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		// Prometheus text format, not JSON: outside the contract, like any
		// exporter's. Counts and sizes of every account: the operator's,
		// behind the control API's access rule.
		s.serveMetrics(w, r)
		return
	case control && strings.HasPrefix(r.URL.Path, strings.TrimSuffix(ui.Prefix, "/")):
		// The dashboard: HTML, on the control API's listener and access rules.
		s.ui.ServeHTTP(w, r)
		return
	case r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || (control && strings.HasPrefix(r.URL.Path, "/_sandbox/")):
		s.control.ServeHTTP(w, r)
		return
	case !public:
		s.control.ServeHTTP(w, r) // an unknown path to the control API: 404
		return
	}
	s.public.ServeHTTP(w, r)
}

// serveMetrics answers /metrics to the operator only: a caller the control
// API would take for the operator (admin token, trusted loopback,
// ControlOpen). An account token does not open it: 404, as for any path
// such a caller cannot see.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	who, refusal, err := s.authenticateControl(r.Context(), r)
	var rep reply
	switch {
	case err != nil:
		s.log.Error("authenticating a /metrics call failed", "err", err)
		rep = fromError(err)
	case refusal != nil:
		rep = *refusal
	case who.(controlCaller).account != "":
		rep = fail(http.StatusNotFound, fmt.Sprintf("no operation at %s %s", r.Method, r.URL.Path))
	default:
		s.metrics.handler.ServeHTTP(w, r)
		return
	}
	body, _ := encode(rep)
	writeRaw(w, rep, body)
}

// Run pushes webhooks until ctx ends or Shutdown is called. When ctx ends,
// the attempts in flight get the webhook timeout to finish; the rest are
// handed back to the outbox.
// The retention janitor runs alongside, when Config.Retention asks for it.
func (s *Server) Run(ctx context.Context) {
	janitorDone := make(chan struct{})
	go func() { s.janitor(ctx); close(janitorDone) }()
	if w, ok := s.store.(state.DueWatcher); ok {
		// Other replicas' due events wake this one's dispatcher at once.
		wctx, stopWatch := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() { w.WatchDue(wctx, s.dispatcher.Notify); close(watched) }()
		defer func() { stopWatch(); <-watched }()
	}
	s.dispatcher.Run(ctx)
	s.stopOnce.Do(func() { close(s.stopJanitor) })
	<-janitorDone
}

// AddListener registers addresses the sandbox listens on: pushes never
// reach them, whatever --webhook-allow says (no self-reset through a
// callback URL). Call it for every listener, before serving.
func (s *Server) AddListener(addrs ...net.Addr) { s.guard.AddSelf(addrs...) }

// checkDestination refuses a configured push URL whose host is an address
// literal the egress guard refuses, saying why.
func (s *Server) checkDestination(raw string) error {
	err := s.guard.CheckURL(raw)
	var re *dispatch.RefusedError
	if !errors.As(err, &re) {
		return err
	}
	if re.Class == dispatch.ClassSelf {
		return fmt.Errorf("%w: the sandbox never pushes to its own listeners", err)
	}
	if re.Class == dispatch.ClassLoopback || re.Class == dispatch.ClassPrivate {
		return fmt.Errorf("%w: this sandbox pushes to %s addresses only where --webhook-allow says so", err, re.Class)
	}
	return fmt.Errorf("%w: never allowed", err)
}

// StopDispatching starts no more webhook attempts from now on (those in
// flight go on); Shutdown then finishes or hands them back. A process
// calls it as soon as it is told to stop, before draining its requests.
func (s *Server) StopDispatching() { s.dispatcher.Stop() }

// Shutdown stops pushing webhooks: no more deliveries are claimed, the
// attempts in flight may finish until ctx ends, then they are cancelled
// unrecorded, and every delivery this process still holds is released so
// that another process (or this one restarted) takes it at once. It returns
// once Run has returned; the store is left open.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stopJanitor) })
	s.EndWaits()
	return s.dispatcher.Shutdown(ctx)
}

// Sandbox exposes the domain service (for the CLI and tests).
func (s *Server) Sandbox() *state.Sandbox { return s.sandbox }

// SchemaViolations counts pushed payloads that broke their schema (bugs).
func (s *Server) SchemaViolations() int64 { return s.dispatcher.SchemaViolations() }

// Seed returns the seed the server applies on an empty store and on reset.
func (s *Server) Seed() *fixtures.Seed { return s.cfg.Seed }

// applySeed creates the seed's accounts, apps, tokens and bindings.
func (s *Server) applySeed(ctx context.Context) error {
	for _, a := range s.cfg.Seed.Accounts {
		if _, err := s.seeder.CreateAccount(ctx, a.Name, a.Label); err != nil {
			return err
		}
		for _, w := range a.Wabas {
			for _, n := range w.Numbers {
				if err := s.store.AddWabaNumber(ctx, state.WabaNumber{Account: a.Name, WabaID: w.ID, Number: n, CreatedAt: s.seeder.RealNow()}); err != nil {
					return err
				}
			}
			for _, t := range w.Templates {
				if _, err := s.seeder.SeedTemplate(ctx, a.Name, w.ID, t.Name, t.Language, t.Category, t.BodyParams, t.HeaderParams); err != nil {
					return err
				}
			}
			for _, g := range w.Groups {
				members := make([]state.GroupMember, len(g.Templates))
				for i, m := range g.Templates {
					members[i] = state.GroupMember{Name: m.Name, Language: m.Language}
				}
				if _, err := s.sandbox.PutTemplateGroup(ctx, a.Name, w.ID, g.ID, members); err != nil {
					return fmt.Errorf("template group %s: %w", g.ID, err)
				}
			}
		}
		for _, app := range a.Apps {
			if _, err := s.seeder.CreateApp(ctx, a.Name, app.Name, app.AppKey, app.Default); err != nil {
				return err
			}
			if app.Token != "" {
				if err := s.seeder.InstallToken(ctx, app.AppKey, app.Token, nil); err != nil {
					return err
				}
			}
			if app.Secret != "" {
				if _, err := s.sandbox.InstallAppSecret(ctx, app.AppKey, app.Secret); err != nil {
					return err
				}
			}
			for _, n := range app.Bindings.Numbers {
				if _, err := s.seeder.Bind(ctx, app.AppKey, state.BindNumber, n); err != nil {
					return err
				}
			}
			for _, n := range app.Bindings.WabaIDs {
				if _, err := s.seeder.Bind(ctx, app.AppKey, state.BindWABA, n); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

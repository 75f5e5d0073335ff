package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/innosandbox/innosandbox/fixtures"
	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/dispatch"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/mockserver/ui"
	"github.com/innosandbox/innosandbox/spec"
)

// serveOptions are the flags of `innosandbox serve`.
type serveOptions struct {
	addr                string
	controlAddr         string
	store               string
	memoryMaxEvents     int
	memoryMaxMessages   int
	specPath            string
	controlSpecPath     string
	seedPath            string
	logFormat           string
	logLevel            string
	adminToken          string
	controlOpen         bool
	strict              bool
	rejectUnknownFields bool
	authFailureStatus   int
	retryAttempts       int
	retryInitial        time.Duration
	retryMultiplier     float64
	retryMaxInterval    time.Duration
	webhookTimeout      time.Duration
	webhookWorkers      int
	webhookPerDest      int
	deliveredAfter      time.Duration
	readAfter           time.Duration
	templateReview      time.Duration
	noSessionWindow     bool
	shutdownTimeout     time.Duration
	retentionAge        time.Duration
	retentionCount      int
	retentionInterval   time.Duration
	quiet               bool
	limits              mockserver.Limits
	maxConnections      int
	otpSuccessCode      string
	smsData             string
	secretKey           string
	signatureWindow     time.Duration
	webhookAllow        string
	// listeners are the addresses the sandbox listens on (not a flag):
	// pushes never reach them, and they decide --webhook-allow's default.
	listeners []net.Addr
}

func newServeCmd() *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the stateful InnoPaaS sandbox (public API, control API, webhook dispatch)",
		Long: `Run the sandbox. Point an InnoPaaS client at it instead of https://api.innopaas.com.

Every flag can also be set from the environment: --admin-token from
INNOSANDBOX_ADMIN_TOKEN, --store from INNOSANDBOX_STORE, and so on.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	bindServeFlags(cmd.Flags(), o)
	return cmd
}

// bindServeFlags declares serve's flags on f, filling o.
func bindServeFlags(f *pflag.FlagSet, o *serveOptions) {
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&o.controlAddr, "control-addr", "", "serve the control API (/_sandbox/) and /metrics on this address of their own; the --addr listener then answers 404 there")
	f.StringVar(&o.store, "store", "sqlite:innosandbox.db", "where state lives: sqlite:FILE (kept across restarts, one process per file), memory (throw-away) or postgres://USER@HOST/DATABASE (shared by replicas)")
	f.IntVar(&o.memoryMaxEvents, "memory-max-events", memstore.DefaultMaxEvents, "with --store memory: finished events kept in the delivery log (oldest go first; pending ones always stay)")
	f.IntVar(&o.memoryMaxMessages, "memory-max-messages", memstore.DefaultMaxMessages, "with --store memory: sent messages kept (for replies' context)")
	f.StringVar(&o.specPath, "spec", "", "use this InnoPaaS spec file instead of the embedded one")
	f.StringVar(&o.controlSpecPath, "control-spec", "", "use this control API spec file instead of the embedded one")
	f.StringVar(&o.seedPath, "seed", "", "use this seed file instead of the embedded one")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&o.adminToken, "admin-token", "", "require this token (X-Sandbox-Admin-Token, at least 16 characters) on every control call; set it as INNOSANDBOX_ADMIN_TOKEN rather than on the command line. Listening beyond loopback without it, the sandbox makes one up and prints it once")
	f.BoolVar(&o.controlOpen, "control-open", false, "open the control API to every caller without a token, forwarded ones included (a trusted network of one user only)")
	f.BoolVar(&o.strict, "strict", false, "validate every answer and pushed payload against the spec; answer 500 / refuse to push on a mismatch")
	f.BoolVar(&o.rejectUnknownFields, "reject-unknown-fields", false, "refuse request fields the contract does not define (default: accept with an X-Sandbox-Warning)")
	f.IntVar(&o.authFailureStatus, "auth-failure-status", http.StatusUnauthorized, "HTTP status of an authentication failure (200 mimics an endpoint that refuses with HTTP 200)")
	f.IntVar(&o.retryAttempts, "retry-attempts", dispatch.DefaultSchedule.MaxAttempts, "webhook attempts in all, the first included")
	f.DurationVar(&o.retryInitial, "retry-initial", dispatch.DefaultSchedule.Initial, "wait after the first failed attempt (sandbox clock)")
	f.Float64Var(&o.retryMultiplier, "retry-multiplier", dispatch.DefaultSchedule.Multiplier, "growth of the wait after each further failure")
	f.DurationVar(&o.retryMaxInterval, "retry-max-interval", dispatch.DefaultSchedule.MaxInterval, "longest wait between two attempts")
	f.DurationVar(&o.webhookTimeout, "webhook-timeout", dispatch.DefaultTimeout, "how long one webhook attempt may take (3s: the only figure anyone states for InnoPaaS, and certify's default limit)")
	f.IntVar(&o.webhookWorkers, "webhook-workers", dispatch.DefaultWorkers, "webhook attempts in flight at once, all receivers together; one account has at most its fair share (half while it is alone)")
	f.IntVar(&o.webhookPerDest, "webhook-per-destination", dispatch.DefaultPerDestination, "webhook attempts in flight at once to one receiver (the address and port its URL resolves to); a receiver that answers none of them for 200ms waits on its own while the others go on")
	f.DurationVar(&o.deliveredAfter, "delivered-after", time.Second, "when a send's delivered report comes (sandbox clock)")
	f.DurationVar(&o.readAfter, "read-after", 3*time.Second, "when a send's read report comes (sandbox clock)")
	f.DurationVar(&o.templateReview, "template-review", 10*time.Second, "how long a submitted template stays PENDING before its review ends (sandbox clock)")
	f.BoolVar(&o.noSessionWindow, "no-session-window", false, "accept non-template messages to users who have not written within 24 hours (WhatsApp refuses them)")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGTERM or SIGINT, how long requests and webhook attempts in flight may take to finish; attempts still running then are cancelled and handed back to the outbox, due at once")
	f.DurationVar(&o.retentionAge, "retention-age", mockserver.DefaultRetentionAge, "remove finished deliveries (with their attempts) and sent messages older than this from the log; 0 keeps them whatever their age (pending deliveries always stay)")
	f.IntVar(&o.retentionCount, "retention-count", mockserver.DefaultRetentionKeep, "keep at most this many finished deliveries and sent messages, the newest; 0 keeps any number")
	f.DurationVar(&o.retentionInterval, "retention-interval", mockserver.DefaultRetentionInterval, "how often the retention janitor prunes the log")
	f.BoolVar(&o.quiet, "quiet", false, "do not print the start-up banner")
	f.StringVar(&o.webhookAllow, "webhook-allow", "auto", "what webhook pushes may reach beyond public addresses: CIDRs and the words loopback and private, comma-separated, or none; auto is loopback,private when every listener is on loopback, none otherwise (link-local, multicast and the sandbox itself: never)")
	bindLimitFlags(f, o)
	f.StringVar(&o.smsData, "sms-data", "object", `form of an accepted SMS send's data: "object" ({"messageId": …}, what the newer known client decodes) or "string" (the bare id, as the WhatsApp send answers)`)
	f.StringVar(&o.secretKey, "secret-key", "", "key material app secrets are sealed with at rest (without it a built-in key hides them but protects nothing); secrets sealed under another key cannot be used: rotate them")
	f.DurationVar(&o.signatureWindow, "signature-window", 5*time.Minute, "how far a signed request's x-timestamp may be from the account's sandbox clock, either way, and how long its x-nonce is remembered")
	f.StringVar(&o.otpSuccessCode, "otp-success-code", mockserver.OTPSuccessCodeNewer, `code of an accepted OTP send: "000000" (what the newer known client checks) or "0" (as every other send; the older client read "success")`)
}

// bindLimitFlags declares the flags that bound what one caller can take
// (mockserver.Limits, and the HTTP server's connections).
func bindLimitFlags(f *pflag.FlagSet, o *serveOptions) {
	d, q := mockserver.DefaultLimits, &o.limits.Quotas
	f.Float64Var(&o.limits.Rate, "rate-limit", d.Rate, "public API calls per second per AppKey (a token bucket; over it: HTTP 429 with Retry-After); 0 turns it off")
	f.IntVar(&o.limits.Burst, "rate-burst", d.Burst, "calls an AppKey may make at once before --rate-limit applies")
	f.IntVar(&q.Apps, "max-apps", d.Quotas.Apps, "apps per account; 0: no limit")
	f.IntVar(&q.Webhooks, "max-webhooks", d.Quotas.Webhooks, "webhook configurations per account; 0: no limit")
	f.IntVar(&q.Templates, "max-templates", d.Quotas.Templates, "WhatsApp templates per account; 0: no limit")
	f.IntVar(&q.Bindings, "max-bindings", d.Quotas.Bindings, "number and WABA bindings per account; 0: no limit")
	f.IntVar(&q.Tokens, "max-tokens", d.Quotas.Tokens, "tokens kept per account, superseded and revoked ones included; 0: no limit")
	f.IntVar(&q.PendingDeliveries, "max-pending-deliveries", d.Quotas.PendingDeliveries, "deliveries waiting in the outbox per account (a send that would add more is refused); 0: no limit")
	f.IntVar(&o.limits.Uploads, "max-uploads", d.Uploads, "uploads (uploadFile) read at once; one more is answered 503 with Retry-After; 0: no limit")
	f.IntVar(&o.maxConnections, "max-connections", DefaultMaxConnections, "open connections at once; more wait to be accepted; 0: no limit")
}

// newLogger builds the slog logger the flags ask for.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

// buildServer turns serve options into a running-ready server. sp is the
// contract when the caller has it loaded already; nil loads the one the
// options name.
func buildServer(ctx context.Context, o *serveOptions, sp *spec.Spec, log *slog.Logger) (*mockserver.Server, state.Store, error) {
	if o.smsData != "object" && o.smsData != "string" && o.smsData != "" {
		return nil, nil, fmt.Errorf("--sms-data %q: use object or string", o.smsData)
	}
	if sp == nil {
		var err error
		if sp, err = spec.Load(ctx, spec.Sources{PublicPath: o.specPath, ControlPath: o.controlSpecPath}); err != nil {
			return nil, nil, err
		}
	}
	seed, err := fixtures.LoadSeed(o.seedPath)
	if err != nil {
		return nil, nil, err
	}
	policy, err := o.egressPolicy()
	if err != nil {
		return nil, nil, err
	}
	guard := dispatch.NewGuard(policy)
	guard.AddSelf(o.listeners...)
	store, kind, err := openStore(ctx, o.store, memstore.Options{MaxEvents: o.memoryMaxEvents, MaxMessages: o.memoryMaxMessages})
	if err != nil {
		return nil, nil, err
	}
	srv, err := mockserver.New(ctx, mockserver.Config{
		Spec: sp, Store: store, StoreKind: kind, Seed: seed, Logger: log, Strict: o.strict,
		RejectUnknownFields: o.rejectUnknownFields, AdminToken: o.adminToken, ControlOpen: o.controlOpen,
		AuthFailureStatus: o.authFailureStatus, DeliveredAfter: o.deliveredAfter, ReadAfter: o.readAfter,
		TemplateReview: o.templateReview, NoSessionWindow: o.noSessionWindow, Limits: o.limits,
		Retention: mockserver.Retention{MaxAge: o.retentionAge, Keep: o.retentionCount, Interval: o.retentionInterval},
		Dispatch: mockserver.DispatchConfig{
			Owner: leaseOwner(kind), Guard: guard,
			Timeout: o.webhookTimeout, Workers: o.webhookWorkers, PerHost: o.webhookPerDest,
			Schedule: dispatch.Schedule{MaxAttempts: o.retryAttempts, Initial: o.retryInitial,
				Multiplier: o.retryMultiplier, MaxInterval: o.retryMaxInterval},
		},
		OTPSuccessCode: o.otpSuccessCode,
		SMSDataString:  o.smsData == "string",
		SecretKey:      o.secretKey, SignatureWindow: o.signatureWindow,
	})
	if err != nil {
		_ = store.Close()
		return nil, nil, err
	}
	return srv, store, nil
}

// egressPolicy is what --webhook-allow says pushes may reach; "auto"
// follows o.listeners (dispatch.DefaultPolicy).
func (o *serveOptions) egressPolicy() (dispatch.Policy, error) {
	if strings.TrimSpace(strings.ToLower(o.webhookAllow)) == "auto" {
		aps := make([]netip.AddrPort, 0, len(o.listeners))
		for _, l := range o.listeners {
			ap, err := netip.ParseAddrPort(l.String())
			if err != nil {
				return dispatch.Policy{}, nil // not an IP listener: allow public addresses only
			}
			aps = append(aps, ap)
		}
		return dispatch.DefaultPolicy(aps), nil
	}
	p, err := dispatch.ParsePolicy(o.webhookAllow)
	if err != nil {
		return p, fmt.Errorf("--webhook-allow: %w", err)
	}
	return p, nil
}

// describePolicy says in a few words what pushes may reach, for the log.
func describePolicy(p dispatch.Policy) string {
	var parts []string
	if p.Loopback {
		parts = append(parts, "loopback")
	}
	if p.Private {
		parts = append(parts, "private")
	}
	for _, pr := range p.Allow {
		parts = append(parts, pr.String())
	}
	if len(parts) == 0 {
		return "public addresses only"
	}
	return "public addresses and " + strings.Join(parts, ",")
}

// validate refuses flag values that cannot work, naming the flag.
func (o *serveOptions) validate() error {
	switch {
	case o.webhookWorkers < 1:
		return fmt.Errorf("--webhook-workers %d: at least 1 attempt must be allowed in flight", o.webhookWorkers)
	case o.webhookPerDest < 1:
		return fmt.Errorf("--webhook-per-destination %d: at least 1 attempt per receiver must be allowed in flight", o.webhookPerDest)
	case o.webhookPerDest > o.webhookWorkers:
		return fmt.Errorf("--webhook-per-destination %d: cannot exceed --webhook-workers %d", o.webhookPerDest, o.webhookWorkers)
	case o.webhookTimeout <= 0:
		return fmt.Errorf("--webhook-timeout %s: must be positive", o.webhookTimeout)
	case o.shutdownTimeout <= 0:
		return fmt.Errorf("--shutdown-timeout %s: must be positive", o.shutdownTimeout)
	case o.retentionAge < 0:
		return fmt.Errorf("--retention-age %s: must be 0 (off) or positive", o.retentionAge)
	case o.retentionCount < 0:
		return fmt.Errorf("--retention-count %d: must be 0 (off) or positive", o.retentionCount)
	case o.retentionInterval <= 0:
		return fmt.Errorf("--retention-interval %s: must be positive", o.retentionInterval)
	case o.adminToken != "" && len(o.adminToken) < mockserver.MinAdminTokenLen:
		return fmt.Errorf("--admin-token (or INNOSANDBOX_ADMIN_TOKEN) has %d characters: use at least %d, e.g. the output of openssl rand -hex 24", len(o.adminToken), mockserver.MinAdminTokenLen)
	case o.maxConnections < 0:
		return fmt.Errorf("--max-connections %d: must be 0 (no limit) or positive", o.maxConnections)
	}
	if _, err := o.egressPolicy(); err != nil {
		return err // before listening
	}
	return o.limitsValid()
}

func runServe(ctx context.Context, o *serveOptions, stdout, stderr io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	logOut := newBufferedLog(stderr)
	defer logOut.Close()
	log, err := newLogger(logOut, o.logFormat, o.logLevel)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", o.addr, err)
	}
	listeners := []net.Listener{ln}
	var cln net.Listener
	if o.controlAddr != "" {
		if cln, err = net.Listen("tcp", o.controlAddr); err != nil {
			_ = ln.Close()
			return fmt.Errorf("--control-addr %s: %w", o.controlAddr, err)
		}
		listeners = append(listeners, cln)
	}
	for _, l := range listeners {
		o.listeners = append(o.listeners, l.Addr())
	}
	closeAll := func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}
	// Fail closed: a sandbox others can reach never opens its control API
	// without a token. Unless told otherwise, it makes one up and prints it
	// once (never to the log), as notebook servers do.
	generated := ""
	if o.adminToken == "" && !o.controlOpen && !allLoopback(listeners) {
		generated = newAdminToken()
		o.adminToken = generated
	}
	srv, store, err := buildServer(ctx, o, nil, log)
	if err != nil {
		closeAll()
		return err
	}
	defer store.Close()

	servers := map[*http.Server]net.Listener{}
	newServer := func(h http.Handler) *http.Server {
		hs := boundedServer(h)
		hs.RegisterOnShutdown(srv.EndWaits) // long polls on the deliveries answer at once
		return hs
	}
	if cln == nil {
		servers[newServer(srv)] = limitListener(ln, o.maxConnections)
	} else {
		servers[newServer(srv.PublicHandler())] = limitListener(ln, o.maxConnections)
		servers[newServer(srv.ControlHandler())] = limitListener(cln, o.maxConnections)
	}
	dispatched := make(chan struct{})
	go func() { srv.Run(context.WithoutCancel(ctx)); close(dispatched) }()
	served := make(chan error, len(servers))
	for hs, l := range servers {
		go func() { served <- hs.Serve(l) }()
	}
	if generated != "" {
		// Even with --quiet: without it the control API cannot be used.
		printGeneratedToken(stdout, generated)
	}
	if !o.quiet {
		printBanner(stdout, ln.Addr(), controlAddrOf(cln, ln), srv.Seed(), o)
	}
	log.Info("serving", "addr", ln.Addr().String(), "control_addr", controlAddrOf(cln, ln).String(), "store", o.storeKindForLog(),
		"control_access", controlAccess(o, generated != ""))
	if p, err := o.egressPolicy(); err == nil {
		log.Info("webhook pushes may reach "+describePolicy(p), "webhook_allow", o.webhookAllow)
	}

	select {
	case err := <-served:
		for hs := range servers {
			_ = hs.Close()
		}
		_ = srv.Shutdown(context.Background())
		<-dispatched
		return err
	case <-ctx.Done():
	}
	// SIGTERM or SIGINT: start no more webhook attempts, stop accepting and
	// finish the requests in flight, then let the attempts in flight finish; whatever is still
	// running when the time is up is cancelled and handed back to the
	// outbox, due at once for the next process. Nothing due is lost.
	log.Info("shutting down", "timeout", o.shutdownTimeout.String())
	srv.StopDispatching()
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	for hs := range servers {
		if err := hs.Shutdown(sctx); err != nil {
			log.Warn("requests still in flight at shutdown", "err", err)
			_ = hs.Close()
		}
	}
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("webhook deliveries could not be handed back; they return when their leases end", "err", err)
	}
	<-dispatched
	log.Info("stopped")
	return nil
}

// storeKindForLog names the store without any credentials in it.
func (o *serveOptions) storeKindForLog() string { return storeForLog(o.store) }

func isLoopbackAddr(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// allLoopback reports whether every listener is on a loopback address, the
// one case where loopback callers may be taken for the operator.
func allLoopback(ls []net.Listener) bool {
	for _, l := range ls {
		if !isLoopbackAddr(l.Addr()) {
			return false
		}
	}
	return true
}

// newAdminToken makes up an admin token: 24 bytes from crypto/rand, hex.
func newAdminToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms; a guessable
		// token would be worse than not starting.
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

// controlAddrOf is where the control API answers: its own listener, or the
// public one.
func controlAddrOf(control, public net.Listener) net.Addr {
	if control != nil {
		return control.Addr()
	}
	return public.Addr()
}

// controlAccess says in the log who the control API answers (never the
// token itself).
func controlAccess(o *serveOptions, generated bool) string {
	switch {
	case generated:
		return "admin token made up at start (printed once on stdout)"
	case o.adminToken != "":
		return "admin token"
	case o.controlOpen:
		return "open to every caller (--control-open)"
	}
	return "loopback callers, not forwarded"
}

// printGeneratedToken shows a made-up admin token, once: it is not logged
// and not kept anywhere.
func printGeneratedToken(w io.Writer, tok string) {
	fmt.Fprintf(w, "The sandbox listens beyond loopback and was given no --admin-token, so it made one up.\n"+
		"Every control call (/_sandbox/, /metrics) needs it in X-Sandbox-Admin-Token; it is shown only here:\n"+
		"  export INNOSANDBOX_ADMIN_TOKEN=%s\n"+
		"(The examples below, trigger and replay read it from there. Set it before starting to choose your own,\n"+
		"at least 16 characters.)\n\n", tok)
}

// printBanner tells a developer how to use the sandbox right away.
func printBanner(w io.Writer, addr, controlAddr net.Addr, seed *fixtures.Seed, o *serveOptions) {
	base := "http://" + bannerHost(addr)
	ctl := "http://" + bannerHost(controlAddr)
	fmt.Fprintf(w, "innosandbox %s listening on %s (store: %s)\n", version, base, o.storeKindForLog())
	if ctl != base {
		fmt.Fprintf(w, "control API (/_sandbox/, /metrics) on %s\n", ctl)
	}
	fmt.Fprintf(w, "Dashboard: %s%s\n", ctl, ui.Prefix)
	fmt.Fprintln(w)
	// The control calls below carry the admin token from the environment:
	// a token on a command line ends up in shell history and ps output.
	auth := ""
	if o.adminToken != "" {
		auth = ` -H "X-Sandbox-Admin-Token: $INNOSANDBOX_ADMIN_TOKEN"`
	}
	var app *fixtures.SeedApp
	for i := range seed.Accounts[0].Apps {
		if seed.Accounts[0].Apps[i].Token != "" {
			app = &seed.Accounts[0].Apps[i]
			break
		}
	}
	if app == nil {
		fmt.Fprintf(w, "The seed has no app with a fixed token; create one:\n  curl -s -X POST %s/_sandbox/apps%s -H 'Content-Type: application/json' -d '{\"name\":\"my app\"}'\n", ctl, auth)
		return
	}
	fmt.Fprintf(w, "Demo account %s, demo app (the account's default app):\n  AppKey:        %s\n  Authorization: %s\n", seed.Accounts[0].Name, app.AppKey, app.Token)
	if app.Secret != "" {
		fmt.Fprintf(w, "  AppSecret:     %s (signs OTP sends with x-appKey, x-nonce, x-timestamp, x-signature)\n", app.Secret)
	}
	fmt.Fprintf(w, "(If you issued a new token for the demo app, this one no longer works: POST /_sandbox/reset restores it.)\n\n")
	fmt.Fprintf(w, "Send a WhatsApp message:\n  curl -s %s/api/whatsapp/v3/msg/submit \\\n    -H 'Content-Type: application/json;charset=utf-8' \\\n    -H 'AppKey: %s' \\\n    -H 'Authorization: %s' \\\n    -d '{\"wabaId\":\"110129512080569\",\"messageType\":\"template\",\"sendNumber\":\"8618912123456\",\"recipientNumber\":\"6285234567899\",\"templateName\":\"otp_login\",\"language\":\"en_US\",\"bodyParams\":[\"245098\"]}'\n\n", base, app.AppKey, app.Token)
	fmt.Fprintf(w, "Receive its status reports: configure a callback, then send again:\n  curl -s -X POST %s/_sandbox/apps/%s/webhooks%s -H 'Content-Type: application/json' \\\n    -d '{\"product\":\"whatsapp\",\"url\":\"http://127.0.0.1:9000/hook\",\"events\":[\"whatsapp_message_status_updated\",\"whatsapp_mo_message_received\"]}'\n", ctl, app.AppKey, auth)
	fmt.Fprintf(w, "See every push and its attempts: curl -s %s/_sandbox/deliveries%s\n\n", ctl, auth)
}

func bannerHost(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if ta.IP.IsUnspecified() {
		return fmt.Sprintf("127.0.0.1:%d", ta.Port)
	}
	return ta.String()
}

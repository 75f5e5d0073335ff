// Package ui is the sandbox's dashboard: server-rendered HTML pages under
// /_sandbox/ui/ that show accounts, apps, deliveries, messages and templates
// and act on them. Pages read the state through state.Sandbox and act
// through the control API, called in-process, so that every rule and every
// refusal is the control API's own. Everything it serves is embedded; it
// loads nothing from elsewhere and works with JavaScript off (a few lines
// of script make the delivery list live).
package ui

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/spec"
)

// Prefix is where the dashboard is mounted.
const Prefix = "/_sandbox/ui/"

// Backend is what the dashboard needs from the sandbox; the server hands it
// one. The dashboard never imports the server: it reads the state through
// Sandbox and changes it only through Control.
type Backend interface {
	// Sandbox is the domain service the pages read from.
	Sandbox() *state.Sandbox
	// Spec is the contract: event types, their examples and products.
	Spec() *spec.Spec
	// Control answers one control API request in-process, as for a caller
	// the dashboard has admitted: its status and JSON body. account names
	// the X-Sandbox-Account ("" for the default account).
	Control(ctx context.Context, method, path, account string, body []byte) (status int, answer []byte)
	// Admits reports whether the control API lets r in without an admin
	// token (a loopback caller, or a sandbox opened on purpose).
	Admits(r *http.Request) bool
	// CheckAdminToken reports whether token is the admin token (false when
	// none is configured); it compares in constant time.
	CheckAdminToken(token string) bool
	// SessionKey signs the sign-in cookie: derived from the admin token,
	// so that a new token ends every session; nil when there is no token.
	SessionKey() []byte
	// WatchDeliveries starts a watch on the delivery log: the live list
	// reads the log, then waits on the watch, then reads again.
	WatchDeliveries() Watch
}

// Watch tells when the delivery log may have changed since the last Wait
// returned (or since the watch began); Wait returns false when ctx ends or
// the sandbox is shutting down.
type Watch interface {
	Wait(ctx context.Context) bool
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Cookie names. Both are HttpOnly and SameSite=Strict.
const (
	sessionCookie = "sandbox_ui_session"
	csrfCookie    = "sandbox_ui_csrf"
	csrfField     = "csrf"
	sessionLength = 12 * time.Hour
)

// CSP is the Content-Security-Policy of every answer: only this origin's
// own script and style, no inline script, no frames, forms post here only.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Handler serves the dashboard.
type Handler struct {
	b     Backend
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
	cop   *http.CrossOriginProtection
}

// New builds the dashboard over a backend; log may be nil.
func New(b Backend, log *slog.Logger) (*Handler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{b: b, log: log, pages: map[string]*template.Template{}, mux: http.NewServeMux(), cop: http.NewCrossOriginProtection()}
	if err := h.parse(); err != nil {
		return nil, err
	}
	h.routes()
	return h, nil
}

// parse builds one template set per page: the layout plus the page.
func (h *Handler) parse() error {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || base == "parts" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", n)
		if err != nil {
			return fmt.Errorf("dashboard template %s: %w", n, err)
		}
		h.pages[base] = t
	}
	return nil
}

func (h *Handler) routes() {
	m := h.mux
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", http.FileServerFS(static)))
	m.HandleFunc("GET "+Prefix+"signin", h.signinForm)
	m.HandleFunc("POST "+Prefix+"signin", h.signin)
	m.HandleFunc("POST "+Prefix+"signout", h.signout)
	m.HandleFunc("GET "+Prefix+"{$}", h.overview)
	m.HandleFunc("POST "+Prefix+"clock/advance", h.advance)
	m.HandleFunc("GET "+Prefix+"apps/{appKey}", h.app)
	m.HandleFunc("POST "+Prefix+"apps/{appKey}/tokens", h.issueToken)
	m.HandleFunc("POST "+Prefix+"apps/{appKey}/tokens/revoke", h.revokeToken)
	m.HandleFunc("POST "+Prefix+"apps/{appKey}/default", h.makeDefault)
	m.HandleFunc("POST "+Prefix+"apps/{appKey}/webhooks/{product}", h.saveWebhook)
	m.HandleFunc("POST "+Prefix+"apps/{appKey}/webhooks/{product}/delete", h.deleteWebhook)
	m.HandleFunc("POST "+Prefix+"apps/{appKey}/bindings", h.bind)
	m.HandleFunc("POST "+Prefix+"apps/{appKey}/bindings/delete", h.unbind)
	m.HandleFunc("POST "+Prefix+"apps/{appKey}/replay", h.replayDeadLetters)
	m.HandleFunc("GET "+Prefix+"deliveries", h.deliveries)
	m.HandleFunc("GET "+Prefix+"deliveries/live", h.deliveriesLive)
	m.HandleFunc("GET "+Prefix+"deliveries/{id}", h.delivery)
	m.HandleFunc("POST "+Prefix+"deliveries/{id}/replay", h.replay)
	m.HandleFunc("GET "+Prefix+"messages", h.messages)
	m.HandleFunc("GET "+Prefix+"fire", h.fireForm)
	m.HandleFunc("POST "+Prefix+"fire", h.fire)
	m.HandleFunc("POST "+Prefix+"inbound", h.inbound)
	m.HandleFunc("GET "+Prefix+"templates", h.templates)
	m.HandleFunc("POST "+Prefix+"templates/status", h.templateStatus)
	m.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		h.render(w, r, http.StatusNotFound, "error", &page{Title: "Not found", Error: "There is no dashboard page at " + r.URL.Path + "."})
	})
}

// ServeHTTP applies the control API's access rules, the security headers
// and, on every state-changing request, the CSRF check.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	static := strings.HasPrefix(r.URL.Path, Prefix+"static/")
	if !static {
		hd.Set("Cache-Control", "no-store")
	}
	signin := r.URL.Path == Prefix+"signin"
	switch {
	case static:
	case h.b.SessionKey() != nil:
		if !signin && !h.signedIn(r) {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, Prefix+"signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.render(w, r, http.StatusForbidden, "error", &page{Title: "Sign in first", Error: "Your session has ended; sign in again."})
			return
		}
	case !h.b.Admits(r):
		h.render(w, r, http.StatusForbidden, "error", &page{Title: "Closed",
			Error: "The dashboard, like the control API, is open to loopback callers only. Start the sandbox with --admin-token to sign in from elsewhere."})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if err := h.cop.Check(r); err != nil {
			h.render(w, r, http.StatusForbidden, "error", &page{Title: "Refused", Error: "A form of another site cannot act on the sandbox: " + err.Error()})
			return
		}
		if !h.csrfOK(r) {
			h.render(w, r, http.StatusForbidden, "error", &page{Title: "Refused",
				Error: "The form's CSRF token is missing or stale; reload the page and try again."})
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

// ------------------------------------------------------------- sessions

// sessionValue is "<unix expiry>.<hex HMAC of it>": nothing to store, and a
// new admin token ends every session.
func sessionValue(key []byte, until time.Time) string {
	exp := strconv.FormatInt(until.Unix(), 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte("session:" + exp))
	return exp + "." + hex.EncodeToString(m.Sum(nil))
}

func (h *Handler) signedIn(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	exp, _, ok := strings.Cut(c.Value, ".")
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || h.b.Sandbox().RealNow().Unix() > n {
		return false
	}
	want := sessionValue(h.b.SessionKey(), time.Unix(n, 0))
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(want)) == 1
}

func (h *Handler) signinForm(w http.ResponseWriter, r *http.Request) {
	if h.b.SessionKey() == nil {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "signin", &page{Title: "Sign in", Next: safeNext(r.URL.Query().Get("next"))})
}

func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	key := h.b.SessionKey()
	if key == nil {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if !h.b.CheckAdminToken(r.PostFormValue("token")) {
		h.render(w, r, http.StatusForbidden, "signin", &page{Title: "Sign in", Next: next, Error: "That is not the sandbox's admin token."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sessionValue(key, h.b.Sandbox().RealNow().Add(sessionLength)), Path: Prefix,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(sessionLength / time.Second)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}

// safeNext keeps a sign-in's "next" inside the dashboard.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return Prefix
	}
	return next
}

// ------------------------------------------------------------------ CSRF

// csrfToken returns the browser's CSRF token, setting the cookie that
// carries it on first sight (double submit: a form must echo the cookie,
// which another site can neither read nor set).
func csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 64 {
		return c.Value
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	v := hex.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	// A page rendered in the same answer must see it too.
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: v})
	return v
}

func (h *Handler) csrfOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) != 64 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(csrfField))) == 1
}

// ------------------------------------------------------------- rendering

// page is what every template gets; each page fills its own part.
type page struct {
	Title    string
	Nav      string // the menu entry to mark current
	CSRF     string
	Account  string   // the account the page is about
	Accounts []string // for the account switcher
	Note     string   // what the last action did
	Error    string   // why the last action was refused
	Next     string
	SignOut  bool
	Data     any
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t := h.pages[name]
	if t == nil {
		http.Error(w, "no dashboard template "+name, http.StatusInternalServerError)
		return
	}
	p.CSRF = csrfToken(w, r)
	p.SignOut = h.b.SessionKey() != nil && h.signedIn(r)
	if p.Note == "" {
		p.Note = r.URL.Query().Get("note")
	}
	if len(p.Accounts) == 0 {
		if list, err := h.b.Sandbox().Store().ListAccounts(r.Context()); err == nil {
			for _, a := range list {
				p.Accounts = append(p.Accounts, a.Name)
			}
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.Error("rendering a dashboard page failed", "page", name, "err", err)
		http.Error(w, "rendering the page failed; the log has the details", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail renders a refusal of the sandbox itself (a store error).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "The sandbox could not answer; the log has the details."
	switch {
	case isNotFound(err):
		status, msg = http.StatusNotFound, err.Error()
	default:
		h.log.Error("dashboard", "path", r.URL.Path, "err", err)
	}
	h.render(w, r, status, "error", &page{Title: http.StatusText(status), Error: msg})
}

// back answers a successful action: a redirect (POST, then GET) to where
// the person was, with a note of what happened.
func back(w http.ResponseWriter, r *http.Request, to, note string) {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, to+sep+"note="+url.QueryEscape(note), http.StatusSeeOther)
}

// ---------------------------------------------------------- control calls

// controlError is a refusal of the control API: its status and message.
type controlError struct {
	Status  int
	Message string
}

func (e *controlError) Error() string { return e.Message }

// control calls the control API; a refusal becomes a *controlError with
// the API's own message (which names the field and the rule).
func (h *Handler) control(ctx context.Context, method, path, account string, in any, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	status, answer := h.b.Control(ctx, method, path, account, body)
	if status >= 300 || status == http.StatusOK && isBusinessRefusal(answer) {
		var env struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(answer, &env)
		if env.Message == "" {
			env.Message = fmt.Sprintf("the control API answered %d", status)
		}
		return &controlError{Status: status, Message: env.Message}
	}
	if out != nil && len(answer) > 0 {
		return json.Unmarshal(answer, out)
	}
	return nil
}

// isBusinessRefusal tells a documented business refusal, which the
// control API answers with HTTP 200 and a code other than "0".
func isBusinessRefusal(answer []byte) bool {
	var env struct {
		Code *string `json:"code"`
	}
	return json.Unmarshal(answer, &env) == nil && env.Code != nil && *env.Code != "0"
}

// refusal is the message of an error to show in a page.
func refusal(err error) string {
	if ce, ok := err.(*controlError); ok {
		return ce.Message
	}
	return err.Error()
}

func isNotFound(err error) bool { return errors.Is(err, state.ErrNotFound) }

// accountOf is the account a page is about: ?account=, else the default.
func (h *Handler) accountOf(r *http.Request) (state.Account, error) {
	name := r.FormValue("account")
	return h.b.Sandbox().ResolveAccount(r.Context(), name)
}

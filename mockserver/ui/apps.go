package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// The overview and an app's page: accounts, apps, clocks, tokens,
// webhooks and bindings.

type accountRow struct {
	state.Account
	Now  time.Time
	Apps []appRow
}

type appRow struct {
	state.App
	Default    bool
	TokenState string
}

// clockSteps are the overview's "advance" buttons.
var clockSteps = []string{"1s", "10s", "1m", "1h", "24h"}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	sb := h.b.Sandbox()
	accounts, err := sb.Store().ListAccounts(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rows := make([]accountRow, 0, len(accounts))
	for _, a := range accounts {
		apps, err := sb.Store().ListApps(r.Context(), a.Name)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		row := accountRow{Account: a, Now: sb.Now(a)}
		for _, app := range apps {
			st, _, err := sb.TokenStatus(r.Context(), app.Key)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			row.Apps = append(row.Apps, appRow{App: app, Default: a.DefaultApp == app.Key, TokenState: st})
		}
		rows = append(rows, row)
	}
	h.render(w, r, http.StatusOK, "overview", &page{Title: "Overview", Nav: "overview",
		Data: map[string]any{"Accounts": rows, "Steps": clockSteps}})
}

func (h *Handler) advance(w http.ResponseWriter, r *http.Request) {
	account, by := r.PostFormValue("account"), strings.TrimSpace(r.PostFormValue("by"))
	if err := h.control(r.Context(), http.MethodPost, "/_sandbox/clock/advance", account, map[string]string{"by": by}, nil); err != nil {
		h.render(w, r, http.StatusBadRequest, "error", &page{Title: "Clock not moved", Error: refusal(err)})
		return
	}
	back(w, r, safeNext(r.PostFormValue("next")), "Clock of "+account+" advanced by "+by+".")
}

// ------------------------------------------------------------------- app

type tokenRow struct {
	Fingerprint string
	State       string
	IssuedAt    time.Time
	ExpiresAt   *time.Time
	EndedAt     *time.Time
}

// webhookForm is one product's webhook as the form shows it: the
// credentials only as "set" or not, never their values.
type webhookForm struct {
	Product     string
	Configured  bool
	URL         string
	Method      string
	Events      []eventChoice
	HasUsername bool
	HasAuth     bool
	Retry       *state.RetryPolicy
	Chaos       *state.Chaos
}

type eventChoice struct {
	Name    string
	Checked bool
}

type appPage struct {
	App      state.App
	Account  state.Account
	Default  bool
	Tokens   []tokenRow
	NewToken string // shown once, right after it was issued
	Webhooks []webhookForm
	Bindings []state.Binding
	Dead     int // dead letters of the app
}

func (h *Handler) appData(r *http.Request, key string) (*appPage, error) {
	sb := h.b.Sandbox()
	st := sb.Store()
	ctx := r.Context()
	app, err := st.GetApp(ctx, key)
	if err != nil {
		return nil, err
	}
	acct, err := st.GetAccount(ctx, app.Account)
	if err != nil {
		return nil, err
	}
	p := &appPage{App: app, Account: acct, Default: acct.DefaultApp == app.Key}
	tokens, err := st.ListTokens(ctx, key)
	if err != nil {
		return nil, err
	}
	for _, t := range tokens {
		s := string(t.State)
		if t.State == state.TokenCurrent && sb.IsExpired(t, acct) {
			s = "expired"
		}
		p.Tokens = append(p.Tokens, tokenRow{Fingerprint: state.Fingerprint(t.Hash), State: s, IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt, EndedAt: t.EndedAt})
	}
	hooks, err := st.ListWebhooks(ctx, key)
	if err != nil {
		return nil, err
	}
	for _, product := range h.b.Spec().Products() {
		f := webhookForm{Product: product, Method: http.MethodPost}
		var hook *state.Webhook
		for i := range hooks {
			if hooks[i].Product == product {
				hook = &hooks[i]
			}
		}
		if hook != nil {
			f.Configured, f.URL, f.Method = true, hook.URL, hook.Method
			f.HasUsername, f.HasAuth = hook.Username != nil, hook.Authorization != nil
			f.Retry, f.Chaos = hook.Retry, hook.Chaos
		}
		for _, ev := range h.b.Spec().EventTypes(product) {
			f.Events = append(f.Events, eventChoice{Name: ev, Checked: hook == nil || slices.Contains(hook.Events, ev)})
		}
		p.Webhooks = append(p.Webhooks, f)
	}
	if p.Bindings, err = st.ListBindings(ctx, key); err != nil {
		return nil, err
	}
	dead, err := sb.ListEvents(ctx, state.EventFilter{Account: acct.Name, AppKey: key, Status: state.EventFailed, Limit: 1000})
	if err != nil {
		return nil, err
	}
	p.Dead = len(dead)
	return p, nil
}

func (h *Handler) app(w http.ResponseWriter, r *http.Request) {
	h.renderApp(w, r, http.StatusOK, "", "")
}

// renderApp renders an app's page, with a refusal or a new token in it.
func (h *Handler) renderApp(w http.ResponseWriter, r *http.Request, status int, errMsg, newToken string) {
	p, err := h.appData(r, r.PathValue("appKey"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.NewToken = newToken
	h.render(w, r, status, "app", &page{Title: "App " + p.App.Name, Nav: "overview", Account: p.Account.Name, Error: errMsg, Data: p})
}

func appPath(key string) string { return Prefix + "apps/" + url.PathEscape(key) }

func controlApp(key string) string { return "/_sandbox/apps/" + url.PathEscape(key) }

func (h *Handler) issueToken(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("appKey")
	in := map[string]any{}
	if exp := strings.TrimSpace(r.PostFormValue("expiresAt")); exp != "" {
		// A datetime-local field gives "2026-12-06T10:00"; read it as UTC.
		if t, err := time.Parse("2006-01-02T15:04", exp); err == nil {
			exp = t.UTC().Format(time.RFC3339)
		}
		in["expiresAt"] = exp
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := h.control(r.Context(), http.MethodPost, controlApp(key)+"/tokens", "", in, &out); err != nil {
		h.renderApp(w, r, http.StatusBadRequest, refusal(err), "")
		return
	}
	// The token is shown in this answer only (no-store), never again.
	h.renderApp(w, r, http.StatusOK, "", out.Token)
}

func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("appKey")
	if err := h.control(r.Context(), http.MethodDelete, controlApp(key)+"/tokens", "", nil, nil); err != nil {
		h.renderApp(w, r, http.StatusBadRequest, refusal(err), "")
		return
	}
	back(w, r, appPath(key), "Token revoked: the app cannot authenticate until a new one is issued.")
}

func (h *Handler) makeDefault(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("appKey")
	app, err := h.b.Sandbox().Store().GetApp(r.Context(), key)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.control(r.Context(), http.MethodPut, "/_sandbox/default-app", app.Account, map[string]string{"appKey": key}, nil); err != nil {
		h.renderApp(w, r, http.StatusBadRequest, refusal(err), "")
		return
	}
	back(w, r, appPath(key), "This app is now the default app of "+app.Account+".")
}

// saveWebhook creates or replaces a product's webhook. Credentials are
// write-only: a blank field keeps the stored value (read here, on the
// server, never sent to the browser); "clear" removes them.
func (h *Handler) saveWebhook(w http.ResponseWriter, r *http.Request) {
	key, product := r.PathValue("appKey"), r.PathValue("product")
	if err := r.ParseForm(); err != nil {
		h.renderApp(w, r, http.StatusBadRequest, "the form could not be read: "+err.Error(), "")
		return
	}
	f := r.PostForm
	in := map[string]any{"url": strings.TrimSpace(f.Get("url")), "events": nonNilStrings(f["events"]), "method": f.Get("method")}
	existing, err := h.b.Sandbox().Store().GetWebhook(r.Context(), key, product)
	exists := err == nil
	if err != nil && !isNotFound(err) {
		h.fail(w, r, err)
		return
	}
	clear := f.Get("clearCredentials") != ""
	for _, c := range []struct {
		field string
		kept  *string
	}{{"username", existing.Username}, {"authorization", existing.Authorization}} {
		switch v := f.Get(c.field); {
		case v != "":
			in[c.field] = v
		case !clear && c.kept != nil:
			in[c.field] = *c.kept
		}
	}
	retry := map[string]any{}
	if v := strings.TrimSpace(f.Get("maxAttempts")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			h.renderApp(w, r, http.StatusBadRequest, "retry: max attempts: "+strconv.Quote(v)+" is not a whole number", "")
			return
		}
		retry["maxAttempts"] = n
	}
	if v := strings.TrimSpace(f.Get("multiplier")); v != "" {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			h.renderApp(w, r, http.StatusBadRequest, "retry: multiplier: "+strconv.Quote(v)+" is not a number", "")
			return
		}
		retry["multiplier"] = x
	}
	for _, d := range []string{"initial", "maxInterval"} {
		if v := strings.TrimSpace(f.Get(d)); v != "" {
			retry[d] = v
		}
	}
	if len(retry) > 0 {
		in["retry"] = retry
	}
	if f.Get("chaos") != "" {
		chaos := map[string]any{}
		for _, p := range []string{"duplicate", "reorder", "drop"} {
			if v := strings.TrimSpace(f.Get(p)); v != "" {
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					h.renderApp(w, r, http.StatusBadRequest, "chaos: "+p+": "+strconv.Quote(v)+" is not a probability from 0 to 1", "")
					return
				}
				chaos[p] = x
			}
		}
		if v := strings.TrimSpace(f.Get("delay")); v != "" {
			chaos["delay"] = v
		}
		if v := strings.TrimSpace(f.Get("seed")); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				h.renderApp(w, r, http.StatusBadRequest, "chaos: seed: "+strconv.Quote(v)+" is not a whole number", "")
				return
			}
			chaos["seed"] = n
		}
		in["chaos"] = chaos
	}
	method, path := http.MethodPut, controlApp(key)+"/webhooks/"+url.PathEscape(product)
	if !exists {
		in["product"] = product
		method, path = http.MethodPost, controlApp(key)+"/webhooks"
	}
	if err := h.control(r.Context(), method, path, "", in, nil); err != nil {
		h.renderApp(w, r, http.StatusBadRequest, product+" webhook not saved: "+refusal(err), "")
		return
	}
	back(w, r, appPath(key), "The "+product+" webhook is saved.")
}

func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	key, product := r.PathValue("appKey"), r.PathValue("product")
	if err := h.control(r.Context(), http.MethodDelete, controlApp(key)+"/webhooks/"+url.PathEscape(product), "", nil, nil); err != nil {
		h.renderApp(w, r, http.StatusBadRequest, refusal(err), "")
		return
	}
	back(w, r, appPath(key), "The "+product+" webhook is removed.")
}

func (h *Handler) bind(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("appKey")
	in := map[string]string{"kind": r.PostFormValue("kind"), "value": strings.TrimSpace(r.PostFormValue("value"))}
	if err := h.control(r.Context(), http.MethodPost, controlApp(key)+"/bindings", "", in, nil); err != nil {
		h.renderApp(w, r, http.StatusBadRequest, "not bound: "+refusal(err), "")
		return
	}
	back(w, r, appPath(key), "Bound "+in["kind"]+" "+in["value"]+".")
}

func (h *Handler) unbind(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("appKey")
	kind, value := r.PostFormValue("kind"), r.PostFormValue("value")
	path := controlApp(key) + "/bindings/" + url.PathEscape(kind) + "/" + url.PathEscape(value)
	if err := h.control(r.Context(), http.MethodDelete, path, "", nil, nil); err != nil {
		h.renderApp(w, r, http.StatusBadRequest, refusal(err), "")
		return
	}
	back(w, r, appPath(key), "Unbound "+kind+" "+value+".")
}

func (h *Handler) replayDeadLetters(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("appKey")
	var out struct {
		Replayed int `json:"replayed"`
	}
	if err := h.control(r.Context(), http.MethodPost, controlApp(key)+"/deliveries/replay", "", nil, &out); err != nil {
		h.renderApp(w, r, http.StatusBadRequest, refusal(err), "")
		return
	}
	back(w, r, safeNext(r.PostFormValue("next")), strconv.Itoa(out.Replayed)+" dead letters of "+key+" replayed.")
}

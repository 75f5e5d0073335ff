package mockserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// controlHandlers binds the control API's operations, each behind the
// wall between accounts (access.go).
func (s *Server) controlHandlers() map[string]handlerFunc {
	m := s.controlOperations()
	for op, h := range m {
		m[op] = s.walled(op, h)
	}
	return m
}

// controlOperations names the handler of each control operation.
func (s *Server) controlOperations() map[string]handlerFunc {
	return map[string]handlerFunc{
		"healthz":              s.healthz,
		"readyz":               s.readyz,
		"reset":                s.reset,
		"listAccounts":         s.listAccounts,
		"createAccount":        s.createAccount,
		"getAccount":           s.getAccount,
		"deleteAccount":        s.deleteAccount,
		"rotateAccountToken":   s.rotateAccountToken,
		"getDefaultApp":        s.getDefaultApp,
		"setDefaultApp":        s.setDefaultApp,
		"clearDefaultApp":      s.clearDefaultApp,
		"listApps":             s.listApps,
		"createApp":            s.createApp,
		"getApp":               s.getApp,
		"deleteApp":            s.deleteApp,
		"listTokens":           s.listTokens,
		"issueToken":           s.issueToken,
		"revokeToken":          s.revokeToken,
		"listWebhooks":         s.listWebhooks,
		"createWebhook":        s.createWebhook,
		"getWebhook":           s.getWebhook,
		"updateWebhook":        s.updateWebhook,
		"deleteWebhook":        s.deleteWebhook,
		"listBindings":         s.listBindings,
		"createBinding":        s.createBinding,
		"deleteBinding":        s.deleteBinding,
		"simulateInbound":      s.simulateInbound,
		"triggerEvent":         s.triggerEvent,
		"listDeliveries":       s.listDeliveries,
		"getDelivery":          s.getDelivery,
		"replayDelivery":       s.replayDelivery,
		"replayAppDeadLetters": s.replayAppDeadLetters,
		"getClock":             s.getClock,
		"setClock":             s.setClock,
		"advanceClock":         s.advanceClock,
		// control_templates.go
		"listTemplates":     s.listTemplates,
		"createTemplate":    s.createTemplate,
		"setTemplateStatus": s.setTemplateStatus,
		"listWabaNumbers":   s.listWabaNumbers,
		"addWabaNumber":     s.addWabaNumber,
	}
}

// decode reads a validated JSON body into v; an empty body leaves v as is.
func decode(c *call, v any) *reply {
	if len(c.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		r := fail(http.StatusBadRequest, "request body: "+err.Error())
		return &r
	}
	return nil
}

// account resolves the account a call names in X-Sandbox-Account (the
// default account when it names none).
func (s *Server) account(c *call) (state.Account, *reply) {
	name := c.accountName()
	a, err := s.sandbox.ResolveAccount(c.ctx, name)
	if err != nil {
		if errors.Is(err, state.ErrNotFound) && name == "" {
			r := fail(http.StatusNotFound, fmt.Sprintf("the default account %s does not exist (deleted?); name an account in %s or POST /_sandbox/reset", s.sandbox.DefaultAccount(), HeaderAccount))
			return a, &r
		}
		r := fromError(err)
		return a, &r
	}
	return a, nil
}

// app resolves the {appKey} of a path with its account.
func (s *Server) app(c *call) (state.App, state.Account, *reply) {
	app, err := s.store.GetApp(c.ctx, c.params["appKey"])
	if err != nil {
		r := fromError(err)
		return app, state.Account{}, &r
	}
	acct, err := s.store.GetAccount(c.ctx, app.Account)
	if err != nil {
		r := fromError(err)
		return app, acct, &r
	}
	return app, acct, nil
}

func (s *Server) healthz(c *call) reply {
	if err := s.store.Ping(c.ctx); err != nil {
		return fail(http.StatusServiceUnavailable, MsgUnavailable)
	}
	return ok(http.StatusOK, map[string]string{"status": "ok", "store": s.storeKind})
}

// readyz says whether this replica can serve: its store answers. A
// balancer takes a replica whose store fails out of rotation; the answer
// says so in general words, the log names the store's failure.
func (s *Server) readyz(c *call) reply {
	if err := s.store.Ping(c.ctx); err != nil {
		s.log.Warn("not ready: the store does not answer", "err", err)
		return fail(http.StatusServiceUnavailable, MsgNotReady)
	}
	return ok(http.StatusOK, map[string]string{"status": "ready", "store": s.storeKind})
}

func (s *Server) reset(c *call) reply {
	if err := s.sandbox.Reset(c.ctx); err != nil {
		return fromError(err)
	}
	if err := s.applySeed(c.ctx); err != nil {
		return fromError(err)
	}
	accounts, err := s.store.ListAccounts(c.ctx)
	if err != nil {
		return fromError(err)
	}
	apps := 0
	for _, a := range accounts {
		list, err := s.store.ListApps(c.ctx, a.Name)
		if err != nil {
			return fromError(err)
		}
		apps += len(list)
	}
	return ok(http.StatusOK, map[string]int{"accounts": len(accounts), "apps": apps})
}

// ---------------------------------------------------------------- accounts

func (s *Server) listAccounts(c *call) reply {
	if mine := c.scope(); mine != "" {
		a, err := s.store.GetAccount(c.ctx, mine)
		if err != nil {
			return fromError(err)
		}
		return ok(http.StatusOK, []accountView{s.accountView(a)})
	}
	list, err := s.store.ListAccounts(c.ctx)
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, viewsOf(list, s.accountView))
}

func (s *Server) createAccount(c *call) reply {
	var in struct {
		Name  string `json:"name"`
		Label string `json:"label"`
	}
	if r := decode(c, &in); r != nil {
		return *r
	}
	a, err := s.sandbox.CreateAccount(c.ctx, in.Name, in.Label)
	if err != nil {
		return fromError(err)
	}
	// The account's control token goes to its creator once; it is never
	// logged and only its hash is kept.
	tok, err := s.sandbox.IssueAccountToken(c.ctx, a.Name)
	if err != nil {
		return fromError(err)
	}
	v := s.accountView(a)
	v.ControlToken = tok
	return ok(http.StatusCreated, v)
}

// rotateAccountToken issues an account a new control token; the old one
// stops working at once.
func (s *Server) rotateAccountToken(c *call) reply {
	name := c.params["accountName"]
	tok, err := s.sandbox.IssueAccountToken(c.ctx, name)
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusCreated, map[string]string{"account": name, "controlToken": tok})
}

func (s *Server) getAccount(c *call) reply {
	a, err := s.store.GetAccount(c.ctx, c.params["accountName"])
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, s.accountView(a))
}

func (s *Server) deleteAccount(c *call) reply {
	if err := s.store.DeleteAccount(c.ctx, c.params["accountName"]); err != nil {
		return fromError(err)
	}
	return reply{status: http.StatusNoContent}
}

// -------------------------------------------------------------------- apps

func (s *Server) getDefaultApp(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	return ok(http.StatusOK, map[string]*string{"appKey": strPtr(a.DefaultApp)})
}

func (s *Server) setDefaultApp(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	var in struct {
		AppKey *string `json:"appKey"`
	}
	if r := decode(c, &in); r != nil {
		return *r
	}
	key := ""
	if in.AppKey != nil {
		key = *in.AppKey
	}
	if err := s.store.SetDefaultApp(c.ctx, a.Name, key); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return fail(http.StatusNotFound, fmt.Sprintf("app %q is not an app of account %s", key, a.Name))
		}
		return fromError(err)
	}
	return ok(http.StatusOK, map[string]*string{"appKey": strPtr(key)})
}

func (s *Server) clearDefaultApp(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	if err := s.store.SetDefaultApp(c.ctx, a.Name, ""); err != nil {
		return fromError(err)
	}
	return reply{status: http.StatusNoContent}
}

func (s *Server) appView(c *call, app state.App, acct state.Account) (appView, error) {
	v := appView{AppKey: app.Key, Name: app.Name, Account: app.Account, Default: acct.DefaultApp == app.Key, CreatedAt: ts(app.CreatedAt)}
	st, tok, err := s.sandbox.TokenStatus(c.ctx, app.Key)
	if err != nil {
		return v, err
	}
	v.Token.State = st
	if tok != nil {
		v.Token.IssuedAt = tsPtr(&tok.IssuedAt)
		v.Token.ExpiresAt = tsPtr(tok.ExpiresAt)
	}
	return v, nil
}

func (s *Server) listApps(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	apps, err := s.store.ListApps(c.ctx, a.Name)
	if err != nil {
		return fromError(err)
	}
	out := make([]appView, 0, len(apps))
	for _, app := range apps {
		v, err := s.appView(c, app, a)
		if err != nil {
			return fromError(err)
		}
		out = append(out, v)
	}
	return ok(http.StatusOK, out)
}

func (s *Server) createApp(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	var in struct {
		Name    string `json:"name"`
		Default bool   `json:"default"`
		AppKey  string `json:"appKey"`
	}
	if r := decode(c, &in); r != nil {
		return *r
	}
	app, err := s.sandbox.CreateApp(c.ctx, a.Name, in.Name, in.AppKey, in.Default)
	if err != nil {
		return fromError(err)
	}
	if in.Default {
		a.DefaultApp = app.Key
	}
	v, err := s.appView(c, app, a)
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusCreated, v)
}

func (s *Server) getApp(c *call) reply {
	app, acct, r := s.app(c)
	if r != nil {
		return *r
	}
	v, err := s.appView(c, app, acct)
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, v)
}

func (s *Server) deleteApp(c *call) reply {
	if err := s.store.DeleteApp(c.ctx, c.params["appKey"]); err != nil {
		return fromError(err)
	}
	return reply{status: http.StatusNoContent}
}

// ------------------------------------------------------------------ tokens

func (s *Server) listTokens(c *call) reply {
	_, acct, r := s.app(c)
	if r != nil {
		return *r
	}
	list, err := s.store.ListTokens(c.ctx, c.params["appKey"])
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, viewsOf(list, func(t state.Token) tokenInfoView {
		st := string(t.State)
		if t.State == state.TokenCurrent && s.sandbox.IsExpired(t, acct) {
			st = "expired"
		}
		return tokenInfoView{Fingerprint: state.Fingerprint(t.Hash), State: st, IssuedAt: ts(t.IssuedAt), ExpiresAt: tsPtr(t.ExpiresAt), EndedAt: tsPtr(t.EndedAt)}
	}))
}

func (s *Server) issueToken(c *call) reply {
	var in struct {
		ExpiresAt *string `json:"expiresAt"`
	}
	if r := decode(c, &in); r != nil {
		return *r
	}
	var exp *time.Time
	if in.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339, *in.ExpiresAt)
		if err != nil {
			return fail(http.StatusBadRequest, fmt.Sprintf("request body: /expiresAt: %q is not an RFC 3339 time", *in.ExpiresAt))
		}
		exp = &t
	}
	key := c.params["appKey"]
	plain, tok, err := s.sandbox.IssueToken(c.ctx, key, exp)
	if err != nil {
		return fromError(err)
	}
	// The secret goes to the caller once; it is never logged.
	return ok(http.StatusCreated, issuedTokenView{AppKey: key, Token: plain, ExpiresAt: tsPtr(tok.ExpiresAt), IssuedAt: ts(tok.IssuedAt)})
}

func (s *Server) revokeToken(c *call) reply {
	if err := s.sandbox.RevokeToken(c.ctx, c.params["appKey"]); err != nil {
		return fromError(err)
	}
	return reply{status: http.StatusNoContent}
}

// ---------------------------------------------------------------- webhooks

type webhookIn struct {
	Product       string   `json:"product"`
	URL           string   `json:"url"`
	Events        []string `json:"events"`
	Method        string   `json:"method"`
	Username      *string  `json:"username"`
	Authorization *string  `json:"authorization"`
	Retry         *retryIn `json:"retry"`
	Chaos         *chaosIn `json:"chaos"`
}

// webhook is the configuration asked for; retry and chaos settings are
// read here (webhookopts.go), their durations and defaults.
func (s *Server) webhook(in webhookIn, appKey string) (state.Webhook, *reply) {
	w := state.Webhook{AppKey: appKey, Product: in.Product, URL: in.URL, Events: in.Events, Method: in.Method,
		Username: in.Username, Authorization: in.Authorization}
	var r *reply
	if w.Retry, r = s.retryPolicy(in.Retry); r != nil {
		return w, r
	}
	w.Chaos, r = chaosSettings(in.Chaos)
	return w, r
}

func (s *Server) listWebhooks(c *call) reply {
	list, err := s.store.ListWebhooks(c.ctx, c.params["appKey"])
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, viewsOf(list, webhookOf))
}

func (s *Server) createWebhook(c *call) reply {
	var in webhookIn
	if r := decode(c, &in); r != nil {
		return *r
	}
	want, r := s.webhook(in, c.params["appKey"])
	if r != nil {
		return *r
	}
	w, err := s.sandbox.CreateWebhook(c.ctx, want)
	if errors.Is(err, state.ErrConflict) {
		return fail(http.StatusConflict, fmt.Sprintf("app %s has a %s webhook already; replace it with PUT /_sandbox/apps/%s/webhooks/%s", c.params["appKey"], in.Product, c.params["appKey"], in.Product))
	}
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusCreated, webhookOf(w))
}

func (s *Server) getWebhook(c *call) reply {
	w, err := s.store.GetWebhook(c.ctx, c.params["appKey"], c.params["product"])
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, webhookOf(w))
}

func (s *Server) updateWebhook(c *call) reply {
	var in webhookIn
	if r := decode(c, &in); r != nil {
		return *r
	}
	in.Product = c.params["product"]
	want, r := s.webhook(in, c.params["appKey"])
	if r != nil {
		return *r
	}
	w, err := s.sandbox.UpdateWebhook(c.ctx, want)
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, webhookOf(w))
}

func (s *Server) deleteWebhook(c *call) reply {
	if err := s.store.DeleteWebhook(c.ctx, c.params["appKey"], c.params["product"]); err != nil {
		return fromError(err)
	}
	return reply{status: http.StatusNoContent}
}

// ---------------------------------------------------------------- bindings

func (s *Server) listBindings(c *call) reply {
	list, err := s.store.ListBindings(c.ctx, c.params["appKey"])
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, viewsOf(list, bindingOf))
}

func (s *Server) createBinding(c *call) reply {
	var in struct {
		Kind  string `json:"kind"`
		Value string `json:"value"`
	}
	if r := decode(c, &in); r != nil {
		return *r
	}
	b, err := s.sandbox.Bind(c.ctx, c.params["appKey"], state.BindingKind(in.Kind), in.Value)
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusCreated, bindingOf(b))
}

func (s *Server) deleteBinding(c *call) reply {
	if err := s.sandbox.Unbind(c.ctx, c.params["appKey"], state.BindingKind(c.params["kind"]), c.params["value"]); err != nil {
		return fromError(err)
	}
	return reply{status: http.StatusNoContent}
}

// ------------------------------------------------------------------ events

func (s *Server) listDeliveries(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	q := c.r.URL.Query()
	f := state.EventFilter{Account: a.Name, AppKey: q.Get("appKey"), Type: q.Get("type"), Status: state.EventStatus(q.Get("status")),
		MessageID: q.Get("messageId")}
	if l := q.Get("limit"); l != "" {
		f.Limit, _ = strconv.Atoi(l) // validated by the spec: 1..1000
	}
	wait, r := deliveryQuery(q, &f)
	if r != nil {
		return *r
	}
	var list []state.Event
	var err error
	if wait > 0 {
		ctx, cancel := context.WithTimeout(c.ctx, wait)
		list, err = s.WaitDeliveries(ctx, f)
		cancel()
	} else {
		list, err = s.sandbox.ListEvents(c.ctx, f)
	}
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, viewsOf(list, func(e state.Event) deliveryView { return deliveryOf(e, a.ClockOffset) }))
}

// deliveryQuery reads the since and wait parameters of a deliveries list
// (deliverywait.go), naming the one that is wrong.
func deliveryQuery(q url.Values, f *state.EventFilter) (time.Duration, *reply) {
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			r := fail(http.StatusBadRequest, fmt.Sprintf("query parameter since: %q is not an RFC 3339 time, e.g. 2026-12-06T09:30:00Z", v))
			return 0, &r
		}
		f.Since = t
	}
	v := q.Get("wait")
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d > MaxDeliveryWait {
		r := fail(http.StatusBadRequest, fmt.Sprintf("query parameter wait: %q is not a duration of at most %gs; write it like 500ms, 5s or 1m", v, MaxDeliveryWait.Seconds()))
		return 0, &r
	}
	return d, nil
}

// eventOfAccount loads an event and its account's clock offset.
func (s *Server) eventOfAccount(c *call) (state.Event, []state.Attempt, state.Account, *reply) {
	e, attempts, err := s.store.GetEvent(c.ctx, c.params["eventId"])
	if err != nil {
		r := fromError(err)
		return e, nil, state.Account{}, &r
	}
	acct, err := s.store.GetAccount(c.ctx, e.Account)
	if err != nil {
		r := fromError(err)
		return e, nil, acct, &r
	}
	return e, attempts, acct, nil
}

func (s *Server) getDelivery(c *call) reply {
	e, attempts, acct, r := s.eventOfAccount(c)
	if r != nil {
		return *r
	}
	return ok(http.StatusOK, deliveryDetailView{deliveryView: deliveryOf(e, acct.ClockOffset), AttemptLog: viewsOf(attempts, attemptOf)})
}

func (s *Server) replayDelivery(c *call) reply {
	_, _, acct, r := s.eventOfAccount(c)
	if r != nil {
		return *r
	}
	e, err := s.sandbox.Replay(c.ctx, c.params["eventId"])
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusAccepted, deliveryOf(e, acct.ClockOffset))
}

func (s *Server) replayAppDeadLetters(c *call) reply {
	appKey := c.params["appKey"]
	list, err := s.sandbox.ReplayDeadLetters(c.ctx, appKey)
	if err != nil {
		return fromError(err)
	}
	ids := viewsOf(list, func(e state.Event) string { return e.ID })
	return ok(http.StatusAccepted, map[string]any{"appKey": appKey, "replayed": len(ids), "ids": ids})
}

// ------------------------------------------------------------------- clock

func (s *Server) getClock(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	return ok(http.StatusOK, s.clockOf(a))
}

func (s *Server) setClock(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	var in struct {
		Now string `json:"now"`
	}
	if r := decode(c, &in); r != nil {
		return *r
	}
	t, err := time.Parse(time.RFC3339, in.Now)
	if err != nil {
		return fail(http.StatusBadRequest, fmt.Sprintf("request body: /now: %q is not an RFC 3339 time", in.Now))
	}
	a, err = s.sandbox.SetClock(c.ctx, a.Name, t)
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, s.clockOf(a))
}

func (s *Server) advanceClock(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	var in struct {
		By string `json:"by"`
	}
	if r := decode(c, &in); r != nil {
		return *r
	}
	d, err := time.ParseDuration(in.By)
	if err != nil {
		return fail(http.StatusBadRequest, fmt.Sprintf("request body: /by: %q is not a duration; write it like 90s, 25h or 1h30m", in.By))
	}
	a, err = s.sandbox.AdvanceClock(c.ctx, a.Name, d)
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusOK, s.clockOf(a))
}

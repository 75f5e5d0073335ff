package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cucumber/godog"
)

// app is an app the scenario uses: created on a sandbox, or the one the
// environment names on a real target.
type app struct {
	alias    string // "my app", "another app", or the name a step gave it
	key      string
	token    string // current token
	prev     string // the token before the current one (superseded or revoked)
	receiver *Receiver
}

// inbound is the sandbox's answer to a simulated user message.
type inbound struct {
	Routed   bool    `json:"routed"`
	AppKey   *string `json:"appKey"`
	Route    *string `json:"route"`
	Reason   *string `json:"reason"`
	Delivery struct {
		ID string `json:"id"`
	} `json:"delivery"`
}

// world is one scenario's state. Nothing in it is shared with another
// scenario, so scenarios run concurrently.
type world struct {
	s        *Suite
	id       string // godog's pickle id: the report's key for this scenario
	name     string
	base     string // the target's base URL, or the private sandbox's
	basePath string
	private  PrivateSandbox
	account  string   // the scenario's own account on a sandbox
	others   []string // further accounts the scenario created
	apps     map[string]*app
	order    []*app // apps in creation order, for sweeps
	skipped  bool

	last      *Exchange // the last public API call
	latest    *Exchange // the last call of any kind, shown when a step fails
	lastEnv   *Envelope
	lastCtl   *Exchange // the last control API call a step judges
	messageID string    // the id of the last accepted message
	sent      map[string]any
	inbound   *inbound
	written   string // the text of the last user message written from a doc string
	push      *Push  // the last push a step looked at
	issued    *issuedToken
	callback  *Receiver // the receiver an SMS send named as its callBackUrl
	handle    string    // the handle of the last file uploaded
	template  submittedTemplate
}

// ------------------------------------------------------------------ hooks

func (w *world) before(ctx context.Context, sc *godog.Scenario) (context.Context, error) {
	w.id, w.name = sc.Id, sc.Name
	for _, tag := range sc.Tags {
		if c, ok := tagCapabilities[tag.Name]; ok {
			if err := w.need(ctx, c); err != nil {
				return ctx, err
			}
		}
	}
	return ctx, nil
}

// afterStep keeps, for the report, the last call a scenario made before a
// step failed: the request and the answer a person wants to see.
func (w *world) afterStep(ctx context.Context, _ *godog.Step, status godog.StepResultStatus, _ error) (context.Context, error) {
	if status == godog.StepFailed && w.latest != nil {
		f := &failure{request: w.latest.Request(), answer: w.latest.Answer()}
		w.s.report.record(w.id, func(r *scenarioRecord) {
			if r.failure == nil {
				r.failure = f
			}
		})
	}
	return ctx, nil
}

func (w *world) after(ctx context.Context, _ *godog.Scenario, stepErr error) (context.Context, error) {
	var problems []string
	for _, nr := range w.receivers() {
		pushes := nr.r.Pushes()
		for _, p := range pushes {
			for _, pr := range w.s.contract.CheckPush(p, nr.r.ExpectationFor(p.Type)) {
				problems = append(problems, fmt.Sprintf("push %d to %s (%s %s): %s", p.N, nr.name, p.Type, p.ID, pr))
			}
		}
		w.s.validated.Add(int64(len(pushes)))
		nr.r.Close()
	}
	// Keep a failed scenario's account for a look through the control API;
	// remove a passed one's, so that a shared sandbox stays tidy, once the
	// sandbox has recorded every attempt the receivers answered (removing
	// an event while its attempt is in flight makes the sandbox log an
	// error about an attempt it cannot record).
	if w.account != "" && w.s.cfg.Target.AccountToken != "" {
		// The token's account is kept; what the scenario made in it goes,
		// so that the next scenario finds its numbers unbound.
		for _, a := range w.apps {
			if _, err := w.control(ctx, http.MethodDelete, "/_sandbox/apps/"+url.PathEscape(a.key), nil, nil, http.StatusNoContent, http.StatusNotFound); err != nil {
				problems = append(problems, "removing the scenario's app: "+err.Error())
			}
		}
	}
	if w.account != "" && w.s.cfg.Target.AccountToken == "" && stepErr == nil && len(problems) == 0 && w.private == nil && w.settle(ctx) == nil {
		for _, name := range append([]string{w.account}, w.others...) {
			if _, err := w.control(ctx, http.MethodDelete, "/_sandbox/accounts/"+url.PathEscape(name), nil, nil, http.StatusNoContent); err != nil {
				problems = append(problems, "removing the scenario's account: "+err.Error())
			}
		}
	}
	if w.private != nil {
		if err := w.private.Close(); err != nil {
			problems = append(problems, "closing the private sandbox: "+err.Error())
		}
	}
	if len(problems) > 0 {
		return ctx, fmt.Errorf("at the end of the scenario:\n* %s", strings.Join(problems, "\n* "))
	}
	return ctx, nil
}

// namedReceiver is a receiver with the name failure messages give it.
type namedReceiver struct {
	name string
	r    *Receiver
}

// receivers lists every receiver of the scenario: its apps' and the
// callback receivers its sends named.
func (w *world) receivers() []namedReceiver {
	var out []namedReceiver
	for _, a := range w.order {
		if a.receiver != nil {
			out = append(out, namedReceiver{a.alias + "'s receiver", a.receiver})
		}
	}
	if w.callback != nil {
		out = append(out, namedReceiver{"the callback receiver", w.callback})
	}
	return out
}

// settle waits until the delivery log has recorded every push the
// scenario's receivers got (flat pushes carry no event id to look for).
func (w *world) settle(ctx context.Context) error {
	pushed := map[string]int{}
	for _, nr := range w.receivers() {
		for _, p := range nr.r.Pushes() {
			if p.ID != "" {
				pushed[p.ID]++
			}
		}
	}
	if len(pushed) == 0 {
		return nil
	}
	return w.waitUntil(ctx, "the delivery log to record every push", func() (bool, error) {
		var list []delivery
		if _, err := w.control(ctx, http.MethodGet, "/_sandbox/deliveries?limit=1000", nil, &list, http.StatusOK); err != nil {
			return false, err
		}
		recorded := map[string]int{}
		for _, d := range list {
			recorded[d.ID] = d.Attempts
		}
		for id, n := range pushed {
			if recorded[id] < n {
				return false, fmt.Errorf("%w: event %s has %d of %d attempts recorded", errNotYet, id, recorded[id], n)
			}
		}
		return true, nil
	})
}

// ------------------------------------------------------ capabilities, notes

// need returns a skip error when the target lacks a capability, noting the
// reason once.
func (w *world) need(ctx context.Context, caps ...Capability) error {
	for _, c := range caps {
		if reason := w.s.cfg.Target.Missing(c, w.s.cfg.StartPrivate != nil); reason != "" {
			return w.skip(ctx, reason)
		}
	}
	return nil
}

// needSandboxChoice returns a skip error on a target other than an
// innosandbox, for a step that checks what the sandbox chose where the
// docs are silent (what), so that no report counts it as passed there.
func (w *world) needSandboxChoice(ctx context.Context, what string) error {
	if w.innosandbox() {
		return nil
	}
	return w.skip(ctx, "checks "+what+", the sandbox's own choice: run with --target sandbox or --target url")
}

// skip notes the reason the scenario stops here (once) and returns the
// error that makes godog skip the rest of it.
func (w *world) skip(ctx context.Context, reason string) error {
	if !w.skipped {
		w.skipped = true
		w.note(ctx, NoteSkipped, reason)
		w.s.report.record(w.id, func(r *scenarioRecord) { r.skipReason = reason })
	}
	return skipError(reason)
}

func (w *world) note(ctx context.Context, kind NoteKind, text string) {
	w.s.report.add(Note{Scenario: w.name, Kind: kind, Text: text})
	if w.s.cfg.LogToTest {
		godog.Logf(ctx, "%s: %s", kind, text)
	}
}

func (w *world) innosandbox() bool { return w.s.cfg.Target.Kind.Innosandbox() }

// --------------------------------------------------------------- HTTP calls

// do makes one call and holds its answer to the contract: a mismatch is an
// error that fails the step with the validator's message.
func (w *world) do(ctx context.Context, api API, method, path string, header http.Header, body []byte) (*Exchange, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.base+path, rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs // as given: "AppKey", not a canonicalised "Appkey"
	}
	resp, err := w.s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	ex := &Exchange{Method: method, URL: req.URL.String(), ReqHeader: req.Header, ReqBody: body,
		Status: resp.StatusCode, Header: resp.Header, Body: data}
	w.latest = ex
	if err := w.s.contract.CheckResponse(ctx, api, w.basePath, ex); err != nil {
		return ex, fmt.Errorf("%w\n(%s)", err, ex.Summary())
	}
	return ex, nil
}

func (w *world) controlHeaders(h http.Header, account string) {
	if account != "" {
		h.Set("X-Sandbox-Account", account)
	}
	if tok := w.s.cfg.Target.AccountToken; tok != "" {
		h.Set("X-Sandbox-Account-Token", tok)
		return
	}
	if tok := w.s.cfg.Target.AdminToken; tok != "" {
		h.Set("X-Sandbox-Admin-Token", tok)
	}
}

// control makes a control API call with a JSON body (nil: none) and decodes
// a 2xx answer into out (nil: ignore). A status outside want (201/200/204 by
// default: any 2xx) is an error naming the answer.
func (w *world) control(ctx context.Context, method, path string, in, out any, want ...int) (*Exchange, error) {
	return w.controlAs(ctx, w.account, method, path, in, out, want...)
}

// controlAs is control acting on a named account.
func (w *world) controlAs(ctx context.Context, account, method, path string, in, out any, want ...int) (*Exchange, error) {
	if err := w.need(ctx, CapControl); err != nil {
		return nil, err
	}
	h := http.Header{}
	w.controlHeaders(h, account)
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, err
		}
		h.Set("Content-Type", "application/json")
	}
	ex, err := w.do(ctx, ControlAPI, method, path, h, body)
	if err != nil {
		return ex, err
	}
	ok := ex.Status >= 200 && ex.Status < 300
	if len(want) > 0 {
		ok = slices.Contains(want, ex.Status)
	}
	if !ok {
		return ex, fmt.Errorf("control call failed: %s", ex.Summary())
	}
	if out != nil && len(ex.Body) > 0 && ex.Status < 300 {
		if err := json.Unmarshal(ex.Body, out); err != nil {
			return ex, fmt.Errorf("decoding %s %s: %w", method, path, err)
		}
	}
	return ex, nil
}

// ensureAccount creates the scenario's own account on first use.
func (w *world) ensureAccount(ctx context.Context) error {
	if w.account != "" || !w.innosandbox() {
		return nil
	}
	if w.s.cfg.Target.AccountToken != "" {
		// The token's own account, shared by every scenario (they run one
		// at a time); the template is there from an earlier one.
		var mine []struct {
			Name string `json:"name"`
		}
		if _, err := w.controlAs(ctx, "", http.MethodGet, "/_sandbox/accounts", nil, &mine, http.StatusOK); err != nil {
			return err
		}
		if len(mine) != 1 {
			return fmt.Errorf("an account token should see one account, not %d", len(mine))
		}
		w.account = mine[0].Name
	} else {
		name, err := w.newAccount(ctx)
		w.account = name
		if err != nil {
			return err
		}
	}
	// Set up as an InnoPaaS console would have it: the WABA the suite sends
	// from has the approved template the default message names.
	tmpl := map[string]any{"wabaId": WabaID, "name": DefaultTemplate, "language": DefaultLanguage, "category": "AUTHENTICATION", "bodyParams": 1}
	return w.approvedTemplate(ctx, tmpl)
}

// approvedTemplate creates an approved template in the scenario's account.
// With an account token the account outlives the scenario, so a template
// an earlier scenario made is approved again instead.
func (w *world) approvedTemplate(ctx context.Context, tmpl map[string]any) error {
	if w.s.cfg.Target.AccountToken == "" {
		_, err := w.control(ctx, http.MethodPost, "/_sandbox/templates", tmpl, nil, http.StatusCreated)
		return err
	}
	ex, err := w.control(ctx, http.MethodPost, "/_sandbox/templates", tmpl, nil, http.StatusCreated, http.StatusConflict)
	if err != nil || ex.Status == http.StatusCreated {
		return err
	}
	path := "/_sandbox/templates/" + url.PathEscape(fmt.Sprint(tmpl["wabaId"])) + "/" + url.PathEscape(fmt.Sprint(tmpl["name"])) + "/" +
		url.PathEscape(fmt.Sprint(tmpl["language"])) + "/status"
	_, err = w.control(ctx, http.MethodPut, path, map[string]any{"status": "APPROVED"}, nil, http.StatusOK)
	return err
}

// newAccount creates an account labelled with the scenario's name.
func (w *world) newAccount(ctx context.Context) (string, error) {
	if w.s.cfg.Target.AccountToken != "" {
		return "", w.skip(ctx, "creates another account, which an account token cannot: run with --admin-token")
	}
	label := "contract: " + w.name
	if len(label) > 200 {
		label = label[:200]
	}
	var acct struct {
		Name string `json:"name"`
	}
	_, err := w.controlAs(ctx, "", http.MethodPost, "/_sandbox/accounts", map[string]string{"label": label}, &acct, http.StatusCreated)
	return acct.Name, err
}

// ------------------------------------------------------------------- apps

// myApp is the scenario's main app: on a sandbox created on first use with
// a current token; on a real target the one the environment names.
func (w *world) myApp(ctx context.Context) (*app, error) {
	if a := w.apps["my app"]; a != nil {
		return a, nil
	}
	if !w.innosandbox() {
		if err := w.need(ctx, CapCredentials); err != nil {
			return nil, err
		}
		c := w.s.cfg.Target.Credentials
		a := &app{alias: "my app", key: c.AppKey, token: c.Authorization}
		w.apps[a.alias] = a
		w.order = append(w.order, a)
		return a, nil
	}
	return w.createApp(ctx, "my app", true)
}

// createApp creates an app in the scenario's account, with a current token
// when withToken is true.
func (w *world) createApp(ctx context.Context, alias string, withToken bool) (*app, error) {
	if a := w.apps[alias]; a != nil {
		return a, nil
	}
	if err := w.need(ctx, CapControl); err != nil {
		return nil, err
	}
	if err := w.ensureAccount(ctx); err != nil {
		return nil, err
	}
	var created struct {
		AppKey string `json:"appKey"`
	}
	if _, err := w.control(ctx, http.MethodPost, "/_sandbox/apps", map[string]any{"name": alias}, &created, http.StatusCreated); err != nil {
		return nil, err
	}
	a := &app{alias: alias, key: created.AppKey}
	w.apps[alias] = a
	w.order = append(w.order, a)
	if withToken {
		if _, err := w.issueToken(ctx, a, nil); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// issuedToken is the control API's answer to a token issue.
type issuedToken struct {
	AppKey    string  `json:"appKey"`
	Token     string  `json:"token"`
	ExpiresAt *string `json:"expiresAt"`
	IssuedAt  string  `json:"issuedAt"`
}

// issueToken issues a token for a; the current one becomes the previous.
func (w *world) issueToken(ctx context.Context, a *app, expiresAt *time.Time) (*issuedToken, error) {
	var in any // no body: a token that never expires
	if expiresAt != nil {
		in = map[string]any{"expiresAt": expiresAt.UTC().Format(time.RFC3339)}
	}
	var tok issuedToken
	if _, err := w.control(ctx, http.MethodPost, "/_sandbox/apps/"+url.PathEscape(a.key)+"/tokens", in, &tok, http.StatusCreated); err != nil {
		return nil, err
	}
	if a.token != "" {
		a.prev = a.token
	}
	a.token = tok.Token
	return &tok, nil
}

// appNamed resolves "my app" or an app a step named.
func (w *world) appNamed(ctx context.Context, alias string) (*app, error) {
	if alias == "my app" {
		return w.myApp(ctx)
	}
	if a := w.apps[alias]; a != nil {
		return a, nil
	}
	return nil, fmt.Errorf("the scenario has no app %q yet: create it in an earlier step", alias)
}

// aliasOf turns `my app` or `the app "orders"` into an app alias.
func aliasOf(phrase string) string {
	if phrase == "my app" || phrase == "my receiver" {
		return "my app"
	}
	if i := strings.Index(phrase, `"`); i >= 0 {
		return strings.Trim(phrase[i:], `"`)
	}
	return phrase
}

// clockNow reads the scenario's account's sandbox clock.
func (w *world) clockNow(ctx context.Context) (time.Time, error) {
	if err := w.ensureAccount(ctx); err != nil {
		return time.Time{}, err
	}
	return w.clockOf(ctx, w.account)
}

// clockOf reads an account's sandbox clock.
func (w *world) clockOf(ctx context.Context, account string) (time.Time, error) {
	var c struct {
		Now string `json:"now"`
	}
	if _, err := w.controlAs(ctx, account, http.MethodGet, "/_sandbox/clock", nil, &c, http.StatusOK); err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339, c.Now)
}

// parseSpan reads "25 hours", "10 years", "1 minute" (a year is 365 days).
func parseSpan(n int, unit string) (time.Duration, error) {
	u := strings.TrimSuffix(unit, "s")
	per := map[string]time.Duration{"second": time.Second, "minute": time.Minute, "hour": time.Hour,
		"day": 24 * time.Hour, "year": 365 * 24 * time.Hour}[u]
	if per == 0 {
		return 0, fmt.Errorf("unknown unit %q: use seconds, minutes, hours, days or years", unit)
	}
	return time.Duration(n) * per, nil
}

// waitUntil polls a condition with a deadline (for state only visible
// through the control API); it returns the last error when time runs out.
func (w *world) waitUntil(ctx context.Context, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(w.s.cfg.Wait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	last := errNotYet
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
			if !errors.Is(err, errNotYet) {
				return err
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s for %s: %w", w.s.cfg.Wait, what, last)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// errNotYet marks a condition that may still come true.
var errNotYet = errors.New("not yet")

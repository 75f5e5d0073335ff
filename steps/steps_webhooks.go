package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cucumber/godog"

	"github.com/innosandbox/innosandbox/internal/secret"
)

// webhookConfig is a webhook configuration as the control API takes it.
type webhookConfig struct {
	Product       string   `json:"product,omitempty"`
	URL           string   `json:"url"`
	Events        []string `json:"events"`
	Method        string   `json:"method,omitempty"`
	Username      *string  `json:"username,omitempty"`
	Authorization *string  `json:"authorization,omitempty"`
	Chaos         any      `json:"chaos,omitempty"`
}

// readWebhookTable reads a two-column table (field | value) into a
// configuration; "<my receiver>" in url stands for the receiver's URL.
func readWebhookTable(table *godog.Table, receiverURL string) (webhookConfig, error) {
	return readWebhookTableFor(table, webhookConfig{Product: "whatsapp", URL: receiverURL, Events: []string{EventStatusUpdated, EventMOReceived}})
}

// readWebhookTableFor reads the table over a configuration's defaults.
func readWebhookTableFor(table *godog.Table, cfg webhookConfig) (webhookConfig, error) {
	receiverURL := cfg.URL
	for _, row := range table.Rows {
		if len(row.Cells) != 2 {
			return cfg, fmt.Errorf("the table needs two columns: field | value")
		}
		field, value := row.Cells[0].Value, row.Cells[1].Value
		v := value
		switch field {
		case "url":
			cfg.URL = strings.ReplaceAll(value, "<my receiver>", receiverURL)
		case "events":
			cfg.Events = nil
			for _, e := range strings.Split(value, ",") {
				cfg.Events = append(cfg.Events, strings.TrimSpace(e))
			}
		case "method":
			cfg.Method = value
		case "username":
			cfg.Username = &v
		case "authorization":
			cfg.Authorization = &v
		case "product":
			cfg.Product = value
		default:
			return cfg, fmt.Errorf("unknown webhook field %q: use url, events, method, username, authorization", field)
		}
	}
	return cfg, nil
}

// receiverOf gives an app a receiver on first use.
func (w *world) receiverOf(a *app) (*Receiver, error) {
	if a.receiver == nil {
		r, err := w.s.newReceiver()
		if err != nil {
			return nil, err
		}
		a.receiver = r
	}
	return a.receiver, nil
}

// myAppWithReceiver returns my app and its receiver, each made on first
// use.
func (w *world) myAppWithReceiver(ctx context.Context) (*app, *Receiver, error) {
	a, err := w.myApp(ctx)
	if err != nil {
		return nil, nil, err
	}
	r, err := w.receiverOf(a)
	return a, r, err
}

// configureWebhook creates the app's whatsapp webhook and records what its
// pushes must honour. It returns the control call for steps that judge it.
func (w *world) configureWebhook(ctx context.Context, a *app, cfg webhookConfig, want ...int) (*Exchange, error) {
	ex, err := w.control(ctx, http.MethodPost, "/_sandbox/apps/"+url.PathEscape(a.key)+"/webhooks", cfg, nil, want...)
	if err != nil {
		return ex, err
	}
	if ex.Status == http.StatusCreated && a.receiver != nil {
		method := strings.ToUpper(strings.TrimSpace(cfg.Method))
		if method == "" {
			method = http.MethodPost
		}
		a.receiver.SetExpect(Expect{Method: method, Username: cfg.Username, Authorization: cfg.Authorization, Events: cfg.Events})
	}
	return ex, nil
}

// pointAtReceiver points an app's webhook of a product at the app's
// receiver, subscribed to every event type the contract gives the product
// unless the table says otherwise.
func (w *world) pointAtReceiver(ctx context.Context, a *app, product string, table *godog.Table) error {
	return w.pointAtReceiverWith(ctx, a, product, table, nil)
}

func (w *world) pointAtReceiverWith(ctx context.Context, a *app, product string, table *godog.Table, chaos map[string]any) error {
	r, err := w.receiverOf(a)
	if err != nil {
		return err
	}
	cfg := webhookConfig{Product: product, URL: r.URL(), Events: w.s.cfg.Spec.EventTypes(product)}
	if table != nil {
		if cfg, err = readWebhookTableFor(table, cfg); err != nil {
			return err
		}
	}
	if chaos != nil {
		cfg.Chaos = chaos
	}
	_, err = w.configureWebhook(ctx, a, cfg, http.StatusCreated)
	return err
}

// checkPush returns an error when a push breaks the contract.
func (w *world) checkPush(r *Receiver, p Push) error {
	problems := w.s.contract.CheckPush(p, r.ExpectationFor(p.Type))
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("push %d (%s %s) breaks the contract:\n* %s", p.N, p.Type, p.ID, strings.Join(problems, "\n* "))
}

// registerWebhooks binds webhook_config.feature's steps (and the webhook
// set-up every feature with pushes shares).
func (w *world) registerWebhooks(sc *godog.ScenarioContext) {
	sc.Step(`^my app's (whatsapp|sms|otp) webhook points at my receiver$`, w.myAppsWebhookPointsAtMyReceiver)
	sc.Step(`^my app's (whatsapp|sms|otp) webhook points at my receiver with:$`, w.myAppsWebhookPointsAtMyReceiverWith)
	sc.Step(`^my app's (whatsapp|sms|otp) webhook points at my receiver with chaos:$`, w.myAppsWebhookPointsAtMyReceiverWithChaos)
	sc.Step(`^I configure my app's whatsapp webhook with:$`, w.iConfigureMyAppsWhatsappWebhookWith)
	sc.Step(`^the (?:configuration|request) is refused naming "([^"]+)"$`, w.theRequestIsRefusedNaming)
	sc.Step(`^the configuration is saved as given$`, w.theConfigurationIsSavedAsGiven)

	sc.Step(`^my receiver gets the "(delivered|read|failed)" report for my message$`, w.myReceiverGetsTheReportForMyMessage)
	sc.Step(`^my receiver gets a "(delivered|read)" report for each recipient, with its own wamid$`, w.myReceiverGetsAReportForEachRecipient)
	sc.Step(`^the push carries UserName "([^"]*)" and Authorization "([^"]*)"$`, w.thePushCarriesUserNameAndAuthorization)
	sc.Step(`^the push carries neither UserName nor Authorization$`, w.thePushCarriesNeitherUserNameNorAuthorization)
	sc.Step(`^the push was made with (POST|PUT)$`, w.thePushWasMadeWith)
}

func (w *world) myAppsWebhookPointsAtMyReceiver(ctx context.Context, product string) error {
	a, err := w.myApp(ctx)
	if err != nil {
		return err
	}
	return w.pointAtReceiver(ctx, a, product, nil)
}

func (w *world) myAppsWebhookPointsAtMyReceiverWith(ctx context.Context, product string, table *godog.Table) error {
	a, err := w.myApp(ctx)
	if err != nil {
		return err
	}
	return w.pointAtReceiver(ctx, a, product, table)
}

func (w *world) myAppsWebhookPointsAtMyReceiverWithChaos(ctx context.Context, product string, table *godog.Table) error {
	a, err := w.myApp(ctx)
	if err != nil {
		return err
	}
	chaos, err := chaosTable(table)
	if err != nil {
		return err
	}
	return w.pointAtReceiverWith(ctx, a, product, nil, chaos)
}

func (w *world) iConfigureMyAppsWhatsappWebhookWith(ctx context.Context, table *godog.Table) error {
	a, r, err := w.myAppWithReceiver(ctx)
	if err != nil {
		return err
	}
	cfg, err := readWebhookTable(table, r.URL())
	if err != nil {
		return err
	}
	// Refusals are judged by the next step; only the contract is checked here.
	ex, err := w.configureWebhook(ctx, a, cfg, http.StatusCreated, http.StatusBadRequest, http.StatusConflict)
	w.lastCtl = ex
	return err
}

func (w *world) theRequestIsRefusedNaming(_ context.Context, field string) error {
	if w.lastCtl == nil {
		return errors.New("no control call was judged yet")
	}
	if w.lastCtl.Status != http.StatusBadRequest {
		return about(fmt.Errorf("the call should be refused with HTTP 400, but it was answered HTTP %d", w.lastCtl.Status), w.lastCtl)
	}
	env, err := ParseEnvelope(w.lastCtl.Body)
	if err != nil {
		return about(err, w.lastCtl)
	}
	return about(expect(strings.Contains(env.Message, field+":"), "the refusal should name the field %q, but it says %q", field, env.Message), w.lastCtl)
}

func (w *world) theConfigurationIsSavedAsGiven(ctx context.Context) error {
	if w.lastCtl == nil {
		return errors.New("no configuration was attempted")
	}
	if w.lastCtl.Status != http.StatusCreated {
		return about(fmt.Errorf("the configuration should be saved with HTTP 201, but it was answered HTTP %d", w.lastCtl.Status), w.lastCtl)
	}
	var sent webhookConfig
	if err := json.Unmarshal(w.lastCtl.ReqBody, &sent); err != nil {
		return fmt.Errorf("reading the configuration sent: %w", err)
	}
	a := w.apps["my app"]
	var got webhookConfig
	ex, err := w.control(ctx, http.MethodGet, "/_sandbox/apps/"+url.PathEscape(a.key)+"/webhooks/whatsapp", nil, &got, http.StatusOK)
	if err != nil {
		return err
	}
	wantMethod := strings.ToUpper(sent.Method)
	if wantMethod == "" {
		wantMethod = http.MethodPost
	}
	// The Authorization is write-only: shown masked, never as given.
	var wantAuth *string
	if sent.Authorization != nil {
		masked := secret.Mask(*sent.Authorization)
		wantAuth = &masked
	}
	return about(errors.Join(
		expectEqual("url", sent.URL, got.URL),
		expectEqual("events", sent.Events, got.Events),
		expectEqual("method", wantMethod, got.Method),
		expectEqual("username", sent.Username, got.Username),
		expectEqual("authorization (shown masked)", wantAuth, got.Authorization),
	), ex)
}

// myReceiver returns my app's receiver, for the steps that wait at it.
func (w *world) myReceiver() (*Receiver, error) {
	a := w.apps["my app"]
	if a == nil || a.receiver == nil {
		return nil, errors.New("my app has no receiver: point its webhook at it first")
	}
	return a.receiver, nil
}

// errNoMessage is the error of a step about my message when none was
// accepted.
var errNoMessage = errors.New("no message was accepted in this scenario")

// myReportsReceiver returns my app's receiver, for a step that waits
// there for the reports of my message.
func (w *world) myReportsReceiver() (*Receiver, error) {
	if w.messageID == "" {
		return nil, errNoMessage
	}
	return w.myReceiver()
}

func (w *world) myReceiverGetsTheReportForMyMessage(ctx context.Context, status string) error {
	r, err := w.myReportsReceiver()
	if err != nil {
		return err
	}
	match := func(p Push) bool {
		return p.Type == EventStatusUpdated && p.BodyField("id") == w.messageID && p.BodyField("status") == status
	}
	got, err := r.WaitFor(ctx, w.s.cfg.Wait, func(ps []Push) bool { return slices.ContainsFunc(ps, match) })
	if err != nil {
		return fmt.Errorf("waiting for the %q report of message %s: %w; received: %s", status, w.messageID, err, describePushes(got))
	}
	p := got[slices.IndexFunc(got, match)]
	w.push = &p
	list, _ := w.sent["recipientNumber"].(string)
	return errors.Join(
		w.checkPush(r, p),
		expect(slices.Contains(strings.Split(list, ","), p.BodyField("sendPhone")),
			"the report should name a recipient of the send (%s), but it names %q", list, p.BodyField("sendPhone")),
	)
}

func (w *world) myReceiverGetsAReportForEachRecipient(ctx context.Context, status string) error {
	r, err := w.myReportsReceiver()
	if err != nil {
		return err
	}
	list, _ := w.sent["recipientNumber"].(string)
	recipients := strings.Split(list, ",")
	reports := func(ps []Push) map[string]Push {
		out := map[string]Push{}
		for _, p := range ps {
			if p.Type == EventStatusUpdated && p.BodyField("id") == w.messageID && p.BodyField("status") == status {
				out[p.BodyField("sendPhone")] = p
			}
		}
		return out
	}
	got, err := r.WaitFor(ctx, w.s.cfg.Wait, func(ps []Push) bool { return len(reports(ps)) >= len(recipients) })
	if err != nil {
		return fmt.Errorf("waiting for a %q report per recipient: %w; received: %s", status, err, describePushes(got))
	}
	byPhone := reports(got)
	wamids := map[string]bool{}
	var errs []error
	for _, phone := range recipients {
		p, ok := byPhone[phone]
		if !ok {
			errs = append(errs, fmt.Errorf("no %q report for %s", status, phone))
			continue
		}
		errs = append(errs, w.checkPush(r, p))
		wamids[p.BodyField("wamid")] = true
	}
	errs = append(errs,
		expect(len(wamids) == len(recipients), "each recipient's report should have its own wamid: %d wamids for %d recipients", len(wamids), len(recipients)),
		expect(len(byPhone) == len(recipients), "reports should come only for the recipients: %d reports for %d recipients", len(byPhone), len(recipients)))
	return errors.Join(errs...)
}

// lookedAt returns the push the last step looked at.
func (w *world) lookedAt() (*Push, error) {
	if w.push == nil {
		return nil, errors.New("no push was looked at yet")
	}
	return w.push, nil
}

func (w *world) thePushCarriesUserNameAndAuthorization(_ context.Context, user, auth string) error {
	p, err := w.lookedAt()
	if err != nil {
		return err
	}
	return errors.Join(
		expectEqual("UserName header", []string{user}, p.Header.Values("UserName")),
		expectEqual("Authorization header", []string{auth}, p.Header.Values("Authorization")),
	)
}

func (w *world) thePushCarriesNeitherUserNameNorAuthorization(context.Context) error {
	p, err := w.lookedAt()
	if err != nil {
		return err
	}
	return errors.Join(
		expect(len(p.Header.Values("UserName")) == 0, "UserName header: expected none, got %s", show(p.Header.Values("UserName"))),
		expect(len(p.Header.Values("Authorization")) == 0, "Authorization header: expected none, got %s", show(p.Header.Values("Authorization"))),
	)
}

func (w *world) thePushWasMadeWith(_ context.Context, method string) error {
	p, err := w.lookedAt()
	if err != nil {
		return err
	}
	return errors.Join(
		expectEqual("the push's method", method, p.Method),
		expectEqual("the push's Content-Type", "application/json;charset=utf-8", p.Header.Get("Content-Type")),
	)
}

// describePushes lists pushes briefly for failure messages.
func describePushes(ps []Push) string {
	if len(ps) == 0 {
		return "nothing"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("#%d %s %s %s status=%q answered %d", p.N, p.Method, p.Type, p.ID, p.BodyField("status"), p.Answered)
	}
	return strings.Join(parts, "; ")
}

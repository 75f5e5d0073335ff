package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// checkPush fails the step when a push breaks the contract.
func (w *world) checkPush(ctx context.Context, r *Receiver, p Push) {
	problems := w.s.contract.CheckPush(p, r.ExpectationFor(p.Type))
	assert.Empty(tOf(ctx), problems, "push %d (%s %s) breaks the contract", p.N, p.Type, p.ID)
}

func (w *world) registerWebhooks(sc *godog.ScenarioContext) {
	sc.Step(`^my app's (whatsapp|sms|otp) webhook points at my receiver$`, func(ctx context.Context, product string) error {
		a, err := w.myApp(ctx)
		if err != nil {
			return err
		}
		return w.pointAtReceiver(ctx, a, product, nil)
	})
	sc.Step(`^my app's (whatsapp|sms|otp) webhook points at my receiver with:$`, func(ctx context.Context, product string, table *godog.Table) error {
		a, err := w.myApp(ctx)
		if err != nil {
			return err
		}
		return w.pointAtReceiver(ctx, a, product, table)
	})
	sc.Step(`^my app's (whatsapp|sms|otp) webhook points at my receiver with chaos:$`, func(ctx context.Context, product string, table *godog.Table) error {
		a, err := w.myApp(ctx)
		if err != nil {
			return err
		}
		chaos, err := chaosTable(table)
		if err != nil {
			return err
		}
		return w.pointAtReceiverWith(ctx, a, product, nil, chaos)
	})
	sc.Step(`^I configure my app's whatsapp webhook with:$`, func(ctx context.Context, table *godog.Table) error {
		a, err := w.myApp(ctx)
		if err != nil {
			return err
		}
		r, err := w.receiverOf(a)
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
	})
	sc.Step(`^the (?:configuration|request) is refused naming "([^"]+)"$`, func(ctx context.Context, field string) error {
		t := tOf(ctx)
		require.NotNil(t, w.lastCtl, "no control call was judged yet")
		require.Equal(t, http.StatusBadRequest, w.lastCtl.Status, "the call should be refused: %s", w.lastCtl.Summary())
		env, err := ParseEnvelope(w.lastCtl.Body)
		require.NoError(t, err, w.lastCtl.Summary())
		assert.Contains(t, env.Message, field+":", "the refusal should name the field: %s", w.lastCtl.Summary())
		return nil
	})
	sc.Step(`^the configuration is saved as given$`, func(ctx context.Context) error {
		t := tOf(ctx)
		require.NotNil(t, w.lastCtl, "no configuration was attempted")
		require.Equal(t, http.StatusCreated, w.lastCtl.Status, "the configuration should be saved: %s", w.lastCtl.Summary())
		var sent webhookConfig
		require.NoError(t, json.Unmarshal(w.lastCtl.ReqBody, &sent))
		a := w.apps["my app"]
		var got webhookConfig
		if _, err := w.control(ctx, http.MethodGet, "/_sandbox/apps/"+url.PathEscape(a.key)+"/webhooks/whatsapp", nil, &got, http.StatusOK); err != nil {
			return err
		}
		assert.Equal(t, sent.URL, got.URL)
		assert.Equal(t, sent.Events, got.Events)
		wantMethod := strings.ToUpper(sent.Method)
		if wantMethod == "" {
			wantMethod = http.MethodPost
		}
		assert.Equal(t, wantMethod, got.Method)
		assert.Equal(t, sent.Username, got.Username)
		assert.Equal(t, sent.Authorization, got.Authorization)
		return nil
	})

	sc.Step(`^my receiver gets the "(delivered|read|failed)" report for my message$`, func(ctx context.Context, status string) error {
		t := tOf(ctx)
		require.NotEmpty(t, w.messageID, "no message was accepted in this scenario")
		a := w.apps["my app"]
		require.NotNil(t, a.receiver, "my app has no receiver: point its webhook at it first")
		match := func(p Push) bool {
			return p.Type == EventStatusUpdated && p.BodyField("id") == w.messageID && p.BodyField("status") == status
		}
		got, err := a.receiver.WaitFor(ctx, w.s.cfg.Wait, func(ps []Push) bool { return slices.ContainsFunc(ps, match) })
		require.NoError(t, err, "waiting for the %q report of message %s; received: %s", status, w.messageID, describePushes(got))
		for _, p := range got {
			if match(p) {
				w.push = &p
				w.checkPush(ctx, a.receiver, p)
				list, _ := w.sent["recipientNumber"].(string)
				assert.Contains(t, strings.Split(list, ","), p.BodyField("sendPhone"), "the report names a recipient of the send")
				break
			}
		}
		return nil
	})
	sc.Step(`^my receiver gets a "(delivered|read)" report for each recipient, with its own wamid$`, func(ctx context.Context, status string) error {
		t := tOf(ctx)
		require.NotEmpty(t, w.messageID, "no message was accepted in this scenario")
		a := w.apps["my app"]
		require.NotNil(t, a.receiver, "my app has no receiver: point its webhook at it first")
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
		got, err := a.receiver.WaitFor(ctx, w.s.cfg.Wait, func(ps []Push) bool { return len(reports(ps)) >= len(recipients) })
		require.NoError(t, err, "waiting for a %q report per recipient; received: %s", status, describePushes(got))
		byPhone := reports(got)
		wamids := map[string]bool{}
		for _, r := range recipients {
			p, ok := byPhone[r]
			if assert.True(t, ok, "no %q report for %s", status, r) {
				w.checkPush(ctx, a.receiver, p)
				wamids[p.BodyField("wamid")] = true
			}
		}
		assert.Len(t, wamids, len(recipients), "each recipient's report has its own wamid")
		assert.Len(t, byPhone, len(recipients), "reports only for the recipients")
		return nil
	})
	sc.Step(`^the push carries UserName "([^"]*)" and Authorization "([^"]*)"$`, func(ctx context.Context, user, auth string) error {
		t := tOf(ctx)
		require.NotNil(t, w.push, "no push was looked at yet")
		assert.Equal(t, []string{user}, w.push.Header.Values("UserName"), "UserName header")
		assert.Equal(t, []string{auth}, w.push.Header.Values("Authorization"), "Authorization header")
		return nil
	})
	sc.Step(`^the push carries neither UserName nor Authorization$`, func(ctx context.Context) error {
		t := tOf(ctx)
		require.NotNil(t, w.push, "no push was looked at yet")
		assert.Empty(t, w.push.Header.Values("UserName"), "UserName header")
		assert.Empty(t, w.push.Header.Values("Authorization"), "Authorization header")
		return nil
	})
	sc.Step(`^the push was made with (POST|PUT)$`, func(ctx context.Context, method string) error {
		t := tOf(ctx)
		require.NotNil(t, w.push, "no push was looked at yet")
		assert.Equal(t, method, w.push.Method)
		assert.Equal(t, "application/json;charset=utf-8", w.push.Header.Get("Content-Type"))
		return nil
	})
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

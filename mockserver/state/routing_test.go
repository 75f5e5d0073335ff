package state_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
)

// waCatalog is the contract's WhatsApp events, as far as routing needs them.
type waCatalog struct{}

func (waCatalog) EventTypes(product string) []string {
	if product != state.ProductWhatsApp {
		return nil
	}
	return []string{state.EventWAMO, state.EventWAStatus}
}

// TestRoutingDecisionTable walks the decision table of routing.go
// (docs/DECISIONS.md rows 11 to 13): an inbound message goes to the app
// bound to its business number, else to the WABA's app, else to the
// default app, else nowhere; an app whose webhook does not tick the event,
// or has no webhook, drops it with the reason (no fallback to the default
// app). A send's status reports go to the sending app.
func TestRoutingDecisionTable(t *testing.T) {
	const number, waba = "8618912123456", "110129512080569"
	both := []string{state.EventWAMO, state.EventWAStatus}
	tests := []struct {
		name         string
		bindNumber   bool     // app "number" is bound to the business number
		bindWABA     bool     // app "waba" is bound to the WABA
		withDefault  bool     // app "default" is the account's default app
		ticks        []string // what each app's webhook subscribes to; nil: no webhook
		wantApp      string   // "" when dropped
		wantRoute    string
		wantStatus   state.EventStatus
		wantReasonIs string
	}{
		{name: "bound number first", bindNumber: true, bindWABA: true, withDefault: true, ticks: both,
			wantApp: "number", wantRoute: "binding:number", wantStatus: state.EventPending},
		{name: "else the WABA's app", bindWABA: true, withDefault: true, ticks: both,
			wantApp: "waba", wantRoute: "binding:waba", wantStatus: state.EventPending},
		{name: "else the default app", withDefault: true, ticks: both,
			wantApp: "default", wantRoute: "default-app", wantStatus: state.EventPending},
		{name: "else dropped", ticks: both,
			wantStatus:   state.EventDropped,
			wantReasonIs: "no app is bound to number " + number + " or WABA " + waba + ", and account IW7000011 has no default app"},
		{name: "a webhook that does not tick the event drops it", bindNumber: true, withDefault: true, ticks: []string{state.EventWAStatus},
			wantApp: "number", wantRoute: "binding:number", wantStatus: state.EventDropped,
			wantReasonIs: "app {number}'s whatsapp webhook does not subscribe to " + state.EventWAMO},
		{name: "an app without a webhook drops it", bindNumber: true, withDefault: true,
			wantApp: "number", wantRoute: "binding:number", wantStatus: state.EventDropped,
			wantReasonIs: "app {number} has no whatsapp webhook configured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			sb := state.New(memstore.New(), clock.Real{}, waCatalog{}, state.Options{}, nil)
			acct, err := sb.CreateAccount(ctx, "IW7000011", "")
			require.NoError(t, err)
			keys := map[string]string{}
			for _, name := range []string{"number", "waba", "default"} {
				app, err := sb.CreateApp(ctx, acct.Name, name, "", name == "default" && tc.withDefault)
				require.NoError(t, err)
				keys[name] = app.Key
				if tc.ticks != nil {
					_, err = sb.CreateWebhook(ctx, state.Webhook{AppKey: app.Key, Product: state.ProductWhatsApp,
						URL: "http://127.0.0.1:9/hook", Events: tc.ticks})
					require.NoError(t, err)
				}
			}
			if tc.bindNumber {
				_, err = sb.Bind(ctx, keys["number"], state.BindNumber, number)
				require.NoError(t, err)
			}
			if tc.bindWABA {
				_, err = sb.Bind(ctx, keys["waba"], state.BindWABA, waba)
				require.NoError(t, err)
			}
			acct, err = sb.ResolveAccount(ctx, acct.Name)
			require.NoError(t, err)

			e, err := sb.SimulateInbound(ctx, acct, state.Inbound{To: number, From: "6285234567899", WabaID: waba, Text: "hi"})
			require.NoError(t, err)

			assert.Equal(t, keys[tc.wantApp], e.AppKey, "the app")
			assert.Equal(t, tc.wantRoute, e.Route, "how it was chosen")
			assert.Equal(t, tc.wantStatus, e.Status)
			reason := tc.wantReasonIs
			if reason != "" && tc.wantApp != "" {
				reason = "app " + keys[tc.wantApp] + reason[len("app {"+tc.wantApp+"}"):]
			}
			assert.Equal(t, reason, e.Reason)
			if tc.wantStatus == state.EventPending {
				require.NotNil(t, e.Target)
				assert.Equal(t, "http://127.0.0.1:9/hook", e.Target.URL)
			} else {
				assert.Nil(t, e.Target, "a dropped event goes nowhere")
			}
		})
	}

	t.Run("status reports go to the sending app", func(t *testing.T) {
		ctx := context.Background()
		sb := state.New(memstore.New(), clock.Real{}, waCatalog{}, state.Options{NoSessionWindow: true}, nil)
		acct, err := sb.CreateAccount(ctx, "IW7000012", "")
		require.NoError(t, err)
		def, err := sb.CreateApp(ctx, acct.Name, "default", "", true)
		require.NoError(t, err)
		sender, err := sb.CreateApp(ctx, acct.Name, "sender", "", false)
		require.NoError(t, err)
		for _, app := range []state.App{def, sender} {
			_, err = sb.CreateWebhook(ctx, state.Webhook{AppKey: app.Key, Product: state.ProductWhatsApp,
				URL: "http://127.0.0.1:9/" + app.Name, Events: both})
			require.NoError(t, err)
		}
		acct, err = sb.ResolveAccount(ctx, acct.Name)
		require.NoError(t, err)
		msg, err := sb.SubmitWhatsApp(ctx, state.Principal{App: sender, Account: acct}, state.WhatsAppSend{
			WabaID: waba, MessageType: "text", SendNumber: number, Recipients: []string{"6285234567899"}})
		require.NoError(t, err)
		events, err := sb.ListEvents(ctx, state.EventFilter{Account: acct.Name})
		require.NoError(t, err)
		require.NotEmpty(t, events)
		for _, e := range events {
			assert.Equal(t, sender.Key, e.AppKey, "report of %s", msg.ID)
			assert.Equal(t, "sender", e.Route)
			assert.Equal(t, state.EventPending, e.Status)
		}
		b, err := sb.Store().FindBinding(ctx, acct.Name, state.BindNumber, number)
		require.NoError(t, err)
		assert.Equal(t, sender.Key, b.AppKey, "sending from an unbound number binds it to the sending app")
	})
}

package steps

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// UserNumber is the WhatsApp user who writes in the routing scenarios.
const UserNumber = "6285234567899"

const appPhrase = `(my app|the app "[^"]+")`

func (w *world) registerRouting(sc *godog.ScenarioContext) {
	sc.Step(`^an app "([^"]+)" whose whatsapp webhook points at its own receiver$`, func(ctx context.Context, alias string) error {
		a, err := w.createApp(ctx, alias, false)
		if err != nil {
			return err
		}
		return w.pointAtReceiver(ctx, a, "whatsapp", nil)
	})
	sc.Step(`^the (number|WABA) "(\d+)" is bound to `+appPhrase+`$`, func(ctx context.Context, kind, value, phrase string) error {
		a, err := w.appNamed(ctx, aliasOf(phrase))
		if err != nil {
			return err
		}
		k := map[string]string{"number": "number", "WABA": "waba"}[kind]
		_, err = w.control(ctx, http.MethodPost, "/_sandbox/apps/"+url.PathEscape(a.key)+"/bindings", map[string]string{"kind": k, "value": value}, nil, http.StatusCreated)
		return err
	})
	sc.Step(`^`+appPhrase+` is my account's default app$`, func(ctx context.Context, phrase string) error {
		a, err := w.appNamed(ctx, aliasOf(phrase))
		if err != nil {
			return err
		}
		_, err = w.control(ctx, http.MethodPut, "/_sandbox/default-app", map[string]string{"appKey": a.key}, nil, http.StatusOK)
		return err
	})
	sc.Step(`^my account has no default app$`, func(ctx context.Context) error {
		if err := w.ensureAccount(ctx); err != nil {
			return err
		}
		var d struct {
			AppKey *string `json:"appKey"`
		}
		if _, err := w.control(ctx, http.MethodGet, "/_sandbox/default-app", nil, &d, http.StatusOK); err != nil {
			return err
		}
		if d.AppKey != nil {
			if _, err := w.control(ctx, http.MethodDelete, "/_sandbox/default-app", nil, nil, http.StatusNoContent); err != nil {
				return err
			}
		}
		return nil
	})

	sc.Step(`^a user writes "([^"]*)" to the number "(\d+)"$`, func(ctx context.Context, text, to string) error {
		return w.userWrites(ctx, map[string]any{"to": to, "from": UserNumber, "text": map[string]string{"body": text}})
	})
	sc.Step(`^a user writes "([^"]*)" to the number "(\d+)" of the WABA "(\d+)"$`, func(ctx context.Context, text, to, waba string) error {
		return w.userWrites(ctx, map[string]any{"to": to, "from": UserNumber, "wabaId": waba, "text": map[string]string{"body": text}})
	})
	sc.Step(`^a user writes to the number "(\d+)":$`, func(ctx context.Context, to string, doc *godog.DocString) error {
		w.written = doc.Content
		return w.userWrites(ctx, map[string]any{"to": to, "from": UserNumber, "text": map[string]string{"body": doc.Content}})
	})
	sc.Step(`^(my receiver|the receiver of "[^"]+") gets the user's message exactly as written$`, func(ctx context.Context, phrase string) error {
		return w.receiverGets(ctx, aliasOf(phrase), w.written)
	})
	sc.Step(`^the user replies "([^"]*)" to my message$`, func(ctx context.Context, text string) error {
		require.NotEmpty(tOf(ctx), w.messageID, "no message was accepted in this scenario")
		from, _ := w.sent["recipientNumber"].(string)
		to, _ := w.sent["sendNumber"].(string)
		return w.userWrites(ctx, map[string]any{"to": to, "from": from, "replyTo": w.messageID, "text": map[string]string{"body": text}})
	})

	sc.Step(`^(my receiver|the receiver of "[^"]+") gets the user's message "([^"]*)"$`, func(ctx context.Context, phrase, text string) error {
		return w.receiverGets(ctx, aliasOf(phrase), text)
	})
	sc.Step(`^the sandbox routed it to `+appPhrase+` by "([^"]+)"$`, func(ctx context.Context, phrase, route string) error {
		t := tOf(ctx)
		a, err := w.appNamed(ctx, aliasOf(phrase))
		if err != nil {
			return err
		}
		require.NotNil(t, w.inbound, "no user wrote in this scenario")
		assert.True(t, w.inbound.Routed, "the message should be routed")
		assert.Equal(t, a.key, deref(w.inbound.AppKey), "routed to")
		assert.Equal(t, route, deref(w.inbound.Route), "route")
		return nil
	})
	sc.Step(`^the sandbox routed it to no app$`, func(ctx context.Context) error {
		t := tOf(ctx)
		require.NotNil(t, w.inbound, "no user wrote in this scenario")
		assert.False(t, w.inbound.Routed, "the message should not be routed")
		assert.Nil(t, w.inbound.AppKey, "routed to")
		assert.Nil(t, w.inbound.Route, "route")
		return nil
	})
	sc.Step(`^the message is dropped because "([^"]+)"$`, func(ctx context.Context, reason string) error {
		t := tOf(ctx)
		require.NotNil(t, w.inbound, "no user wrote in this scenario")
		assert.Contains(t, deref(w.inbound.Reason), reason, "why it was dropped")
		var d delivery
		if _, err := w.control(ctx, http.MethodGet, "/_sandbox/deliveries/"+url.PathEscape(w.inbound.Delivery.ID), nil, &d, http.StatusOK); err != nil {
			return err
		}
		assert.Equal(t, "dropped", d.Status, "the delivery log's status")
		assert.Contains(t, deref(d.Reason), reason, "the delivery log's reason")
		assert.Empty(t, d.AttemptLog, "a dropped event is never pushed")
		return nil
	})
	sc.Step(`^no receiver gets it$`, func(ctx context.Context) error {
		t := tOf(ctx)
		require.NotNil(t, w.inbound, "no user wrote in this scenario")
		for _, a := range w.order {
			if a.receiver != nil {
				assert.False(t, slices.ContainsFunc(a.receiver.Pushes(), func(p Push) bool { return p.ID == w.inbound.Delivery.ID }),
					"%s's receiver got event %s", a.alias, w.inbound.Delivery.ID)
			}
		}
		return nil
	})
	sc.Step(`^the reply carries the context of my message$`, func(ctx context.Context) error {
		t := tOf(ctx)
		require.NotNil(t, w.push, "no push was looked at yet")
		body, _ := w.push.Payload["body"].(map[string]any)
		c, ok := body["context"].(map[string]any)
		require.True(t, ok, "the reply has no context: %s", w.push.Body)
		assert.Equal(t, w.sent["sendNumber"], c["from"], "context.from is the business number replied to")
		id, _ := c["id"].(string)
		assert.True(t, strings.HasPrefix(id, "wamid."), "context.id is the wamid of the message replied to, got %q", id)
		return nil
	})
}

// receiverGets waits for the last user message at an app's receiver, checks
// its text, and that no other app's receiver got it.
func (w *world) receiverGets(ctx context.Context, alias, text string) error {
	t := tOf(ctx)
	a, err := w.appNamed(ctx, alias)
	if err != nil {
		return err
	}
	require.NotNil(t, a.receiver, "%s has no receiver", a.alias)
	require.NotNil(t, w.inbound, "no user wrote in this scenario")
	id := w.inbound.Delivery.ID
	match := func(p Push) bool { return p.Type == EventMOReceived && p.ID == id }
	got, err := a.receiver.WaitFor(ctx, w.s.cfg.Wait, func(ps []Push) bool { return slices.ContainsFunc(ps, match) })
	require.NoError(t, err, "waiting for event %s at %s's receiver; received: %s", id, a.alias, describePushes(got))
	i := slices.IndexFunc(got, match)
	p := got[i]
	w.push = &p
	w.checkPush(ctx, a.receiver, p)
	body, _ := p.Payload["body"].(map[string]any)
	txt, _ := body["text"].(map[string]any)
	assert.Equal(t, text, txt["body"], "the message's text")
	for _, other := range w.order {
		if other != a && other.receiver != nil {
			assert.False(t, slices.ContainsFunc(other.receiver.Pushes(), match), "%s's receiver got the event too", other.alias)
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// userWrites simulates a user's message through the control API.
func (w *world) userWrites(ctx context.Context, in map[string]any) error {
	if err := w.need(ctx, CapControl); err != nil {
		return err
	}
	if err := w.ensureAccount(ctx); err != nil {
		return err
	}
	var res inbound
	if _, err := w.control(ctx, http.MethodPost, "/_sandbox/events/inbound", in, &res, http.StatusCreated); err != nil {
		return err
	}
	if res.Delivery.ID == "" {
		return fmt.Errorf("the inbound answer names no event")
	}
	w.inbound = &res
	return nil
}

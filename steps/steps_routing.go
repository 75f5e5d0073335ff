package steps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cucumber/godog"
)

// UserNumber is the WhatsApp user who writes in the routing scenarios.
const UserNumber = "6285234567899"

const appPhrase = `(my app|the app "[^"]+")`

// registerRouting binds routing.feature's steps (and the user messages
// other features share).
func (w *world) registerRouting(sc *godog.ScenarioContext) {
	sc.Step(`^an app "([^"]+)" whose whatsapp webhook points at its own receiver$`, w.anAppWithItsOwnReceiver)
	sc.Step(`^the (number|WABA) "(\d+)" is bound to `+appPhrase+`$`, w.theNumberIsBoundTo)
	sc.Step(`^`+appPhrase+` is my account's default app$`, w.isMyAccountsDefaultApp)
	sc.Step(`^my account has no default app$`, w.myAccountHasNoDefaultApp)

	sc.Step(`^a user writes "([^"]*)" to the number "(\d+)"$`, w.aUserWritesToTheNumber)
	sc.Step(`^a user writes "([^"]*)" to the number "(\d+)" of the WABA "(\d+)"$`, w.aUserWritesToTheNumberOfTheWABA)
	sc.Step(`^a user writes to the number "(\d+)":$`, w.aUserWritesToTheNumberAsDoc)
	sc.Step(`^(my receiver|the receiver of "[^"]+") gets the user's message exactly as written$`, w.receiverGetsTheMessageAsWritten)
	sc.Step(`^the user replies "([^"]*)" to my message$`, w.theUserRepliesToMyMessage)

	sc.Step(`^(my receiver|the receiver of "[^"]+") gets the user's message "([^"]*)"$`, w.receiverGetsTheUsersMessage)
	sc.Step(`^the sandbox routed it to `+appPhrase+` by "([^"]+)"$`, w.theSandboxRoutedItTo)
	sc.Step(`^the sandbox routed it to no app$`, w.theSandboxRoutedItToNoApp)
	sc.Step(`^the message is dropped because "([^"]+)"$`, w.theMessageIsDroppedBecause)
	sc.Step(`^no receiver gets it$`, w.noReceiverGetsIt)
	sc.Step(`^the reply carries the context of my message$`, w.theReplyCarriesTheContextOfMyMessage)
}

func (w *world) anAppWithItsOwnReceiver(ctx context.Context, alias string) error {
	a, err := w.createApp(ctx, alias, false)
	if err != nil {
		return err
	}
	return w.pointAtReceiver(ctx, a, "whatsapp", nil)
}

func (w *world) theNumberIsBoundTo(ctx context.Context, kind, value, phrase string) error {
	a, err := w.appNamed(ctx, aliasOf(phrase))
	if err != nil {
		return err
	}
	k := map[string]string{"number": "number", "WABA": "waba"}[kind]
	_, err = w.control(ctx, http.MethodPost, "/_sandbox/apps/"+url.PathEscape(a.key)+"/bindings", map[string]string{"kind": k, "value": value}, nil, http.StatusCreated)
	return err
}

func (w *world) isMyAccountsDefaultApp(ctx context.Context, phrase string) error {
	a, err := w.appNamed(ctx, aliasOf(phrase))
	if err != nil {
		return err
	}
	_, err = w.control(ctx, http.MethodPut, "/_sandbox/default-app", map[string]string{"appKey": a.key}, nil, http.StatusOK)
	return err
}

func (w *world) myAccountHasNoDefaultApp(ctx context.Context) error {
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
}

func (w *world) aUserWritesToTheNumber(ctx context.Context, text, to string) error {
	return w.userWrites(ctx, map[string]any{"to": to, "from": UserNumber, "text": map[string]string{"body": text}})
}

func (w *world) aUserWritesToTheNumberOfTheWABA(ctx context.Context, text, to, waba string) error {
	return w.userWrites(ctx, map[string]any{"to": to, "from": UserNumber, "wabaId": waba, "text": map[string]string{"body": text}})
}

func (w *world) aUserWritesToTheNumberAsDoc(ctx context.Context, to string, doc *godog.DocString) error {
	w.written = doc.Content
	return w.userWrites(ctx, map[string]any{"to": to, "from": UserNumber, "text": map[string]string{"body": doc.Content}})
}

func (w *world) receiverGetsTheMessageAsWritten(ctx context.Context, phrase string) error {
	return w.receiverGets(ctx, aliasOf(phrase), w.written)
}

func (w *world) theUserRepliesToMyMessage(ctx context.Context, text string) error {
	if w.messageID == "" {
		return errNoMessage
	}
	from, _ := w.sent["recipientNumber"].(string)
	to, _ := w.sent["sendNumber"].(string)
	return w.userWrites(ctx, map[string]any{"to": to, "from": from, "replyTo": w.messageID, "text": map[string]string{"body": text}})
}

func (w *world) receiverGetsTheUsersMessage(ctx context.Context, phrase, text string) error {
	return w.receiverGets(ctx, aliasOf(phrase), text)
}

// errNoInbound is the error of a step about a user's message when no user
// wrote.
var errNoInbound = errors.New("no user wrote in this scenario")

func (w *world) theSandboxRoutedItTo(ctx context.Context, phrase, route string) error {
	a, err := w.appNamed(ctx, aliasOf(phrase))
	if err != nil {
		return err
	}
	if w.inbound == nil {
		return errNoInbound
	}
	return errors.Join(
		expect(w.inbound.Routed, "the message should be routed, but it was not (reason: %s)", show(w.inbound.Reason)),
		expectEqual("routed to", a.key, deref(w.inbound.AppKey)),
		expectEqual("route", route, deref(w.inbound.Route)),
	)
}

func (w *world) theSandboxRoutedItToNoApp(context.Context) error {
	if w.inbound == nil {
		return errNoInbound
	}
	return errors.Join(
		expect(!w.inbound.Routed, "the message should not be routed, but it was"),
		expect(w.inbound.AppKey == nil, "routed to: expected no app, got %s", show(w.inbound.AppKey)),
		expect(w.inbound.Route == nil, "route: expected none, got %s", show(w.inbound.Route)),
	)
}

func (w *world) theMessageIsDroppedBecause(ctx context.Context, reason string) error {
	if w.inbound == nil {
		return errNoInbound
	}
	why := expect(strings.Contains(deref(w.inbound.Reason), reason), "why it was dropped: expected %q, got %s", reason, show(w.inbound.Reason))
	var d delivery
	if _, err := w.control(ctx, http.MethodGet, "/_sandbox/deliveries/"+url.PathEscape(w.inbound.Delivery.ID), nil, &d, http.StatusOK); err != nil {
		return errors.Join(why, err)
	}
	return errors.Join(why,
		expectEqual("the delivery log's status", "dropped", d.Status),
		expect(strings.Contains(deref(d.Reason), reason), "the delivery log's reason: expected %q, got %s", reason, show(d.Reason)),
		expect(len(d.AttemptLog) == 0, "a dropped event is never pushed, but the delivery log has %d attempts", len(d.AttemptLog)),
	)
}

func (w *world) noReceiverGetsIt(context.Context) error {
	if w.inbound == nil {
		return errNoInbound
	}
	var errs []error
	for _, a := range w.order {
		if a.receiver != nil {
			got := slices.ContainsFunc(a.receiver.Pushes(), func(p Push) bool { return p.ID == w.inbound.Delivery.ID })
			errs = append(errs, expect(!got, "%s's receiver got event %s", a.alias, w.inbound.Delivery.ID))
		}
	}
	return errors.Join(errs...)
}

func (w *world) theReplyCarriesTheContextOfMyMessage(context.Context) error {
	p, err := w.lookedAt()
	if err != nil {
		return err
	}
	body, _ := p.Payload["body"].(map[string]any)
	c, ok := body["context"].(map[string]any)
	if !ok {
		return fmt.Errorf("the reply has no context: %s", p.Body)
	}
	id, _ := c["id"].(string)
	return errors.Join(
		expectEqual("context.from (the business number replied to)", w.sent["sendNumber"], c["from"]),
		expect(strings.HasPrefix(id, "wamid."), "context.id should be the wamid of the message replied to, got %q", id),
	)
}

// receiverGets waits for the last user message at an app's receiver, checks
// its text, and that no other app's receiver got it.
func (w *world) receiverGets(ctx context.Context, alias, text string) error {
	a, err := w.appNamed(ctx, alias)
	if err != nil {
		return err
	}
	if a.receiver == nil {
		return fmt.Errorf("%s has no receiver", a.alias)
	}
	if w.inbound == nil {
		return errNoInbound
	}
	id := w.inbound.Delivery.ID
	match := func(p Push) bool { return p.Type == EventMOReceived && p.ID == id }
	got, err := a.receiver.WaitFor(ctx, w.s.cfg.Wait, func(ps []Push) bool { return slices.ContainsFunc(ps, match) })
	if err != nil {
		return fmt.Errorf("waiting for event %s at %s's receiver: %w; received: %s", id, a.alias, err, describePushes(got))
	}
	p := got[slices.IndexFunc(got, match)]
	w.push = &p
	body, _ := p.Payload["body"].(map[string]any)
	txt, _ := body["text"].(map[string]any)
	errs := []error{w.checkPush(a.receiver, p), expectEqual("the message's text", text, txt["body"])}
	for _, other := range w.order {
		if other != a && other.receiver != nil {
			errs = append(errs, expect(!slices.ContainsFunc(other.receiver.Pushes(), match), "%s's receiver got the event too", other.alias))
		}
	}
	return errors.Join(errs...)
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

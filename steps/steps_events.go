package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/innosandbox/innosandbox/internal/payload"
)

// receiverPhrase names a receiver in a step: "my receiver", "the callback
// receiver" or `the receiver of "orders"`.
const receiverPhrase = `(my receiver|the callback receiver|the receiver of "[^"]+")`

// receiverNamed resolves a receiverPhrase.
func (w *world) receiverNamed(ctx context.Context, phrase string) (*Receiver, error) {
	if phrase == "the callback receiver" {
		if w.callback == nil {
			return nil, fmt.Errorf("no send named a callback receiver in this scenario")
		}
		return w.callback, nil
	}
	a, err := w.appNamed(ctx, aliasOf(phrase))
	if err != nil {
		return nil, err
	}
	if a.receiver == nil {
		return nil, fmt.Errorf("%s has no receiver: point a webhook at it first", a.alias)
	}
	return a.receiver, nil
}

// callbackReceiver gives the scenario a receiver that no webhook
// configuration points at, for an SMS send's callBackUrl. Its pushes are
// made with POST and my app's SMS credentials, if my app has an SMS
// webhook configuration (docs/DECISIONS.md row 31).
func (w *world) callbackReceiver(ctx context.Context) (*Receiver, error) {
	if w.callback != nil {
		return w.callback, nil
	}
	r, err := w.s.newReceiver()
	if err != nil {
		return nil, err
	}
	exp := Expect{Method: http.MethodPost, Events: []string{"sms_status_report"}}
	if a := w.apps["my app"]; a != nil && a.receiver != nil {
		if e := a.receiver.ExpectationFor("sms_status_report"); e != nil {
			exp.Username, exp.Authorization = e.Username, e.Authorization
		}
	}
	r.SetExpect(exp)
	w.callback = r
	return r, nil
}

// matchTable reads a two-column table (JSON pointer | expected value) of
// what a push must carry.
func (w *world) matchTable(table *godog.Table) ([][2]string, error) {
	var rows [][2]string
	for _, row := range table.Rows {
		if len(row.Cells) != 2 || !strings.HasPrefix(row.Cells[0].Value, "/") {
			return nil, fmt.Errorf("the table needs two columns: a JSON pointer (/body/status) | the value it must have")
		}
		rows = append(rows, [2]string{row.Cells[0].Value, w.substitute(row.Cells[1].Value)})
	}
	return rows, nil
}

func describeRows(rows [][2]string) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = r[0] + " " + strconv.Quote(r[1])
	}
	return strings.Join(parts, ", ")
}

func pushMatches(p Push, typ string, rows [][2]string) bool {
	if p.Type != typ {
		return false
	}
	for _, r := range rows {
		got, ok := p.Field(r[0])
		if !matchesCell(got, ok, r[1]) {
			return false
		}
	}
	return true
}

// describeTyped lists the pushes of one type with their payloads, for
// failure messages that show what did arrive.
func describeTyped(ps []Push, typ string) string {
	var parts []string
	for _, p := range ps {
		if p.Type == typ {
			body := string(p.Body)
			if len(body) > 400 {
				body = body[:400] + "…"
			}
			parts = append(parts, fmt.Sprintf("#%d %s", p.N, body))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("no %s push (all pushes: %s)", typ, describePushes(ps))
	}
	return strings.Join(parts, "\n")
}

// messageIDOf reads the message id a report carries, whatever its product.
func messageIDOf(doc any) string {
	for _, ptr := range []string{"/body/id", "/msgid", "/messageId"} {
		if v, ok := payload.Get(doc, ptr); ok {
			if s, ok := v.(string); ok {
				return s
			}
		}
	}
	return ""
}

// deliveries lists the account's events of a type, newest first.
func (w *world) deliveries(ctx context.Context, typ string) ([]delivery, error) {
	if err := w.ensureAccount(ctx); err != nil {
		return nil, err
	}
	var list []delivery
	q := url.Values{"type": {typ}, "limit": {"1000"}}
	_, err := w.control(ctx, http.MethodGet, "/_sandbox/deliveries?"+q.Encode(), nil, &list, http.StatusOK)
	return list, err
}

// registerEvents binds events.feature's, callbacks.feature's and
// trigger_chaos.feature's steps.
func (w *world) registerEvents(sc *godog.ScenarioContext) {
	sc.Step(`^`+receiverPhrase+` gets an? "([^"]+)" push with:$`, w.receiverGetsAPushWith)
	sc.Step(`^the delivery log holds (\d+) "([^"]+)" events?(?: for my message)?$`, w.theDeliveryLogHoldsEvents)
	sc.Step(`^my receiver gets the reports "([^"]*)" for my message, in that order of eventTime$`, w.myReceiverGetsTheReportsInOrder)
	sc.Step(`^my receiver got the "([^"]+)" report for my message before the "([^"]+)" one$`, w.myReceiverGotTheReportBefore)
	sc.Step(`^every payload received validates against its schema$`, w.everyPayloadReceivedValidates)

	// inbound messages
	sc.Step(`^a user sends an? "([^"]+)" message to my business number$`, w.aUserSendsAMessageToMyBusinessNumber)
	sc.Step(`^the user replies to my message with an? "([^"]+)" message$`, w.theUserRepliesToMyMessageWith)

	// triggers
	sc.Step(`^I trigger an? "([^"]+)" event at my app(?: with (/.+))?$`, w.iTriggerAnEventAtMyApp)
	sc.Step(`^I trigger an? "([^"]+)" event at my app with:$`, w.iTriggerAnEventAtMyAppWithTable)
	sc.Step(`^the sandbox took the event for my app$`, w.theSandboxTookTheEventForMyApp)
}

func (w *world) receiverGetsAPushWith(ctx context.Context, phrase, typ string, table *godog.Table) error {
	r, err := w.receiverNamed(ctx, phrase)
	if err != nil {
		return err
	}
	rows, err := w.matchTable(table)
	if err != nil {
		return err
	}
	match := func(p Push) bool { return pushMatches(p, typ, rows) }
	got, err := r.WaitFor(ctx, w.s.cfg.Wait, func(ps []Push) bool { return slices.ContainsFunc(ps, match) })
	if err != nil {
		return fmt.Errorf("waiting for a %s push with %s: %w; received:\n%s", typ, describeRows(rows), err, describeTyped(got, typ))
	}
	p := got[slices.IndexFunc(got, match)]
	w.push = &p
	return w.checkPush(r, p)
}

func (w *world) theDeliveryLogHoldsEvents(ctx context.Context, n int, typ string) error {
	list, err := w.deliveries(ctx, typ)
	if err != nil {
		return err
	}
	var mine []string
	for _, d := range list {
		if w.messageID == "" || messageIDOf(d.Payload) == w.messageID {
			mine = append(mine, d.ID+" ("+d.Status+")")
		}
	}
	return expect(len(mine) == n, "the delivery log should hold %d %s events (for message %q), but it holds %d: %v", n, typ, w.messageID, len(mine), mine)
}

func (w *world) myReceiverGetsTheReportsInOrder(ctx context.Context, list string) error {
	if w.messageID == "" {
		return errNoMessage
	}
	r, err := w.receiverNamed(ctx, "my receiver")
	if err != nil {
		return err
	}
	var want []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			want = append(want, s)
		}
	}
	reports := func(ps []Push) map[string]Push {
		out := map[string]Push{}
		for _, p := range ps {
			if p.Type == EventStatusUpdated && p.BodyField("id") == w.messageID {
				out[p.BodyField("status")] = p
			}
		}
		return out
	}
	got, err := r.WaitFor(ctx, w.s.cfg.Wait, func(ps []Push) bool {
		m := reports(ps)
		return !slices.ContainsFunc(want, func(s string) bool { _, ok := m[s]; return !ok })
	})
	if err != nil {
		return fmt.Errorf("waiting for the reports %v of message %s: %w; received:\n%s", want, w.messageID, err, describeTyped(got, EventStatusUpdated))
	}
	m := reports(got)
	statuses := slices.Sorted(maps.Keys(m))
	errs := []error{expectEqual(fmt.Sprintf("the reports of message %s", w.messageID), slices.Sorted(slices.Values(want)), statuses)}
	var last time.Time
	for i, s := range want {
		p := m[s]
		errs = append(errs, w.checkPush(r, p))
		at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(p.Payload["eventTime"]))
		if err != nil {
			errs = append(errs, fmt.Errorf("eventTime of the %s report: %w", s, err))
			break
		}
		if i > 0 {
			errs = append(errs, expect(at.After(last), "the %s report (eventTime %s) should come after the %s one (%s)", s, at, want[i-1], last))
		}
		last = at
	}
	return errors.Join(errs...)
}

func (w *world) myReceiverGotTheReportBefore(ctx context.Context, first, second string) error {
	r, err := w.receiverNamed(ctx, "my receiver")
	if err != nil {
		return err
	}
	n := func(status string) int {
		for _, p := range r.Pushes() {
			if p.Type == EventStatusUpdated && p.BodyField("id") == w.messageID && p.BodyField("status") == status {
				return p.N
			}
		}
		return 0
	}
	a, b := n(first), n(second)
	switch {
	case a == 0:
		return fmt.Errorf("no %s report of message %s arrived", first, w.messageID)
	case b == 0:
		return fmt.Errorf("no %s report of message %s arrived", second, w.messageID)
	}
	return expect(a < b, "the %s report (push %d) should arrive before the %s one (push %d)", first, a, second, b)
}

func (w *world) everyPayloadReceivedValidates(context.Context) error {
	var problems []string
	n := 0
	for _, nr := range w.receivers() {
		for _, p := range nr.r.Pushes() {
			n++
			for _, pr := range w.s.contract.CheckPush(p, nr.r.ExpectationFor(p.Type)) {
				problems = append(problems, fmt.Sprintf("push %d to %s (%s): %s", p.N, nr.name, p.Type, pr))
			}
		}
	}
	if n == 0 {
		return errors.New("no push was received, so nothing was validated")
	}
	return expect(len(problems) == 0, "payloads judged by kin-openapi and by the independent JSON Schema validator:\n* %s", strings.Join(problems, "\n* "))
}

func (w *world) aUserSendsAMessageToMyBusinessNumber(ctx context.Context, typ string) error {
	return w.userWrites(ctx, map[string]any{"to": SendNumber, "from": RecipientNumber, "type": typ})
}

func (w *world) theUserRepliesToMyMessageWith(ctx context.Context, typ string) error {
	if w.messageID == "" {
		return errNoMessage
	}
	from, _ := w.sent["recipientNumber"].(string)
	to, _ := w.sent["sendNumber"].(string)
	return w.userWrites(ctx, map[string]any{"to": to, "from": from, "replyTo": w.messageID, "type": typ})
}

// trigger asks the sandbox for an event of a type at my app, its example
// payload changed by set and unset; a refusal is judged by a later step.
func (w *world) trigger(ctx context.Context, typ string, set map[string]any, unset []string) error {
	a, err := w.myApp(ctx)
	if err != nil {
		return err
	}
	in := map[string]any{"type": typ, "appKey": a.key}
	if len(set) > 0 {
		in["set"] = set
	}
	if len(unset) > 0 {
		in["unset"] = unset
	}
	var res inbound
	ex, err := w.control(ctx, http.MethodPost, "/_sandbox/events", in, &res, http.StatusCreated, http.StatusBadRequest)
	w.lastCtl = ex
	if err != nil || ex.Status != http.StatusCreated {
		return err
	}
	w.inbound = &res
	return nil
}

func (w *world) iTriggerAnEventAtMyApp(ctx context.Context, typ, changes string) error {
	list, err := parseChanges(w.substitute(changes))
	if err != nil {
		return err
	}
	set := map[string]any{}
	var unset []string
	for _, c := range list {
		if c.Remove {
			unset = append(unset, c.Pointer)
		} else {
			set[c.Pointer] = c.Value
		}
	}
	return w.trigger(ctx, typ, set, unset)
}

func (w *world) iTriggerAnEventAtMyAppWithTable(ctx context.Context, typ string, table *godog.Table) error {
	rows, err := w.matchTable(table)
	if err != nil {
		return err
	}
	set := map[string]any{}
	for _, r := range rows {
		set[r[0]] = tableValue(r[1])
	}
	return w.trigger(ctx, typ, set, nil)
}

func (w *world) theSandboxTookTheEventForMyApp(context.Context) error {
	if w.lastCtl == nil {
		return errors.New("no event was triggered")
	}
	if w.lastCtl.Status != http.StatusCreated {
		return about(fmt.Errorf("the trigger should be taken with HTTP 201, but it was answered HTTP %d", w.lastCtl.Status), w.lastCtl)
	}
	if w.inbound == nil {
		return errors.New("no event was triggered")
	}
	return about(errors.Join(
		expect(w.inbound.Routed, "the event should be routed, but it was not (reason: %s)", show(w.inbound.Reason)),
		expectEqual("routed to", w.apps["my app"].key, deref(w.inbound.AppKey)),
		expectEqual("route", "trigger", deref(w.inbound.Route)),
	), w.lastCtl)
}

// chaosTable reads a chaos table (setting | value) into the control API's
// chaos object.
func chaosTable(table *godog.Table) (map[string]any, error) {
	out := map[string]any{}
	for _, row := range table.Rows {
		if len(row.Cells) != 2 {
			return nil, fmt.Errorf("the chaos table needs two columns: setting | value")
		}
		out[row.Cells[0].Value] = cellValue(row.Cells[1].Value)
	}
	if _, ok := out["seed"]; !ok {
		out["seed"] = json.Number("1") // a fixed seed: a sequential run repeats
	}
	return out, nil
}

package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

func (w *world) registerEvents(sc *godog.ScenarioContext) {
	sc.Step(`^`+receiverPhrase+` gets an? "([^"]+)" push with:$`, func(ctx context.Context, phrase, typ string, table *godog.Table) error {
		t := tOf(ctx)
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
		require.NoError(t, err, "waiting for a %s push with %s; received:\n%s", typ, describeRows(rows), describeTyped(got, typ))
		p := got[slices.IndexFunc(got, match)]
		w.push = &p
		w.checkPush(ctx, r, p)
		return nil
	})
	sc.Step(`^the delivery log holds (\d+) "([^"]+)" events?(?: for my message)?$`, func(ctx context.Context, n int, typ string) error {
		t := tOf(ctx)
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
		assert.Len(t, mine, n, "%s events in the delivery log (for message %q): %v", typ, w.messageID, mine)
		return nil
	})
	sc.Step(`^my receiver gets the reports "([^"]*)" for my message, in that order of eventTime$`, func(ctx context.Context, list string) error {
		t := tOf(ctx)
		require.NotEmpty(t, w.messageID, "no message was accepted in this scenario")
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
		require.NoError(t, err, "waiting for the reports %v of message %s; received:\n%s", want, w.messageID, describeTyped(got, EventStatusUpdated))
		m := reports(got)
		var statuses []string
		for s := range m {
			statuses = append(statuses, s)
		}
		assert.ElementsMatch(t, want, statuses, "the reports of message %s", w.messageID)
		var last time.Time
		for i, s := range want {
			p := m[s]
			w.checkPush(ctx, r, p)
			at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(p.Payload["eventTime"]))
			require.NoError(t, err, "eventTime of the %s report", s)
			if i > 0 {
				assert.True(t, at.After(last), "the %s report (eventTime %s) should come after the %s one (%s)", s, at, want[i-1], last)
			}
			last = at
		}
		return nil
	})
	sc.Step(`^my receiver got the "([^"]+)" report for my message before the "([^"]+)" one$`, func(ctx context.Context, first, second string) error {
		t := tOf(ctx)
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
		require.NotZero(t, a, "no %s report of message %s arrived", first, w.messageID)
		require.NotZero(t, b, "no %s report of message %s arrived", second, w.messageID)
		assert.Less(t, a, b, "the %s report (push %d) should arrive before the %s one (push %d)", first, a, second, b)
		return nil
	})
	sc.Step(`^every payload received validates against its schema$`, func(ctx context.Context) error {
		t := tOf(ctx)
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
		require.Positive(t, n, "no push was received, so nothing was validated")
		assert.Empty(t, problems, "payloads judged by kin-openapi and by the independent JSON Schema validator")
		return nil
	})

	// ---------------------------------------------------- inbound messages
	sc.Step(`^a user sends an? "([^"]+)" message to my business number$`, func(ctx context.Context, typ string) error {
		return w.userWrites(ctx, map[string]any{"to": SendNumber, "from": RecipientNumber, "type": typ})
	})
	sc.Step(`^the user replies to my message with an? "([^"]+)" message$`, func(ctx context.Context, typ string) error {
		require.NotEmpty(tOf(ctx), w.messageID, "no message was accepted in this scenario")
		from, _ := w.sent["recipientNumber"].(string)
		to, _ := w.sent["sendNumber"].(string)
		return w.userWrites(ctx, map[string]any{"to": to, "from": from, "replyTo": w.messageID, "type": typ})
	})

	// ------------------------------------------------------------ triggers
	trigger := func(ctx context.Context, typ string, set map[string]any, unset []string) error {
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
	sc.Step(`^I trigger an? "([^"]+)" event at my app(?: with (/.+))?$`, func(ctx context.Context, typ, changes string) error {
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
		return trigger(ctx, typ, set, unset)
	})
	sc.Step(`^I trigger an? "([^"]+)" event at my app with:$`, func(ctx context.Context, typ string, table *godog.Table) error {
		rows, err := w.matchTable(table)
		if err != nil {
			return err
		}
		set := map[string]any{}
		for _, r := range rows {
			set[r[0]] = tableValue(r[1])
		}
		return trigger(ctx, typ, set, nil)
	})
	sc.Step(`^the sandbox took the event for my app$`, func(ctx context.Context) error {
		t := tOf(ctx)
		require.NotNil(t, w.lastCtl, "no event was triggered")
		require.Equal(t, http.StatusCreated, w.lastCtl.Status, "the trigger should be taken: %s", w.lastCtl.Summary())
		require.NotNil(t, w.inbound, "no event was triggered")
		assert.True(t, w.inbound.Routed, "the event should be routed: %s", w.lastCtl.Summary())
		assert.Equal(t, w.apps["my app"].key, deref(w.inbound.AppKey), "routed to")
		assert.Equal(t, "trigger", deref(w.inbound.Route), "route")
		return nil
	})
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

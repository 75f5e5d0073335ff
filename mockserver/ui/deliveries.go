package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/internal/secret"
	"github.com/innosandbox/innosandbox/mockserver/state"
)

// The delivery log: a list that follows new deliveries by itself, and a
// delivery's page with its payload and every attempt.

// deliveryStatuses are the filter's choices.
var deliveryStatuses = []state.EventStatus{state.EventPending, state.EventDelivered, state.EventFailed, state.EventDropped}

// listLimit bounds the rows of the live list.
const listLimit = 200

type deliveriesPage struct {
	Filter   state.EventFilter
	Apps     []state.App
	Types    []string
	Statuses []state.EventStatus
	Rows     []state.Event
	LiveURL  string
	Self     string
}

// filterOf reads the list's filters from the query.
func filterOf(r *http.Request, account string) state.EventFilter {
	q := r.URL.Query()
	return state.EventFilter{Account: account, AppKey: q.Get("app"), Type: q.Get("type"), Status: state.EventStatus(q.Get("status")), Limit: listLimit}
}

func filterQuery(f state.EventFilter) url.Values {
	v := url.Values{"account": {f.Account}}
	for k, x := range map[string]string{"app": f.AppKey, "type": f.Type, "status": string(f.Status)} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

func (h *Handler) deliveries(w http.ResponseWriter, r *http.Request) {
	acct, err := h.accountOf(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := filterOf(r, acct.Name)
	rows, err := h.b.Sandbox().ListEvents(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	apps, err := h.b.Sandbox().Store().ListApps(r.Context(), acct.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := filterQuery(f)
	p := deliveriesPage{Filter: f, Apps: apps, Types: h.b.Spec().EventTypes(""), Statuses: deliveryStatuses, Rows: rows,
		LiveURL: Prefix + "deliveries/live?" + q.Encode(), Self: Prefix + "deliveries?" + q.Encode()}
	h.render(w, r, http.StatusOK, "deliveries", &page{Title: "Deliveries", Nav: "deliveries", Account: acct.Name, Data: p})
}

// deliveriesLive streams the list's rows as server-sent events: the rows
// once, then again whenever they change, until the browser goes away or
// the sandbox shuts down. It waits on the delivery log's watch, the same
// one the long poll of GET /_sandbox/deliveries uses, never on a timer.
// Each event's data is the table body's HTML, rendered by the same
// template as the page.
func (h *Handler) deliveriesLive(w http.ResponseWriter, r *http.Request) {
	acct, err := h.accountOf(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w) // reaches a wrapped writer's Flush
	f := filterOf(r, acct.Name)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	ctx := r.Context()
	watch := h.b.WatchDeliveries()
	var last []byte
	for {
		rows, err := h.b.Sandbox().ListEvents(ctx, f)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("live delivery list", "err", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := h.pages["deliveries"].ExecuteTemplate(&buf, "rows", rows); err != nil {
			h.log.Error("rendering the live delivery list failed", "err", err)
			return
		}
		if !bytes.Equal(buf.Bytes(), last) {
			last = bytes.Clone(buf.Bytes())
			var ev bytes.Buffer
			ev.WriteString("event: rows\n")
			for line := range strings.SplitSeq(buf.String(), "\n") {
				ev.WriteString("data: " + line + "\n")
			}
			ev.WriteString("\n")
			if _, err := w.Write(ev.Bytes()); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
		if !watch.Wait(ctx) {
			return
		}
	}
}

type attemptRow struct {
	state.Attempt
	Headers  []headerRow
	Response []headerRow
}

type headerRow struct{ Name, Value string }

type deliveryPage struct {
	Event      state.Event
	Account    state.Account
	NextAt     *time.Time // sandbox time of the next attempt, while pending
	Payload    string     // indented
	Attempts   []attemptRow
	Replayable bool
}

func (h *Handler) delivery(w http.ResponseWriter, r *http.Request) {
	h.renderDelivery(w, r, http.StatusOK, "")
}

func (h *Handler) renderDelivery(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	st := h.b.Sandbox().Store()
	e, attempts, err := st.GetEvent(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	acct, err := st.GetAccount(r.Context(), e.Account)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := deliveryPage{Event: e, Account: acct, Payload: indent(e.Payload),
		Replayable: e.Status == state.EventDelivered || e.Status == state.EventFailed}
	if e.Status == state.EventPending {
		at := e.NextAttemptAt.Add(acct.ClockOffset)
		p.NextAt = &at
	}
	for _, a := range attempts {
		p.Attempts = append(p.Attempts, attemptRow{Attempt: a, Headers: maskedHeaders(a.RequestHeaders), Response: maskedHeaders(a.ResponseHeaders)})
	}
	h.render(w, r, status, "delivery", &page{Title: "Delivery " + e.ID, Nav: "deliveries", Account: acct.Name, Error: errMsg, Data: p})
}

func (h *Handler) replay(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.control(r.Context(), http.MethodPost, "/_sandbox/deliveries/"+url.PathEscape(id)+"/replay", "", nil, nil); err != nil {
		h.renderDelivery(w, r, http.StatusBadRequest, "not replayed: "+refusal(err))
		return
	}
	back(w, r, Prefix+"deliveries/"+url.PathEscape(id), "Replay queued: the next attempt comes at once.")
}

// indent pretty-prints JSON; anything else is shown as it is.
func indent(b []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return string(b)
	}
	return out.String()
}

// secretHeaders are masked wherever a dashboard page shows headers: the
// partner's callback credentials, and anything that looks like one.
var secretHeaders = []string{"authorization", "username", "proxy-authorization", "cookie", "set-cookie", "x-sandbox-admin-token", "x-api-key"}

func isSecretHeader(name string) bool {
	n := strings.ToLower(name)
	return slices.Contains(secretHeaders, n) || strings.Contains(n, "token") || strings.Contains(n, "secret") || strings.Contains(n, "password")
}

// maskedHeaders lists headers sorted by name, secrets masked.
func maskedHeaders(hd map[string][]string) []headerRow {
	names := make([]string, 0, len(hd))
	for n := range hd {
		names = append(names, n)
	}
	slices.Sort(names)
	var rows []headerRow
	for _, n := range names {
		for _, v := range hd[n] {
			if isSecretHeader(n) {
				v = secret.Mask(v)
			}
			rows = append(rows, headerRow{Name: n, Value: v})
		}
	}
	return rows
}

package ui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Firing events: any event type of the contract from its example, edited
// as JSON, and an inbound WhatsApp message of any of the 14 types. The
// control API judges both against the contract before anything is stored
// or pushed; a refusal is shown next to the form, field and rule apart.

type firePage struct {
	Types    []string
	Type     string
	Apps     []state.App
	AppKey   string
	Payload  string
	Refusal  *contractRefusal
	Result   *fireResult
	MOTypes  []string
	Inbound  inboundForm
	InRefuse *contractRefusal
}

type inboundForm struct {
	To, From, WabaID, Type, Content string
}

// contractRefusal is a 400 of the control API split into the field it
// names and the rule it states.
type contractRefusal struct {
	Field, Rule, Message string
}

// fireResult is where a fired event went.
type fireResult struct {
	Routed   bool    `json:"routed"`
	AppKey   *string `json:"appKey"`
	Route    *string `json:"route"`
	Reason   *string `json:"reason"`
	Delivery struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"delivery"`
}

// refusalOf splits "request body: /body/status: value … is not one of …".
func refusalOf(msg string) *contractRefusal {
	r := &contractRefusal{Message: msg}
	rest := strings.TrimPrefix(msg, "request body: ")
	if field, rule, ok := strings.Cut(rest, ": "); ok && strings.HasPrefix(field, "/") {
		r.Field, r.Rule = field, rule
	} else {
		r.Rule = rest
	}
	return r
}

// firePage is the page's data for the account the request names, with
// the form's defaults; a store's refusal is rendered (ok false).
func (h *Handler) firePage(w http.ResponseWriter, r *http.Request) (acct state.Account, p *firePage, ok bool) {
	acct, err := h.accountOf(r)
	if err == nil {
		p, err = h.fireDefaults(r, acct)
	}
	if err != nil {
		h.fail(w, r, err)
		return acct, nil, false
	}
	return acct, p, true
}

func (h *Handler) fireDefaults(r *http.Request, acct state.Account) (*firePage, error) {
	apps, err := h.b.Sandbox().Store().ListApps(r.Context(), acct.Name)
	if err != nil {
		return nil, err
	}
	p := &firePage{Types: h.b.Spec().EventTypes(""), Apps: apps, MOTypes: state.MOTypes, Inbound: inboundForm{Type: "text"}}
	if acct.DefaultApp != "" {
		p.AppKey = acct.DefaultApp
		if bs, err := h.b.Sandbox().Store().ListBindings(r.Context(), acct.DefaultApp); err == nil {
			for _, b := range bs {
				if b.Kind == state.BindNumber {
					p.Inbound.To = b.Value
					break
				}
			}
		}
	}
	p.Inbound.From = "6285234567899"
	return p, nil
}

// exampleOf is the contract's example of an event type as the form shows
// it: without the envelope's id (the event's own, drawn by the sandbox)
// and time (the account's now).
func (h *Handler) exampleOf(typ string) map[string]any {
	ex, ok := h.b.Spec().EventExample(typ)
	if !ok {
		return map[string]any{}
	}
	if _, envelope := ex["body"]; envelope {
		delete(ex, "id")
		delete(ex, "eventTime")
	}
	return ex
}

// example is exampleOf indented for editing.
func (h *Handler) example(typ string) string {
	b, _ := json.MarshalIndent(h.exampleOf(typ), "", "  ")
	return string(b)
}

// edits turns an edited example into the trigger's set and unset: every
// member changed or added is set by its JSON pointer, every member removed
// is unset. What is left as it was is built afresh by the trigger (new ids
// and times, the account's names), as for an event fired without edits.
func edits(base, edited map[string]any, prefix string, set map[string]any, unset *[]string) {
	for k, v := range edited {
		p := prefix + "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
		old, had := base[k]
		bo, bok := old.(map[string]any)
		eo, eok := v.(map[string]any)
		switch {
		case had && bok && eok:
			edits(bo, eo, p, set, unset)
		case !had || !sameJSON(old, v):
			set[p] = v
		}
	}
	for k := range base {
		if _, kept := edited[k]; !kept {
			*unset = append(*unset, prefix+"/"+strings.NewReplacer("~", "~0", "/", "~1").Replace(k))
		}
	}
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func (h *Handler) fireForm(w http.ResponseWriter, r *http.Request) {
	acct, p, ok := h.firePage(w, r)
	if !ok {
		return
	}
	p.Type = r.URL.Query().Get("type")
	if p.Type == "" && len(p.Types) > 0 {
		p.Type = p.Types[len(p.Types)-1]
		for _, t := range p.Types {
			if t == state.EventWAStatus {
				p.Type = t
			}
		}
	}
	if app := r.URL.Query().Get("app"); app != "" {
		p.AppKey = app
	}
	p.Payload = h.example(p.Type)
	h.renderFire(w, r, http.StatusOK, acct, p)
}

func (h *Handler) fire(w http.ResponseWriter, r *http.Request) {
	acct, p, ok := h.firePage(w, r)
	if !ok {
		return
	}
	p.Type, p.AppKey, p.Payload = r.PostFormValue("type"), r.PostFormValue("app"), r.PostFormValue("payload")
	if r.PostFormValue("load") != "" {
		// "Load its example": the no-script way to switch event types.
		p.Payload = h.example(p.Type)
		h.renderFire(w, r, http.StatusOK, acct, p)
		return
	}
	in := map[string]any{"type": p.Type}
	if p.AppKey != "" {
		in["appKey"] = p.AppKey
	}
	dec := json.NewDecoder(strings.NewReader(p.Payload))
	dec.UseNumber() // an id of 19 digits must not come out rounded
	var payload map[string]any
	if err := dec.Decode(&payload); err != nil {
		p.Refusal = &contractRefusal{Field: "payload", Rule: "is not a JSON object: " + err.Error()}
		h.renderFire(w, r, http.StatusBadRequest, acct, p)
		return
	}
	set, unset := map[string]any{}, []string{}
	edits(h.exampleOf(p.Type), payload, "", set, &unset)
	if len(set) > 0 {
		in["set"] = set
	}
	if len(unset) > 0 {
		slices.Sort(unset)
		in["unset"] = unset
	}
	status := http.StatusOK
	account := acct.Name
	if p.AppKey != "" {
		account = "" // the app names its account
	}
	var res fireResult
	if err := h.control(r.Context(), http.MethodPost, "/_sandbox/events", account, in, &res); err != nil {
		p.Refusal, status = refusalOf(refusal(err)), http.StatusBadRequest
	} else {
		p.Result = &res
	}
	h.renderFire(w, r, status, acct, p)
}

func (h *Handler) inbound(w http.ResponseWriter, r *http.Request) {
	acct, p, ok := h.firePage(w, r)
	if !ok {
		return
	}
	f := inboundForm{To: strings.TrimSpace(r.PostFormValue("to")), From: strings.TrimSpace(r.PostFormValue("from")),
		WabaID: strings.TrimSpace(r.PostFormValue("wabaId")), Type: r.PostFormValue("type"), Content: strings.TrimSpace(r.PostFormValue("content"))}
	p.Inbound = f
	p.Type = state.EventWAStatus
	p.Payload = h.example(p.Type)
	in := map[string]any{"to": f.To, "from": f.From, "type": f.Type}
	if f.WabaID != "" {
		in["wabaId"] = f.WabaID
	}
	status := http.StatusOK
	if f.Content != "" {
		dec := json.NewDecoder(bytes.NewReader([]byte(f.Content)))
		dec.UseNumber()
		var content any
		if err := dec.Decode(&content); err != nil {
			p.InRefuse = &contractRefusal{Field: state.MOMember(f.Type), Rule: "is not JSON: " + err.Error()}
			h.renderFire(w, r, http.StatusBadRequest, acct, p)
			return
		}
		in[state.MOMember(f.Type)] = content
	}
	var res fireResult
	if err := h.control(r.Context(), http.MethodPost, "/_sandbox/events/inbound", acct.Name, in, &res); err != nil {
		p.InRefuse, status = refusalOf(refusal(err)), http.StatusBadRequest
	} else {
		p.Result = &res
	}
	h.renderFire(w, r, status, acct, p)
}

func deliveryPath(id string) string { return Prefix + "deliveries/" + url.PathEscape(id) }

func (h *Handler) renderFire(w http.ResponseWriter, r *http.Request, status int, acct state.Account, p *firePage) {
	h.render(w, r, status, "fire", &page{Title: "Fire an event", Nav: "fire", Account: acct.Name, Data: p})
}

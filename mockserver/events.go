package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// eventResult is the answer to a simulated or triggered event: the app it
// was routed to and how, or why no app was found, and the delivery as the
// log shows it (dropped, with the reason, when the app does not take it).
func eventResult(e state.Event, a state.Account) map[string]any {
	return map[string]any{
		"routed":   e.AppKey != "",
		"appKey":   strPtr(e.AppKey),
		"route":    strPtr(e.Route),
		"reason":   strPtr(e.Reason),
		"delivery": deliveryOf(e, a.ClockOffset),
	}
}

// payloadCheck judges a built payload against its event type's schema
// before it is stored. rename turns a payload path into the request field
// the caller wrote (nil: the payload path itself). The first violation
// names the field; the others follow in the message.
func (s *Server) payloadCheck(eventType string, rename func(string) string) func([]byte) error {
	return func(payload []byte) error {
		var v any
		if err := json.Unmarshal(payload, &v); err != nil {
			return fmt.Errorf("a built %s payload is not JSON: %w", eventType, err)
		}
		vs, err := s.cfg.Spec.PayloadViolations(eventType, v)
		if err != nil || len(vs) == 0 {
			return err
		}
		parts := make([]string, len(vs))
		for i, x := range vs {
			if rename != nil {
				x.Path = rename(x.Path)
			}
			vs[i] = x
			parts[i] = x.String()
		}
		msg := vs[0].Reason
		if len(parts) > 1 {
			msg += "; " + strings.Join(parts[1:], "; ")
		}
		return &state.InvalidError{Field: vs[0].Path, Message: msg}
	}
}

// inboundIn is the simulateInbound request: the common members, and at
// most one content member (the one its type names).
type inboundIn struct {
	To           string `json:"to"`
	From         string `json:"from"`
	WabaID       string `json:"wabaId"`
	CustomerName string `json:"customerName"`
	Type         string `json:"type"`
	ReplyTo      string `json:"replyTo"`
	content      map[string]json.RawMessage
}

// UnmarshalJSON keeps the content members raw: they travel into the
// payload as given and are judged there, by the payload's schema.
func (in *inboundIn) UnmarshalJSON(b []byte) error {
	type plain inboundIn
	if err := json.Unmarshal(b, (*plain)(in)); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	in.content = map[string]json.RawMessage{}
	for _, t := range state.MOTypes {
		if raw, ok := all[state.MOMember(t)]; ok {
			in.content[t] = raw
		}
	}
	return nil
}

// moType decides the message type: as given, else the one content member
// given, else text. A content member of another type is refused rather
// than left out of the payload unseen.
func (in *inboundIn) moType() (string, *reply) {
	given := make([]string, 0, len(in.content))
	for t := range in.content {
		given = append(given, t)
	}
	slices.Sort(given)
	typ := in.Type
	if typ == "" {
		switch len(given) {
		case 0:
			typ = "text"
		case 1:
			typ = given[0]
		default:
			r := fail(http.StatusBadRequest, fmt.Sprintf("request body: /type: say which message this is; the body has the members of %s", strings.Join(given, ", ")))
			return "", &r
		}
	}
	for _, t := range given {
		if t != typ {
			r := fail(http.StatusBadRequest, fmt.Sprintf("request body: /%s: a message of type %s carries only %q; drop it or set type %s",
				state.MOMember(t), typ, state.MOMember(typ), t))
			return "", &r
		}
	}
	return typ, nil
}

func (s *Server) simulateInbound(c *call) reply {
	a, r := s.account(c)
	if r != nil {
		return *r
	}
	var in inboundIn
	if r := decode(c, &in); r != nil {
		return *r
	}
	typ, r := in.moType()
	if r != nil {
		return *r
	}
	member := state.MOMember(typ)
	content, defaulted := []byte(in.content[typ]), false
	if content == nil {
		// A realistic stand-in: the member of the contract's example of
		// this type.
		ex, ok := s.cfg.Spec.BranchExample("WhatsappMoMessageBody", typ)
		if !ok || ex[member] == nil {
			return fail(http.StatusInternalServerError, fmt.Sprintf("the contract has no example of an inbound %s message; give %q", typ, member))
		}
		b, err := json.Marshal(ex[member])
		if err != nil {
			return fromError(err)
		}
		content, defaulted = b, true
	}
	// Payload paths /body/x are the request's /x.
	rename := func(p string) string {
		if rest, ok := strings.CutPrefix(p, "/body/"); ok {
			return "/" + rest
		}
		return p
	}
	e, err := s.sandbox.SimulateInbound(c.ctx, a, state.Inbound{To: in.To, From: in.From, WabaID: in.WabaID,
		CustomerName: in.CustomerName, Type: typ, Content: content, Defaulted: defaulted, ReplyTo: in.ReplyTo,
		Check: s.payloadCheck(state.EventWAMO, rename)})
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusCreated, eventResult(e, a))
}

// triggerIn is the triggerEvent request.
type triggerIn struct {
	Type    string         `json:"type"`
	AppKey  string         `json:"appKey"`
	Set     map[string]any `json:"set"`
	Unset   []string       `json:"unset"`
	Payload map[string]any `json:"payload"`
}

func (s *Server) triggerEvent(c *call) reply {
	var in triggerIn
	// Numbers stay as written (json.Number): an id of 19 digits must not
	// come out rounded.
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return fail(http.StatusBadRequest, "request body: "+err.Error())
	}
	et, known := s.cfg.Spec.Event(in.Type)
	if !known {
		return fail(http.StatusBadRequest, fmt.Sprintf("request body: /type: %q is not an event type of the contract; known: %s",
			in.Type, strings.Join(s.cfg.Spec.EventTypes(""), ", ")))
	}
	acct, r := s.triggerAccount(c, in.AppKey)
	if r != nil {
		return *r
	}
	example, found := s.cfg.Spec.EventExample(in.Type)
	if !found {
		return fail(http.StatusInternalServerError, fmt.Sprintf("the contract has no example of %s to build it from; give a payload", in.Type))
	}
	_, envelope := example["body"]
	t := state.Trigger{Type: in.Type, Product: et.Product, AppKey: in.AppKey, Base: example, Fresh: true, Envelope: envelope,
		Check: s.payloadCheck(in.Type, nil)}
	if in.Payload != nil {
		t.Base, t.Fresh = in.Payload, false
	}
	pointers := make([]string, 0, len(in.Set))
	for p := range in.Set {
		pointers = append(pointers, p)
	}
	// Sorted, so that a member is set before the members inside it.
	slices.Sort(pointers)
	for _, p := range pointers {
		t.Set = append(t.Set, state.Override{Pointer: p, Value: in.Set[p]})
	}
	t.Unset = in.Unset
	e, err := s.sandbox.FireEvent(c.ctx, acct, t)
	if err != nil {
		return fromError(err)
	}
	return ok(http.StatusCreated, eventResult(e, acct))
}

// triggerAccount is the account a trigger acts on: the named app's, which
// must agree with X-Sandbox-Account when that is given too; else the
// account the header names (the default account without it).
func (s *Server) triggerAccount(c *call, appKey string) (state.Account, *reply) {
	if appKey == "" {
		return s.account(c)
	}
	app, err := s.store.GetApp(c.ctx, appKey)
	if err != nil {
		r := fromError(err)
		return state.Account{}, &r
	}
	if mine := c.scope(); mine != "" && mine != app.Account {
		// Another account's app answers as one that does not exist.
		r := fromError(state.NotFound("app", appKey))
		return state.Account{}, &r
	}
	if name := c.accountName(); name != "" && name != app.Account {
		r := fail(http.StatusNotFound, fmt.Sprintf("app %s is not an app of account %s", appKey, name))
		return state.Account{}, &r
	}
	acct, err := s.store.GetAccount(c.ctx, app.Account)
	if err != nil {
		r := fromError(err)
		return acct, &r
	}
	return acct, nil
}

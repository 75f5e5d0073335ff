package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/internal/payload"
)

// Push is one request a receiver got.
type Push struct {
	N        int // 1 for the first request the receiver got
	At       time.Time
	Method   string
	Path     string
	Header   http.Header
	Body     []byte
	Answered int // the HTTP status the receiver answered
	// From the body, when it is an InnoPaaS event ({id, type, eventTime,
	// body}). A flat push (OTP, SMS) carries no type and no id: its Type is
	// the event type of the configuration it answers to whose payload it
	// fits (see Receiver.FlatType), and its ID stays empty.
	ID      string
	Type    string
	Flat    bool
	Payload map[string]any
}

// Field returns the member a JSON pointer names in the payload, and
// whether it is there.
func (p Push) Field(pointer string) (any, bool) {
	return payload.Get(p.Payload, pointer)
}

// BodyField returns a string member of the event's body ("" when absent).
func (p Push) BodyField(name string) string {
	body, _ := p.Payload["body"].(map[string]any)
	s, _ := body[name].(string)
	return s
}

// Answer is what a receiver replies to a push.
type Answer struct {
	Status     int
	RetryAfter string // sent as Retry-After when not empty
}

// Expect is the webhook configuration a receiver's pushes must honour:
// the method, and exactly the configured UserName and Authorization
// headers (absent when nil), for the event types it subscribes to.
type Expect struct {
	Method        string
	Username      *string
	Authorization *string
	Events        []string // the event types pushed under this configuration
}

// Receiver records every request it gets (method, headers, body) and
// answers as scripted: the answers in order, the last one repeated; 200
// when none are scripted. Steps wait on it with a deadline, never a sleep.
type Receiver struct {
	mu      sync.Mutex
	pushes  []Push
	answers []Answer
	since   int           // pushes received before the answers were scripted
	expects []Expect      // one per configuration that points here, latest last
	changed chan struct{} // closed and replaced on every push
	url     string
	stop    func()
	// FlatType names the event type of a push without a type member,
	// given the decoded body and the flat event types of the
	// configurations that point here ("" when it cannot tell).
	FlatType func(payload map[string]any, candidates []string) string
}

// maxPushBody bounds what a receiver keeps of one request.
const maxPushBody = 1 << 20

// NewReceiver returns a receiver that is not listening yet; serve it with
// its ServeHTTP (see StartReceiver and Hub).
func NewReceiver() *Receiver { return &Receiver{changed: make(chan struct{})} }

// StartReceiver starts a receiver on its own HTTP server on a free loopback
// port.
func StartReceiver() (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting a webhook receiver: %w", err)
	}
	r := NewReceiver()
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	r.url = "http://" + ln.Addr().String() + "/hook"
	r.stop = func() { _ = srv.Close() }
	return r, nil
}

// URL is where the receiver can be reached.
func (r *Receiver) URL() string { return r.url }

// Close stops the receiver's server, if it has its own.
func (r *Receiver) Close() {
	if r.stop != nil {
		r.stop()
	}
}

// Script sets the answers to the next pushes, in order; the last one is
// repeated.
func (r *Receiver) Script(answers ...Answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers = append([]Answer(nil), answers...)
	r.since = len(r.pushes)
}

// SetExpect records a configuration the pushes must honour. A receiver may
// take several (one app's webhooks of several products, say); a later one
// replaces an earlier one for the event types they share.
func (r *Receiver) SetExpect(e Expect) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expects = append(r.expects, e)
}

// ExpectationFor returns the configuration that pushes an event type here:
// the latest that subscribes to it, else the latest of all (nil: none).
func (r *Receiver) ExpectationFor(eventType string) *Expect {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.expects) - 1; i >= 0; i-- {
		if slices.Contains(r.expects[i].Events, eventType) {
			e := r.expects[i]
			return &e
		}
	}
	if len(r.expects) == 0 {
		return nil
	}
	e := r.expects[len(r.expects)-1]
	return &e
}

// subscribed lists the event types of every configuration recorded.
func (r *Receiver) subscribed() []string {
	var out []string
	for _, e := range r.expects {
		for _, t := range e.Events {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// ServeHTTP records a push and answers it.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, maxPushBody))
	p := Push{At: time.Now(), Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: body}
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if json.Unmarshal(body, &ev) == nil {
		p.ID, p.Type = ev.ID, ev.Type
		_ = json.Unmarshal(body, &p.Payload)
	}

	r.mu.Lock()
	if p.Type == "" && p.Payload != nil && r.FlatType != nil {
		p.Type, p.Flat = r.FlatType(p.Payload, r.subscribed()), true
	}
	a := Answer{Status: http.StatusOK}
	if n := len(r.pushes) - r.since; len(r.answers) > 0 {
		a = r.answers[min(n, len(r.answers)-1)]
	}
	p.N, p.Answered = len(r.pushes)+1, a.Status
	r.pushes = append(r.pushes, p)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()

	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(a.Status)
	_, _ = io.WriteString(w, strconv.Itoa(a.Status)+"\n")
}

// Pushes returns what the receiver got so far.
func (r *Receiver) Pushes() []Push {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Push(nil), r.pushes...)
}

// ErrTimeout says a wait ended before what it waited for happened.
var ErrTimeout = errors.New("timed out")

// WaitFor waits until done holds for the pushes received so far, at most
// timeout. It wakes on every push instead of polling on a timer.
func (r *Receiver) WaitFor(ctx context.Context, timeout time.Duration, done func([]Push) bool) ([]Push, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		got := append([]Push(nil), r.pushes...)
		changed := r.changed
		r.mu.Unlock()
		if done(got) {
			return got, nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return got, fmt.Errorf("%w after %s", ErrTimeout, timeout)
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
}

// CheckPush lists how a push breaks the contract: its payload against the
// event type's schema, judged twice (by kin-openapi, as the sandbox judges
// it, and by the independent JSON Schema validator), its Content-Type, and
// the method and headers of the configuration (exp; nil skips those checks).
func (c *Contract) CheckPush(p Push, exp *Expect) []string {
	var problems []string
	if mt, params, err := mime.ParseMediaType(p.Header.Get("Content-Type")); err != nil || mt != "application/json" || !strings.EqualFold(params["charset"], "utf-8") {
		problems = append(problems, fmt.Sprintf("Content-Type is %q, not application/json;charset=utf-8", p.Header.Get("Content-Type")))
	}
	switch {
	case p.Type == "" && p.Payload != nil:
		problems = append(problems, fmt.Sprintf("the body has no type, and no configuration pointing here has a flat event type it fits: %.200s", p.Body))
	case p.Type == "":
		problems = append(problems, fmt.Sprintf("the body is not an event with a type: %.200s", p.Body))
	default:
		problems = append(problems, c.ValidatePayload(p.Type, p.Body)...)
	}
	if exp != nil {
		if p.Method != exp.Method {
			problems = append(problems, fmt.Sprintf("pushed with %s, configured %s", p.Method, exp.Method))
		}
		problems = append(problems, checkConfiguredHeader(p.Header, "UserName", exp.Username)...)
		problems = append(problems, checkConfiguredHeader(p.Header, "Authorization", exp.Authorization)...)
	}
	return problems
}

// ValidatePayload judges a payload of an event type with both validators;
// each one's refusal is a problem of its own, so that a disagreement
// between them shows.
func (c *Contract) ValidatePayload(eventType string, payload []byte) []string {
	var problems []string
	if err := c.Spec.ValidatePayload(eventType, payload); err != nil {
		problems = append(problems, "kin-openapi: "+err.Error())
	}
	if c.Independent != nil {
		if err := c.Independent.Validate(eventType, payload); err != nil {
			problems = append(problems, err.Error())
		}
	}
	return problems
}

// FlatEventType names the event type of a payload without a type member
// (the OTP and SMS pushes): among the candidates, the one whose payload
// schema's required members are all there, or the only flat candidate when
// none fits ("" when it cannot tell).
func (c *Contract) FlatEventType(payload map[string]any, candidates []string) string {
	var flat, fitting []string
	for _, t := range candidates {
		e, ok := c.Spec.Event(t)
		if !ok || e.Schema == nil || len(e.Schema.Required) == 0 || slices.Contains(e.Schema.Required, "type") {
			continue // an enveloped event, which names its own type
		}
		flat = append(flat, t)
		if !slices.ContainsFunc(e.Schema.Required, func(name string) bool { _, ok := payload[name]; return !ok }) {
			fitting = append(fitting, t)
		}
	}
	switch {
	case len(fitting) == 1:
		return fitting[0]
	case len(flat) == 1:
		return flat[0] // the only one it can be; its schema will say what is wrong
	}
	return ""
}

func checkConfiguredHeader(h http.Header, name string, want *string) []string {
	got := h.Values(name)
	switch {
	case want == nil && len(got) > 0:
		return []string{fmt.Sprintf("header %s is %s but none is configured", name, quoteList(got))}
	case want != nil && (len(got) != 1 || got[0] != *want):
		return []string{fmt.Sprintf("header %s is %s, configured %q", name, quoteList(got), *want)}
	}
	return nil
}

// Hub serves many receivers on one listener, each under its own path, for
// runs where the target must reach the receivers at a fixed public URL
// (--callback-listen and --callback-public-url).
type Hub struct {
	mu        sync.Mutex
	boxes     map[string]*Receiver
	seq       int
	publicURL string
	srv       *http.Server
	addr      string
}

// StartHub listens on addr; publicURL is how the target reaches it ("" for
// http://addr).
func StartHub(addr, publicURL string) (*Hub, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--callback-listen %s: %w", addr, err)
	}
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}
	h := &Hub{boxes: map[string]*Receiver{}, publicURL: strings.TrimSuffix(publicURL, "/"), addr: ln.Addr().String()}
	h.srv = &http.Server{Handler: http.HandlerFunc(h.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = h.srv.Serve(ln) }()
	return h, nil
}

// Addr is the address the hub listens on.
func (h *Hub) Addr() string { return h.addr }

// NewReceiver returns a receiver served under a path of its own.
func (h *Hub) NewReceiver() *Receiver {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	id := "r" + strconv.Itoa(h.seq)
	r := NewReceiver()
	r.url = h.publicURL + "/" + id + "/hook"
	r.stop = func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.boxes, id)
	}
	h.boxes[id] = r
	return r
}

func (h *Hub) serve(w http.ResponseWriter, req *http.Request) {
	// The id is the segment before /hook, whatever prefix a proxy in front
	// of the hub keeps.
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	id := ""
	if len(parts) >= 2 && parts[len(parts)-1] == "hook" {
		id = parts[len(parts)-2]
	}
	h.mu.Lock()
	r := h.boxes[id]
	h.mu.Unlock()
	if r == nil {
		http.Error(w, "no receiver here (its scenario has ended)", http.StatusGone)
		return
	}
	r.ServeHTTP(w, req)
}

// Close stops the hub.
func (h *Hub) Close() error { return h.srv.Close() }

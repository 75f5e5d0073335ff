package mockserver

import (
	"encoding/json"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Times in control answers: RFC 3339, UTC, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func ts(t time.Time) string { return t.UTC().Format(timeLayout) }

func tsPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := ts(*t)
	return &s
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type clockView struct {
	Now           string  `json:"now"`
	Offset        string  `json:"offset"`
	OffsetSeconds float64 `json:"offsetSeconds"`
}

func (s *Server) clockOf(a state.Account) clockView {
	return clockView{Now: ts(s.sandbox.Now(a)), Offset: a.ClockOffset.String(), OffsetSeconds: a.ClockOffset.Seconds()}
}

type accountView struct {
	Name       string    `json:"name"`
	Label      string    `json:"label"`
	DefaultApp *string   `json:"defaultApp"`
	Clock      clockView `json:"clock"`
	CreatedAt  string    `json:"createdAt"`
	// ControlToken is set only in the answer that creates the account.
	ControlToken string `json:"controlToken,omitempty"`
}

func (s *Server) accountView(a state.Account) accountView {
	return accountView{Name: a.Name, Label: a.Label, DefaultApp: strPtr(a.DefaultApp), Clock: s.clockOf(a), CreatedAt: ts(a.CreatedAt)}
}

type tokenSummary struct {
	State     string  `json:"state"`
	IssuedAt  *string `json:"issuedAt"`
	ExpiresAt *string `json:"expiresAt"`
}

type appView struct {
	AppKey    string       `json:"appKey"`
	Name      string       `json:"name"`
	Account   string       `json:"account"`
	Default   bool         `json:"default"`
	Token     tokenSummary `json:"token"`
	CreatedAt string       `json:"createdAt"`
}

type issuedTokenView struct {
	AppKey    string  `json:"appKey"`
	Token     string  `json:"token"`
	ExpiresAt *string `json:"expiresAt"`
	IssuedAt  string  `json:"issuedAt"`
}

type tokenInfoView struct {
	Fingerprint string  `json:"fingerprint"`
	State       string  `json:"state"`
	IssuedAt    string  `json:"issuedAt"`
	ExpiresAt   *string `json:"expiresAt"`
	EndedAt     *string `json:"endedAt"`
}

type webhookView struct {
	AppKey        string     `json:"appKey"`
	Product       string     `json:"product"`
	URL           string     `json:"url"`
	Events        []string   `json:"events"`
	Method        string     `json:"method"`
	Username      *string    `json:"username"`
	Authorization *string    `json:"authorization"`
	Retry         *retryView `json:"retry"`
	Chaos         *chaosView `json:"chaos"`
	CreatedAt     string     `json:"createdAt"`
	UpdatedAt     string     `json:"updatedAt"`
}

func webhookOf(w state.Webhook) webhookView {
	return webhookView{AppKey: w.AppKey, Product: w.Product, URL: w.URL, Events: w.Events, Method: w.Method,
		Username: w.Username, Authorization: w.Authorization, Retry: retryViewOf(w.Retry), Chaos: chaosViewOf(w.Chaos),
		CreatedAt: ts(w.CreatedAt), UpdatedAt: ts(w.UpdatedAt)}
}

type bindingView struct {
	Kind      string `json:"kind"`
	Value     string `json:"value"`
	AppKey    string `json:"appKey"`
	CreatedAt string `json:"createdAt"`
}

func bindingOf(b state.Binding) bindingView {
	return bindingView{Kind: string(b.Kind), Value: b.Value, AppKey: b.AppKey, CreatedAt: ts(b.CreatedAt)}
}

type targetView struct {
	URL           string  `json:"url"`
	Method        string  `json:"method"`
	Username      *string `json:"username"`
	Authorization *string `json:"authorization"`
}

type deliveryView struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Product       string          `json:"product"`
	AppKey        *string         `json:"appKey"`
	Route         *string         `json:"route"`
	Status        string          `json:"status"`
	Reason        *string         `json:"reason"`
	Attempts      int             `json:"attempts"`
	DueAt         string          `json:"dueAt"`
	NextAttemptAt *string         `json:"nextAttemptAt"`
	Target        *targetView     `json:"target"`
	Payload       json.RawMessage `json:"payload"`
	CreatedAt     string          `json:"createdAt"`
}

// deliveryOf renders an event; offset converts its real NextAttemptAt to the
// account's clock.
func deliveryOf(e state.Event, offset time.Duration) deliveryView {
	v := deliveryView{ID: e.ID, Type: e.Type, Product: e.Product, AppKey: strPtr(e.AppKey), Route: strPtr(e.Route),
		Status: string(e.Status), Reason: strPtr(e.Reason), Attempts: e.Attempts, DueAt: ts(e.DueAt),
		Payload: json.RawMessage(e.Payload), CreatedAt: ts(e.CreatedAt)}
	if e.Status == state.EventPending {
		v.NextAttemptAt = tsPtr(ptr(e.NextAttemptAt.Add(offset)))
	}
	if t := e.Target; t != nil {
		v.Target = &targetView{URL: t.URL, Method: t.Method, Username: t.Username, Authorization: t.Authorization}
	}
	return v
}

func ptr[T any](v T) *T { return &v }

// viewsOf renders each item of a list; an empty list renders as [], never
// null, as the contract's arrays require.
func viewsOf[T, V any](list []T, view func(T) V) []V {
	out := make([]V, len(list))
	for i, x := range list {
		out[i] = view(x)
	}
	return out
}

type httpRequestView struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

type httpResponseView struct {
	Status  int                 `json:"status"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

type attemptView struct {
	N         int               `json:"n"`
	StartedAt string            `json:"startedAt"`
	LatencyMs float64           `json:"latencyMs"`
	Request   httpRequestView   `json:"request"`
	Response  *httpResponseView `json:"response"`
	Error     *string           `json:"error"`
	Outcome   string            `json:"outcome"`
}

type deliveryDetailView struct {
	deliveryView
	AttemptLog []attemptView `json:"attemptLog"`
}

func nonNil(h map[string][]string) map[string][]string {
	if h == nil {
		return map[string][]string{}
	}
	return h
}

func attemptOf(a state.Attempt) attemptView {
	v := attemptView{N: a.N, StartedAt: ts(a.StartedAt), LatencyMs: float64(a.Latency.Microseconds()) / 1000,
		Request: httpRequestView{Method: a.Method, URL: a.URL, Headers: nonNil(a.RequestHeaders), Body: string(a.RequestBody)},
		Error:   strPtr(a.Error), Outcome: a.Outcome}
	if a.ResponseStatus != 0 {
		v.Response = &httpResponseView{Status: a.ResponseStatus, Headers: nonNil(a.ResponseHeaders), Body: string(a.ResponseBody)}
	}
	return v
}

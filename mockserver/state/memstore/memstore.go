// Package memstore is the throw-away state.Store: plain Go maps behind one
// lock. It is what `--store memory` runs on, and the fastest store for tests.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Store is an in-memory state.Store. The zero value is not usable; call New.
type Store struct {
	mu       sync.RWMutex
	accounts map[string]*state.Account
	apps     map[string]*state.App
	tokens   map[[32]byte]*state.Token
	current  map[string][32]byte // appKey -> hash of its current token
	hooks    map[hookKey]*state.Webhook
	binds    map[bindKey]*state.Binding
	messages map[string]*state.Message
	events   map[string]*state.Event
	pending  map[string]*state.Event // the outbox: events with Status pending
	attempts map[string][]state.Attempt
	seq      int64 // creation order of apps and events
	order    map[string]int64
}

type hookKey struct{ app, product string }

type bindKey struct {
	account string
	kind    state.BindingKind
	value   string
}

var _ state.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	s := &Store{}
	s.init()
	return s
}

func (s *Store) init() {
	s.accounts = map[string]*state.Account{}
	s.apps = map[string]*state.App{}
	s.tokens = map[[32]byte]*state.Token{}
	s.current = map[string][32]byte{}
	s.hooks = map[hookKey]*state.Webhook{}
	s.binds = map[bindKey]*state.Binding{}
	s.messages = map[string]*state.Message{}
	s.events = map[string]*state.Event{}
	s.pending = map[string]*state.Event{}
	s.attempts = map[string][]state.Attempt{}
	s.order = map[string]int64{}
}

func notFound(what, key string) error { return fmt.Errorf("%s %q: %w", what, key, state.ErrNotFound) }
func conflict(what, key string) error { return fmt.Errorf("%s %q: %w", what, key, state.ErrConflict) }

func (s *Store) next(key string) {
	s.seq++
	s.order[key] = s.seq
}

// CreateAccount implements state.Store.
func (s *Store) CreateAccount(_ context.Context, a state.Account) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[a.Name]; ok {
		return conflict("account", a.Name)
	}
	s.accounts[a.Name] = &a
	return nil
}

// GetAccount implements state.Store.
func (s *Store) GetAccount(_ context.Context, name string) (state.Account, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.accounts[name]
	if !ok {
		return state.Account{}, notFound("account", name)
	}
	return *a, nil
}

// ListAccounts implements state.Store.
func (s *Store) ListAccounts(_ context.Context) ([]state.Account, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]state.Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DeleteAccount implements state.Store.
func (s *Store) DeleteAccount(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[name]; !ok {
		return notFound("account", name)
	}
	for key, app := range s.apps {
		if app.Account == name {
			s.deleteAppLocked(key)
		}
	}
	for k := range s.binds {
		if k.account == name {
			delete(s.binds, k)
		}
	}
	for id, m := range s.messages {
		if m.Account == name {
			delete(s.messages, id)
		}
	}
	for id, e := range s.events {
		if e.Account == name {
			delete(s.events, id)
			delete(s.pending, id)
			delete(s.attempts, id)
			delete(s.order, id)
		}
	}
	delete(s.accounts, name)
	return nil
}

// SetDefaultApp implements state.Store.
func (s *Store) SetDefaultApp(_ context.Context, account, appKey string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[account]
	if !ok {
		return notFound("account", account)
	}
	if appKey != "" {
		app, ok := s.apps[appKey]
		if !ok || app.Account != account {
			return notFound("app", appKey)
		}
	}
	a.DefaultApp = appKey
	return nil
}

// ShiftClock implements state.Store.
func (s *Store) ShiftClock(_ context.Context, account string, d time.Duration) (state.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[account]
	if !ok {
		return state.Account{}, notFound("account", account)
	}
	a.ClockOffset += d
	for _, e := range s.pending {
		if e.Account == account {
			e.NextAttemptAt = e.NextAttemptAt.Add(-d)
		}
	}
	return *a, nil
}

// CreateApp implements state.Store.
func (s *Store) CreateApp(_ context.Context, a state.App) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[a.Account]; !ok {
		return notFound("account", a.Account)
	}
	if _, ok := s.apps[a.Key]; ok {
		return conflict("app", a.Key)
	}
	s.apps[a.Key] = &a
	s.next("app:" + a.Key)
	return nil
}

// GetApp implements state.Store.
func (s *Store) GetApp(_ context.Context, key string) (state.App, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[key]
	if !ok {
		return state.App{}, notFound("app", key)
	}
	return *a, nil
}

// ListApps implements state.Store.
func (s *Store) ListApps(_ context.Context, account string) ([]state.App, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.accounts[account]; !ok {
		return nil, notFound("account", account)
	}
	var out []state.App
	for _, a := range s.apps {
		if a.Account == account {
			out = append(out, *a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return s.order["app:"+out[i].Key] < s.order["app:"+out[j].Key] })
	return out, nil
}

// DeleteApp implements state.Store.
func (s *Store) DeleteApp(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[key]; !ok {
		return notFound("app", key)
	}
	s.deleteAppLocked(key)
	return nil
}

func (s *Store) deleteAppLocked(key string) {
	app := s.apps[key]
	if a, ok := s.accounts[app.Account]; ok && a.DefaultApp == key {
		a.DefaultApp = ""
	}
	for h, t := range s.tokens {
		if t.AppKey == key {
			delete(s.tokens, h)
		}
	}
	delete(s.current, key)
	for k := range s.hooks {
		if k.app == key {
			delete(s.hooks, k)
		}
	}
	for k, b := range s.binds {
		if b.AppKey == key {
			delete(s.binds, k)
		}
	}
	delete(s.apps, key)
	delete(s.order, "app:"+key)
}

// AuthContext implements state.Store.
func (s *Store) AuthContext(_ context.Context, appKey string) (state.App, state.Account, state.Token, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	app, ok := s.apps[appKey]
	if !ok {
		return state.App{}, state.Account{}, state.Token{}, false, notFound("app", appKey)
	}
	acct := *s.accounts[app.Account]
	h, ok := s.current[appKey]
	if !ok {
		return *app, acct, state.Token{}, false, nil
	}
	return *app, acct, *s.tokens[h], true, nil
}

// IssueToken implements state.Store.
func (s *Store) IssueToken(_ context.Context, t state.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[t.AppKey]; !ok {
		return notFound("app", t.AppKey)
	}
	if _, ok := s.tokens[t.Hash]; ok {
		return conflict("token", "(hash)")
	}
	if old, ok := s.current[t.AppKey]; ok {
		ended := t.IssuedAt
		s.tokens[old].State = state.TokenSuperseded
		s.tokens[old].EndedAt = &ended
	}
	t.State = state.TokenCurrent
	t.EndedAt = nil
	s.tokens[t.Hash] = &t
	s.current[t.AppKey] = t.Hash
	s.next(fmt.Sprintf("token:%x", t.Hash))
	return nil
}

// RevokeToken implements state.Store.
func (s *Store) RevokeToken(_ context.Context, appKey string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[appKey]; !ok {
		return notFound("app", appKey)
	}
	h, ok := s.current[appKey]
	if !ok {
		return notFound("current token of app", appKey)
	}
	s.tokens[h].State = state.TokenRevoked
	s.tokens[h].EndedAt = &at
	delete(s.current, appKey)
	return nil
}

// TokenByHash implements state.Store.
func (s *Store) TokenByHash(_ context.Context, hash [32]byte) (state.Token, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tokens[hash]
	if !ok {
		return state.Token{}, notFound("token", "(hash)")
	}
	return *t, nil
}

// ListTokens implements state.Store.
func (s *Store) ListTokens(_ context.Context, appKey string) ([]state.Token, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.apps[appKey]; !ok {
		return nil, notFound("app", appKey)
	}
	var out []state.Token
	for _, t := range s.tokens {
		if t.AppKey == appKey {
			out = append(out, *t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return s.order[fmt.Sprintf("token:%x", out[i].Hash)] > s.order[fmt.Sprintf("token:%x", out[j].Hash)]
	})
	return out, nil
}

func cloneWebhook(w state.Webhook) state.Webhook {
	w.Events = slices.Clone(w.Events)
	return w
}

// CreateWebhook implements state.Store.
func (s *Store) CreateWebhook(_ context.Context, w state.Webhook) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[w.AppKey]; !ok {
		return notFound("app", w.AppKey)
	}
	k := hookKey{w.AppKey, w.Product}
	if _, ok := s.hooks[k]; ok {
		return conflict("webhook for product", w.Product)
	}
	w = cloneWebhook(w)
	s.hooks[k] = &w
	return nil
}

// UpdateWebhook implements state.Store.
func (s *Store) UpdateWebhook(_ context.Context, w state.Webhook) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := hookKey{w.AppKey, w.Product}
	old, ok := s.hooks[k]
	if !ok {
		return notFound("webhook for product", w.Product)
	}
	w = cloneWebhook(w)
	w.CreatedAt = old.CreatedAt
	s.hooks[k] = &w
	return nil
}

// GetWebhook implements state.Store.
func (s *Store) GetWebhook(_ context.Context, appKey, product string) (state.Webhook, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	w, ok := s.hooks[hookKey{appKey, product}]
	if !ok {
		return state.Webhook{}, notFound("webhook for product", product)
	}
	return cloneWebhook(*w), nil
}

// ListWebhooks implements state.Store.
func (s *Store) ListWebhooks(_ context.Context, appKey string) ([]state.Webhook, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.apps[appKey]; !ok {
		return nil, notFound("app", appKey)
	}
	var out []state.Webhook
	for k, w := range s.hooks {
		if k.app == appKey {
			out = append(out, cloneWebhook(*w))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Product < out[j].Product })
	return out, nil
}

// DeleteWebhook implements state.Store.
func (s *Store) DeleteWebhook(_ context.Context, appKey, product string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := hookKey{appKey, product}
	if _, ok := s.hooks[k]; !ok {
		return notFound("webhook for product", product)
	}
	delete(s.hooks, k)
	return nil
}

// CreateBinding implements state.Store.
func (s *Store) CreateBinding(_ context.Context, b state.Binding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	app, ok := s.apps[b.AppKey]
	if !ok || app.Account != b.Account {
		return notFound("app", b.AppKey)
	}
	k := bindKey{b.Account, b.Kind, b.Value}
	if _, ok := s.binds[k]; ok {
		return conflict(string(b.Kind), b.Value)
	}
	s.binds[k] = &b
	return nil
}

// FindBinding implements state.Store.
func (s *Store) FindBinding(_ context.Context, account string, kind state.BindingKind, value string) (state.Binding, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.binds[bindKey{account, kind, value}]
	if !ok {
		return state.Binding{}, notFound(string(kind), value)
	}
	return *b, nil
}

// ListBindings implements state.Store.
func (s *Store) ListBindings(_ context.Context, appKey string) ([]state.Binding, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.apps[appKey]; !ok {
		return nil, notFound("app", appKey)
	}
	var out []state.Binding
	for _, b := range s.binds {
		if b.AppKey == appKey {
			out = append(out, *b)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Value < out[j].Value
	})
	return out, nil
}

// DeleteBinding implements state.Store.
func (s *Store) DeleteBinding(_ context.Context, account string, kind state.BindingKind, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := bindKey{account, kind, value}
	if _, ok := s.binds[k]; !ok {
		return notFound(string(kind), value)
	}
	delete(s.binds, k)
	return nil
}

// RecordSubmission implements state.Store.
func (s *Store) RecordSubmission(_ context.Context, sub state.Submission) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := sub.Message
	if _, ok := s.apps[m.AppKey]; !ok {
		return notFound("app", m.AppKey)
	}
	if _, ok := s.messages[m.ID]; ok {
		return conflict("message", m.ID)
	}
	if _, ok := s.accounts[m.Account]; !ok {
		return notFound("account", m.Account)
	}
	if err := s.checkNewEventsLocked(sub.Events); err != nil {
		return err
	}
	m.Recipients = slices.Clone(m.Recipients)
	m.Wamids = slices.Clone(m.Wamids)
	s.messages[m.ID] = &m
	if b := sub.BindSender; b != nil {
		k := bindKey{b.Account, b.Kind, b.Value}
		if _, ok := s.binds[k]; !ok {
			bb := *b
			s.binds[k] = &bb
		}
	}
	s.addEventsLocked(sub.Events)
	return nil
}

// GetMessage implements state.Store.
func (s *Store) GetMessage(_ context.Context, id string) (state.Message, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.messages[id]
	if !ok {
		return state.Message{}, notFound("message", id)
	}
	out := *m
	out.Recipients = slices.Clone(m.Recipients)
	out.Wamids = slices.Clone(m.Wamids)
	return out, nil
}

// AddEvents implements state.Store.
func (s *Store) AddEvents(_ context.Context, events []state.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkNewEventsLocked(events); err != nil {
		return err
	}
	s.addEventsLocked(events)
	return nil
}

// checkNewEventsLocked refuses event ids that exist already or repeat
// within the batch (a repeated id would otherwise overwrite its twin), and
// events of an account that does not exist, which nothing could reach.
func (s *Store) checkNewEventsLocked(events []state.Event) error {
	seen := make(map[string]bool, len(events))
	for _, e := range events {
		if _, ok := s.events[e.ID]; ok || seen[e.ID] {
			return conflict("event", e.ID)
		}
		if _, ok := s.accounts[e.Account]; !ok {
			return notFound("account", e.Account)
		}
		seen[e.ID] = true
	}
	return nil
}

func (s *Store) addEventsLocked(events []state.Event) {
	for _, e := range events {
		e := e
		if e.Target != nil {
			t := *e.Target
			e.Target = &t
		}
		s.events[e.ID] = &e
		if e.Status == state.EventPending {
			s.pending[e.ID] = &e
		}
		s.next(e.ID)
	}
}

func copyEvent(e *state.Event) state.Event {
	out := *e
	if e.Target != nil {
		t := *e.Target
		out.Target = &t
	}
	return out
}

// GetEvent implements state.Store.
func (s *Store) GetEvent(_ context.Context, id string) (state.Event, []state.Attempt, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.events[id]
	if !ok {
		return state.Event{}, nil, notFound("event", id)
	}
	return copyEvent(e), slices.Clone(s.attempts[id]), nil
}

// ListEvents implements state.Store.
func (s *Store) ListEvents(_ context.Context, f state.EventFilter) ([]state.Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []state.Event
	for _, e := range s.events {
		if (f.Account == "" || e.Account == f.Account) &&
			(f.AppKey == "" || e.AppKey == f.AppKey) &&
			(f.Type == "" || e.Type == f.Type) &&
			(f.Status == "" || e.Status == f.Status) {
			out = append(out, copyEvent(e))
		}
	}
	sort.Slice(out, func(i, j int) bool { return s.order[out[i].ID] > s.order[out[j].ID] })
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func claimable(e *state.Event, now time.Time) bool {
	return e.Status == state.EventPending && !e.NextAttemptAt.After(now) &&
		(e.LeaseOwner == "" || !e.LeaseUntil.After(now))
}

// ClaimDue implements state.Store.
func (s *Store) ClaimDue(_ context.Context, now time.Time, limit int, owner string, leaseUntil time.Time) ([]state.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*state.Event
	for _, e := range s.pending {
		if claimable(e, now) {
			due = append(due, e)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].NextAttemptAt.Equal(due[j].NextAttemptAt) {
			return due[i].NextAttemptAt.Before(due[j].NextAttemptAt)
		}
		return s.order[due[i].ID] < s.order[due[j].ID]
	})
	if len(due) > limit {
		due = due[:limit]
	}
	out := make([]state.Event, 0, len(due))
	for _, e := range due {
		e.LeaseOwner, e.LeaseUntil = owner, leaseUntil
		out = append(out, copyEvent(e))
	}
	return out, nil
}

// NextDue implements state.Store.
func (s *Store) NextDue(_ context.Context) (time.Time, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var at time.Time
	found := false
	for _, e := range s.pending {
		t := e.NextAttemptAt
		if e.LeaseOwner != "" && e.LeaseUntil.After(t) {
			t = e.LeaseUntil
		}
		if !found || t.Before(at) {
			at, found = t, true
		}
	}
	return at, found, nil
}

// RecordAttempt implements state.Store.
func (s *Store) RecordAttempt(_ context.Context, r state.AttemptResult) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[r.Attempt.EventID]
	if !ok || e.LeaseOwner != r.Owner || e.Status != state.EventPending {
		return notFound("event leased to "+r.Owner, r.Attempt.EventID)
	}
	a := r.Attempt
	a.RequestHeaders = cloneHeader(a.RequestHeaders)
	a.ResponseHeaders = cloneHeader(a.ResponseHeaders)
	s.attempts[e.ID] = append(s.attempts[e.ID], a)
	e.Attempts++
	e.Status = r.Status
	e.Reason = r.Reason
	if r.Status == state.EventPending {
		e.NextAttemptAt = r.NextAttemptAt
	} else {
		delete(s.pending, e.ID)
	}
	e.LeaseOwner, e.LeaseUntil = "", time.Time{}
	e.UpdatedAt = a.StartedAt.Add(a.Latency)
	return nil
}

// Requeue implements state.Store.
func (s *Store) Requeue(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[id]
	if !ok || (e.Status != state.EventDelivered && e.Status != state.EventFailed) {
		return notFound("delivered or failed event", id)
	}
	e.Status = state.EventPending
	e.Reason = ""
	e.NextAttemptAt = at
	s.pending[id] = e
	e.LeaseOwner, e.LeaseUntil = "", time.Time{}
	return nil
}

func cloneHeader(h map[string][]string) map[string][]string {
	if h == nil {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, v := range h {
		out[k] = slices.Clone(v)
	}
	return out
}

// Reset implements state.Store.
func (s *Store) Reset(_ context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	s.seq = 0
	return nil
}

// Ping implements state.Store; memory is always reachable.
func (s *Store) Ping(context.Context) error { return nil }

// Close implements state.Store.
func (s *Store) Close() error { return nil }

// String names the store in logs.
func (s *Store) String() string { return "memory" }

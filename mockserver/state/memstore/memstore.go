// Package memstore is the throw-away state.Store: plain Go maps behind one
// lock. It is what `--store memory` runs on, and the fastest store for tests.
//
// Its log is bounded so that a long run keeps a flat memory: it keeps the
// newest MaxEvents finished events (delivered, failed, dropped) and the newest
// MaxMessages messages, evicting the oldest first; pending events are never
// evicted.
package memstore

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Default bounds of the log: enough to inspect a run, small enough that a
// long one keeps a flat heap of a few MiB (which every garbage collection
// would otherwise rescan).
const (
	DefaultMaxEvents   = 5000
	DefaultMaxMessages = 5000
)

// Options bound the memory store's log; zero values take the defaults.
type Options struct {
	MaxEvents   int // finished events kept
	MaxMessages int // messages kept
}

// Store is an in-memory state.Store. The zero value is not usable; call New.
type Store struct {
	mu       sync.RWMutex
	opts     Options
	seq      int64 // creation order of apps, tokens and events
	accounts map[string]*state.Account
	apps     map[string]*appEntry
	tokens   map[[32]byte]*tokenEntry
	current  map[string][32]byte // appKey -> hash of its current token
	hooks    map[hookKey]*state.Webhook
	binds    map[bindKey]*state.Binding
	messages map[string]*state.Message
	msgOrder fifo
	events   map[string]*eventEntry
	pending  map[string]*eventEntry // the outbox: events with Status pending
	finished fifo                   // finished events, oldest first (id + generation)
	tmpls    map[tmplKey]*tmplEntry
	numbers  map[numKey]string // (account, number) -> WABA id
	sessions map[sessionKey]time.Time
	// acctTokens holds each account's control token hash.
	acctTokens map[string][32]byte
}

type tmplKey struct{ account, waba, name, lang string }

type tmplEntry struct {
	t   state.Template
	seq int64
}

type numKey struct{ account, number string }

type sessionKey struct{ account, business, user string }

type appEntry struct {
	app state.App
	seq int64
}

type tokenEntry struct {
	tok state.Token
	seq int64
}

type eventEntry struct {
	ev       state.Event
	seq      int64
	gen      int64 // bumped each time the event finishes, to match fifo entries
	attempts []state.Attempt
}

type hookKey struct{ app, product string }

type bindKey struct {
	account string
	kind    state.BindingKind
	value   string
}

// fifo is a queue of ids with generations, for eviction in age order.
type fifo struct {
	items []fifoItem
	head  int
}

type fifoItem struct {
	id  string
	gen int64
}

func (f *fifo) push(id string, gen int64) { f.items = append(f.items, fifoItem{id, gen}) }

func (f *fifo) len() int { return len(f.items) - f.head }

func (f *fifo) pop() fifoItem {
	it := f.items[f.head]
	f.items[f.head] = fifoItem{}
	f.head++
	if f.head > 1024 && f.head*2 > len(f.items) {
		f.items = append(f.items[:0], f.items[f.head:]...)
		f.head = 0
	}
	return it
}

// retain drops the items that alive refuses, keeping the order: after a
// Prune, so that the queue does not keep ids of events long gone.
func (f *fifo) retain(alive func(fifoItem) bool) {
	kept := f.items[:0]
	for _, it := range f.items[f.head:] {
		if alive(it) {
			kept = append(kept, it)
		}
	}
	clear(f.items[len(kept):])
	f.items, f.head = kept, 0
}

var _ state.Store = (*Store)(nil)

// New returns an empty store with the default bounds.
func New() *Store { return NewWithOptions(Options{}) }

// NewWithOptions returns an empty store with the given bounds.
func NewWithOptions(o Options) *Store {
	if o.MaxEvents <= 0 {
		o.MaxEvents = DefaultMaxEvents
	}
	if o.MaxMessages <= 0 {
		o.MaxMessages = DefaultMaxMessages
	}
	s := &Store{opts: o}
	s.init()
	return s
}

func (s *Store) init() {
	s.accounts = map[string]*state.Account{}
	s.apps = map[string]*appEntry{}
	s.tokens = map[[32]byte]*tokenEntry{}
	s.current = map[string][32]byte{}
	s.hooks = map[hookKey]*state.Webhook{}
	s.binds = map[bindKey]*state.Binding{}
	s.messages = map[string]*state.Message{}
	s.msgOrder = fifo{}
	s.events = map[string]*eventEntry{}
	s.pending = map[string]*eventEntry{}
	s.finished = fifo{}
	s.tmpls = map[tmplKey]*tmplEntry{}
	s.numbers = map[numKey]string{}
	s.sessions = map[sessionKey]time.Time{}
	s.acctTokens = map[string][32]byte{}
}

func (s *Store) next() int64 {
	s.seq++
	return s.seq
}

// CreateAccount implements state.Store.
func (s *Store) CreateAccount(_ context.Context, a state.Account) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[a.Name]; ok {
		return state.Conflict("account", a.Name)
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
		return state.Account{}, state.NotFound("account", name)
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
		return state.NotFound("account", name)
	}
	delete(s.acctTokens, name)
	for key, e := range s.apps {
		if e.app.Account == name {
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
			delete(s.messages, id) // its fifo entry is skipped when popped
		}
	}
	for id, e := range s.events {
		if e.ev.Account == name {
			delete(s.events, id)
			delete(s.pending, id)
		}
	}
	for k := range s.tmpls {
		if k.account == name {
			delete(s.tmpls, k)
		}
	}
	for k := range s.numbers {
		if k.account == name {
			delete(s.numbers, k)
		}
	}
	for k := range s.sessions {
		if k.account == name {
			delete(s.sessions, k)
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
		return state.NotFound("account", account)
	}
	if appKey != "" {
		e, ok := s.apps[appKey]
		if !ok || e.app.Account != account {
			return state.NotFound("app", appKey)
		}
	}
	a.DefaultApp = appKey
	return nil
}

// SetAccountToken implements state.Store.
func (s *Store) SetAccountToken(_ context.Context, account string, hash [32]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[account]; !ok {
		return state.NotFound("account", account)
	}
	s.acctTokens[account] = hash
	return nil
}

// AccountByTokenHash implements state.Store. Accounts are few; a scan
// keeps the map one-way like the tables of the SQL stores.
func (s *Store) AccountByTokenHash(_ context.Context, hash [32]byte) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for name, h := range s.acctTokens {
		if h == hash {
			return name, nil
		}
	}
	return "", state.NotFound("account token", state.Fingerprint(hash))
}

// ShiftClock implements state.Store.
func (s *Store) ShiftClock(_ context.Context, account string, d time.Duration) (state.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[account]
	if !ok {
		return state.Account{}, state.NotFound("account", account)
	}
	a.ClockOffset += d
	for _, e := range s.pending {
		if e.ev.Account == account {
			e.ev.NextAttemptAt = e.ev.NextAttemptAt.Add(-d)
		}
	}
	return *a, nil
}

// CreateApp implements state.Store.
func (s *Store) CreateApp(_ context.Context, a state.App) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[a.Account]; !ok {
		return state.NotFound("account", a.Account)
	}
	if _, ok := s.apps[a.Key]; ok {
		return state.Conflict("app", a.Key)
	}
	s.apps[a.Key] = &appEntry{app: a, seq: s.next()}
	return nil
}

// GetApp implements state.Store.
func (s *Store) GetApp(_ context.Context, key string) (state.App, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.apps[key]
	if !ok {
		return state.App{}, state.NotFound("app", key)
	}
	return e.app, nil
}

// ListApps implements state.Store.
func (s *Store) ListApps(_ context.Context, account string) ([]state.App, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.accounts[account]; !ok {
		return nil, state.NotFound("account", account)
	}
	var list []*appEntry
	for _, e := range s.apps {
		if e.app.Account == account {
			list = append(list, e)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	out := make([]state.App, len(list))
	for i, e := range list {
		out[i] = e.app
	}
	return out, nil
}

// DeleteApp implements state.Store.
func (s *Store) DeleteApp(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[key]; !ok {
		return state.NotFound("app", key)
	}
	s.deleteAppLocked(key)
	return nil
}

func (s *Store) deleteAppLocked(key string) {
	app := s.apps[key].app
	if a, ok := s.accounts[app.Account]; ok && a.DefaultApp == key {
		a.DefaultApp = ""
	}
	for h, t := range s.tokens {
		if t.tok.AppKey == key {
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
}

// AuthContext implements state.Store.
func (s *Store) AuthContext(_ context.Context, appKey string) (state.App, state.Account, state.Token, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.apps[appKey]
	if !ok {
		return state.App{}, state.Account{}, state.Token{}, false, state.NotFound("app", appKey)
	}
	acct := *s.accounts[e.app.Account]
	h, ok := s.current[appKey]
	if !ok {
		return e.app, acct, state.Token{}, false, nil
	}
	return e.app, acct, s.tokens[h].tok, true, nil
}

// IssueToken implements state.Store.
func (s *Store) IssueToken(_ context.Context, t state.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[t.AppKey]; !ok {
		return state.NotFound("app", t.AppKey)
	}
	if _, ok := s.tokens[t.Hash]; ok {
		return state.Conflict("token", "(hash)")
	}
	if old, ok := s.current[t.AppKey]; ok {
		ended := t.IssuedAt
		s.tokens[old].tok.State = state.TokenSuperseded
		s.tokens[old].tok.EndedAt = &ended
	}
	t.State = state.TokenCurrent
	t.EndedAt = nil
	s.tokens[t.Hash] = &tokenEntry{tok: t, seq: s.next()}
	s.current[t.AppKey] = t.Hash
	return nil
}

// RevokeToken implements state.Store.
func (s *Store) RevokeToken(_ context.Context, appKey string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[appKey]; !ok {
		return state.NotFound("app", appKey)
	}
	h, ok := s.current[appKey]
	if !ok {
		return state.NotFound("current token of app", appKey)
	}
	s.tokens[h].tok.State = state.TokenRevoked
	s.tokens[h].tok.EndedAt = &at
	delete(s.current, appKey)
	return nil
}

// TokenByHash implements state.Store.
func (s *Store) TokenByHash(_ context.Context, hash [32]byte) (state.Token, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tokens[hash]
	if !ok {
		return state.Token{}, state.NotFound("token", "(hash)")
	}
	return t.tok, nil
}

// ListTokens implements state.Store.
func (s *Store) ListTokens(_ context.Context, appKey string) ([]state.Token, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.apps[appKey]; !ok {
		return nil, state.NotFound("app", appKey)
	}
	var list []*tokenEntry
	for _, t := range s.tokens {
		if t.tok.AppKey == appKey {
			list = append(list, t)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq > list[j].seq })
	out := make([]state.Token, len(list))
	for i, t := range list {
		out[i] = t.tok
	}
	return out, nil
}

func cloneTarget(t *state.Target) *state.Target {
	if t == nil {
		return nil
	}
	c := *t
	c.Username, c.Authorization, c.Retry = state.ClonePtr(t.Username), state.ClonePtr(t.Authorization), state.ClonePtr(t.Retry)
	return &c
}

// CreateWebhook implements state.Store.
func (s *Store) CreateWebhook(_ context.Context, w state.Webhook) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[w.AppKey]; !ok {
		return state.NotFound("app", w.AppKey)
	}
	k := hookKey{w.AppKey, w.Product}
	if _, ok := s.hooks[k]; ok {
		return state.Conflict("webhook for product", w.Product)
	}
	w = w.Clone()
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
		return state.NotFound("webhook for product", w.Product)
	}
	w = w.Clone()
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
		return state.Webhook{}, state.NotFound("webhook for product", product)
	}
	return w.Clone(), nil
}

// ListWebhooks implements state.Store.
func (s *Store) ListWebhooks(_ context.Context, appKey string) ([]state.Webhook, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.apps[appKey]; !ok {
		return nil, state.NotFound("app", appKey)
	}
	var out []state.Webhook
	for k, w := range s.hooks {
		if k.app == appKey {
			out = append(out, w.Clone())
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
		return state.NotFound("webhook for product", product)
	}
	delete(s.hooks, k)
	return nil
}

// CreateBinding implements state.Store.
func (s *Store) CreateBinding(_ context.Context, b state.Binding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.apps[b.AppKey]
	if !ok || e.app.Account != b.Account {
		return state.NotFound("app", b.AppKey)
	}
	k := bindKey{b.Account, b.Kind, b.Value}
	if _, ok := s.binds[k]; ok {
		return state.Conflict(string(b.Kind), b.Value)
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
		return state.Binding{}, state.NotFound(string(kind), value)
	}
	return *b, nil
}

// ListBindings implements state.Store.
func (s *Store) ListBindings(_ context.Context, appKey string) ([]state.Binding, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.apps[appKey]; !ok {
		return nil, state.NotFound("app", appKey)
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
		return state.NotFound(string(kind), value)
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
		return state.NotFound("app", m.AppKey)
	}
	if _, ok := s.messages[m.ID]; ok {
		return state.Conflict("message", m.ID)
	}
	if _, ok := s.accounts[m.Account]; !ok {
		return state.NotFound("account", m.Account)
	}
	if err := s.addEventsLocked(sub.Events); err != nil {
		return err
	}
	m.Recipients = slices.Clone(m.Recipients)
	m.Wamids = slices.Clone(m.Wamids)
	s.messages[m.ID] = &m
	s.msgOrder.push(m.ID, 0)
	for s.msgOrder.len() > s.opts.MaxMessages {
		delete(s.messages, s.msgOrder.pop().id)
	}
	if b := sub.BindSender; b != nil {
		k := bindKey{b.Account, b.Kind, b.Value}
		if _, ok := s.binds[k]; !ok {
			bb := *b
			s.binds[k] = &bb
		}
	}
	if n := sub.RegisterNumber; n != nil {
		k := numKey{n.Account, n.Number}
		if _, ok := s.numbers[k]; !ok {
			s.numbers[k] = n.WabaID
		}
	}
	return nil
}

// GetMessage implements state.Store.
func (s *Store) GetMessage(_ context.Context, id string) (state.Message, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.messages[id]
	if !ok {
		return state.Message{}, state.NotFound("message", id)
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
	return s.addEventsLocked(events)
}

// addEventsLocked adds a batch of new events, or none: it refuses an
// unknown account, and an event id that exists already or repeats within
// the batch (a repeated id would otherwise overwrite its twin), with
// ErrConflict as SQLite's primary key would. A large send adds thousands
// of events: their entries take one allocation, and each id is looked up
// once, as it is inserted.
func (s *Store) addEventsLocked(events []state.Event) error {
	checked := ""
	for _, e := range events {
		if e.Account == checked {
			continue
		}
		if _, ok := s.accounts[e.Account]; !ok {
			return state.NotFound("account", e.Account)
		}
		checked = e.Account
	}
	entries := make([]eventEntry, len(events))
	for i := range events {
		id := events[i].ID
		if _, ok := s.events[id]; ok {
			for _, prev := range events[:i] {
				delete(s.events, prev.ID)
			}
			return state.Conflict("event", id)
		}
		s.events[id] = &entries[i]
	}
	for i, e := range events {
		e.Target = cloneTarget(e.Target)
		e.Chaos = state.ClonePtr(e.Chaos)
		entry := &entries[i]
		entry.ev, entry.seq = e, s.next()
		if e.Status == state.EventPending {
			s.pending[e.ID] = entry
		} else {
			s.finishLocked(entry)
		}
	}
	return nil
}

// finishLocked files a finished event for eviction and evicts the oldest
// finished events beyond the bound.
func (s *Store) finishLocked(e *eventEntry) {
	e.gen++
	s.finished.push(e.ev.ID, e.gen)
	for s.finished.len() > s.opts.MaxEvents {
		it := s.finished.pop()
		old, ok := s.events[it.id]
		if ok && old.gen == it.gen && old.ev.Status != state.EventPending {
			delete(s.events, it.id)
		}
	}
}

func copyEvent(e *state.Event) state.Event {
	out := *e
	out.Target = cloneTarget(e.Target)
	out.Chaos = state.ClonePtr(e.Chaos)
	return out
}

// GetEvent implements state.Store.
func (s *Store) GetEvent(_ context.Context, id string) (state.Event, []state.Attempt, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.events[id]
	if !ok {
		return state.Event{}, nil, state.NotFound("event", id)
	}
	return copyEvent(&e.ev), slices.Clone(e.attempts), nil
}

// ListEvents implements state.Store.
func (s *Store) ListEvents(_ context.Context, f state.EventFilter) ([]state.Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var list []*eventEntry
	for _, e := range s.events {
		if (f.Account == "" || e.ev.Account == f.Account) &&
			(f.AppKey == "" || e.ev.AppKey == f.AppKey) &&
			(f.Type == "" || e.ev.Type == f.Type) &&
			(f.Status == "" || e.ev.Status == f.Status) &&
			(f.MessageID == "" || state.PayloadMentions(e.ev.Payload, f.MessageID)) &&
			(f.Since.IsZero() || !e.ev.CreatedAt.Before(f.Since)) {
			list = append(list, e)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq > list[j].seq })
	limit := f.Limit
	if limit <= 0 {
		limit = state.DefaultEventLimit
	}
	if len(list) > limit {
		list = list[:limit]
	}
	out := make([]state.Event, len(list))
	for i, e := range list {
		out[i] = copyEvent(&e.ev)
	}
	return out, nil
}

func claimable(e *state.Event, now time.Time) bool {
	return !e.NextAttemptAt.After(now) && (e.LeaseOwner == "" || !e.LeaseUntil.After(now))
}

// ClaimDue implements state.Store.
func (s *Store) ClaimDue(_ context.Context, now time.Time, limit int, owner string, leaseUntil time.Time, exclude []string) ([]state.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*eventEntry
	for _, e := range s.pending {
		if claimable(&e.ev, now) && !excluded(&e.ev, exclude) {
			due = append(due, e)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].ev.NextAttemptAt.Equal(due[j].ev.NextAttemptAt) {
			return due[i].ev.NextAttemptAt.Before(due[j].ev.NextAttemptAt)
		}
		return due[i].seq < due[j].seq
	})
	if len(due) > limit {
		due = due[:limit]
	}
	out := make([]state.Event, 0, len(due))
	for _, e := range due {
		e.ev.LeaseOwner, e.ev.LeaseUntil = owner, leaseUntil
		out = append(out, copyEvent(&e.ev))
	}
	return out, nil
}

func excluded(e *state.Event, exclude []string) bool {
	return len(exclude) > 0 && e.Target != nil && slices.Contains(exclude, state.Destination(e.Target.URL))
}

// ReleaseLeases implements state.Store.
func (s *Store) ReleaseLeases(_ context.Context, owner string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.pending {
		if e.ev.LeaseOwner == owner {
			e.ev.LeaseOwner, e.ev.LeaseUntil = "", time.Time{}
			n++
		}
	}
	return n, nil
}

// Prune implements state.Store.
func (s *Store) Prune(_ context.Context, before time.Time, keep int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var finished []*eventEntry
	for _, e := range s.events {
		if e.ev.Status != state.EventPending {
			finished = append(finished, e)
		}
	}
	sort.Slice(finished, func(i, j int) bool { return finished[i].seq > finished[j].seq })
	removed := 0
	for i, e := range finished {
		if (keep > 0 && i >= keep) || e.ev.UpdatedAt.Before(before) {
			delete(s.events, e.ev.ID)
			removed++
		}
	}
	var msgs []*state.Message
	for _, m := range s.messages {
		msgs = append(msgs, m)
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].CreatedAt.After(msgs[j].CreatedAt) })
	for i, m := range msgs {
		if (keep > 0 && i >= keep) || m.CreatedAt.Before(before) {
			delete(s.messages, m.ID)
		}
	}
	s.finished.retain(func(it fifoItem) bool {
		e, ok := s.events[it.id]
		return ok && e.gen == it.gen
	})
	s.msgOrder.retain(func(it fifoItem) bool { _, ok := s.messages[it.id]; return ok })
	return removed, nil
}

// OutboxStats implements state.Store.
func (s *Store) OutboxStats(_ context.Context, now time.Time) (state.OutboxStats, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := state.OutboxStats{Pending: len(s.pending)}
	for _, e := range s.pending {
		if t := e.ev.NextAttemptAt; !t.After(now) {
			st.Due++
			if st.OldestDue.IsZero() || t.Before(st.OldestDue) {
				st.OldestDue = t
			}
		}
	}
	return st, nil
}

// NextDue implements state.Store.
func (s *Store) NextDue(_ context.Context) (time.Time, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var at time.Time
	found := false
	for _, e := range s.pending {
		t := e.ev.NextAttemptAt
		if e.ev.LeaseOwner != "" && e.ev.LeaseUntil.After(t) {
			t = e.ev.LeaseUntil
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
	if !ok || e.ev.LeaseOwner != r.Owner || e.ev.Status != state.EventPending {
		return state.NotFound("event leased to "+r.Owner, r.Attempt.EventID)
	}
	a := r.Attempt
	a.RequestHeaders = cloneHeader(a.RequestHeaders)
	a.ResponseHeaders = cloneHeader(a.ResponseHeaders)
	e.attempts = append(e.attempts, a)
	e.ev.Attempts++
	e.ev.Status = r.Status
	e.ev.Reason = r.Reason
	e.ev.LeaseOwner, e.ev.LeaseUntil = "", time.Time{}
	e.ev.UpdatedAt = a.StartedAt.Add(a.Latency)
	if r.Status == state.EventPending {
		e.ev.NextAttemptAt = r.NextAttemptAt
	} else {
		delete(s.pending, e.ev.ID)
		s.finishLocked(e)
	}
	return nil
}

// Requeue implements state.Store.
func (s *Store) Requeue(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[id]
	if !ok || (e.ev.Status != state.EventDelivered && e.ev.Status != state.EventFailed) {
		return state.NotFound("delivered or failed event", id)
	}
	e.ev.Status = state.EventPending
	e.ev.Reason = ""
	e.ev.NextAttemptAt = at
	e.ev.LeaseOwner, e.ev.LeaseUntil = "", time.Time{}
	s.pending[id] = e
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

// CreateTemplate implements state.Store.
func (s *Store) CreateTemplate(_ context.Context, t state.Template, events []state.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[t.Account]; !ok {
		return state.NotFound("account", t.Account)
	}
	k := tmplKey{t.Account, t.WabaID, t.Name, t.Language}
	if _, ok := s.tmpls[k]; ok {
		return state.Conflict("template", t.Name+" ("+t.Language+")")
	}
	if err := s.addEventsLocked(events); err != nil {
		return err
	}
	t.Request = slices.Clone(t.Request)
	s.tmpls[k] = &tmplEntry{t: t, seq: s.next()}
	return nil
}

// GetTemplate implements state.Store.
func (s *Store) GetTemplate(_ context.Context, account, wabaID, name, language string) (state.Template, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.tmpls[tmplKey{account, wabaID, name, language}]
	if !ok {
		return state.Template{}, state.NotFound("template", name+" ("+language+")")
	}
	t := e.t
	t.Request = slices.Clone(t.Request)
	return t, nil
}

// ListTemplates implements state.Store.
func (s *Store) ListTemplates(_ context.Context, account, wabaID string) ([]state.Template, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.accounts[account]; !ok {
		return nil, state.NotFound("account", account)
	}
	var list []*tmplEntry
	for k, e := range s.tmpls {
		if k.account == account && (wabaID == "" || k.waba == wabaID) {
			list = append(list, e)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	out := make([]state.Template, len(list))
	for i, e := range list {
		out[i] = e.t
		out[i].Request = slices.Clone(e.t.Request)
	}
	return out, nil
}

// UpdateTemplateStatus implements state.Store.
func (s *Store) UpdateTemplateStatus(_ context.Context, t state.Template) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.tmpls[tmplKey{t.Account, t.WabaID, t.Name, t.Language}]
	if !ok {
		return state.NotFound("template", t.Name+" ("+t.Language+")")
	}
	e.t.Status, e.t.Reason, e.t.ReviewAt, e.t.UpdatedAt = t.Status, t.Reason, t.ReviewAt, t.UpdatedAt
	return nil
}

// AddWabaNumber implements state.Store.
func (s *Store) AddWabaNumber(_ context.Context, n state.WabaNumber) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[n.Account]; !ok {
		return state.NotFound("account", n.Account)
	}
	k := numKey{n.Account, n.Number}
	if waba, ok := s.numbers[k]; ok {
		if waba != n.WabaID {
			return state.Conflict("number of WABA "+waba, n.Number)
		}
		return nil
	}
	s.numbers[k] = n.WabaID
	return nil
}

// WabaNumbers implements state.Store.
func (s *Store) WabaNumbers(_ context.Context, account, wabaID string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for k, waba := range s.numbers {
		if k.account == account && waba == wabaID {
			out = append(out, k.number)
		}
	}
	sort.Strings(out)
	return out, nil
}

// TouchSession implements state.Store.
func (s *Store) TouchSession(_ context.Context, account, business, user string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[account]; !ok {
		return state.NotFound("account", account)
	}
	s.sessions[sessionKey{account, business, user}] = at // the latest write, whatever the clock says
	return nil
}

// LastInbound implements state.Store.
func (s *Store) LastInbound(_ context.Context, account, business string, users []string) (map[string]time.Time, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]time.Time, len(users))
	for _, u := range users {
		if at, ok := s.sessions[sessionKey{account, business, u}]; ok {
			out[u] = at
		}
	}
	return out, nil
}

// Reset implements state.Store.
func (s *Store) Reset(_ context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return nil
}

// Ping implements state.Store; memory is always reachable.
func (s *Store) Ping(context.Context) error { return nil }

// Close implements state.Store.
func (s *Store) Close() error { return nil }

// String names the store in logs.
func (s *Store) String() string { return "memory" }

package memstore

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Secrets, nonces and template groups live in maps of their own (made on
// first use), cleared with their app or account by forgetApp and
// forgetAccount, which DeleteApp and DeleteAccount call under the lock.

type nonceKey struct{ app, nonce string }

type groupKey struct{ account, waba, id string }

// SetAppSecret implements state.Store.
func (s *Store) SetAppSecret(_ context.Context, sec state.AppSecret) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[sec.AppKey]; !ok {
		return state.NotFound("app", sec.AppKey)
	}
	if s.secrets == nil {
		s.secrets = map[string]state.AppSecret{}
	}
	sec.Sealed = slices.Clone(sec.Sealed)
	s.secrets[sec.AppKey] = sec
	return nil
}

// GetAppSecret implements state.Store.
func (s *Store) GetAppSecret(_ context.Context, appKey string) (state.AppSecret, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sec, ok := s.secrets[appKey]
	if !ok {
		return state.AppSecret{}, state.NotFound("app secret", appKey)
	}
	sec.Sealed = slices.Clone(sec.Sealed)
	return sec, nil
}

// UseNonce implements state.Store. The app's forgotten nonces are swept on
// each use, so the map holds at most one window of them.
func (s *Store) UseNonce(_ context.Context, appKey, nonce string, at, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[appKey]; !ok {
		return state.NotFound("app", appKey)
	}
	if s.nonces == nil {
		s.nonces = map[nonceKey]time.Time{}
	}
	k := nonceKey{appKey, nonce}
	if end, ok := s.nonces[k]; ok && end.After(at) {
		return state.Conflict("nonce", nonce)
	}
	for o, end := range s.nonces {
		if o.app == appKey && !end.After(at) {
			delete(s.nonces, o)
		}
	}
	s.nonces[k] = until
	return nil
}

// PutTemplateGroup implements state.Store.
func (s *Store) PutTemplateGroup(_ context.Context, g state.TemplateGroup) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[g.Account]; !ok {
		return state.NotFound("account", g.Account)
	}
	if s.groups == nil {
		s.groups = map[groupKey]state.TemplateGroup{}
	}
	k := groupKey{g.Account, g.WabaID, g.ID}
	if old, ok := s.groups[k]; ok {
		g.CreatedAt = old.CreatedAt
	}
	g.Templates = maps.Clone(g.Templates)
	s.groups[k] = g
	return nil
}

// GetTemplateGroup implements state.Store.
func (s *Store) GetTemplateGroup(_ context.Context, account, wabaID, id string) (state.TemplateGroup, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.groups[groupKey{account, wabaID, id}]
	if !ok {
		return state.TemplateGroup{}, state.NotFound("template group", id)
	}
	g.Templates = maps.Clone(g.Templates)
	return g, nil
}

// ListTemplateGroups implements state.Store.
func (s *Store) ListTemplateGroups(_ context.Context, account, wabaID string) ([]state.TemplateGroup, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.accounts[account]; !ok {
		return nil, state.NotFound("account", account)
	}
	out := []state.TemplateGroup{}
	for k, g := range s.groups {
		if k.account == account && (wabaID == "" || k.waba == wabaID) {
			g.Templates = maps.Clone(g.Templates)
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b state.TemplateGroup) int {
		if c := strings.Compare(a.WabaID, b.WabaID); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// DeleteTemplateGroup implements state.Store.
func (s *Store) DeleteTemplateGroup(_ context.Context, account, wabaID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := groupKey{account, wabaID, id}
	if _, ok := s.groups[k]; !ok {
		return state.NotFound("template group", id)
	}
	delete(s.groups, k)
	return nil
}

// forgetApp drops an app's secret and nonces; s.mu is held.
func (s *Store) forgetApp(key string) {
	delete(s.secrets, key)
	for k := range s.nonces {
		if k.app == key {
			delete(s.nonces, k)
		}
	}
}

// forgetAccount drops an account's template groups; s.mu is held.
func (s *Store) forgetAccount(name string) {
	for k := range s.groups {
		if k.account == name {
			delete(s.groups, k)
		}
	}
}

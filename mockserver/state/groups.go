package state

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// TemplateGroup is a set of templates of one WABA, at most one per
// language, that a send can name by ID (templateGroupId) instead of a
// template name, the language choosing the template. InnoPaaS documents no
// such thing: a newer version of a public integration sends
// templateGroupId where its older version sent templateName, so this is
// our reading (inferred; docs/DECISIONS.md row 70).
type TemplateGroup struct {
	Account   string
	WabaID    string
	ID        string
	Templates map[string]string // language -> template name
	CreatedAt time.Time         // real time
	UpdatedAt time.Time         // real time
}

// TemplateGroupStore keeps template groups. Part of Store.
type TemplateGroupStore interface {
	// PutTemplateGroup creates the group or replaces its templates (keeping
	// CreatedAt); ErrNotFound for an unknown account.
	PutTemplateGroup(ctx context.Context, g TemplateGroup) error
	// GetTemplateGroup returns one group of a WABA.
	GetTemplateGroup(ctx context.Context, account, wabaID, id string) (TemplateGroup, error)
	// ListTemplateGroups returns an account's groups of a WABA ("" for
	// all), ordered by WABA, then id.
	ListTemplateGroups(ctx context.Context, account, wabaID string) ([]TemplateGroup, error)
	// DeleteTemplateGroup removes one group.
	DeleteTemplateGroup(ctx context.Context, account, wabaID, id string) error
}

// GroupMember is one template of a group, as a caller names it.
type GroupMember struct {
	Name     string
	Language string
}

// PutTemplateGroup creates or replaces a template group of a WABA: each
// member must be a template of that WABA, and a language may appear once.
func (s *Sandbox) PutTemplateGroup(ctx context.Context, account, wabaID, id string, members []GroupMember) (TemplateGroup, error) {
	if id == "" {
		return TemplateGroup{}, invalid("/groupId", "must not be empty")
	}
	if len(members) == 0 {
		return TemplateGroup{}, invalid("/templates", "a group holds at least one template")
	}
	g := TemplateGroup{Account: account, WabaID: wabaID, ID: id, Templates: make(map[string]string, len(members)),
		CreatedAt: s.clock.Now(), UpdatedAt: s.clock.Now()}
	for i, m := range members {
		if prev, ok := g.Templates[m.Language]; ok {
			return TemplateGroup{}, invalid(fmt.Sprintf("/templates/%d/language", i),
				"%s is taken by %q already: a group holds at most one template per language", m.Language, prev)
		}
		if _, err := s.store.GetTemplate(ctx, account, wabaID, m.Name, m.Language); errors.Is(err, ErrNotFound) {
			return TemplateGroup{}, invalid(fmt.Sprintf("/templates/%d", i), "WABA %s has no template %q in %s", wabaID, m.Name, m.Language)
		} else if err != nil {
			return TemplateGroup{}, err
		}
		g.Templates[m.Language] = m.Name
	}
	if err := s.store.PutTemplateGroup(ctx, g); err != nil {
		return TemplateGroup{}, err
	}
	return s.store.GetTemplateGroup(ctx, account, wabaID, id)
}

// GetTemplateGroup returns one group of a WABA.
func (s *Sandbox) GetTemplateGroup(ctx context.Context, account, wabaID, id string) (TemplateGroup, error) {
	return s.store.GetTemplateGroup(ctx, account, wabaID, id)
}

// ListTemplateGroups lists an account's groups of a WABA ("" for all).
func (s *Sandbox) ListTemplateGroups(ctx context.Context, account, wabaID string) ([]TemplateGroup, error) {
	return s.store.ListTemplateGroups(ctx, account, wabaID)
}

// DeleteTemplateGroup removes a group (its templates stay).
func (s *Sandbox) DeleteTemplateGroup(ctx context.Context, account, wabaID, id string) error {
	return s.store.DeleteTemplateGroup(ctx, account, wabaID, id)
}

// resolveGroup turns a send's templateGroupId into the group's template in
// the send's language: no such group, or none in that language, is 143,
// as for a template name.
func (s *Sandbox) resolveGroup(ctx context.Context, acct Account, wabaID string, use *TemplateUse) error {
	g, err := s.store.GetTemplateGroup(ctx, acct.Name, wabaID, use.GroupID)
	if errors.Is(err, ErrNotFound) {
		return &BusinessError{Code: CodeTemplateNotFound, Field: "/templateGroupId",
			Message: fmt.Sprintf("WhatsApp template not found: WABA %s has no template group %q", wabaID, use.GroupID)}
	} else if err != nil {
		return err
	}
	name, ok := g.Templates[use.Language]
	if !ok {
		langs := slices.Sorted(maps.Keys(g.Templates))
		return &BusinessError{Code: CodeTemplateNotFound, Field: "/templateGroupId",
			Message: fmt.Sprintf("WhatsApp template not found: template group %q of WABA %s has no template in %s; it has %s",
				use.GroupID, wabaID, use.Language, strings.Join(langs, ", "))}
	}
	use.Name = name
	return nil
}

package state

import (
	"context"
	"time"
)

// TemplateGroup is a set of templates of one WABA, at most one per
// language, that a send can name by ID (templateGroupId) instead of a
// template name, the language choosing the template. InnoPaaS documents no
// such thing: a newer version of a public integration sends
// templateGroupId where its older version sent templateName, so this is
// our reading (inferred; docs/DECISIONS.md row 63).
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

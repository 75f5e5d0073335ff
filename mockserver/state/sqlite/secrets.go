package sqlite

import (
	"context"
	"encoding/json"

	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// ------------------------------------------------------------ app secrets

// SetAppSecret implements state.Store.
func (s *Store) SetAppSecret(ctx context.Context, sec state.AppSecret) error {
	return s.write(ctx, "set app secret", func(tx *wtx) error {
		_, err := tx.exec("INSERT INTO app_secrets (app_key, sealed, issued_at) VALUES ($1, $2, $3) "+
			"ON CONFLICT (app_key) DO UPDATE SET sealed = excluded.sealed, issued_at = excluded.issued_at",
			sec.AppKey, sec.Sealed, micros(sec.IssuedAt))
		if isForeignKey(err) {
			return state.NotFound("app", sec.AppKey)
		}
		return err
	})
}

// GetAppSecret implements state.Store.
func (s *Store) GetAppSecret(ctx context.Context, appKey string) (state.AppSecret, error) {
	return queryOne(ctx, s, "get app secret", func(sc scanner) (state.AppSecret, error) {
		sec := state.AppSecret{AppKey: appKey}
		var issued int64
		err := sc.Scan(&sec.Sealed, &issued)
		sec.IssuedAt = fromMicros(issued)
		return sec, err
	}, func() error { return state.NotFound("app secret", appKey) },
		"SELECT sealed, issued_at FROM app_secrets WHERE app_key = $1", appKey)
}

// UseNonce implements state.Store: the app's forgotten nonces go first, so
// a remembered one is a replay.
func (s *Store) UseNonce(ctx context.Context, appKey, nonce string, at, until time.Time) error {
	return s.writeOutbox(ctx, "use nonce", func(tx *wtx) error {
		if _, err := tx.exec("DELETE FROM nonces WHERE app_key = $1 AND until_at <= $2", appKey, micros(at)); err != nil {
			return err
		}
		_, err := tx.exec("INSERT INTO nonces (app_key, nonce, until_at) VALUES ($1, $2, $3)", appKey, nonce, micros(until))
		switch {
		case isUnique(err):
			return state.Conflict("nonce", nonce)
		case isForeignKey(err):
			return state.NotFound("app", appKey)
		}
		return err
	})
}

// -------------------------------------------------------- template groups

const groupCols = "account, waba_id, group_id, templates, created_at, updated_at"

func scanGroup(sc scanner) (state.TemplateGroup, error) {
	var g state.TemplateGroup
	var templates string
	var created, updated int64
	if err := sc.Scan(&g.Account, &g.WabaID, &g.ID, &templates, &created, &updated); err != nil {
		return g, err
	}
	g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
	return g, json.Unmarshal([]byte(templates), &g.Templates)
}

// PutTemplateGroup implements state.Store.
func (s *Store) PutTemplateGroup(ctx context.Context, g state.TemplateGroup) error {
	templates, err := json.Marshal(g.Templates)
	if err != nil {
		return err
	}
	return s.write(ctx, "put template group", func(tx *wtx) error {
		_, err := tx.exec("INSERT INTO template_groups ("+groupCols+") VALUES ($1, $2, $3, $4, $5, $6) "+
			"ON CONFLICT (account, waba_id, group_id) DO UPDATE SET templates = excluded.templates, updated_at = excluded.updated_at",
			g.Account, g.WabaID, g.ID, string(templates), micros(g.CreatedAt), micros(g.UpdatedAt))
		if isForeignKey(err) {
			return state.NotFound("account", g.Account)
		}
		return err
	})
}

// GetTemplateGroup implements state.Store.
func (s *Store) GetTemplateGroup(ctx context.Context, account, wabaID, id string) (state.TemplateGroup, error) {
	return queryOne(ctx, s, "get template group", scanGroup, func() error { return state.NotFound("template group", id) },
		"SELECT "+groupCols+" FROM template_groups WHERE account = $1 AND waba_id = $2 AND group_id = $3", account, wabaID, id)
}

// ListTemplateGroups implements state.Store.
func (s *Store) ListTemplateGroups(ctx context.Context, account, wabaID string) ([]state.TemplateGroup, error) {
	out, err := listOf(ctx, s, "list template groups", scanGroup,
		"SELECT "+groupCols+" FROM template_groups WHERE account = $1 AND ($2 = '' OR waba_id = $2) ORDER BY waba_id, group_id",
		[]any{account, wabaID}, accountExistsSQL, []any{account}, func() error { return state.NotFound("account", account) })
	if err == nil && out == nil {
		out = []state.TemplateGroup{}
	}
	return out, err
}

// DeleteTemplateGroup implements state.Store.
func (s *Store) DeleteTemplateGroup(ctx context.Context, account, wabaID, id string) error {
	return s.write(ctx, "delete template group", func(tx *wtx) error {
		n, err := tx.execN("DELETE FROM template_groups WHERE account = $1 AND waba_id = $2 AND group_id = $3", account, wabaID, id)
		if err == nil && n == 0 {
			return state.NotFound("template group", id)
		}
		return err
	})
}

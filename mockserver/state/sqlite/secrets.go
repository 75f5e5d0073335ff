package sqlite

import (
	"context"
	"encoding/json"

	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
)

// ------------------------------------------------------------ app secrets

// SetAppSecret implements state.Store.
func (s *Store) SetAppSecret(ctx context.Context, sec state.AppSecret) error {
	return s.write(ctx, "set app secret", func(tx *wtx) error {
		_, err := tx.exec(sqlstore.SetAppSecretSQL,
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
		sqlstore.GetAppSecretSQL, appKey)
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
		_, err := tx.exec(sqlstore.PutGroupSQL,
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
		sqlstore.GetGroupSQL, account, wabaID, id)
}

// ListTemplateGroups implements state.Store.
func (s *Store) ListTemplateGroups(ctx context.Context, account, wabaID string) ([]state.TemplateGroup, error) {
	out, err := listOf(ctx, s, "list template groups", scanGroup, sqlstore.ListGroupsSQL,
		[]any{account, wabaID}, sqlstore.AccountExistsSQL, []any{account}, func() error { return state.NotFound("account", account) })
	if err == nil && out == nil {
		out = []state.TemplateGroup{}
	}
	return out, err
}

// DeleteTemplateGroup implements state.Store.
func (s *Store) DeleteTemplateGroup(ctx context.Context, account, wabaID, id string) error {
	return s.write(ctx, "delete template group", func(tx *wtx) error {
		n, err := tx.execN(sqlstore.DeleteGroupSQL, account, wabaID, id)
		if err == nil && n == 0 {
			return state.NotFound("template group", id)
		}
		return err
	})
}

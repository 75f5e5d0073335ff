package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
)

// ------------------------------------------------------------ app secrets

// SetAppSecret implements state.Store.
func (s *Store) SetAppSecret(ctx context.Context, sec state.AppSecret) error {
	_, err := s.exec(ctx, "set app secret", sqlstore.SetAppSecretSQL,
		sec.AppKey, sec.Sealed, sec.IssuedAt)
	if isForeignKey(err) {
		return state.NotFound("app", sec.AppKey)
	}
	return err
}

// GetAppSecret implements state.Store.
func (s *Store) GetAppSecret(ctx context.Context, appKey string) (state.AppSecret, error) {
	return queryOne(ctx, s, "get app secret", func(sc scanner) (state.AppSecret, error) {
		sec := state.AppSecret{AppKey: appKey}
		err := sc.Scan(&sec.Sealed, &sec.IssuedAt)
		sec.IssuedAt = sec.IssuedAt.UTC()
		return sec, err
	}, func() error { return state.NotFound("app secret", appKey) },
		sqlstore.GetAppSecretSQL, appKey)
}

// UseNonce implements state.Store. One statement decides, so two replicas
// given one nonce at once cannot both take it: the insert of the second
// waits for the first's and then finds the row, remembered past 'at'.
func (s *Store) UseNonce(ctx context.Context, appKey, nonce string, at, until time.Time) error {
	return s.tx(ctx, "use nonce", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM nonces WHERE app_key = $1 AND until_at <= $2 AND nonce <> $3", appKey, at, nonce); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "INSERT INTO nonces (app_key, nonce, until_at) VALUES ($1, $2, $3) "+
			"ON CONFLICT (app_key, nonce) DO UPDATE SET until_at = excluded.until_at WHERE nonces.until_at <= $4",
			appKey, nonce, until, at)
		switch {
		case isForeignKey(err):
			return state.NotFound("app", appKey)
		case err != nil:
			return err
		case tag.RowsAffected() == 0:
			return state.Conflict("nonce", nonce)
		}
		return nil
	})
}

// -------------------------------------------------------- template groups

func scanGroup(sc scanner) (state.TemplateGroup, error) {
	var g state.TemplateGroup
	err := sc.Scan(&g.Account, &g.WabaID, &g.ID, &g.Templates, &g.CreatedAt, &g.UpdatedAt)
	g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	return g, err
}

// PutTemplateGroup implements state.Store.
func (s *Store) PutTemplateGroup(ctx context.Context, g state.TemplateGroup) error {
	_, err := s.exec(ctx, "put template group", sqlstore.PutGroupSQL,
		g.Account, g.WabaID, g.ID, g.Templates, g.CreatedAt, g.UpdatedAt)
	if isForeignKey(err) {
		return state.NotFound("account", g.Account)
	}
	return err
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
	n, err := s.exec(ctx, "delete template group", sqlstore.DeleteGroupSQL, account, wabaID, id)
	if err == nil && n == 0 {
		return state.NotFound("template group", id)
	}
	return err
}

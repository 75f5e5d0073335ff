package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// ------------------------------------------------------------ app secrets

// SetAppSecret implements state.Store.
func (s *Store) SetAppSecret(ctx context.Context, sec state.AppSecret) error {
	_, err := s.exec(ctx, "set app secret",
		"INSERT INTO app_secrets (app_key, sealed, issued_at) VALUES ($1, $2, $3) "+
			"ON CONFLICT (app_key) DO UPDATE SET sealed = excluded.sealed, issued_at = excluded.issued_at",
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
		"SELECT sealed, issued_at FROM app_secrets WHERE app_key = $1", appKey)
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

const groupCols = "account, waba_id, group_id, templates, created_at, updated_at"

func scanGroup(sc scanner) (state.TemplateGroup, error) {
	var g state.TemplateGroup
	err := sc.Scan(&g.Account, &g.WabaID, &g.ID, &g.Templates, &g.CreatedAt, &g.UpdatedAt)
	g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	return g, err
}

// PutTemplateGroup implements state.Store.
func (s *Store) PutTemplateGroup(ctx context.Context, g state.TemplateGroup) error {
	_, err := s.exec(ctx, "put template group",
		"INSERT INTO template_groups ("+groupCols+") VALUES ($1, $2, $3, $4, $5, $6) "+
			"ON CONFLICT (account, waba_id, group_id) DO UPDATE SET templates = excluded.templates, updated_at = excluded.updated_at",
		g.Account, g.WabaID, g.ID, g.Templates, g.CreatedAt, g.UpdatedAt)
	if isForeignKey(err) {
		return state.NotFound("account", g.Account)
	}
	return err
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
	n, err := s.exec(ctx, "delete template group",
		"DELETE FROM template_groups WHERE account = $1 AND waba_id = $2 AND group_id = $3", account, wabaID, id)
	if err == nil && n == 0 {
		return state.NotFound("template group", id)
	}
	return err
}

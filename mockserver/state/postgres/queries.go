package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
)

// Column lists, in the order the scan functions read them.
const ()

const (
	// lockAppSQL takes the app's row for the rest of the transaction, so
	// that writers of the app's tokens queue up (see the package doc). It
	// is a NO KEY lock: inserts that only reference the app (webhooks,
	// bindings) need not wait for it.
	lockAppSQL = "SELECT 1 FROM apps WHERE app_key = $1 FOR NO KEY UPDATE"
)

// ---------------------------------------------------------------- accounts

func scanAccount(sc scanner) (state.Account, error) {
	var a state.Account
	var offset int64
	if err := sc.Scan(&a.Name, &a.Label, &a.DefaultApp, &offset, &a.CreatedAt); err != nil {
		return a, err
	}
	a.ClockOffset, a.CreatedAt = time.Duration(offset), a.CreatedAt.UTC()
	return a, nil
}

// CreateAccount implements state.Store.
func (s *Store) CreateAccount(ctx context.Context, a state.Account) error {
	_, err := s.exec(ctx, "create account", sqlstore.InsertAccountSQL,
		a.Name, a.Label, a.DefaultApp, int64(a.ClockOffset), a.CreatedAt)
	if isUnique(err) {
		return state.Conflict("account", a.Name)
	}
	return err
}

// GetAccount implements state.Store.
func (s *Store) GetAccount(ctx context.Context, name string) (state.Account, error) {
	return queryOne(ctx, s, "get account", scanAccount, func() error { return state.NotFound("account", name) },
		sqlstore.GetAccountSQL, name)
}

// ListAccounts implements state.Store.
func (s *Store) ListAccounts(ctx context.Context) ([]state.Account, error) {
	return queryRows(ctx, s, "list accounts", scanAccount, sqlstore.ListAccountsSQL)
}

// DeleteAccount implements state.Store. The foreign keys cascade to
// everything the account owns.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	n, err := s.exec(ctx, "delete account", sqlstore.DeleteAccountSQL, name)
	if err == nil && n == 0 {
		return state.NotFound("account", name)
	}
	return err
}

// SetDefaultApp implements state.Store. The app is share-locked for the
// transaction: DeleteApp, which clears a default app, cannot slip in
// between the check and the write and leave the account pointing at an
// app that is gone.
func (s *Store) SetDefaultApp(ctx context.Context, account, appKey string) error {
	return s.tx(ctx, "set default app", func(ctx context.Context, tx pgx.Tx) error {
		if appKey != "" {
			var owner string
			err := tx.QueryRow(ctx, "SELECT account FROM apps WHERE app_key = $1 FOR SHARE", appKey).Scan(&owner)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && owner != account) {
				if ok, err := exists(ctx, tx, sqlstore.AccountExistsSQL, account); err != nil || !ok {
					return sqlstore.Or(err, state.NotFound("account", account))
				}
				return state.NotFound("app", appKey)
			} else if err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, sqlstore.SetDefaultAppSQL, account, appKey)
		if err == nil && tag.RowsAffected() == 0 {
			return state.NotFound("account", account)
		}
		return err
	})
}

// SetAccountToken implements state.Store.
func (s *Store) SetAccountToken(ctx context.Context, account string, hash [32]byte) error {
	return s.tx(ctx, "set account token", func(ctx context.Context, tx pgx.Tx) error {
		if ok, err := exists(ctx, tx, sqlstore.AccountExistsSQL, account); err != nil || !ok {
			return sqlstore.Or(err, state.NotFound("account", account))
		}
		_, err := tx.Exec(ctx, sqlstore.UpsertAccountTokenSQL, account, hash[:])
		return err
	})
}

// AccountByTokenHash implements state.Store.
func (s *Store) AccountByTokenHash(ctx context.Context, hash [32]byte) (string, error) {
	return queryOne(ctx, s, "account by token hash", sqlstore.ScanString, func() error { return state.NotFound("account token", state.Fingerprint(hash)) },
		sqlstore.AccountByTokenSQL, hash[:])
}

// ShiftClock implements state.Store. The account's offset and its pending
// events move in one transaction, so every replica sees both or neither.
func (s *Store) ShiftClock(ctx context.Context, account string, d time.Duration) (state.Account, error) {
	var out state.Account
	moved := false
	err := s.tx(ctx, "shift clock", func(ctx context.Context, tx pgx.Tx) error {
		a, err := scanAccount(tx.QueryRow(ctx, sqlstore.ShiftAccountSQL, account, int64(d)))
		if errors.Is(err, pgx.ErrNoRows) {
			return state.NotFound("account", account)
		} else if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "UPDATE events SET next_attempt_at = next_attempt_at - $2::interval WHERE account = $1 AND status = 'pending'",
			account, micros(d))
		if err != nil {
			return err
		}
		moved = tag.RowsAffected() > 0
		out = a
		return nil
	})
	if err == nil && moved {
		s.wakeOthers()
	}
	return out, err
}

// micros is d as an interval of whole microseconds, rounded up, so that
// subtracting it from a time (which PostgreSQL keeps in microseconds) gives
// the floor of the exact result, as the other stores compute it.
func micros(d time.Duration) pgtype.Interval {
	m := int64(d / time.Microsecond)
	if d%time.Microsecond > 0 {
		m++
	}
	return pgtype.Interval{Microseconds: m, Valid: true}
}

// -------------------------------------------------------------------- apps

func scanApp(sc scanner) (state.App, error) {
	var a state.App
	err := sc.Scan(&a.Key, &a.Account, &a.Name, &a.CreatedAt)
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}

// CreateApp implements state.Store.
func (s *Store) CreateApp(ctx context.Context, a state.App) error {
	_, err := s.exec(ctx, "create app", sqlstore.InsertAppSQL, a.Key, a.Account, a.Name, a.CreatedAt)
	switch {
	case isForeignKey(err):
		return state.NotFound("account", a.Account)
	case isUnique(err):
		return state.Conflict("app", a.Key)
	}
	return err
}

// GetApp implements state.Store.
func (s *Store) GetApp(ctx context.Context, key string) (state.App, error) {
	return queryOne(ctx, s, "get app", scanApp, func() error { return state.NotFound("app", key) },
		sqlstore.GetAppSQL, key)
}

// ListApps implements state.Store.
func (s *Store) ListApps(ctx context.Context, account string) ([]state.App, error) {
	return listOf(ctx, s, "list apps", scanApp, sqlstore.ListAppsSQL, []any{account},
		sqlstore.AccountExistsSQL, []any{account}, func() error { return state.NotFound("account", account) })
}

// DeleteApp implements state.Store. Tokens, webhooks and bindings go by
// cascade; events and messages keep the app's key.
func (s *Store) DeleteApp(ctx context.Context, key string) error {
	return s.tx(ctx, "delete app", func(ctx context.Context, tx pgx.Tx) error {
		var account string
		err := tx.QueryRow(ctx, sqlstore.DeleteAppSQL, key).Scan(&account)
		if errors.Is(err, pgx.ErrNoRows) {
			return state.NotFound("app", key)
		} else if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, sqlstore.ClearDefaultAppSQL, account, key)
		return err
	})
}

// ------------------------------------------------------------------ tokens

func scanToken(sc scanner) (state.Token, error) {
	var t state.Token
	var h []byte
	if err := sc.Scan(&h, &t.AppKey, &t.State, &t.IssuedAt, &t.ExpiresAt, &t.EndedAt); err != nil {
		return t, err
	}
	var err error
	t.Hash, err = sqlstore.Hash(h)
	t.IssuedAt, t.ExpiresAt, t.EndedAt = t.IssuedAt.UTC(), utcp(t.ExpiresAt), utcp(t.EndedAt)
	return t, err
}

// AuthContext implements state.Store. It is never cached (see the package
// doc): a token issued or superseded on another replica counts at once.
func (s *Store) AuthContext(ctx context.Context, appKey string) (state.App, state.Account, state.Token, bool, error) {
	var (
		app      state.App
		acct     state.Account
		tok      state.Token
		offset   int64
		hash     []byte
		tokState *string
		issued   *time.Time
	)
	err := s.read(ctx, "auth context", func(ctx context.Context, q querier) error {
		err := q.QueryRow(ctx, sqlstore.AuthSQL, appKey).Scan(
			&app.Key, &app.Account, &app.Name, &app.CreatedAt,
			&acct.Name, &acct.Label, &acct.DefaultApp, &offset, &acct.CreatedAt,
			&hash, &tokState, &issued, &tok.ExpiresAt, &tok.EndedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return state.NotFound("app", appKey)
		}
		return err
	})
	if err != nil {
		return state.App{}, state.Account{}, state.Token{}, false, err
	}
	app.CreatedAt = app.CreatedAt.UTC()
	acct.ClockOffset, acct.CreatedAt = time.Duration(offset), acct.CreatedAt.UTC()
	if tokState == nil {
		return app, acct, state.Token{}, false, nil
	}
	if tok.Hash, err = sqlstore.Hash(hash); err != nil {
		return state.App{}, state.Account{}, state.Token{}, false, wrapErr(ctx, "auth context", err)
	}
	tok.AppKey, tok.State = app.Key, state.TokenState(*tokState)
	tok.IssuedAt, tok.ExpiresAt, tok.EndedAt = issued.UTC(), utcp(tok.ExpiresAt), utcp(tok.EndedAt)
	return app, acct, tok, true, nil
}

// IssueToken implements state.Store. The app's row is locked first, so
// that issues for one app, from any replica, run one after the other: each
// supersedes the token the one before it made current, and exactly one
// token stays current. A refused insert (used hash) rolls the supersede
// back with it.
func (s *Store) IssueToken(ctx context.Context, t state.Token) error {
	return s.tx(ctx, "issue token", func(ctx context.Context, tx pgx.Tx) error {
		if ok, err := exists(ctx, tx, lockAppSQL, t.AppKey); err != nil || !ok {
			return sqlstore.Or(err, state.NotFound("app", t.AppKey))
		}
		if _, err := tx.Exec(ctx, sqlstore.SupersedeTokenSQL,
			t.AppKey, t.IssuedAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, sqlstore.InsertTokenSQL,
			t.Hash[:], t.AppKey, t.IssuedAt, t.ExpiresAt)
		switch {
		case isForeignKey(err):
			return state.NotFound("app", t.AppKey)
		case isUnique(err) && constraint(err) == "tokens_hash_key":
			return state.Conflict("token", state.Fingerprint(t.Hash))
		}
		return err
	})
}

// RevokeToken implements state.Store; it queues up behind IssueToken on
// the app's row, so that it revokes the token current when it runs.
func (s *Store) RevokeToken(ctx context.Context, appKey string, at time.Time) error {
	return s.tx(ctx, "revoke token", func(ctx context.Context, tx pgx.Tx) error {
		if ok, err := exists(ctx, tx, lockAppSQL, appKey); err != nil || !ok {
			return sqlstore.Or(err, state.NotFound("app", appKey))
		}
		tag, err := tx.Exec(ctx, sqlstore.RevokeTokenSQL, appKey, at)
		if err == nil && tag.RowsAffected() == 0 {
			return state.NotFound("current token of app", appKey)
		}
		return err
	})
}

// TokenByHash implements state.Store; like AuthContext, never cached.
func (s *Store) TokenByHash(ctx context.Context, hash [32]byte) (state.Token, error) {
	return queryOne(ctx, s, "token by hash", scanToken, func() error { return state.NotFound("token", state.Fingerprint(hash)) },
		sqlstore.TokenByHashSQL, hash[:])
}

// ListTokens implements state.Store.
func (s *Store) ListTokens(ctx context.Context, appKey string) ([]state.Token, error) {
	return listOf(ctx, s, "list tokens", scanToken, sqlstore.ListTokensSQL, []any{appKey},
		sqlstore.AppExistsSQL, []any{appKey}, func() error { return state.NotFound("app", appKey) })
}

// ---------------------------------------------------------------- webhooks

func scanWebhook(sc scanner) (state.Webhook, error) {
	var w state.Webhook
	var events, retry, chaos []byte
	if err := sc.Scan(&w.AppKey, &w.Product, &w.URL, &events, &w.Method, &w.Username, &w.Authorization, &retry, &chaos,
		&w.CreatedAt, &w.UpdatedAt); err != nil {
		return w, err
	}
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	var err error
	if w.Retry, err = fromJSONPtr[state.RetryPolicy](retry); err != nil {
		return w, err
	}
	if w.Chaos, err = fromJSONPtr[state.Chaos](chaos); err != nil {
		return w, err
	}
	return w, fromJSON(events, &w.Events)
}

// webhookJSON encodes a webhook's JSON columns.
func webhookJSON(w state.Webhook) (events, retry, chaos any, err error) {
	if events, err = sqlstore.JSON(w.Events, w.Events == nil); err != nil {
		return
	}
	if retry, err = sqlstore.JSONPtr(w.Retry); err != nil {
		return
	}
	chaos, err = sqlstore.JSONPtr(w.Chaos)
	return
}

// CreateWebhook implements state.Store.
func (s *Store) CreateWebhook(ctx context.Context, w state.Webhook) error {
	events, retry, chaos, err := webhookJSON(w)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, "create webhook", sqlstore.InsertWebhookSQL,
		w.AppKey, w.Product, w.URL, events, w.Method, w.Username, w.Authorization, retry, chaos, w.CreatedAt, w.UpdatedAt)
	switch {
	case isForeignKey(err):
		return state.NotFound("app", w.AppKey)
	case isUnique(err):
		return state.Conflict("webhook for product", w.Product)
	}
	return err
}

// UpdateWebhook implements state.Store. CreatedAt stays as created.
func (s *Store) UpdateWebhook(ctx context.Context, w state.Webhook) error {
	events, retry, chaos, err := webhookJSON(w)
	if err != nil {
		return err
	}
	n, err := s.exec(ctx, "update webhook", sqlstore.UpdateWebhookSQL,
		w.AppKey, w.Product, w.URL, events, w.Method, w.Username, w.Authorization, retry, chaos, w.UpdatedAt)
	if err == nil && n == 0 {
		return state.NotFound("webhook for product", w.Product)
	}
	return err
}

// GetWebhook implements state.Store.
func (s *Store) GetWebhook(ctx context.Context, appKey, product string) (state.Webhook, error) {
	return queryOne(ctx, s, "get webhook", scanWebhook, func() error { return state.NotFound("webhook for product", product) },
		sqlstore.GetWebhookSQL, appKey, product)
}

// ListWebhooks implements state.Store.
func (s *Store) ListWebhooks(ctx context.Context, appKey string) ([]state.Webhook, error) {
	return listOf(ctx, s, "list webhooks", scanWebhook, sqlstore.ListWebhooksSQL,
		[]any{appKey}, sqlstore.AppExistsSQL, []any{appKey}, func() error { return state.NotFound("app", appKey) })
}

// DeleteWebhook implements state.Store.
func (s *Store) DeleteWebhook(ctx context.Context, appKey, product string) error {
	n, err := s.exec(ctx, "delete webhook", sqlstore.DeleteWebhookSQL, appKey, product)
	if err == nil && n == 0 {
		return state.NotFound("webhook for product", product)
	}
	return err
}

// ---------------------------------------------------------------- bindings

func scanBinding(sc scanner) (state.Binding, error) {
	var b state.Binding
	err := sc.Scan(&b.Account, &b.Kind, &b.Value, &b.AppKey, &b.CreatedAt)
	b.CreatedAt = b.CreatedAt.UTC()
	return b, err
}

// CreateBinding implements state.Store in one statement: the row is
// inserted only if the app belongs to the account (no row: not found), and
// the foreign key holds the app in place until the insert commits.
func (s *Store) CreateBinding(ctx context.Context, b state.Binding) error {
	n, err := s.exec(ctx, "create binding", "INSERT INTO bindings ("+sqlstore.BindingCols+") "+
		"SELECT $1, $2, $3, $4, $5 FROM apps WHERE app_key = $4 AND account = $1",
		b.Account, string(b.Kind), b.Value, b.AppKey, b.CreatedAt)
	switch {
	case isUnique(err):
		return state.Conflict(string(b.Kind), b.Value)
	case isForeignKey(err) || err == nil && n == 0:
		return state.NotFound("app", b.AppKey)
	}
	return err
}

// FindBinding implements state.Store.
func (s *Store) FindBinding(ctx context.Context, account string, kind state.BindingKind, value string) (state.Binding, error) {
	return queryOne(ctx, s, "find binding", scanBinding, func() error { return state.NotFound(string(kind), value) },
		sqlstore.FindBindingSQL, account, string(kind), value)
}

// ListBindings implements state.Store.
func (s *Store) ListBindings(ctx context.Context, appKey string) ([]state.Binding, error) {
	return listOf(ctx, s, "list bindings", scanBinding, sqlstore.ListBindingsSQL,
		[]any{appKey}, sqlstore.AppExistsSQL, []any{appKey}, func() error { return state.NotFound("app", appKey) })
}

// DeleteBinding implements state.Store.
func (s *Store) DeleteBinding(ctx context.Context, account string, kind state.BindingKind, value string) error {
	n, err := s.exec(ctx, "delete binding", sqlstore.DeleteBindingSQL, account, string(kind), value)
	if err == nil && n == 0 {
		return state.NotFound(string(kind), value)
	}
	return err
}

// CountOwned implements state.Store.
func (s *Store) CountOwned(ctx context.Context, account string, r state.Resource) (int, error) {
	q, ok := sqlstore.CountOwnedQuery(r)
	if !ok {
		return 0, fmt.Errorf("postgres count: no resource %q", r)
	}
	var n int
	err := s.read(ctx, "count "+string(r), func(ctx context.Context, q2 querier) error {
		return q2.QueryRow(ctx, q, account).Scan(&n)
	})
	return n, err
}

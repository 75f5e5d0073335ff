package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
)

// Column lists, in the order the scan functions read them.
const (
	accountCols = "name, label, default_app, clock_offset_ns, created_at"
	appCols     = "app_key, account, name, created_at"
	tokenCols   = "hash, app_key, state, issued_at, expires_at, ended_at"
	webhookCols = "app_key, product, url, events, method, username, auth, retry, chaos, created_at, updated_at"
	bindingCols = "account, kind, value, app_key, created_at"
)

const (
	accountExistsSQL = "SELECT 1 FROM accounts WHERE name = $1"
	appExistsSQL     = "SELECT 1 FROM apps WHERE app_key = $1"
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
	_, err := s.exec(ctx, "create account", "INSERT INTO accounts ("+accountCols+") VALUES ($1, $2, $3, $4, $5)",
		a.Name, a.Label, a.DefaultApp, int64(a.ClockOffset), a.CreatedAt)
	if isUnique(err) {
		return state.Conflict("account", a.Name)
	}
	return err
}

// GetAccount implements state.Store.
func (s *Store) GetAccount(ctx context.Context, name string) (state.Account, error) {
	return queryOne(ctx, s, "get account", scanAccount, func() error { return state.NotFound("account", name) },
		"SELECT "+accountCols+" FROM accounts WHERE name = $1", name)
}

// ListAccounts implements state.Store.
func (s *Store) ListAccounts(ctx context.Context) ([]state.Account, error) {
	return queryRows(ctx, s, "list accounts", scanAccount, "SELECT "+accountCols+" FROM accounts ORDER BY name")
}

// DeleteAccount implements state.Store. The foreign keys cascade to
// everything the account owns.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	n, err := s.exec(ctx, "delete account", "DELETE FROM accounts WHERE name = $1", name)
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
				if ok, err := exists(ctx, tx, accountExistsSQL, account); err != nil || !ok {
					return cmp(err, state.NotFound("account", account))
				}
				return state.NotFound("app", appKey)
			} else if err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, "UPDATE accounts SET default_app = $2 WHERE name = $1", account, appKey)
		if err == nil && tag.RowsAffected() == 0 {
			return state.NotFound("account", account)
		}
		return err
	})
}

// cmp returns err when there is one, else alt.
func cmp(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// SetAccountToken implements state.Store.
func (s *Store) SetAccountToken(ctx context.Context, account string, hash [32]byte) error {
	return s.tx(ctx, "set account token", func(ctx context.Context, tx pgx.Tx) error {
		if ok, err := exists(ctx, tx, accountExistsSQL, account); err != nil || !ok {
			return cmp(err, state.NotFound("account", account))
		}
		_, err := tx.Exec(ctx, "INSERT INTO account_tokens (account, hash) VALUES ($1, $2) "+
			"ON CONFLICT (account) DO UPDATE SET hash = excluded.hash", account, hash[:])
		return err
	})
}

// AccountByTokenHash implements state.Store.
func (s *Store) AccountByTokenHash(ctx context.Context, hash [32]byte) (string, error) {
	return queryOne(ctx, s, "account by token hash", func(sc scanner) (string, error) {
		var name string
		return name, sc.Scan(&name)
	}, func() error { return state.NotFound("account token", state.Fingerprint(hash)) },
		"SELECT account FROM account_tokens WHERE hash = $1", hash[:])
}

// ShiftClock implements state.Store. The account's offset and its pending
// events move in one transaction, so every replica sees both or neither.
func (s *Store) ShiftClock(ctx context.Context, account string, d time.Duration) (state.Account, error) {
	var out state.Account
	err := s.tx(ctx, "shift clock", func(ctx context.Context, tx pgx.Tx) error {
		a, err := scanAccount(tx.QueryRow(ctx,
			"UPDATE accounts SET clock_offset_ns = clock_offset_ns + $2 WHERE name = $1 RETURNING "+accountCols, account, int64(d)))
		if errors.Is(err, pgx.ErrNoRows) {
			return state.NotFound("account", account)
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE events SET next_attempt_at = next_attempt_at - $2::interval WHERE account = $1 AND status = 'pending'",
			account, micros(d)); err != nil {
			return err
		}
		out = a
		return nil
	})
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
	_, err := s.exec(ctx, "create app", "INSERT INTO apps ("+appCols+") VALUES ($1, $2, $3, $4)", a.Key, a.Account, a.Name, a.CreatedAt)
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
		"SELECT "+appCols+" FROM apps WHERE app_key = $1", key)
}

// ListApps implements state.Store.
func (s *Store) ListApps(ctx context.Context, account string) ([]state.App, error) {
	return listOf(ctx, s, "list apps", scanApp, "SELECT "+appCols+" FROM apps WHERE account = $1 ORDER BY seq", []any{account},
		accountExistsSQL, []any{account}, func() error { return state.NotFound("account", account) })
}

// DeleteApp implements state.Store. Tokens, webhooks and bindings go by
// cascade; events and messages keep the app's key.
func (s *Store) DeleteApp(ctx context.Context, key string) error {
	return s.tx(ctx, "delete app", func(ctx context.Context, tx pgx.Tx) error {
		var account string
		err := tx.QueryRow(ctx, "DELETE FROM apps WHERE app_key = $1 RETURNING account", key).Scan(&account)
		if errors.Is(err, pgx.ErrNoRows) {
			return state.NotFound("app", key)
		} else if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE accounts SET default_app = '' WHERE name = $1 AND default_app = $2", account, key)
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

// authSQL is the whole of AuthContext: the app, its account and its
// current token (if any) in one indexed join, read afresh on every call.
const authSQL = "SELECT a.app_key, a.account, a.name, a.created_at, " +
	"c.name, c.label, c.default_app, c.clock_offset_ns, c.created_at, " +
	"t.hash, t.state, t.issued_at, t.expires_at, t.ended_at " +
	"FROM apps a JOIN accounts c ON c.name = a.account " +
	"LEFT JOIN tokens t ON t.app_key = a.app_key AND t.state = 'current' " +
	"WHERE a.app_key = $1"

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
		err := q.QueryRow(ctx, authSQL, appKey).Scan(
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
			return cmp(err, state.NotFound("app", t.AppKey))
		}
		if _, err := tx.Exec(ctx, "UPDATE tokens SET state = 'superseded', ended_at = $2 WHERE app_key = $1 AND state = 'current'",
			t.AppKey, t.IssuedAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO tokens ("+tokenCols+") VALUES ($1, $2, 'current', $3, $4, NULL)",
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
			return cmp(err, state.NotFound("app", appKey))
		}
		tag, err := tx.Exec(ctx, "UPDATE tokens SET state = 'revoked', ended_at = $2 WHERE app_key = $1 AND state = 'current'", appKey, at)
		if err == nil && tag.RowsAffected() == 0 {
			return state.NotFound("current token of app", appKey)
		}
		return err
	})
}

// TokenByHash implements state.Store; like AuthContext, never cached.
func (s *Store) TokenByHash(ctx context.Context, hash [32]byte) (state.Token, error) {
	return queryOne(ctx, s, "token by hash", scanToken, func() error { return state.NotFound("token", state.Fingerprint(hash)) },
		"SELECT "+tokenCols+" FROM tokens WHERE hash = $1", hash[:])
}

// ListTokens implements state.Store.
func (s *Store) ListTokens(ctx context.Context, appKey string) ([]state.Token, error) {
	return listOf(ctx, s, "list tokens", scanToken, "SELECT "+tokenCols+" FROM tokens WHERE app_key = $1 ORDER BY seq DESC", []any{appKey},
		appExistsSQL, []any{appKey}, func() error { return state.NotFound("app", appKey) })
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
	_, err = s.exec(ctx, "create webhook", "INSERT INTO webhooks ("+webhookCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
	n, err := s.exec(ctx, "update webhook",
		"UPDATE webhooks SET url = $3, events = $4, method = $5, username = $6, auth = $7, retry = $8, chaos = $9, updated_at = $10 "+
			"WHERE app_key = $1 AND product = $2",
		w.AppKey, w.Product, w.URL, events, w.Method, w.Username, w.Authorization, retry, chaos, w.UpdatedAt)
	if err == nil && n == 0 {
		return state.NotFound("webhook for product", w.Product)
	}
	return err
}

// GetWebhook implements state.Store.
func (s *Store) GetWebhook(ctx context.Context, appKey, product string) (state.Webhook, error) {
	return queryOne(ctx, s, "get webhook", scanWebhook, func() error { return state.NotFound("webhook for product", product) },
		"SELECT "+webhookCols+" FROM webhooks WHERE app_key = $1 AND product = $2", appKey, product)
}

// ListWebhooks implements state.Store.
func (s *Store) ListWebhooks(ctx context.Context, appKey string) ([]state.Webhook, error) {
	return listOf(ctx, s, "list webhooks", scanWebhook, "SELECT "+webhookCols+" FROM webhooks WHERE app_key = $1 ORDER BY product",
		[]any{appKey}, appExistsSQL, []any{appKey}, func() error { return state.NotFound("app", appKey) })
}

// DeleteWebhook implements state.Store.
func (s *Store) DeleteWebhook(ctx context.Context, appKey, product string) error {
	n, err := s.exec(ctx, "delete webhook", "DELETE FROM webhooks WHERE app_key = $1 AND product = $2", appKey, product)
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
	n, err := s.exec(ctx, "create binding", "INSERT INTO bindings ("+bindingCols+") "+
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
		"SELECT "+bindingCols+" FROM bindings WHERE account = $1 AND kind = $2 AND value = $3", account, string(kind), value)
}

// ListBindings implements state.Store.
func (s *Store) ListBindings(ctx context.Context, appKey string) ([]state.Binding, error) {
	return listOf(ctx, s, "list bindings", scanBinding, "SELECT "+bindingCols+" FROM bindings WHERE app_key = $1 ORDER BY kind, value",
		[]any{appKey}, appExistsSQL, []any{appKey}, func() error { return state.NotFound("app", appKey) })
}

// DeleteBinding implements state.Store.
func (s *Store) DeleteBinding(ctx context.Context, account string, kind state.BindingKind, value string) error {
	n, err := s.exec(ctx, "delete binding", "DELETE FROM bindings WHERE account = $1 AND kind = $2 AND value = $3", account, string(kind), value)
	if err == nil && n == 0 {
		return state.NotFound(string(kind), value)
	}
	return err
}

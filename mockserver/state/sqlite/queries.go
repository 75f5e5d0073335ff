package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
)

// The SQL that PostgreSQL runs as written too is in sqlstore; below is
// what only this store runs. Queries that the writer runs are listed in
// writeQueries and prepared once at Open.

// Write queries.
const (
	shiftEventsSQL      = "UPDATE events SET next_attempt_at = next_attempt_at - $2 WHERE account = $1 AND status = 'pending'"
	appAccountSQL       = "SELECT account FROM apps WHERE app_key = $1"
	renewLeasesSQL      = "UPDATE events SET lease_until = $2 WHERE id IN (SELECT value FROM json_each($3)) AND lease_owner = $1 AND lease_owner <> '' AND status = 'pending'"
	recordAttemptSQL    = "UPDATE events SET status = $3, reason = $4, attempts = attempts + 1, next_attempt_at = COALESCE($5, next_attempt_at), lease_owner = '', lease_until = $6, updated_at = $7 WHERE id = $1 AND lease_owner = $2 AND status = 'pending'"
	insertAttemptSQL    = "INSERT INTO attempts (" + sqlstore.AttemptCols + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
	claimDueLockSuffix  = "" // PostgreSQL: "FOR UPDATE SKIP LOCKED"; SQLite has one writer, which is the lock
	claimDueSQL         = "UPDATE events SET lease_owner = $1, lease_until = $2 WHERE seq IN (SELECT seq FROM events WHERE status = 'pending' AND next_attempt_at <= $3 AND (lease_owner = '' OR lease_until <= $3) ORDER BY next_attempt_at, seq LIMIT $4 " + claimDueLockSuffix + ") RETURNING " + sqlstore.EventCols
	eventExistsSQL      = "SELECT 1 FROM events WHERE id = $1"
	selectTokenExistSQL = "SELECT 1 FROM tokens WHERE hash = $1"
)

// readQueries run inside read transactions; they are prepared at Open (see
// rtx).
var readQueries = []string{sqlstore.AccountExistsSQL, sqlstore.AppExistsSQL, sqlstore.ListAppsSQL, sqlstore.ListTokensSQL, sqlstore.ListWebhooksSQL,
	sqlstore.ListBindingsSQL, sqlstore.GetEventSQL, sqlstore.ListAttemptsSQL, sqlstore.ListTemplatesSQL, lastInboundSQL}

// writeQueries are prepared on the writer connection at Open.
var writeQueries = []string{
	sqlstore.InsertAccountSQL, sqlstore.DeleteAccountSQL, sqlstore.AccountExistsSQL, sqlstore.SetDefaultAppSQL, sqlstore.ShiftAccountSQL, shiftEventsSQL,
	sqlstore.InsertAppSQL, appAccountSQL, sqlstore.AppExistsSQL, sqlstore.DeleteAppSQL, sqlstore.ClearDefaultAppSQL,
	sqlstore.SupersedeTokenSQL, sqlstore.InsertTokenSQL, sqlstore.RevokeTokenSQL, selectTokenExistSQL,
	sqlstore.InsertWebhookSQL, sqlstore.UpdateWebhookSQL, sqlstore.DeleteWebhookSQL,
	sqlstore.InsertBindingSQL, sqlstore.BindIfUnboundSQL, sqlstore.DeleteBindingSQL,
	sqlstore.InsertMessageSQL, sqlstore.InsertEventSQL, recordAttemptSQL, insertAttemptSQL, sqlstore.RequeueSQL, claimDueSQL, eventExistsSQL,
	sqlstore.InsertTemplateSQL, sqlstore.SetTemplateSQL, sqlstore.WabaOfNumberSQL, sqlstore.InsertNumberSQL, sqlstore.RegisterNumberSQL, sqlstore.TouchSessionSQL,
	sqlstore.ReleaseLeasesSQL, renewLeasesSQL,
}

// zeroMicros is how a free lease's LeaseUntil (the zero time) is stored.
var zeroMicros = micros(time.Time{})

// exists reports whether a one-row query finds its row.
func exists(row *sql.Row) (bool, error) {
	var one int
	switch err := row.Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner = sqlstore.Scanner

// ---------------------------------------------------------------- accounts

func scanAccount(sc scanner) (state.Account, error) {
	var a state.Account
	var offset, created int64
	if err := sc.Scan(&a.Name, &a.Label, &a.DefaultApp, &offset, &created); err != nil {
		return a, err
	}
	a.ClockOffset, a.CreatedAt = time.Duration(offset), fromMicros(created)
	return a, nil
}

// CreateAccount implements state.Store.
func (s *Store) CreateAccount(ctx context.Context, a state.Account) error {
	return s.write(ctx, "create account", func(tx *wtx) error {
		_, err := tx.exec(sqlstore.InsertAccountSQL, a.Name, a.Label, a.DefaultApp, int64(a.ClockOffset), micros(a.CreatedAt))
		if isUnique(err) {
			return state.Conflict("account", a.Name)
		}
		return err
	})
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
	return s.write(ctx, "delete account", func(tx *wtx) error {
		n, err := tx.execN(sqlstore.DeleteAccountSQL, name)
		if err == nil && n == 0 {
			return state.NotFound("account", name)
		}
		return err
	})
}

// SetDefaultApp implements state.Store.
func (s *Store) SetDefaultApp(ctx context.Context, account, appKey string) error {
	return s.write(ctx, "set default app", func(tx *wtx) error {
		if ok, err := exists(tx.queryRow(sqlstore.AccountExistsSQL, account)); err != nil || !ok {
			return sqlstore.Or(err, state.NotFound("account", account))
		}
		if appKey != "" {
			var owner string
			err := tx.queryRow(appAccountSQL, appKey).Scan(&owner)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != account) {
				return state.NotFound("app", appKey)
			} else if err != nil {
				return err
			}
		}
		_, err := tx.exec(sqlstore.SetDefaultAppSQL, account, appKey)
		return err
	})
}

// SetAccountToken implements state.Store.
func (s *Store) SetAccountToken(ctx context.Context, account string, hash [32]byte) error {
	return s.write(ctx, "set account token", func(tx *wtx) error {
		if ok, err := exists(tx.queryRow(sqlstore.AccountExistsSQL, account)); err != nil || !ok {
			return sqlstore.Or(err, state.NotFound("account", account))
		}
		_, err := tx.exec(sqlstore.UpsertAccountTokenSQL, account, hashBytes(hash))
		return err
	})
}

// AccountByTokenHash implements state.Store.
func (s *Store) AccountByTokenHash(ctx context.Context, hash [32]byte) (string, error) {
	return queryOne(ctx, s, "account by token hash", sqlstore.ScanString, func() error { return state.NotFound("account token", state.Fingerprint(hash)) },
		sqlstore.AccountByTokenSQL, hashBytes(hash))
}

// ShiftClock implements state.Store.
func (s *Store) ShiftClock(ctx context.Context, account string, d time.Duration) (state.Account, error) {
	var out state.Account
	err := s.write(ctx, "shift clock", func(tx *wtx) error {
		a, err := scanAccount(tx.queryRow(sqlstore.ShiftAccountSQL, account, int64(d)))
		if errors.Is(err, sql.ErrNoRows) {
			return state.NotFound("account", account)
		} else if err != nil {
			return err
		}
		if _, err := tx.exec(shiftEventsSQL, account, ceilMicros(d)); err != nil {
			return err
		}
		out = a
		return nil
	})
	return out, err
}

// -------------------------------------------------------------------- apps

func scanApp(sc scanner) (state.App, error) {
	var a state.App
	var created int64
	err := sc.Scan(&a.Key, &a.Account, &a.Name, &created)
	a.CreatedAt = fromMicros(created)
	return a, err
}

// CreateApp implements state.Store.
func (s *Store) CreateApp(ctx context.Context, a state.App) error {
	return s.write(ctx, "create app", func(tx *wtx) error {
		_, err := tx.exec(sqlstore.InsertAppSQL, a.Key, a.Account, a.Name, micros(a.CreatedAt))
		switch {
		case isForeignKey(err):
			return state.NotFound("account", a.Account)
		case isUnique(err):
			return state.Conflict("app", a.Key)
		}
		return err
	})
}

// GetApp implements state.Store.
func (s *Store) GetApp(ctx context.Context, key string) (state.App, error) {
	return queryOne(ctx, s, "get app", scanApp, func() error { return state.NotFound("app", key) },
		sqlstore.GetAppSQL, key)
}

// ListApps implements state.Store.
func (s *Store) ListApps(ctx context.Context, account string) ([]state.App, error) {
	return listOf(ctx, s, "list apps", scanApp, sqlstore.ListAppsSQL, []any{account}, sqlstore.AccountExistsSQL, []any{account},
		func() error { return state.NotFound("account", account) })
}

// DeleteApp implements state.Store. Tokens, webhooks and bindings go by
// cascade; events and messages keep the app's key.
func (s *Store) DeleteApp(ctx context.Context, key string) error {
	return s.write(ctx, "delete app", func(tx *wtx) error {
		var account string
		err := tx.queryRow(sqlstore.DeleteAppSQL, key).Scan(&account)
		if errors.Is(err, sql.ErrNoRows) {
			return state.NotFound("app", key)
		} else if err != nil {
			return err
		}
		_, err = tx.exec(sqlstore.ClearDefaultAppSQL, account, key)
		return err
	})
}

// ------------------------------------------------------------------ tokens

func scanToken(sc scanner) (state.Token, error) {
	var t state.Token
	var h []byte
	var issued int64
	var expires, ended sql.NullInt64
	if err := sc.Scan(&h, &t.AppKey, &t.State, &issued, &expires, &ended); err != nil {
		return t, err
	}
	var err error
	t.Hash, err = sqlstore.Hash(h)
	t.IssuedAt, t.ExpiresAt, t.EndedAt = fromMicros(issued), fromNullMicros(expires), fromNullMicros(ended)
	return t, err
}

// AuthContext implements state.Store.
func (s *Store) AuthContext(ctx context.Context, appKey string) (state.App, state.Account, state.Token, bool, error) {
	if e, ok := s.auth.apps.get(appKey); ok {
		if e.missing {
			return state.App{}, state.Account{}, state.Token{}, false, state.NotFound("app", appKey)
		}
		return e.app, e.account, e.current, e.ok, nil
	}
	gen := s.auth.generation()
	app, acct, tok, ok, err := s.authContext(ctx, appKey)
	switch {
	case errors.Is(err, state.ErrNotFound):
		s.auth.apps.put(gen, appKey, authEntry{missing: true})
	case err == nil:
		s.auth.apps.put(gen, appKey, authEntry{app: app, account: acct, current: tok, ok: ok})
	}
	return app, acct, tok, ok, err
}

// authContext reads AuthContext's answer from the database.
func (s *Store) authContext(ctx context.Context, appKey string) (state.App, state.Account, state.Token, bool, error) {
	var (
		app                   state.App
		acct                  state.Account
		tok                   state.Token
		appCreated, acCreated int64
		offset                int64
		hash                  []byte
		tokState              sql.NullString
		issued                sql.NullInt64
		expires, ended        sql.NullInt64
	)
	err := s.queryRow(ctx, sqlstore.AuthSQL, []any{appKey},
		&app.Key, &app.Account, &app.Name, &appCreated,
		&acct.Name, &acct.Label, &acct.DefaultApp, &offset, &acCreated,
		&hash, &tokState, &issued, &expires, &ended)
	if errors.Is(err, sql.ErrNoRows) {
		return state.App{}, state.Account{}, state.Token{}, false, state.NotFound("app", appKey)
	} else if err != nil {
		return state.App{}, state.Account{}, state.Token{}, false, wrapErr(ctx, "auth context", err)
	}
	app.CreatedAt = fromMicros(appCreated)
	acct.ClockOffset, acct.CreatedAt = time.Duration(offset), fromMicros(acCreated)
	if !tokState.Valid {
		return app, acct, state.Token{}, false, nil
	}
	if tok.Hash, err = sqlstore.Hash(hash); err != nil {
		return state.App{}, state.Account{}, state.Token{}, false, wrapErr(ctx, "auth context", err)
	}
	tok.AppKey, tok.State = app.Key, state.TokenState(tokState.String)
	tok.IssuedAt, tok.ExpiresAt, tok.EndedAt = fromMicros(issued.Int64), fromNullMicros(expires), fromNullMicros(ended)
	return app, acct, tok, true, nil
}

// IssueToken implements state.Store. The supersede and the insert share
// the op's savepoint: a refused insert (unknown app, used hash) undoes the
// supersede too.
func (s *Store) IssueToken(ctx context.Context, t state.Token) error {
	return s.write(ctx, "issue token", func(tx *wtx) error {
		if _, err := tx.exec(sqlstore.SupersedeTokenSQL, t.AppKey, micros(t.IssuedAt)); err != nil {
			return err
		}
		_, err := tx.exec(sqlstore.InsertTokenSQL, hashBytes(t.Hash), t.AppKey, micros(t.IssuedAt), microsPtr(t.ExpiresAt))
		switch {
		case isForeignKey(err):
			return state.NotFound("app", t.AppKey)
		case isUnique(err):
			return state.Conflict("token", state.Fingerprint(t.Hash))
		}
		return err
	})
}

// RevokeToken implements state.Store.
func (s *Store) RevokeToken(ctx context.Context, appKey string, at time.Time) error {
	return s.write(ctx, "revoke token", func(tx *wtx) error {
		n, err := tx.execN(sqlstore.RevokeTokenSQL, appKey, micros(at))
		if err != nil || n > 0 {
			return err
		}
		if ok, err := exists(tx.queryRow(sqlstore.AppExistsSQL, appKey)); err != nil || !ok {
			return sqlstore.Or(err, state.NotFound("app", appKey))
		}
		return state.NotFound("current token of app", appKey)
	})
}

// TokenByHash implements state.Store.
func (s *Store) TokenByHash(ctx context.Context, hash [32]byte) (state.Token, error) {
	if e, ok := s.auth.hashes.get(hash); ok {
		if e.missing {
			return state.Token{}, state.NotFound("token", "(hash)")
		}
		return e.tok, nil
	}
	gen := s.auth.generation()
	t, err := s.tokenByHash(ctx, hash)
	switch {
	case errors.Is(err, state.ErrNotFound):
		s.auth.hashes.put(gen, hash, hashEntry{missing: true})
	case err == nil:
		s.auth.hashes.put(gen, hash, hashEntry{tok: t})
	}
	return t, err
}

// tokenByHash reads TokenByHash's answer from the database.
func (s *Store) tokenByHash(ctx context.Context, hash [32]byte) (state.Token, error) {
	return queryOne(ctx, s, "token by hash", scanToken, func() error { return state.NotFound("token", state.Fingerprint(hash)) },
		sqlstore.TokenByHashSQL, hashBytes(hash))
}

// ListTokens implements state.Store.
func (s *Store) ListTokens(ctx context.Context, appKey string) ([]state.Token, error) {
	return listOf(ctx, s, "list tokens", scanToken, sqlstore.ListTokensSQL, []any{appKey}, sqlstore.AppExistsSQL, []any{appKey},
		func() error { return state.NotFound("app", appKey) })
}

// ---------------------------------------------------------------- webhooks

func scanWebhook(sc scanner) (state.Webhook, error) {
	var w state.Webhook
	var events, user, auth, retry, chaos sql.NullString
	var created, updated int64
	if err := sc.Scan(&w.AppKey, &w.Product, &w.URL, &events, &w.Method, &user, &auth, &retry, &chaos, &created, &updated); err != nil {
		return w, err
	}
	w.Username, w.Authorization = fromNullString(user), fromNullString(auth)
	w.CreatedAt, w.UpdatedAt = fromMicros(created), fromMicros(updated)
	var err error
	if w.Retry, err = fromJSONPtr[state.RetryPolicy](retry); err != nil {
		return w, err
	}
	if w.Chaos, err = fromJSONPtr[state.Chaos](chaos); err != nil {
		return w, err
	}
	return w, fromJSONText(events, &w.Events)
}

// CreateWebhook implements state.Store.
func (s *Store) CreateWebhook(ctx context.Context, w state.Webhook) error {
	events, retry, chaos, err := webhookText(w)
	if err != nil {
		return err
	}
	return s.write(ctx, "create webhook", func(tx *wtx) error {
		_, err := tx.exec(sqlstore.InsertWebhookSQL, w.AppKey, w.Product, w.URL, events, w.Method,
			nullString(w.Username), nullString(w.Authorization), retry, chaos, micros(w.CreatedAt), micros(w.UpdatedAt))
		switch {
		case isForeignKey(err):
			return state.NotFound("app", w.AppKey)
		case isUnique(err):
			return state.Conflict("webhook for product", w.Product)
		}
		return err
	})
}

// UpdateWebhook implements state.Store. CreatedAt stays as created.
func (s *Store) UpdateWebhook(ctx context.Context, w state.Webhook) error {
	events, retry, chaos, err := webhookText(w)
	if err != nil {
		return err
	}
	return s.write(ctx, "update webhook", func(tx *wtx) error {
		n, err := tx.execN(sqlstore.UpdateWebhookSQL, w.AppKey, w.Product, w.URL, events, w.Method,
			nullString(w.Username), nullString(w.Authorization), retry, chaos, micros(w.UpdatedAt))
		if err == nil && n == 0 {
			return state.NotFound("webhook for product", w.Product)
		}
		return err
	})
}

// GetWebhook implements state.Store.
func (s *Store) GetWebhook(ctx context.Context, appKey, product string) (state.Webhook, error) {
	k := [2]string{appKey, product}
	if e, ok := s.looks.webhooks.get(k); ok {
		if e.missing {
			return state.Webhook{}, state.NotFound("webhook for product", product)
		}
		return e.w.Clone(), nil
	}
	gen := s.looks.generation()
	w, err := s.getWebhook(ctx, appKey, product)
	switch {
	case errors.Is(err, state.ErrNotFound):
		s.looks.webhooks.put(gen, k, webhookEntry{missing: true})
	case err == nil:
		s.looks.webhooks.put(gen, k, webhookEntry{w: w.Clone()})
	}
	return w, err
}

// getWebhook reads GetWebhook's answer from the database.
func (s *Store) getWebhook(ctx context.Context, appKey, product string) (state.Webhook, error) {
	return queryOne(ctx, s, "get webhook", scanWebhook, func() error { return state.NotFound("webhook for product", product) },
		sqlstore.GetWebhookSQL, appKey, product)
}

// ListWebhooks implements state.Store.
func (s *Store) ListWebhooks(ctx context.Context, appKey string) ([]state.Webhook, error) {
	return listOf(ctx, s, "list webhooks", scanWebhook, sqlstore.ListWebhooksSQL, []any{appKey}, sqlstore.AppExistsSQL, []any{appKey},
		func() error { return state.NotFound("app", appKey) })
}

// DeleteWebhook implements state.Store.
func (s *Store) DeleteWebhook(ctx context.Context, appKey, product string) error {
	return s.write(ctx, "delete webhook", func(tx *wtx) error {
		n, err := tx.execN(sqlstore.DeleteWebhookSQL, appKey, product)
		if err == nil && n == 0 {
			return state.NotFound("webhook for product", product)
		}
		return err
	})
}

// ---------------------------------------------------------------- bindings

func scanBinding(sc scanner) (state.Binding, error) {
	var b state.Binding
	var created int64
	err := sc.Scan(&b.Account, &b.Kind, &b.Value, &b.AppKey, &created)
	b.CreatedAt = fromMicros(created)
	return b, err
}

// CreateBinding implements state.Store.
func (s *Store) CreateBinding(ctx context.Context, b state.Binding) error {
	return s.write(ctx, "create binding", func(tx *wtx) error {
		var owner string
		err := tx.queryRow(appAccountSQL, b.AppKey).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != b.Account) {
			return state.NotFound("app", b.AppKey)
		} else if err != nil {
			return err
		}
		_, err = tx.exec(sqlstore.InsertBindingSQL, b.Account, string(b.Kind), b.Value, b.AppKey, micros(b.CreatedAt))
		if isUnique(err) {
			return state.Conflict(string(b.Kind), b.Value)
		}
		return err
	})
}

// FindBinding implements state.Store.
func (s *Store) FindBinding(ctx context.Context, account string, kind state.BindingKind, value string) (state.Binding, error) {
	return queryOne(ctx, s, "find binding", scanBinding, func() error { return state.NotFound(string(kind), value) },
		sqlstore.FindBindingSQL, account, string(kind), value)
}

// ListBindings implements state.Store.
func (s *Store) ListBindings(ctx context.Context, appKey string) ([]state.Binding, error) {
	return listOf(ctx, s, "list bindings", scanBinding, sqlstore.ListBindingsSQL, []any{appKey}, sqlstore.AppExistsSQL, []any{appKey},
		func() error { return state.NotFound("app", appKey) })
}

// DeleteBinding implements state.Store.
func (s *Store) DeleteBinding(ctx context.Context, account string, kind state.BindingKind, value string) error {
	return s.write(ctx, "delete binding", func(tx *wtx) error {
		n, err := tx.execN(sqlstore.DeleteBindingSQL, account, string(kind), value)
		if err == nil && n == 0 {
			return state.NotFound(string(kind), value)
		}
		return err
	})
}

// ---------------------------------------------------------------- messages

func scanMessage(sc scanner) (state.Message, error) {
	var m state.Message
	var recipients, wamids sql.NullString
	var created int64
	if err := sc.Scan(&m.ID, &m.Account, &m.AppKey, &m.Product, &m.MessageType, &m.WabaID, &m.SendNumber,
		&recipients, &wamids, &m.UID, &m.Request, &created); err != nil {
		return m, err
	}
	m.CreatedAt = fromMicros(created)
	if err := fromJSONText(recipients, &m.Recipients); err != nil {
		return m, err
	}
	return m, fromJSONText(wamids, &m.Wamids)
}

// eventArgs are an event's values in sqlstore.InsertEventSQL's order.
func eventArgs(e *state.Event) ([]any, error) {
	var url, method, user, auth, retry any
	if t := e.Target; t != nil {
		url, method, user, auth = t.URL, t.Method, nullString(t.Username), nullString(t.Authorization)
		var err error
		if retry, err = sqlstore.JSONPtr(t.Retry); err != nil {
			return nil, err
		}
	}
	chaos, err := sqlstore.JSONPtr(e.Chaos)
	if err != nil {
		return nil, err
	}
	var dest any
	if t := e.Target; t != nil {
		dest = state.Destination(t.URL)
	}
	return []any{e.ID, e.Account, e.Type, e.Product, e.AppKey, e.Route, string(e.Status), e.Reason, blob(e.Payload),
		url, method, user, auth, retry, chaos, e.Attempts, micros(e.DueAt), micros(e.NextAttemptAt),
		e.LeaseOwner, micros(e.LeaseUntil), micros(e.CreatedAt), micros(e.UpdatedAt), dest}, nil
}

// insertEvents writes events with one prepared statement; an id that is
// taken (also by an earlier event of the same batch) is a conflict.
func insertEvents(tx *wtx, events []state.Event) error {
	for i := range events {
		e := &events[i]
		args, err := eventArgs(e)
		if err != nil {
			return err
		}
		_, err = tx.exec(sqlstore.InsertEventSQL, args...)
		switch {
		case isUnique(err):
			return state.Conflict("event", e.ID)
		case isForeignKey(err):
			return state.NotFound("account", e.Account)
		case err != nil:
			return err
		}
	}
	return nil
}

// RecordSubmission implements state.Store: the hot path of every send,
// one message, a binding that is usually there already, and two events per
// recipient, all in the op's savepoint.
func (s *Store) RecordSubmission(ctx context.Context, sub state.Submission) error {
	m := sub.Message
	recipients, err := stringsText(m.Recipients)
	if err != nil {
		return err
	}
	wamids, err := stringsText(m.Wamids)
	if err != nil {
		return err
	}
	err = s.writeOutbox(ctx, "record submission", func(tx *wtx) error {
		if ok, err := exists(tx.queryRow(sqlstore.AppExistsSQL, m.AppKey)); err != nil || !ok {
			return sqlstore.Or(err, state.NotFound("app", m.AppKey))
		}
		_, err := tx.exec(sqlstore.InsertMessageSQL, m.ID, m.Account, m.AppKey, m.Product, m.MessageType, m.WabaID, m.SendNumber,
			recipients, wamids, m.UID, blob(m.Request), micros(m.CreatedAt))
		switch {
		case isUnique(err):
			return state.Conflict("message", m.ID)
		case isForeignKey(err):
			return state.NotFound("account", m.Account)
		case err != nil:
			return err
		}
		if b := sub.BindSender; b != nil {
			_, err := tx.exec(sqlstore.BindIfUnboundSQL, b.Account, string(b.Kind), b.Value, b.AppKey, micros(b.CreatedAt))
			if isForeignKey(err) {
				return state.NotFound("app", b.AppKey)
			} else if err != nil {
				return err
			}
		}
		if n := sub.RegisterNumber; n != nil {
			if _, err := tx.exec(sqlstore.RegisterNumberSQL, n.Account, n.Number, n.WabaID, micros(n.CreatedAt)); err != nil {
				return err
			}
		}
		return insertEvents(tx, sub.Events)
	})
	if sub.RegisterNumber != nil {
		s.looks.invalidate() // the WABA has its first number
	}
	return err
}

// GetMessage implements state.Store.
func (s *Store) GetMessage(ctx context.Context, id string) (state.Message, error) {
	return queryOne(ctx, s, "get message", scanMessage, func() error { return state.NotFound("message", id) },
		sqlstore.GetMessageSQL, id)
}

// ------------------------------------------------------------------ events

// scanEvent reads sqlstore.EventCols; seq is the creation order.
func scanEvent(sc scanner) (e state.Event, seq int64, err error) {
	var url, method, user, auth, retry, chaos sql.NullString
	var due, next, leaseUntil, created, updated int64
	if err = sc.Scan(&seq, &e.ID, &e.Account, &e.Type, &e.Product, &e.AppKey, &e.Route, &e.Status, &e.Reason, &e.Payload,
		&url, &method, &user, &auth, &retry, &chaos, &e.Attempts, &due, &next, &e.LeaseOwner, &leaseUntil, &created, &updated); err != nil {
		return e, 0, err
	}
	if url.Valid {
		e.Target = &state.Target{URL: url.String, Method: method.String, Username: fromNullString(user), Authorization: fromNullString(auth)}
		if e.Target.Retry, err = fromJSONPtr[state.RetryPolicy](retry); err != nil {
			return e, 0, err
		}
	}
	if e.Chaos, err = fromJSONPtr[state.EventChaos](chaos); err != nil {
		return e, 0, err
	}
	e.DueAt, e.NextAttemptAt, e.LeaseUntil = fromMicros(due), fromMicros(next), fromMicros(leaseUntil)
	e.CreatedAt, e.UpdatedAt = fromMicros(created), fromMicros(updated)
	return e, seq, nil
}

func scanEventOnly(sc scanner) (state.Event, error) {
	e, _, err := scanEvent(sc)
	return e, err
}

func scanAttempt(sc scanner) (state.Attempt, error) {
	var a state.Attempt
	var started, latency int64
	var reqHeaders, respHeaders sql.NullString
	if err := sc.Scan(&a.EventID, &a.N, &started, &latency, &a.Method, &a.URL, &reqHeaders, &a.RequestBody,
		&a.ResponseStatus, &respHeaders, &a.ResponseBody, &a.Error, &a.Outcome); err != nil {
		return a, err
	}
	a.StartedAt, a.Latency = fromMicros(started), time.Duration(latency)
	if err := fromJSONText(reqHeaders, &a.RequestHeaders); err != nil {
		return a, err
	}
	return a, fromJSONText(respHeaders, &a.ResponseHeaders)
}

// AddEvents implements state.Store.
func (s *Store) AddEvents(ctx context.Context, events []state.Event) error {
	return s.writeOutbox(ctx, "add events", func(tx *wtx) error { return insertEvents(tx, events) })
}

// GetEvent implements state.Store.
func (s *Store) GetEvent(ctx context.Context, id string) (state.Event, []state.Attempt, error) {
	var e state.Event
	var attempts []state.Attempt
	err := s.read(ctx, "get event", func(q querier) error {
		var err error
		e, _, err = scanEvent(q.QueryRowContext(ctx, sqlstore.GetEventSQL, id))
		if errors.Is(err, sql.ErrNoRows) {
			return state.NotFound("event", id)
		} else if err != nil {
			return err
		}
		attempts, err = collect(scanAttempt)(q.QueryContext(ctx, sqlstore.ListAttemptsSQL, id))
		return err
	})
	if err != nil {
		return state.Event{}, nil, err
	}
	return e, attempts, nil
}

// eventsDialect: created_at in microseconds; payload a BLOB, searched
// byte by byte (instr on two BLOBs).
var eventsDialect = sqlstore.Dialect{
	Time:     func(t time.Time) any { return micros(t) },
	Contains: func(ph string) string { return "instr(payload, " + ph + ") > 0" },
}

// ListEvents implements state.Store.
func (s *Store) ListEvents(ctx context.Context, f state.EventFilter) ([]state.Event, error) {
	q, args := sqlstore.EventsQuery(sqlstore.EventCols, f, eventsDialect)
	return queryRows(ctx, s, "list events", scanEventOnly, q, args...)
}

// ClaimDue implements state.Store. One UPDATE picks the due events off the
// events_due index in order and leases them; run by the single writer, no
// two calls can pick the same event.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, limit int, owner string, leaseUntil time.Time, exclude []string) ([]state.Event, error) {
	if limit <= 0 {
		if s.closed.Load() {
			return nil, ErrClosed
		}
		return []state.Event{}, nil
	}
	q, args := claimDueSQL, []any{owner, micros(leaseUntil), micros(now), limit}
	if len(exclude) > 0 {
		var err error
		if q, args, err = s.claimDueExcluding(ctx, exclude, args); err != nil {
			return nil, err
		}
	}
	var got []sqlstore.Claimed
	err := s.writeOutbox(ctx, "claim due", func(tx *wtx) error {
		rows, err := tx.query(q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		got, err = sqlstore.CollectClaimed(rows, scanEvent, got[:0])
		return err
	})
	if err != nil {
		return nil, err
	}
	return sqlstore.InDueOrder(got), nil
}

// claimDueExcluding is claimDueSQL leaving aside the events of some
// destinations (only while a receiver is saturated). Those events are in
// the events_due index like the others, so finding the first due events
// of the other destinations walks every excluded one due before them: a
// cost that grows with the excluded receiver's backlog. The walk runs on a
// read connection, never holding the writer that every send waits for; the
// claim then leases the events found by seq, checking again that each is
// still pending, due and free (a retry recorded meanwhile, say). It returns
// the claim's statement and arguments.
func (s *Store) claimDueExcluding(ctx context.Context, exclude []string, args []any) (string, []any, error) {
	marks := make([]string, len(exclude))
	find := []any{args[2], args[3]} // now, limit
	for i, d := range exclude {
		find = append(find, d)
		marks[i] = fmt.Sprintf("$%d", len(find))
	}
	var seqs []int64
	err := s.read(ctx, "claim due", func(q querier) error {
		rows, err := q.QueryContext(ctx, "SELECT seq FROM events WHERE status = 'pending' "+
			"AND next_attempt_at <= $1 AND (lease_owner = '' OR lease_until <= $1) "+
			"AND (target_dest IS NULL OR target_dest NOT IN ("+strings.Join(marks, ", ")+")) "+
			"ORDER BY next_attempt_at, seq LIMIT $2", find...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				return err
			}
			seqs = append(seqs, seq)
		}
		return rows.Err()
	})
	if err != nil {
		return "", nil, err
	}
	if seqs == nil {
		seqs = []int64{} // "[]", not "null" (which json_each reads as one value)
	}
	list, err := json.Marshal(seqs)
	if err != nil {
		return "", nil, err
	}
	return claimSeqsSQL, append(args[:3], string(list)), nil
}

// claimSeqsSQL leases the events whose seqs $4 lists (JSON) that are still
// claimable at $3.
const claimSeqsSQL = "UPDATE events SET lease_owner = $1, lease_until = $2 WHERE seq IN (SELECT value FROM json_each($4)) " +
	"AND status = 'pending' AND next_attempt_at <= $3 AND (lease_owner = '' OR lease_until <= $3) RETURNING " + sqlstore.EventCols

// ReleaseLeases implements state.Store.
func (s *Store) ReleaseLeases(ctx context.Context, owner string) (int, error) {
	var n int64
	err := s.writeOutbox(ctx, "release leases", func(tx *wtx) error {
		var err error
		n, err = tx.execN(sqlstore.ReleaseLeasesSQL, owner, zeroMicros)
		return err
	})
	return int(n), err
}

// pruneBatch is how many rows one write of Prune removes. The writer is the
// only one, and every send waits for it: a pass of the janitor that took
// it for one DELETE of 200,000 events (the first after a restart on a
// large file) held every send for seconds. In batches this small, each
// write takes about a millisecond, and the sends queued meanwhile go first.
const pruneBatch = 200

// RenewLeases implements state.Store.
func (s *Store) RenewLeases(ctx context.Context, owner string, ids []string, until time.Time) (int, error) {
	if len(ids) == 0 {
		if s.closed.Load() {
			return 0, ErrClosed
		}
		return 0, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.writeOutbox(ctx, "renew leases", func(tx *wtx) error {
		var err error
		n, err = tx.execN(renewLeasesSQL, owner, micros(until), string(list))
		return err
	})
	return int(n), err
}

// Prune implements state.Store in batches of pruneBatch rows, each its own
// write: the rows to remove are found on a read connection (which never
// holds the writer), then removed by seq. Attempts go with their events
// (foreign key cascade); the newest 'keep' are counted by seq, the creation
// order, as they were when the pass began.
func (s *Store) Prune(ctx context.Context, before time.Time, keep int) (int, error) {
	cutEvents, cutMessages := int64(-1), int64(-1)
	if keep > 0 {
		for _, c := range []struct {
			q   string
			cut *int64
		}{
			{"SELECT seq FROM events WHERE status <> 'pending' ORDER BY seq DESC LIMIT 1 OFFSET $1", &cutEvents},
			{"SELECT rowid FROM messages ORDER BY rowid DESC LIMIT 1 OFFSET $1", &cutMessages},
		} {
			err := s.queryRow(ctx, c.q, []any{keep - 1}, c.cut)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return 0, wrapErr(ctx, "prune", err)
			}
		}
	}
	n, err := s.pruneBatches(ctx,
		"SELECT seq FROM events WHERE seq > $1 AND status <> 'pending' AND (updated_at < $2 OR seq < $3) ORDER BY seq LIMIT $4",
		"DELETE FROM events WHERE seq BETWEEN $1 AND $2 AND status <> 'pending' AND (updated_at < $3 OR seq < $4)",
		micros(before), cutEvents)
	if err != nil {
		return n, err
	}
	_, err = s.pruneBatches(ctx,
		"SELECT rowid FROM messages WHERE rowid > $1 AND (created_at < $2 OR rowid < $3) ORDER BY rowid LIMIT $4",
		"DELETE FROM messages WHERE rowid BETWEEN $1 AND $2 AND (created_at < $3 OR rowid < $4)",
		micros(before), cutMessages)
	return n, err
}

// pruneBatches removes, pruneBatch rows at a time, the rows that find
// picks (keys after $1, $2 = before, $3 = cut, $4 = batch size): remove
// deletes those between the batch's first and last key ($1, $2) that still
// qualify ($3 = before, $4 = cut). It returns how many rows it removed.
func (s *Store) pruneBatches(ctx context.Context, find, remove string, before, cut int64) (int, error) {
	total := 0
	last := int64(-1 << 62)
	keys := make([]int64, 0, pruneBatch)
	for {
		keys = keys[:0]
		err := s.read(ctx, "prune", func(q querier) error {
			rows, err := q.QueryContext(ctx, find, last, before, cut, pruneBatch)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var k int64
				if err := rows.Scan(&k); err != nil {
					return err
				}
				keys = append(keys, k)
			}
			return rows.Err()
		})
		if err != nil || len(keys) == 0 {
			return total, err
		}
		first := keys[0]
		last = keys[len(keys)-1]
		var n int64
		err = s.writeOutbox(ctx, "prune", func(tx *wtx) error {
			var err error
			n, err = tx.execN(remove, first, last, before, cut)
			return err
		})
		total += int(n)
		if err != nil {
			return total, err
		}
	}
}

// nextDueSQL: the earliest moment ClaimDue could hand out an event. A
// free event counts from its NextAttemptAt (the first free one in the
// events_due index, usually right at its start), a leased one from the
// later of that and its lease's end (the few leased ones, from
// events_leased).
const nextDueSQL = "SELECT MIN(t) FROM (" +
	"SELECT next_attempt_at AS t FROM (SELECT next_attempt_at FROM events WHERE status = 'pending' AND lease_owner = '' " +
	"ORDER BY next_attempt_at LIMIT 1) free " +
	"UNION ALL " +
	"SELECT CASE WHEN lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END AS t " +
	"FROM events WHERE lease_owner <> '' AND status = 'pending') due"

// outboxStatsSQL reads the outbox's size off the events_due index alone:
// pending events only, however long the log.
const outboxStatsSQL = "SELECT count(*), COALESCE(SUM(CASE WHEN next_attempt_at <= $1 THEN 1 ELSE 0 END), 0), " +
	"MIN(next_attempt_at) FROM events WHERE status = 'pending'"

// OutboxStats implements state.Store.
func (s *Store) OutboxStats(ctx context.Context, now time.Time) (state.OutboxStats, error) {
	var st state.OutboxStats
	var oldest sql.NullInt64
	if err := s.queryRow(ctx, outboxStatsSQL, []any{micros(now)}, &st.Pending, &st.Due, &oldest); err != nil {
		return state.OutboxStats{}, wrapErr(ctx, "outbox stats", err)
	}
	if st.Due > 0 && oldest.Valid {
		st.OldestDue = fromMicros(oldest.Int64)
	}
	return st, nil
}

// NextDue implements state.Store.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var at sql.NullInt64
	if err := s.queryRow(ctx, nextDueSQL, nil, &at); err != nil {
		return time.Time{}, false, wrapErr(ctx, "next due", err)
	}
	if !at.Valid {
		return time.Time{}, false, nil
	}
	return fromMicros(at.Int64), true, nil
}

// RecordAttempt implements state.Store. The UPDATE's WHERE is the lease
// check: it changes nothing unless the event is still pending and leased to
// r.Owner.
func (s *Store) RecordAttempt(ctx context.Context, r state.AttemptResult) error {
	a := r.Attempt
	reqHeaders, err := headersText(a.RequestHeaders)
	if err != nil {
		return err
	}
	respHeaders, err := headersText(a.ResponseHeaders)
	if err != nil {
		return err
	}
	var next any
	if r.Status == state.EventPending {
		next = micros(r.NextAttemptAt)
	}
	return s.writeOutbox(ctx, "record attempt", func(tx *wtx) error {
		n, err := tx.execN(recordAttemptSQL, a.EventID, r.Owner, string(r.Status), r.Reason, next, zeroMicros,
			micros(a.StartedAt.Add(a.Latency)))
		if err != nil {
			return err
		}
		if n == 0 {
			return state.NotFound("event leased to "+r.Owner, a.EventID)
		}
		_, err = tx.exec(insertAttemptSQL, a.EventID, a.N, micros(a.StartedAt), int64(a.Latency), a.Method, a.URL,
			reqHeaders, blob(a.RequestBody), a.ResponseStatus, respHeaders, blob(a.ResponseBody), a.Error, a.Outcome)
		return err
	})
}

// Requeue implements state.Store.
func (s *Store) Requeue(ctx context.Context, id string, at time.Time) error {
	return s.writeOutbox(ctx, "requeue", func(tx *wtx) error {
		n, err := tx.execN(sqlstore.RequeueSQL, id, micros(at), zeroMicros)
		if err == nil && n == 0 {
			return state.NotFound("delivered or failed event", id)
		}
		return err
	})
}

// Reset implements state.Store: one transaction, children first (the
// cascades would get there too, row by row).
func (s *Store) Reset(ctx context.Context) error {
	return s.write(ctx, "reset", func(tx *wtx) error {
		for _, table := range sqlstore.Tables {
			if _, err := tx.exec("DELETE FROM " + table); err != nil {
				return err
			}
		}
		return nil
	})
}

// collect reads every row of a query with scan. It is curried so that a
// query's (rows, err) pair can be passed straight in.
func collect[T any](scan func(scanner) (T, error)) func(*sql.Rows, error) ([]T, error) {
	return func(rows *sql.Rows, err error) ([]T, error) {
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		return sqlstore.Collect(rows, scan)
	}
}

// CountOwned implements state.Store.
func (s *Store) CountOwned(ctx context.Context, account string, r state.Resource) (int, error) {
	q, ok := sqlstore.CountOwnedQuery(r)
	if !ok {
		return 0, fmt.Errorf("sqlite count: no resource %q", r)
	}
	var n int
	if err := s.queryRow(ctx, q, []any{account}, &n); err != nil {
		return 0, wrapErr(ctx, "count "+string(r), err)
	}
	return n, nil
}

package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
)

// ---------------------------------------------------------------- templates

func scanTemplate(sc scanner) (state.Template, error) {
	var t state.Template
	var status string
	if err := sc.Scan(&t.Account, &t.WabaID, &t.Name, &t.Language, &t.Category, &t.TemplateID, &t.SID, &t.AppKey,
		&t.BodyParams, &t.HeaderParams, &status, &t.Reason, &t.ReviewAt, &t.Request, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return t, err
	}
	t.Status = state.TemplateStatus(status)
	t.ReviewAt, t.CreatedAt, t.UpdatedAt = t.ReviewAt.UTC(), t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, nil
}

// CreateTemplate implements state.Store: the template and its review's
// events in one round trip, as one transaction.
func (s *Store) CreateTemplate(ctx context.Context, t state.Template, events []state.Event) error {
	err := s.batch(ctx, "create template", func(b *pgx.Batch) (func(pgx.BatchResults) error, error) {
		b.Queue(sqlstore.InsertTemplateSQL,
			t.Account, t.WabaID, t.Name, t.Language, t.Category, t.TemplateID, t.SID, t.AppKey,
			t.BodyParams, t.HeaderParams, string(t.Status), t.Reason, t.ReviewAt, t.Request, t.CreatedAt, t.UpdatedAt)
		readEvents, err := queueEvents(b, events)
		if err != nil {
			return nil, err
		}
		return func(br pgx.BatchResults) error {
			_, err := br.Exec()
			switch {
			case isUnique(err):
				return state.Conflict("template", t.Name+" ("+t.Language+")")
			case isForeignKey(err):
				return state.NotFound("account", t.Account)
			case err != nil:
				return err
			}
			return readEvents(br)
		}, nil
	})
	s.notifyDue(err, events)
	return err
}

// GetTemplate implements state.Store.
func (s *Store) GetTemplate(ctx context.Context, account, wabaID, name, language string) (state.Template, error) {
	return queryOne(ctx, s, "get template", scanTemplate, func() error { return state.NotFound("template", name+" ("+language+")") },
		sqlstore.GetTemplateSQL, account, wabaID, name, language)
}

// ListTemplates implements state.Store.
func (s *Store) ListTemplates(ctx context.Context, account, wabaID string) ([]state.Template, error) {
	return listOf(ctx, s, "list templates", scanTemplate, sqlstore.ListTemplatesSQL, []any{account, wabaID},
		sqlstore.AccountExistsSQL, []any{account}, func() error { return state.NotFound("account", account) })
}

// UpdateTemplateStatus implements state.Store.
func (s *Store) UpdateTemplateStatus(ctx context.Context, t state.Template) error {
	n, err := s.exec(ctx, "update template status", sqlstore.SetTemplateSQL,
		t.Account, t.WabaID, t.Name, t.Language, string(t.Status), t.Reason, t.ReviewAt, t.UpdatedAt)
	if err == nil && n == 0 {
		return state.NotFound("template", t.Name+" ("+t.Language+")")
	}
	return err
}

// ----------------------------------------------------------- WABA numbers

// AddWabaNumber implements state.Store. Inserting first (ON CONFLICT DO
// NOTHING) and reading the owner after makes two replicas adding one number
// at once agree: the insert waits for the other's to commit, and the read,
// a statement of its own, sees it.
func (s *Store) AddWabaNumber(ctx context.Context, n state.WabaNumber) error {
	return s.tx(ctx, "add WABA number", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sqlstore.RegisterNumberSQL,
			n.Account, n.Number, n.WabaID, n.CreatedAt)
		switch {
		case isForeignKey(err):
			return state.NotFound("account", n.Account)
		case err != nil:
			return err
		case tag.RowsAffected() == 1:
			return nil
		}
		var waba string
		if err := tx.QueryRow(ctx, sqlstore.WabaOfNumberSQL, n.Account, n.Number).Scan(&waba); err != nil {
			return err
		}
		if waba != n.WabaID {
			return state.Conflict("number of WABA "+waba, n.Number)
		}
		return nil
	})
}

// WabaNumbers implements state.Store.
func (s *Store) WabaNumbers(ctx context.Context, account, wabaID string) ([]string, error) {
	return queryRows(ctx, s, "WABA numbers", sqlstore.ScanString, sqlstore.WabaNumbersSQL, account, wabaID)
}

// --------------------------------------------------------------- sessions

// TouchSession implements state.Store.
func (s *Store) TouchSession(ctx context.Context, account, business, user string, at time.Time) error {
	_, err := s.exec(ctx, "touch session", sqlstore.TouchSessionSQL,
		account, business, user, at)
	if isForeignKey(err) {
		return state.NotFound("account", account)
	}
	return err
}

// LastInbound implements state.Store: one query for all the users.
func (s *Store) LastInbound(ctx context.Context, account, business string, users []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(users))
	if len(users) == 0 {
		if s.closed.Load() {
			return nil, ErrClosed
		}
		return out, nil
	}
	err := s.read(ctx, "last inbound", func(ctx context.Context, q querier) error {
		clear(out)
		rows, err := q.Query(ctx, "SELECT user_number, last_inbound_at FROM sessions WHERE account = $1 AND business = $2 AND user_number = ANY ($3)",
			account, business, users)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u string
			var at time.Time
			if err := rows.Scan(&u, &at); err != nil {
				return err
			}
			out[u] = at.UTC()
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

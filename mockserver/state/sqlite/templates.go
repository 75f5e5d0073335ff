package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
)

// ---------------------------------------------------------------- templates

func scanTemplate(sc scanner) (state.Template, error) {
	var t state.Template
	var status string
	var review, created, updated int64
	if err := sc.Scan(&t.Account, &t.WabaID, &t.Name, &t.Language, &t.Category, &t.TemplateID, &t.SID, &t.AppKey,
		&t.BodyParams, &t.HeaderParams, &status, &t.Reason, &review, &t.Request, &created, &updated); err != nil {
		return t, err
	}
	t.Status = state.TemplateStatus(status)
	t.ReviewAt, t.CreatedAt, t.UpdatedAt = fromMicros(review), fromMicros(created), fromMicros(updated)
	return t, nil
}

// CreateTemplate implements state.Store.
func (s *Store) CreateTemplate(ctx context.Context, t state.Template, events []state.Event) error {
	return s.write(ctx, "create template", func(tx *wtx) error {
		_, err := tx.exec(sqlstore.InsertTemplateSQL, t.Account, t.WabaID, t.Name, t.Language, t.Category, t.TemplateID, t.SID, t.AppKey,
			t.BodyParams, t.HeaderParams, string(t.Status), t.Reason, micros(t.ReviewAt), blob(t.Request), micros(t.CreatedAt), micros(t.UpdatedAt))
		switch {
		case isUnique(err):
			return state.Conflict("template", t.Name+" ("+t.Language+")")
		case isForeignKey(err):
			return state.NotFound("account", t.Account)
		case err != nil:
			return err
		}
		return insertEvents(tx, events)
	})
}

// GetTemplate implements state.Store.
func (s *Store) GetTemplate(ctx context.Context, account, wabaID, name, language string) (state.Template, error) {
	return queryOne(ctx, s, "get template", scanTemplate, func() error { return state.NotFound("template", name+" ("+language+")") },
		sqlstore.GetTemplateSQL, account, wabaID, name, language)
}

// ListTemplates implements state.Store.
func (s *Store) ListTemplates(ctx context.Context, account, wabaID string) ([]state.Template, error) {
	return listOf(ctx, s, "list templates", scanTemplate, sqlstore.ListTemplatesSQL, []any{account, wabaID}, sqlstore.AccountExistsSQL, []any{account},
		func() error { return state.NotFound("account", account) })
}

// UpdateTemplateStatus implements state.Store.
func (s *Store) UpdateTemplateStatus(ctx context.Context, t state.Template) error {
	return s.write(ctx, "update template status", func(tx *wtx) error {
		n, err := tx.execN(sqlstore.SetTemplateSQL, t.Account, t.WabaID, t.Name, t.Language, string(t.Status), t.Reason, micros(t.ReviewAt), micros(t.UpdatedAt))
		if err == nil && n == 0 {
			return state.NotFound("template", t.Name+" ("+t.Language+")")
		}
		return err
	})
}

// ----------------------------------------------------------- WABA numbers

// AddWabaNumber implements state.Store.
func (s *Store) AddWabaNumber(ctx context.Context, n state.WabaNumber) error {
	return s.write(ctx, "add WABA number", func(tx *wtx) error {
		var waba string
		err := tx.queryRow(sqlstore.WabaOfNumberSQL, n.Account, n.Number).Scan(&waba)
		switch {
		case err == nil && waba == n.WabaID:
			return nil
		case err == nil:
			return state.Conflict("number of WABA "+waba, n.Number)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		_, err = tx.exec(sqlstore.InsertNumberSQL, n.Account, n.Number, n.WabaID, micros(n.CreatedAt))
		if isForeignKey(err) {
			return state.NotFound("account", n.Account)
		}
		return err
	})
}

// WabaNumbers implements state.Store.
func (s *Store) WabaNumbers(ctx context.Context, account, wabaID string) ([]string, error) {
	k := [2]string{account, wabaID}
	if nums, ok := s.looks.numbers.get(k); ok {
		return slices.Clone(nums), nil
	}
	gen := s.looks.generation()
	nums, err := s.wabaNumbers(ctx, account, wabaID)
	if err == nil {
		s.looks.numbers.put(gen, k, slices.Clone(nums))
	}
	return nums, err
}

// wabaNumbers reads WabaNumbers' answer from the database.
func (s *Store) wabaNumbers(ctx context.Context, account, wabaID string) ([]string, error) {
	return queryRows(ctx, s, "WABA numbers", sqlstore.ScanString, sqlstore.WabaNumbersSQL, account, wabaID)
}

// --------------------------------------------------------------- sessions

// TouchSession implements state.Store.
func (s *Store) TouchSession(ctx context.Context, account, business, user string, at time.Time) error {
	err := s.writeOutbox(ctx, "touch session", func(tx *wtx) error {
		_, err := tx.exec(sqlstore.TouchSessionSQL, account, business, user, micros(at))
		if isForeignKey(err) {
			return state.NotFound("account", account)
		}
		return err
	})
	s.looks.invalidate()
	return err
}

// LastInbound implements state.Store. The users are looked up one by one
// in one read transaction: a send names at most 1000.
func (s *Store) LastInbound(ctx context.Context, account, business string, users []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(users))
	var unknown []string
	for _, u := range users {
		e, ok := s.looks.sessions.get([3]string{account, business, u})
		switch {
		case !ok:
			unknown = append(unknown, u)
		case !e.missing:
			out[u] = e.at
		}
	}
	if len(unknown) == 0 {
		return out, nil
	}
	gen := s.looks.generation()
	err := s.read(ctx, "last inbound", func(q querier) error {
		for _, u := range unknown {
			var at int64
			err := q.QueryRowContext(ctx, lastInboundSQL, account, business, u).Scan(&at)
			k := [3]string{account, business, u}
			switch {
			case errors.Is(err, sql.ErrNoRows):
				s.looks.sessions.put(gen, k, sessionEntry{missing: true})
			case err != nil:
				return err
			default:
				out[u] = fromMicros(at)
				s.looks.sessions.put(gen, k, sessionEntry{at: out[u]})
			}
		}
		return nil
	})
	return out, err
}

// Read queries of this file, prepared at Open (see readQueries).
const (
	lastInboundSQL = "SELECT last_inbound_at FROM sessions WHERE account = $1 AND business = $2 AND user_number = $3"
)

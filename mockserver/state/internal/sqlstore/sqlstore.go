// Package sqlstore holds what the two SQL stores (sqlite, postgres) share
// beyond their dialects: the loader of their migration files, the column
// lists and the statements both run as written (sql.go), the list of events
// as a statement, reading rows of either driver, and the JSON encoding of
// list columns. The SQL that differs by dialect stays in each store, and so
// do the scan functions of whole rows: SQLite reads times as integer
// microseconds and optional values as sql.Null types, pgx reads
// time.Time and pointers.
package sqlstore

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Migration is one schema version, read from a file NNNN_name.sql.
type Migration struct {
	Version int
	Name    string // the file's name without .sql
	SQL     string
}

// Migrations reads the files dir/*.sql of fsys in version order. Versions
// must run 1, 2, 3, ... without gaps, so that a missing file fails every
// build's tests rather than leaving databases behind. store names the store
// in errors.
func Migrations(store string, fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, p := range entries {
		base := path.Base(p)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("%s: migration %s: name must be NNNN_name.sql", store, base)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(base, ".sql"), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("%s: migration %s: expected version %d", store, m.Name, i+1)
		}
	}
	return out, nil
}

// Latest is the version of the newest migration, 0 when there is none.
func Latest(ms []Migration) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// Dialect is what differs between the SQL stores in EventsQuery.
type Dialect struct {
	// Time is a time as the created_at column holds it.
	Time func(time.Time) any
	// Contains is the condition "the payload column holds the bytes of
	// placeholder ph".
	Contains func(ph string) string
}

// EventsQuery is ListEvents as one statement over the events table, newest
// first, selecting cols, with $n placeholders (both drivers take them).
func EventsQuery(cols string, f state.EventFilter, d Dialect) (string, []any) {
	var where []string
	var args []any
	for _, c := range []struct{ col, val string }{
		{"account", f.Account}, {"app_key", f.AppKey}, {"type", f.Type}, {"status", string(f.Status)},
	} {
		if c.val != "" {
			args = append(args, c.val)
			where = append(where, fmt.Sprintf("%s = $%d", c.col, len(args)))
		}
	}
	if f.MessageID != "" {
		args = append(args, state.QuotedID(f.MessageID))
		where = append(where, d.Contains(fmt.Sprintf("$%d", len(args))))
	}
	if !f.Since.IsZero() {
		args = append(args, d.Time(f.Since))
		where = append(where, fmt.Sprintf("created_at >= $%d", len(args)))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = state.DefaultEventLimit
	}
	args = append(args, limit)
	q := "SELECT " + cols + " FROM events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY seq DESC LIMIT $%d", len(args))
	return q, args
}

// JSON encodes a list or map as JSON text for a column; nil becomes NULL,
// so that a nil slice or map and an empty one stay apart.
func JSON[T any](v T, isNil bool) (any, error) {
	if isNil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return string(b), nil
}

// JSONPtr encodes an optional struct as JSON text; nil becomes NULL.
func JSONPtr[T any](v *T) (any, error) {
	if v == nil {
		return nil, nil
	}
	return JSON(*v, false)
}

// Hash reads a token hash stored as 32 bytes.
func Hash(b []byte) ([32]byte, error) {
	var h [32]byte
	if len(b) != len(h) {
		return h, fmt.Errorf("token hash of %d bytes, want %d", len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

// Claimed is an event a ClaimDue statement returned, with its creation
// order (the events table's seq).
type Claimed struct {
	Event state.Event
	Seq   int64
}

// InDueOrder puts claimed events in the order the Store contract promises
// for ClaimDue, which RETURNING does not: oldest due first, then creation
// order.
func InDueOrder(got []Claimed) []state.Event {
	slices.SortFunc(got, func(a, b Claimed) int {
		if c := a.Event.NextAttemptAt.Compare(b.Event.NextAttemptAt); c != 0 {
			return c
		}
		return int(a.Seq - b.Seq)
	})
	out := make([]state.Event, len(got))
	for i, c := range got {
		out[i] = c.Event
	}
	return out
}

// CountOwnedQuery is Store.CountOwned as one statement with the account as
// $1 (both drivers take it); ok is false for an unknown resource.
func CountOwnedQuery(r state.Resource) (string, bool) {
	q, ok := map[state.Resource]string{
		state.ResourceApps:      "SELECT count(*) FROM apps WHERE account = $1",
		state.ResourceWebhooks:  "SELECT count(*) FROM webhooks w JOIN apps a ON a.app_key = w.app_key WHERE a.account = $1",
		state.ResourceTemplates: "SELECT count(*) FROM templates WHERE account = $1",
		state.ResourceBindings:  "SELECT count(*) FROM bindings WHERE account = $1",
		state.ResourceTokens:    "SELECT count(*) FROM tokens t JOIN apps a ON a.app_key = t.app_key WHERE a.account = $1",
		// events_pending_by_account (migration 0005) serves this one.
		state.ResourcePending: "SELECT count(*) FROM events WHERE account = $1 AND status = 'pending'",
	}[r]
	return q, ok
}

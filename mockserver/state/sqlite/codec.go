package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
)

// Column encodings. They are plain SQL types (INTEGER, TEXT, BLOB and NULL)
// rather than driver-specific time or array types, so that the same values
// bind on any database/sql driver and the SQL can be shared by another
// dialect.

// micros encodes a time as Unix microseconds: exact to the microsecond,
// independent of location, and ordered like the instants it stands for,
// which ClaimDue's index range scan relies on. The zero time encodes too.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros decodes micros; times come back in UTC.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// microsPtr encodes an optional time; nil becomes NULL.
func microsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// fromNullMicros decodes microsPtr.
func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// ceilMicros converts a duration to whole microseconds, rounding up, so
// that subtracting it from a microsecond time gives the floor of the exact
// result, the same rounding micros applies to any time.
func ceilMicros(d time.Duration) int64 {
	m := int64(d / time.Microsecond)
	if d%time.Microsecond > 0 {
		m++
	}
	return m
}

// nullString encodes an optional string; nil becomes NULL.
func nullString(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// fromNullString decodes nullString.
func fromNullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	s := v.String
	return &s
}

// blob encodes bytes; nil becomes NULL. (An empty, non-nil slice is stored
// as an empty blob and, like SQL drivers generally do, read back as nil.)
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

func stringsText(v []string) (any, error) { return sqlstore.JSON(v, v == nil) }

func headersText(v map[string][]string) (any, error) { return sqlstore.JSON(v, v == nil) }

// fromJSONText decodes the text of sqlstore.JSON into dst; NULL leaves dst nil.
func fromJSONText(v sql.NullString, dst any) error {
	if !v.Valid {
		return nil
	}
	if err := json.Unmarshal([]byte(v.String), dst); err != nil {
		return fmt.Errorf("decode %T: %w", dst, err)
	}
	return nil
}

// hashBytes stores a token hash as a 32-byte blob; sqlstore.Hash reads it.
func hashBytes(h [32]byte) []byte { return h[:] }

// fromJSONPtr decodes the text of sqlstore.JSONPtr; NULL gives nil.
func fromJSONPtr[T any](v sql.NullString) (*T, error) {
	if !v.Valid {
		return nil, nil
	}
	var out T
	if err := fromJSONText(v, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// webhookText encodes a webhook's JSON columns: its events and its
// optional settings.
func webhookText(w state.Webhook) (events, retry, chaos any, err error) {
	if events, err = stringsText(w.Events); err != nil {
		return
	}
	if retry, err = sqlstore.JSONPtr(w.Retry); err != nil {
		return
	}
	chaos, err = sqlstore.JSONPtr(w.Chaos)
	return
}

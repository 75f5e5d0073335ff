package postgres

import (
	"encoding/json"
	"fmt"
	"time"
)

// Column encodings. Times are TIMESTAMPTZ, which pgx binds from and scans
// into time.Time directly; PostgreSQL keeps microseconds, the precision the
// contract asks for, and the scan functions give times back in UTC, as the
// other stores do. Optional values are pointers that pgx maps to and from
// NULL. Lists, header maps and settings are JSONB, written from and read
// into raw JSON here so that nil and empty stay apart. Bytes are BYTEA; a
// nil slice is NULL.

// utcp returns an optional time in UTC.
func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// fromJSON decodes a JSONB column read as bytes into dst; NULL leaves dst
// nil.
func fromJSON(b []byte, dst any) error {
	if b == nil {
		return nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("decode %T: %w", dst, err)
	}
	return nil
}

// fromJSONPtr decodes jsonPtr; NULL gives nil.
func fromJSONPtr[T any](b []byte) (*T, error) {
	if b == nil {
		return nil, nil
	}
	var out T
	if err := fromJSON(b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

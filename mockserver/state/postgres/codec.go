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

// fromHashBytes reads a token hash.
func fromHashBytes(b []byte) ([32]byte, error) {
	var h [32]byte
	if len(b) != len(h) {
		return h, fmt.Errorf("token hash of %d bytes, want %d", len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

// jsonValue encodes a list or map as JSON text for a JSONB column; nil
// becomes NULL, so that a nil slice or map and an empty one stay apart.
func jsonValue[T any](v T, isNil bool) (any, error) {
	if isNil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return string(b), nil
}

// jsonPtr encodes an optional struct; nil becomes NULL.
func jsonPtr[T any](v *T) (any, error) {
	if v == nil {
		return nil, nil
	}
	return jsonValue(*v, false)
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

package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
)

// migrationFiles holds the schema's versions, NNNN_name.sql, applied in
// order. A released file is never edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations in version order.
func migrations() ([]sqlstore.Migration, error) {
	return sqlstore.Migrations("sqlite", migrationFiles, "migrations")
}

// SchemaVersion is the schema version this build writes: the number of its
// newest migration.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return sqlstore.Latest(ms)
}

// migrate brings the schema up to date in one transaction: either every
// pending migration is applied and recorded, or none is. The writer's
// BEGIN IMMEDIATE makes two processes opening one new file at once apply
// the migrations once, one after the other.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return wrapErr(ctx, "migrate", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return wrapErr(ctx, "migrate", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return wrapErr(ctx, "migrate", err)
	}
	latest := len(ms)
	if current > latest {
		return fmt.Errorf("sqlite: %w: the database is at version %d, this build knows versions up to %d; run a newer build",
			ErrSchemaTooNew, current, latest)
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return wrapErr(ctx, "migrate "+m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
			m.Version, m.Name, micros(clock.Real{}.Now())); err != nil {
			return wrapErr(ctx, "migrate "+m.Name, err)
		}
	}
	return wrapErr(ctx, "migrate", tx.Commit())
}

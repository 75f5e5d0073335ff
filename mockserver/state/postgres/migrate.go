package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/innosandbox/innosandbox/mockserver/state/internal/sqlstore"
)

// migrationFiles holds the schema's versions, NNNN_name.sql, applied in
// order. They mirror the SQLite store's migrations version for version and
// name for name (the SQL differs by dialect), so that both stores are at
// the same schema version in any build. A released file is never edited: a
// change is a new file, here and in the SQLite store.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations in version order.
func migrations() ([]sqlstore.Migration, error) {
	return sqlstore.Migrations("postgres", migrationFiles, "migrations")
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

// migrateLockClass namespaces the migration lock among the advisory locks
// other programs may take on the same database; the second key is the
// schema, so that sandboxes in different schemas migrate independently.
const migrateLockClass = 0x1a5b0c

// migrate brings the schema up to date in one transaction: either every
// pending migration is applied and recorded, or none is. The transaction
// first takes an advisory lock, so that replicas starting at once on a new
// database queue up: the first applies the migrations, the others then
// find them applied and apply nothing. PostgreSQL runs DDL inside
// transactions, so a failed migration leaves nothing behind.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext(COALESCE(current_schema(), '')))", migrateLockClass); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		latest := len(ms)
		if current > latest {
			return fmt.Errorf("postgres: %w: the database is at version %d, this build knows versions up to %d; run a newer build",
				ErrSchemaTooNew, current, latest)
		}
		for _, m := range ms[current:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migrate %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
				return fmt.Errorf("migrate %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

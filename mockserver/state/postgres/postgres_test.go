package postgres

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/postgres/pgtest"
	"github.com/innosandbox/innosandbox/mockserver/state/sqlite"
	"github.com/innosandbox/innosandbox/mockserver/state/storetest"
)

// openT opens a store on dsn, closed when t ends.
func openT(t testing.TB, dsn string) *Store { return storetest.Opened(t, Open, dsn) }

// fresh opens a store on a schema of its own.
func fresh(t testing.TB) *Store { return openT(t, pgtest.Schema(t, 8)) }

func TestConformance(t *testing.T) {
	pgtest.BaseDSN(t)
	storetest.Run(t, func(t *testing.T) state.Store { return fresh(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) state.Store { return fresh(b) })
}

// TestMigrationsMirrorSQLite holds the two stores' schema histories
// together: the same versions under the same names, so that a database of
// either kind says the same thing with its version.
func TestMigrationsMirrorSQLite(t *testing.T) {
	sqliteFiles, err := filepath.Glob(filepath.Join("..", "sqlite", "migrations", "*.sql"))
	require.NoError(t, err)
	var want []string
	for _, f := range sqliteFiles {
		want = append(want, strings.TrimSuffix(filepath.Base(f), ".sql"))
	}
	ms, err := migrations()
	require.NoError(t, err)
	var got []string
	for _, m := range ms {
		got = append(got, m.Name)
	}
	assert.Equal(t, want, got)
	assert.Equal(t, sqlite.SchemaVersion(), SchemaVersion())
}

// appliedVersions reads schema_migrations.
func appliedVersions(t *testing.T, s *Store) []int {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), "SELECT version FROM schema_migrations ORDER BY version")
	require.NoError(t, err)
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	require.NoError(t, err)
	return vs
}

func TestMigrateOnceUnderConcurrentOpen(t *testing.T) {
	dsn := pgtest.Schema(t, 2)
	const replicas = 4
	stores := make([]*Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range replicas {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = Open(context.Background(), dsn)
		})
	}
	close(start)
	wg.Wait()
	for i, s := range stores {
		require.NoError(t, errs[i], "replica %d", i)
		t.Cleanup(func() { _ = s.Close() })
	}
	want := make([]int, SchemaVersion())
	for i := range want {
		want[i] = i + 1
	}
	assert.Equal(t, want, appliedVersions(t, stores[0]), "each migration applied and recorded once")
	for i, s := range stores {
		require.NoError(t, s.CreateAccount(context.Background(), state.Account{Name: fmt.Sprint("IW000000", i), CreatedAt: time.Now()}),
			"replica %d can write", i)
	}
}

func TestOpenAgainAppliesNothing(t *testing.T) {
	dsn := pgtest.Schema(t, 2)
	s := openT(t, dsn)
	require.NoError(t, s.CreateAccount(context.Background(), state.Account{Name: "IW0000001", CreatedAt: time.Now()}))
	require.NoError(t, s.Close())
	s = openT(t, dsn)
	_, err := s.GetAccount(context.Background(), "IW0000001")
	assert.NoError(t, err, "state survives reopening")
	assert.Len(t, appliedVersions(t, s), SchemaVersion())
}

func TestRefuseNewerSchema(t *testing.T) {
	dsn := pgtest.Schema(t, 2)
	s := openT(t, dsn)
	_, err := s.pool.Exec(context.Background(), "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from_the_future')", SchemaVersion()+1)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	_, err = Open(context.Background(), dsn)
	require.ErrorIs(t, err, ErrSchemaTooNew)
	assert.Contains(t, err.Error(), fmt.Sprintf("version %d", SchemaVersion()+1))
}

// TestOrderedNamesCollateC: the contract orders these columns by bytes; a
// database created with a linguistic default collation must not change
// that. (The test database may well use C already, so the check is on the
// schema, not on an ordering.)
func TestOrderedNamesCollateC(t *testing.T) {
	s := fresh(t)
	for _, c := range []struct{ table, column string }{
		{"accounts", "name"}, {"webhooks", "product"}, {"bindings", "kind"}, {"bindings", "value"}, {"waba_numbers", "number"},
	} {
		var collation *string
		err := s.pool.QueryRow(context.Background(),
			"SELECT collation_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
			c.table, c.column).Scan(&collation)
		require.NoError(t, err, c)
		if assert.NotNil(t, collation, c) {
			assert.Equal(t, "C", *collation, c)
		}
	}
}

func BenchmarkClaim(b *testing.B) {
	storetest.BenchClaim(b, storetest.ClaimSizes, func(b *testing.B) state.Store { return fresh(b) })
}

// BenchmarkCountPending: the pending-deliveries quota check of every send.
func BenchmarkCountPending(b *testing.B) {
	storetest.BenchCountPending(b, []int{1000, 10000, 100000}, func(b *testing.B) state.Store { return fresh(b) })
}

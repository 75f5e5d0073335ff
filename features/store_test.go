package features_test

import (
	"context"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/sqlite"
)

// openStateFile opens the store a private sandbox keeps in a file: the
// embedded SQLite store, as `innosandbox serve --store sqlite:FILE` opens
// it, so that a restart reads back what the previous run wrote.
func openStateFile(ctx context.Context, path string) (state.Store, error) {
	return sqlite.Open(ctx, path)
}

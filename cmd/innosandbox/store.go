package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/mockserver/state/sqlite"
)

// errStoreUnsupported names a --store value that is not understood.
var errStoreUnsupported = errors.New("unsupported --store")

// openStore opens the store a --store value names and says its kind:
// "memory" (throw-away), "sqlite:FILE" (the embedded default; a file path
// alone also works when it ends in .db), or ":memory:" through sqlite.
func openStore(ctx context.Context, v string, mem memstore.Options) (state.Store, string, error) {
	switch {
	case v == "memory":
		return memstore.NewWithOptions(mem), "memory", nil
	case strings.HasPrefix(v, "sqlite:"):
		path := strings.TrimPrefix(v, "sqlite:")
		if path == "" {
			return nil, "", fmt.Errorf("--store %q: name the database file, e.g. sqlite:innosandbox.db", v)
		}
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, "", fmt.Errorf("--store %s: %w", v, err)
		}
		return s, "sqlite", nil
	case strings.HasSuffix(v, ".db") && !strings.Contains(v, "://"):
		return openStore(ctx, "sqlite:"+v, mem)
	}
	return nil, "", fmt.Errorf("%w %q: use memory or sqlite:FILE", errStoreUnsupported, v)
}

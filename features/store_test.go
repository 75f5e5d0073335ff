package features_test

import (
	"context"
	"sync"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
)

// openStateFile opens the store a private sandbox keeps in a file.
//
// Stand-in until the SQLite store is merged: a memory store kept per path
// for the life of the test process, so that a restart rebuilds the server,
// its dispatcher and its listener on the state it had, but nothing is
// written to disk. Switch to sqlite.Open(ctx, path) when it lands.
func openStateFile(_ context.Context, path string) (state.Store, error) {
	stateFilesMu.Lock()
	defer stateFilesMu.Unlock()
	s, ok := stateFiles[path]
	if !ok {
		s = memstore.New()
		stateFiles[path] = s
	}
	return s, nil
}

var (
	stateFilesMu sync.Mutex
	stateFiles   = map[string]*memstore.Store{}
)

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
)

// errStoreUnsupported names a --store value that is not understood.
var errStoreUnsupported = errors.New("unsupported --store")

// openStore opens the store a --store value names and says its kind.
func openStore(_ context.Context, v string) (state.Store, string, error) {
	switch {
	case v == "memory":
		return memstore.New(), "memory", nil
	}
	return nil, "", fmt.Errorf("%w %q: use memory, sqlite:FILE or postgres://USER@HOST/DB", errStoreUnsupported, v)
}

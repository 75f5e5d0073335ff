package memstore_test

import (
	"testing"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/mockserver/state/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) state.Store {
		s := memstore.New()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

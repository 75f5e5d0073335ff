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

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) state.Store {
		s := memstore.New()
		b.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func BenchmarkClaim(b *testing.B) {
	storetest.BenchClaim(b, storetest.ClaimSizes, func(b *testing.B) state.Store {
		s := memstore.New()
		b.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// BenchmarkCountPending: the pending-deliveries quota check of every send.
func BenchmarkCountPending(b *testing.B) {
	storetest.BenchCountPending(b, []int{1000, 10000, 100000}, func(b *testing.B) state.Store {
		s := memstore.New()
		b.Cleanup(func() { _ = s.Close() })
		return s
	})
}

package storetest

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Bench runs the stores' hot paths as sub-benchmarks, the same code for
// every implementation so that their figures compare:
//
//   - RecordSubmission/seq and /parallel: a send to one recipient (one
//     message, two events, the sender binding already there), as
//     SubmitWhatsApp writes it;
//   - AuthContext/seq and /parallel: what every authenticated request reads.
//
// open must return a new, empty store and arrange for it to be closed.
func Bench(b *testing.B, open func(b *testing.B) state.Store) {
	setup := func(b *testing.B) state.Store {
		b.Helper()
		s := open(b)
		ctx := context.Background()
		must(b, s.CreateAccount(ctx, validAccount("IW0000001")))
		must(b, s.CreateApp(ctx, validApp("IW0000001", "AppOne00000000001")))
		must(b, s.IssueToken(ctx, validToken("AppOne00000000001", "bench", t0)))
		must(b, s.CreateWebhook(ctx, validWebhook("AppOne00000000001", state.ProductWhatsApp)))
		return s
	}
	// submission makes the i-th submission; ids only need to be unique.
	submission := func(i int64) state.Submission {
		id := strconv.FormatInt(i, 10)
		sub := validSubmission("IW0000001", "AppOne00000000001", "1"+id, "e"+id+"-")
		now := time.Now()
		for j := range sub.Events {
			sub.Events[j].NextAttemptAt = now.Add(time.Duration(j+1) * time.Second)
		}
		return sub
	}
	b.Run("RecordSubmission/seq", func(b *testing.B) {
		s := setup(b)
		ctx := context.Background()
		var i int64
		b.ReportAllocs()
		for b.Loop() {
			i++
			must(b, s.RecordSubmission(ctx, submission(i)))
		}
	})
	b.Run("RecordSubmission/parallel", func(b *testing.B) {
		s := setup(b)
		ctx := context.Background()
		var n atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(8) // request handlers block on the store, so many per core
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.RecordSubmission(ctx, submission(n.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("AuthContext/seq", func(b *testing.B) {
		s := setup(b)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, ok, err := s.AuthContext(ctx, "AppOne00000000001"); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("AuthContext/parallel", func(b *testing.B) {
		s := setup(b)
		ctx := context.Background()
		b.ReportAllocs()
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, _, ok, err := s.AuthContext(ctx, "AppOne00000000001"); err != nil || !ok {
					b.Error(ok, err)
					return
				}
			}
		})
	})
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// HeapInUse is the live heap after a full collection (two: the first may
// leave finalizers' objects for the second), for measures of what a store
// or a server keeps.
func HeapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

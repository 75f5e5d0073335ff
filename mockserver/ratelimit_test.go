package mockserver

import (
	"strconv"
	"testing"

	"github.com/innosandbox/innosandbox/internal/clock"
)

// BenchmarkRateLimiterAllow is the limiter's cost per public call: one
// bucket looked up and one token taken, from many goroutines over 64 apps.
func BenchmarkRateLimiterAllow(b *testing.B) {
	l := newRateLimiter(1e9, 1e9, clock.Real{})
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = "App" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if ok, _ := l.allow(keys[i%len(keys)]); !ok {
				b.Fatal("refused")
			}
			i++
		}
	})
}

func TestRateLimiterSweepsIdleBuckets(t *testing.T) {
	clk := clock.NewFake(clock.Real{}.Now())
	l := newRateLimiter(10, 1, clk)
	for i := range 1024 {
		l.allow("App" + strconv.Itoa(i))
	}
	if n := l.n.Load(); n != 1024 {
		t.Fatalf("buckets: %d", n)
	}
	clk.Advance(1e9) // every bucket is full again: its caller is idle
	l.allow("another")
	if n := l.n.Load(); n != 1 {
		t.Fatalf("after the sweep: %d buckets, want only the new one", n)
	}
}

package replicas_test

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkDueNowAcrossReplicas measures how long a push raised on a
// replica whose dispatcher takes nothing (stopped, as if saturated) waits
// for another replica to deliver it: from the raising request to the push's
// arrival at the receiver, one push at a time, the dispatchers polling at
// their default interval (1 s). Reported: p50-ms and p99-ms.
func BenchmarkDueNowAcrossReplicas(b *testing.B) {
	a, other := pair(b, options{poll: time.Second})
	recv := newArrivals(b, 0)
	a.hookInbound(recv.srv.URL)
	a.srv.StopDispatching()
	var waits []time.Duration
	for b.Loop() {
		began := time.Now()
		a.inbound()
		recv.next(b, 30*time.Second, "the other replica did not deliver")
		waits = append(waits, time.Since(began))
	}
	if other.sent.Load() != int64(len(waits)) {
		b.Fatalf("the other replica pushed %d of %d", other.sent.Load(), len(waits))
	}
	slices.Sort(waits)
	at := func(q float64) float64 {
		return float64(waits[int(q*float64(len(waits)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

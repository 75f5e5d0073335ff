package storetest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// ClaimSizes are the backlogs BenchClaim measures: a claim must cost the
// same at each (the outbox is a queue ordered by due time, not a scan).
var ClaimSizes = []int{10_000, 100_000, 1_000_000}

// claimBatch is what a dispatcher claims at once (its free workers).
const claimBatch = 32

// BenchClaim measures ClaimDue with a backlog of n pending, due events for
// each n in sizes, as a dispatcher meets it: each iteration claims
// claimBatch events and records a retry for each that makes it due again
// behind the backlog, so the backlog keeps its size. Reported beside
// ns/op (claim and records): ns/claim, the claim alone.
//
//   - all: every destination may be claimed;
//   - excluding: the oldest half of the backlog goes to a destination the
//     dispatcher is saturated with, which it excludes; the claim must not
//     walk those events to find the others.
//
// open must return a new, empty store and arrange for it to be closed.
func BenchClaim(b *testing.B, sizes []int, open func(b *testing.B) state.Store) {
	for _, n := range sizes {
		for _, mode := range []string{"all", "excluding"} {
			b.Run(fmt.Sprintf("pending=%d/%s", n, mode), func(b *testing.B) {
				benchClaim(b, open(b), n, mode == "excluding")
			})
		}
	}
}

func benchClaim(b *testing.B, s state.Store, n int, exclude bool) {
	ctx := context.Background()
	must(b, s.CreateAccount(ctx, validAccount("IW0000001")))
	must(b, s.CreateApp(ctx, validApp("IW0000001", "AppOne00000000001")))
	const slowURL, fastURL = "http://slow.example:8080/hook", "http://fast.example:8080/hook"
	// Due times one microsecond apart, all in the past: the first half
	// (oldest) to the slow destination, the rest to the fast one.
	base := time.Now().Add(-time.Hour).Truncate(time.Microsecond)
	const batch = 2000
	events := make([]state.Event, 0, batch)
	for i := 0; i < n; i++ {
		e := pendingEvent("ev"+strconv.Itoa(i), "IW0000001", "AppOne00000000001", base.Add(time.Duration(i)*time.Microsecond))
		e.Payload = []byte(`{"id":"` + e.ID + `"}`)
		e.Chaos = nil
		if i < n/2 {
			e.Target.URL = slowURL
		} else {
			e.Target.URL = fastURL
		}
		events = append(events, e)
		if len(events) == batch || i == n-1 {
			must(b, s.AddEvents(ctx, events))
			events = events[:0]
		}
	}
	var excluded []string
	if exclude {
		excluded = []string{state.Destination(slowURL)}
	}
	now := time.Now()
	lease := now.Add(time.Hour)
	// Retries go behind the backlog, due one microsecond apart again.
	requeue := base.Add(time.Duration(n) * time.Microsecond)
	batcher, _ := s.(state.AttemptBatcher)
	var claiming time.Duration
	var claims int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		got, err := s.ClaimDue(ctx, now, claimBatch, "bench", lease, excluded)
		claiming += time.Since(start)
		claims++
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != claimBatch {
			b.Fatalf("claimed %d events, want %d", len(got), claimBatch)
		}
		rs := make([]state.AttemptResult, len(got))
		for i, e := range got {
			if exclude && e.Target.URL == slowURL {
				b.Fatalf("claimed %s of the excluded destination", e.ID)
			}
			requeue = requeue.Add(time.Microsecond)
			rs[i] = state.AttemptResult{
				Attempt: state.Attempt{EventID: e.ID, N: e.Attempts + 1, StartedAt: now, Method: "POST", URL: e.Target.URL,
					ResponseStatus: 503, Outcome: "retry"},
				Owner: "bench", Status: state.EventPending, Reason: "HTTP 503", NextAttemptAt: requeue,
			}
		}
		if batcher != nil {
			for _, err := range batcher.RecordAttempts(ctx, rs) {
				must(b, err)
			}
			continue
		}
		for _, r := range rs {
			must(b, s.RecordAttempt(ctx, r))
		}
	}
	b.ReportMetric(float64(claiming.Nanoseconds())/float64(claims), "ns/claim")
}

// BenchCountPending measures what a send's pending-deliveries quota check
// costs (Store.CountOwned of state.ResourcePending), with n events pending
// for the account: the check runs on every send while the quota is on.
func BenchCountPending(b *testing.B, sizes []int, open func(b *testing.B) state.Store) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			must(b, s.CreateAccount(ctx, validAccount("IW0000001")))
			must(b, s.CreateApp(ctx, validApp("IW0000001", "AppOne00000000001")))
			base := time.Now().Add(time.Hour).Truncate(time.Microsecond)
			const batch = 2000
			events := make([]state.Event, 0, batch)
			for i := 0; i < n; i++ {
				e := pendingEvent("ev"+strconv.Itoa(i), "IW0000001", "AppOne00000000001", base.Add(time.Duration(i)*time.Microsecond))
				e.Chaos = nil
				events = append(events, e)
				if len(events) == batch || i == n-1 {
					must(b, s.AddEvents(ctx, events))
					events = events[:0]
				}
			}
			b.ResetTimer()
			for b.Loop() {
				got, err := s.CountOwned(ctx, "IW0000001", state.ResourcePending)
				must(b, err)
				if got != n {
					b.Fatalf("counted %d pending, want %d", got, n)
				}
			}
		})
	}
}

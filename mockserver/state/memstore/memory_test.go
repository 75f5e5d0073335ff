package memstore_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/mockserver/state/storetest"
)

// BenchmarkPendingMemory measures what the store keeps per pending
// delivery beyond its payload (the target: at most 1 KiB): the heap after
// adding 100,000 pending events as a send writes them, minus the heap
// before, minus their payloads, per event. Reported as B/pending.
func BenchmarkPendingMemory(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	user, auth := "hook-user", "Basic aG9vay11c2VyOnNlY3JldA=="
	payload := len(`{"id":"`) + 36 + 260 // an id and a status body's worth of JSON
	var perEvent float64
	for b.Loop() {
		s := memstore.New()
		if err := s.CreateAccount(ctx, state.Account{Name: "IW0000001", CreatedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
		before := storetest.HeapInUse()
		now := time.Now()
		for i := 0; i < n; i += 2 {
			// Two events per send, as a WhatsApp send raises (accepted,
			// then sent); each built afresh, as a request would.
			evs := make([]state.Event, 2)
			for j := range evs {
				id := state.NewEventID(now)
				evs[j] = state.Event{
					ID: id, Account: "IW0000001", Type: state.EventWAStatus, Product: state.ProductWhatsApp,
					AppKey: "AppOne00000000001", Route: "sender", Status: state.EventPending,
					Payload: []byte(`{"id":"` + id + strings.Repeat(" ", 260)),
					Target: &state.Target{URL: "http://127.0.0.1:9000/hooks/whatsapp", Method: "POST",
						Username: &user, Authorization: &auth},
					DueAt: now, NextAttemptAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
				}
			}
			if err := s.AddEvents(ctx, evs); err != nil {
				b.Fatal(err)
			}
		}
		after := storetest.HeapInUse()
		perEvent = float64(after-before)/n - float64(payload)
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perEvent, "B/pending")
}

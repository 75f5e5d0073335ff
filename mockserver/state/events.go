package state

import (
	"context"
	"time"

	"github.com/innosandbox/innosandbox/internal/payload"
)

// newEvent prepares an event of the account due at sandbox time 'due'.
func (s *Sandbox) newEvent(acct Account, typ, product string, due time.Time) Event {
	return s.newEventWith(acct, typ, product, due, s.clock.Now(), payload.RandomBytes(payload.UUIDRandom))
}

// newEventWith is newEvent with the real time and the id's random bytes
// given, for sends that make thousands of events at once.
func (s *Sandbox) newEventWith(acct Account, typ, product string, due, now time.Time, random []byte) Event {
	return Event{
		ID: payload.UUIDFrom(now, random), Account: acct.Name, Type: typ, Product: product,
		DueAt: due, NextAttemptAt: due.Add(-acct.ClockOffset), CreatedAt: now, UpdatedAt: now,
	}
}

// ListEvents lists an account's events.
func (s *Sandbox) ListEvents(ctx context.Context, f EventFilter) ([]Event, error) {
	return s.store.ListEvents(ctx, f)
}

package state

import (
	"context"
	"errors"
	"fmt"
)

// Replay queues a delivered or failed event again, due now, with its id.
func (s *Sandbox) Replay(ctx context.Context, id string) (Event, error) {
	e, _, err := s.store.GetEvent(ctx, id)
	if err != nil {
		return Event{}, err
	}
	if e.Status != EventDelivered && e.Status != EventFailed {
		return Event{}, fmt.Errorf("event %s is %s; only delivered or failed events can be replayed: %w", id, e.Status, ErrConflict)
	}
	if err := s.checkQuota(ctx, e.Account, ResourcePending, 1); err != nil {
		return Event{}, err
	}
	if err := s.store.Requeue(ctx, id, s.clock.Now()); err != nil {
		return Event{}, err
	}
	s.notify()
	e, _, err = s.store.GetEvent(ctx, id)
	return e, err
}

// ReplayDeadLetters queues every dead letter (failed delivery) of an app
// again, due now, each with its event id, and returns them as queued.
// ErrNotFound when the app does not exist. Deliveries that fail again while
// this runs are not replayed twice.
func (s *Sandbox) ReplayDeadLetters(ctx context.Context, appKey string) ([]Event, error) {
	app, err := s.store.GetApp(ctx, appKey)
	if err != nil {
		return nil, err
	}
	const page = 500
	seen := map[string]bool{}
	var out []Event
	for {
		list, err := s.store.ListEvents(ctx, EventFilter{Account: app.Account, AppKey: appKey, Status: EventFailed, Limit: page})
		if err != nil {
			return out, err
		}
		fresh := 0
		for _, e := range list {
			if seen[e.ID] {
				continue
			}
			seen[e.ID] = true
			fresh++
			if err := s.checkQuota(ctx, e.Account, ResourcePending, 1); err != nil {
				return out, err
			}
			if err := s.store.Requeue(ctx, e.ID, s.clock.Now()); err != nil {
				if errors.Is(err, ErrNotFound) {
					continue // replayed or removed meanwhile
				}
				return out, err
			}
			e.Status, e.Reason, e.NextAttemptAt = EventPending, "", s.clock.Now()
			out = append(out, e)
		}
		if len(out) > 0 {
			s.notify()
		}
		if len(list) < page || fresh == 0 {
			return out, nil
		}
	}
}

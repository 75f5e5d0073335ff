package state

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Delivery chaos: a webhook configuration may ask for its deliveries to be
// delayed, duplicated, reordered or lost once, so that a developer can
// prove a receiver idempotent and order-tolerant. The decisions are drawn
// when an event is routed, from a generator seeded with the configuration's
// seed and advanced per routed event of that webhook, so a sequential run
// repeats exactly. Delay and reorder move the event's NextAttemptAt;
// duplicate and drop are recorded on the event (Event.Chaos) for the
// dispatcher, which performs them.

// Limits of the chaos and retry settings.
const (
	MaxChaosDelay    = time.Hour
	MaxRetryAttempts = 100
	MaxRetryInterval = 24 * time.Hour
	MaxRetryGrowth   = 10.0
)

// checkRetry refuses a retry policy that cannot work, naming the field.
func checkRetry(r *RetryPolicy) error {
	switch {
	case r == nil:
		return nil
	case r.MaxAttempts < 1 || r.MaxAttempts > MaxRetryAttempts:
		return invalid("/retry/maxAttempts", "must be 1 to %d (attempts in all, the first included), got %d", MaxRetryAttempts, r.MaxAttempts)
	case r.Initial <= 0 || r.Initial > MaxRetryInterval:
		return invalid("/retry/initial", "must be a positive duration of at most %s, got %s", MaxRetryInterval, r.Initial)
	case math.IsNaN(r.Multiplier) || r.Multiplier < 1 || r.Multiplier > MaxRetryGrowth:
		return invalid("/retry/multiplier", "must be 1 to %g, got %g", MaxRetryGrowth, r.Multiplier)
	case r.MaxInterval < r.Initial || r.MaxInterval > MaxRetryInterval:
		return invalid("/retry/maxInterval", "must be at least initial (%s) and at most %s, got %s", r.Initial, MaxRetryInterval, r.MaxInterval)
	}
	return nil
}

// checkChaos refuses chaos settings that cannot work, naming the field.
func checkChaos(c *Chaos) error {
	if c == nil {
		return nil
	}
	if c.Delay < 0 || c.Delay > MaxChaosDelay {
		return invalid("/chaos/delay", "must be a duration from 0 to %s, got %s", MaxChaosDelay, c.Delay)
	}
	for _, p := range []struct {
		field string
		v     float64
	}{{"/chaos/duplicate", c.Duplicate}, {"/chaos/reorder", c.Reorder}, {"/chaos/drop", c.Drop}} {
		if math.IsNaN(p.v) || p.v < 0 || p.v > 1 {
			return invalid(p.field, "is a probability: 0 to 1, got %g", p.v)
		}
	}
	return nil
}

// chaosTag travels on an event from routing to the store write: which
// webhook configuration (and which version of it) asked for chaos.
type chaosTag struct {
	key     string    // app and product
	version time.Time // the configuration's UpdatedAt
	cfg     Chaos
}

func tagFor(w *Webhook) *chaosTag {
	if w == nil || w.Chaos == nil {
		return nil
	}
	return &chaosTag{key: w.AppKey + "\x00" + w.Product, version: w.UpdatedAt, cfg: *w.Chaos}
}

// chaosBook keeps one generator per webhook configuration with chaos.
type chaosBook struct {
	mu      sync.Mutex
	streams map[string]*chaosStream
}

type chaosStream struct {
	version time.Time
	cfg     Chaos
	rng     *rand.Rand
}

// chaosDraw is what chaos decided for one event.
type chaosDraw struct {
	delay                    time.Duration
	duplicate, reorder, drop bool
}

// seedStream is a fixed second word for PCG: the configuration's seed is
// the first, so equal seeds give equal runs.
const seedStream = 0x9e3779b97f4a7c15

// draw advances the webhook's generator by one event. Four numbers are
// drawn for every event whatever the settings, so that changing one
// probability does not shift the others' decisions.
func (b *chaosBook) draw(t *chaosTag) chaosDraw {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.streams == nil {
		b.streams = map[string]*chaosStream{}
	}
	st, ok := b.streams[t.key]
	if !ok || !st.version.Equal(t.version) || st.cfg != t.cfg {
		st = &chaosStream{version: t.version, cfg: t.cfg, rng: rand.New(rand.NewPCG(uint64(t.cfg.Seed), seedStream))}
		b.streams[t.key] = st
	}
	delay, dup, reo, drop := st.rng.Float64(), st.rng.Float64(), st.rng.Float64(), st.rng.Float64()
	return chaosDraw{
		delay:     time.Duration(delay * float64(t.cfg.Delay)).Truncate(time.Millisecond),
		duplicate: dup < t.cfg.Duplicate,
		reorder:   reo < t.cfg.Reorder,
		drop:      drop < t.cfg.Drop,
	}
}

// apply draws for each pending event routed to a webhook with chaos, in
// order, and applies the draw: delay moves NextAttemptAt later (eventTime
// stays: the event happened then, the network was slow); duplicate and
// drop are set on Event.Chaos for the dispatcher. Reorder works on the
// events of one write that report on one recipient's message (a send's
// delivered and read): when the first one's draw says so, their times are
// handed out in reverse, so read comes before delivered.
func (b *chaosBook) apply(events []Event) {
	type group struct {
		idx     []int
		reorder bool
	}
	var groups map[string]*group
	var order []string
	for i := range events {
		e := &events[i]
		t := e.chaos
		e.chaos = nil
		if t == nil || e.Status != EventPending {
			continue
		}
		d := b.draw(t)
		e.NextAttemptAt = e.NextAttemptAt.Add(d.delay)
		if d.duplicate || d.drop {
			e.Chaos = &EventChaos{Duplicate: d.duplicate, Drop: d.drop}
		}
		if t.cfg.Reorder == 0 {
			continue
		}
		k := recipientOf(e)
		if k == "" {
			continue
		}
		k = t.key + "\x00" + k
		if groups == nil {
			groups = map[string]*group{}
		}
		g, ok := groups[k]
		if !ok {
			g = &group{reorder: d.reorder}
			groups[k] = g
			order = append(order, k)
		}
		g.idx = append(g.idx, i)
	}
	for _, k := range order {
		g := groups[k]
		if !g.reorder || len(g.idx) < 2 {
			continue
		}
		times := make([]time.Time, len(g.idx))
		for j, i := range g.idx {
			times[j] = events[i].NextAttemptAt
		}
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		for j, i := range g.idx {
			events[i].NextAttemptAt = times[len(times)-1-j]
		}
	}
}

// recipientOf names the message and recipient a status report is about
// (its wamid); "" for other events.
func recipientOf(e *Event) string {
	if e.Type != EventWAStatus {
		return ""
	}
	var p struct {
		Body struct{ Wamid string } `json:"body"`
	}
	if json.Unmarshal(e.Payload, &p) != nil {
		return ""
	}
	return p.Body.Wamid
}

// chaosStore applies chaos to the events written through it. Every path
// that raises events (sends, inbound, triggers, and whatever is added
// later) writes them with AddEvents or RecordSubmission, so wrapping the
// store applies chaos to all of them without each path having to ask.
type chaosStore struct {
	Store
	book *chaosBook
}

// AddEvents implements Store.
func (c chaosStore) AddEvents(ctx context.Context, events []Event) error {
	c.book.apply(events)
	return c.Store.AddEvents(ctx, events)
}

// RecordSubmission implements Store.
func (c chaosStore) RecordSubmission(ctx context.Context, s Submission) error {
	c.book.apply(s.Events)
	return c.Store.RecordSubmission(ctx, s)
}

// String names the wrapped store (the server shows it when no kind is given).
func (c chaosStore) String() string { return fmt.Sprint(c.Store) }

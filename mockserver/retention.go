package mockserver

import (
	"context"
	"time"
)

// Retention bounds the delivery log: finished events (delivered, failed,
// dropped) with their attempts, and sent messages. Pending events are never
// removed. Zero values turn a bound off.
type Retention struct {
	// MaxAge removes finished events last updated, and messages created,
	// longer ago than this (real time).
	MaxAge time.Duration
	// Keep keeps at most this many finished events and messages, the
	// newest.
	Keep int
	// Interval is how often the janitor runs (1m).
	Interval time.Duration
}

// Retention defaults of `serve` (see docs/DECISIONS.md).
const (
	DefaultRetentionAge      = 24 * time.Hour
	DefaultRetentionKeep     = 100_000
	DefaultRetentionInterval = time.Minute
)

func (r Retention) enabled() bool { return r.MaxAge > 0 || r.Keep > 0 }

// janitor applies the retention policy every Interval until ctx ends.
func (s *Server) janitor(ctx context.Context) {
	r := s.cfg.Retention
	if !r.enabled() {
		return
	}
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultRetentionInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.Prune(ctx)
		select {
		case <-ctx.Done():
			return
		case <-s.stopJanitor:
			return
		case <-t.C:
		}
	}
}

// Prune applies the retention policy once and returns how many events it
// removed.
func (s *Server) Prune(ctx context.Context) int {
	r := s.cfg.Retention
	if !r.enabled() {
		return 0
	}
	before := time.Time{}
	if r.MaxAge > 0 {
		before = s.cfg.Clock.Now().Add(-r.MaxAge)
	}
	n, err := s.store.Prune(ctx, before, r.Keep)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("pruning the delivery log failed; retried at the next interval", "err", err)
		}
		return 0
	}
	if n > 0 {
		s.metrics.pruned.Add(float64(n))
		s.log.Debug("pruned the delivery log", "events", n)
	}
	return n
}

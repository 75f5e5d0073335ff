package certify

import (
	"context"
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/internal/clock"
)

// window is a sliding-window rate limiter: at most n pushes in any one
// second, which is exactly the bound printed before a run. (A token bucket
// allows its burst on top of its rate, so the printed bound would be false.)
// A burst of up to n goes out at once.
type window struct {
	mu    sync.Mutex
	times []time.Duration // when the last n pushes went, as a ring
	next  int
	used  int
	now   func() time.Duration
	sleep func(context.Context, time.Duration) error
}

// newWindow returns a limiter of n a second. now and sleep are seams for
// tests; nil means a monotonic stopwatch and a real sleep.
func newWindow(n int, now func() time.Duration, sleep func(context.Context, time.Duration) error) *window {
	if now == nil {
		sw := clock.Start()
		now = sw.Elapsed
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	return &window{times: make([]time.Duration, n), now: now, sleep: sleep}
}

// wait blocks until one more push fits in the window, and counts it.
func (w *window) wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		w.mu.Lock()
		now := w.now()
		if w.used < len(w.times) || now-w.times[w.next] >= time.Second {
			w.times[w.next] = now
			w.next = (w.next + 1) % len(w.times)
			w.used = min(w.used+1, len(w.times))
			w.mu.Unlock()
			return nil
		}
		// The oldest of the last n pushes leaves the window at this time.
		d := time.Second - (now - w.times[w.next])
		w.mu.Unlock()
		if err := w.sleep(ctx, d); err != nil {
			return err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

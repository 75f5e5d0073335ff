package mockserver

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/innosandbox/innosandbox/internal/clock"
)

// MsgRateLimited starts the answer to a public call over its AppKey's rate;
// the limit and the wait follow.
const MsgRateLimited = "too many requests for this AppKey"

// CodeRateLimited is the envelope code of a call refused for its rate: the
// HTTP status, as for the sandbox's other refusals of its own.
const CodeRateLimited = "429"

// rateLimiter is one token bucket per AppKey (golang.org/x/time/rate) on
// the sandbox clock, so that one app's flood cannot take the public API
// from the others. Buckets are made for authenticated apps only, so their
// number follows the apps; full ones (idle callers) are dropped when the
// map has grown, so it does not keep every app that ever called.
type rateLimiter struct {
	limit rate.Limit
	burst int
	clock clock.Clock

	buckets sync.Map // AppKey -> *rate.Limiter; read without a lock on every call
	n       atomic.Int64
	sweepMu sync.Mutex
	sweepAt atomic.Int64 // sweep the full buckets when there are this many
}

// newRateLimiter returns nil (no limit) when perSecond is not positive.
func newRateLimiter(perSecond float64, burst int, clk clock.Clock) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	l := &rateLimiter{limit: rate.Limit(perSecond), burst: burst, clock: clk}
	l.sweepAt.Store(minSweep)
	return l
}

// minSweep is the fewest buckets worth a sweep.
const minSweep = 1024

// allow takes one token from appKey's bucket; when there is none it returns
// how long until there is.
func (l *rateLimiter) allow(appKey string) (bool, time.Duration) {
	now := l.clock.Now()
	v, ok := l.buckets.Load(appKey)
	if !ok {
		if l.n.Load() >= l.sweepAt.Load() {
			l.sweep(now)
		}
		var loaded bool
		if v, loaded = l.buckets.LoadOrStore(appKey, rate.NewLimiter(l.limit, l.burst)); !loaded {
			l.n.Add(1)
		}
	}
	b := v.(*rate.Limiter)
	if b.AllowN(now, 1) {
		return true, 0
	}
	// Refused: the wait is how long a reservation would take; cancelled,
	// as a refused call uses no token.
	r := b.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return false, max(d, time.Nanosecond)
}

// sweep drops the buckets that are full again (their callers are idle: a
// new bucket would be the same), then sets the next sweep at twice what is
// left.
func (l *rateLimiter) sweep(now time.Time) {
	l.sweepMu.Lock()
	defer l.sweepMu.Unlock()
	if l.n.Load() < l.sweepAt.Load() {
		return // another caller swept meanwhile
	}
	l.buckets.Range(func(k, v any) bool {
		if v.(*rate.Limiter).TokensAt(now) >= float64(l.burst) {
			l.buckets.Delete(k)
			l.n.Add(-1)
		}
		return true
	})
	l.sweepAt.Store(max(minSweep, 2*l.n.Load()))
}

// refusal is the answer to a call over its rate: HTTP 429 with the
// envelope, and Retry-After in whole seconds (at least 1).
func (l *rateLimiter) refusal(wait time.Duration) *reply {
	secs := int(math.Ceil(wait.Seconds()))
	rep := reply{status: http.StatusTooManyRequests, body: Envelope{Code: CodeRateLimited,
		Message: fmt.Sprintf("%s: at most %g per second (bursts of %d); try again in %d s", MsgRateLimited, float64(l.limit), l.burst, max(secs, 1))}}.
		with("Retry-After", strconv.Itoa(max(secs, 1)))
	return &rep
}

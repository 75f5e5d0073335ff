package mockserver

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
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

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	sweepAt int // sweep the full buckets when the map reaches this size
}

// newRateLimiter returns nil (no limit) when perSecond is not positive.
func newRateLimiter(perSecond float64, burst int, clk clock.Clock) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	return &rateLimiter{limit: rate.Limit(perSecond), burst: burst, clock: clk, buckets: map[string]*rate.Limiter{}, sweepAt: 1024}
}

// allow takes one token from appKey's bucket; when there is none it returns
// how long until there is.
func (l *rateLimiter) allow(appKey string) (bool, time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	b := l.buckets[appKey]
	if b == nil {
		if len(l.buckets) >= l.sweepAt {
			l.sweep(now)
		}
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[appKey] = b
	}
	l.mu.Unlock()
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now) // a refused call uses no token
		return false, d
	}
	return true, 0
}

// sweep drops the buckets that are full again (their callers are idle: a
// new bucket would be the same), then sets the next sweep at twice what is
// left. l.mu is held.
func (l *rateLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	l.sweepAt = max(1024, 2*len(l.buckets))
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

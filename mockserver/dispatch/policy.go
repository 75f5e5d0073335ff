package dispatch

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Schedule says how often and how far apart a delivery is tried.
//
// The default mirrors the only retry rule InnoPaaS documents (the older SMS
// pages: three attempts, a minute apart), made exponential so that a longer
// schedule backs off: attempts at 0, +1 min, +2 min, then the delivery is a
// dead letter. No jitter by default, so that a run on the sandbox clock is
// repeatable.
type Schedule struct {
	MaxAttempts int           // attempts in all, the first included (3)
	Initial     time.Duration // wait after the first failure (1m)
	Multiplier  float64       // growth of the wait per further failure (2)
	MaxInterval time.Duration // cap on one wait (10m)
	Jitter      float64       // randomisation factor, 0 to 1 (0)
}

// DefaultSchedule is the schedule used when none is configured.
var DefaultSchedule = Schedule{MaxAttempts: 3, Initial: time.Minute, Multiplier: 2, MaxInterval: 10 * time.Minute}

// Validate reports a schedule that cannot work.
func (s Schedule) Validate() error {
	switch {
	case s.MaxAttempts < 1:
		return fmt.Errorf("retry attempts must be at least 1, got %d", s.MaxAttempts)
	case s.Initial <= 0:
		return fmt.Errorf("retry initial interval must be positive, got %s", s.Initial)
	case s.Multiplier < 1:
		return fmt.Errorf("retry multiplier must be at least 1, got %g", s.Multiplier)
	case s.MaxInterval < s.Initial:
		return fmt.Errorf("retry max interval (%s) must be at least the initial interval (%s)", s.MaxInterval, s.Initial)
	case s.Jitter < 0 || s.Jitter > 1:
		return fmt.Errorf("retry jitter must be between 0 and 1, got %g", s.Jitter)
	}
	return nil
}

// Wait returns how long to wait after failed attempt n (1-based) before the
// next one.
func (s Schedule) Wait(n int) time.Duration {
	b := &backoff.ExponentialBackOff{
		InitialInterval: s.Initial, RandomizationFactor: s.Jitter,
		Multiplier: s.Multiplier, MaxInterval: s.MaxInterval,
	}
	b.Reset()
	d := b.NextBackOff()
	for i := 1; i < n; i++ {
		d = b.NextBackOff()
	}
	return d
}

// Verdict is what one attempt's answer means for the delivery.
type Verdict int

// Verdicts.
const (
	Delivered Verdict = iota // 2xx
	Retry                    // worth another attempt, if any are left
	Gone                     // 410: the receiver asks never to be sent this again
)

// Judge classifies an attempt: any 2xx is delivered, 410 is gone, every
// other answer, a timeout or a connection error is worth a retry.
func Judge(status int, err error) Verdict {
	switch {
	case err != nil:
		return Retry
	case status >= 200 && status < 300:
		return Delivered
	case status == http.StatusGone:
		return Gone
	default:
		return Retry
	}
}

// maxRetryAfter bounds what a receiver may ask for, so that a bogus header
// cannot park a delivery for years.
const maxRetryAfter = 24 * time.Hour

// RetryAfter reads a Retry-After header (seconds or an HTTP date) sent with
// 429 or 503; ok is false when there is none worth honouring.
func RetryAfter(status int, h http.Header, now time.Time) (time.Duration, bool) {
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return 0, false
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	if d < 0 {
		d = 0
	}
	if d > maxRetryAfter {
		d = maxRetryAfter
	}
	return d, true
}

package state

import (
	"context"
	"time"
)

// Now returns the account's sandbox time.
func (s *Sandbox) Now(a Account) time.Time { return s.clock.Now().Add(a.ClockOffset) }

// RealNow returns the real time (the clock without any account's offset).
func (s *Sandbox) RealNow() time.Time { return s.clock.Now() }

// MaxClockOffset bounds how far an account's sandbox clock may run from
// real time, either way. time.Duration reaches only about 292 years, so
// without a bound a clock moved far enough would saturate (PUT answered a
// time other than the one asked for) or wrap around (two advances into
// the future landed in the past).
const MaxClockOffset = 100 * 365 * 24 * time.Hour

// AdvanceClock moves the account's sandbox clock forward by d (d > 0).
func (s *Sandbox) AdvanceClock(ctx context.Context, account string, d time.Duration) (Account, error) {
	if d <= 0 {
		return Account{}, invalid("/by", "must be a positive duration, got %s", d)
	}
	a, err := s.store.GetAccount(ctx, account)
	if err != nil {
		return Account{}, err
	}
	if d > MaxClockOffset-a.ClockOffset {
		return Account{}, invalid("/by", "%s would take the sandbox clock (now %s) more than 100 years past real time",
			d, s.Now(a).Format(time.RFC3339))
	}
	a, err = s.store.ShiftClock(ctx, account, d)
	if err == nil {
		s.notify()
	}
	return a, err
}

// SetClock moves the account's sandbox clock to t (forward or back), at
// most MaxClockOffset from real time.
func (s *Sandbox) SetClock(ctx context.Context, account string, t time.Time) (Account, error) {
	a, err := s.store.GetAccount(ctx, account)
	if err != nil {
		return Account{}, err
	}
	if off := t.Sub(s.clock.Now()); off > MaxClockOffset || off < -MaxClockOffset {
		return Account{}, invalid("/now", "%s is more than 100 years from real time", t.UTC().Format(time.RFC3339))
	}
	a, err = s.store.ShiftClock(ctx, account, t.Sub(s.Now(a)))
	if err == nil {
		s.notify()
	}
	return a, err
}

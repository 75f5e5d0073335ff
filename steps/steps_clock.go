package steps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cucumber/godog"
)

// Steps of clock.feature (and the clock moves other features make): every
// account has a sandbox clock of its own, which a scenario moves on.

// registerClock binds clock.feature's steps.
func (w *world) registerClock(sc *godog.ScenarioContext) {
	sc.Step(`^the sandbox clock moves on (\d+) (seconds?|minutes?|hours?|days?|years?)$`, w.theSandboxClockMovesOn)
	sc.Step(`^I try to move the sandbox clock on (\d+) (seconds?|minutes?|hours?|days?|years?)$`, w.iTryToMoveTheSandboxClockOn)
	sc.Step(`^another account$`, w.anotherAccount)
	sc.Step(`^my account's clock is (\d+) days ahead of (the other account's|real time)$`, w.myAccountsClockIsAhead)
}

// clockOffset reads how far an account's clock runs ahead of real time.
func (w *world) clockOffset(ctx context.Context, account string) (time.Duration, error) {
	var c struct {
		Offset string `json:"offset"`
	}
	if _, err := w.controlAs(ctx, account, http.MethodGet, "/_sandbox/clock", nil, &c, http.StatusOK); err != nil {
		return 0, err
	}
	return time.ParseDuration(c.Offset)
}

// advanceClock moves the scenario's account's clock on.
func (w *world) advanceClock(ctx context.Context, n int, unit string, want ...int) (*Exchange, error) {
	d, err := parseSpan(n, unit)
	if err != nil {
		return nil, err
	}
	if err := w.ensureAccount(ctx); err != nil {
		return nil, err
	}
	by := fmt.Sprintf("%dh%dm%ds", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
	return w.control(ctx, http.MethodPost, "/_sandbox/clock/advance", map[string]string{"by": by}, nil, want...)
}

// clockIn reads the time n units from now (n < 0: ago) on the scenario's
// account's sandbox clock.
func (w *world) clockIn(ctx context.Context, n int, unit string) (time.Time, error) {
	d, err := parseSpan(n, unit)
	if err != nil {
		return time.Time{}, err
	}
	now, err := w.clockNow(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return now.Add(d), nil
}

func (w *world) theSandboxClockMovesOn(ctx context.Context, n int, unit string) error {
	_, err := w.advanceClock(ctx, n, unit, http.StatusOK)
	return err
}

func (w *world) iTryToMoveTheSandboxClockOn(ctx context.Context, n int, unit string) error {
	var err error
	w.lastCtl, err = w.advanceClock(ctx, n, unit, http.StatusOK, http.StatusBadRequest)
	return err
}

func (w *world) anotherAccount(ctx context.Context) error {
	if err := w.ensureAccount(ctx); err != nil {
		return err
	}
	name, err := w.newAccount(ctx)
	if err == nil {
		w.others = append(w.others, name)
	}
	return err
}

func (w *world) myAccountsClockIsAhead(ctx context.Context, days int, of string) error {
	if err := w.ensureAccount(ctx); err != nil {
		return err
	}
	mine, err := w.clockOffset(ctx, w.account)
	if err != nil {
		return err
	}
	var base time.Duration
	if of != "real time" {
		if len(w.others) == 0 {
			return errors.New("no other account was created: a step 'another account' comes first")
		}
		if base, err = w.clockOffset(ctx, w.others[0]); err != nil {
			return err
		}
	}
	want := time.Duration(days) * 24 * time.Hour
	return expect(mine-base == want, "my clock should be %s ahead of %s, but it is %s (my clock's offset %s, the other's %s)", want, of, mine-base, mine, base)
}

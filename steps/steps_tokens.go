package steps

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var tokenRe = regexp.MustCompile(`^[A-Z0-9]{56}$`)

// tokenInfo is one entry of an app's token history.
type tokenInfo struct {
	Fingerprint string  `json:"fingerprint"`
	State       string  `json:"state"`
	ExpiresAt   *string `json:"expiresAt"`
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

func (w *world) registerTokens(sc *godog.ScenarioContext) {
	sc.Step(`^my app has a token that expires in (\d+) (seconds?|minutes?|hours?|days?|years?)$`, func(ctx context.Context, n int, unit string) error {
		if err := w.need(ctx, CapControl); err != nil {
			return err
		}
		a, err := w.myApp(ctx)
		if err != nil {
			return err
		}
		at, err := w.clockIn(ctx, n, unit)
		if err != nil {
			return err
		}
		tok, err := w.issueToken(ctx, a, &at)
		if err != nil {
			return err
		}
		a.prev = "" // the first token of the scenario that matters
		require.NotNil(tOf(ctx), tok.ExpiresAt, "the token should have an expiry")
		return nil
	})
	sc.Step(`^my app has a token that never expires$`, func(ctx context.Context) error {
		if err := w.need(ctx, CapControl); err != nil {
			return err
		}
		a, err := w.myApp(ctx)
		if err != nil {
			return err
		}
		tok, err := w.issueToken(ctx, a, nil)
		if err != nil {
			return err
		}
		a.prev = ""
		assert.Nil(tOf(ctx), tok.ExpiresAt, "a token issued without an expiry never expires")
		return nil
	})
	sc.Step(`^my app's token was superseded by a newer one$`, func(ctx context.Context) error {
		if err := w.need(ctx, CapSuperseded); err != nil {
			return err
		}
		a, err := w.myApp(ctx)
		if err != nil {
			return err
		}
		if !w.innosandbox() {
			a.prev = w.s.cfg.Target.Credentials.SupersededToken
			return nil
		}
		_, err = w.issueToken(ctx, a, nil)
		return err
	})
	sc.Step(`^I issue a new token for my app$`, func(ctx context.Context) error {
		if err := w.need(ctx, CapControl); err != nil {
			return err
		}
		a, err := w.myApp(ctx)
		if err != nil {
			return err
		}
		w.issued, err = w.issueToken(ctx, a, nil)
		return err
	})
	sc.Step(`^I ask for a token for my app that expired (\d+) (seconds?|minutes?|hours?|days?|years?) ago$`, func(ctx context.Context, n int, unit string) error {
		a, err := w.myApp(ctx)
		if err != nil {
			return err
		}
		at, err := w.clockIn(ctx, -n, unit)
		if err != nil {
			return err
		}
		in := map[string]string{"expiresAt": at.UTC().Format(time.RFC3339)}
		w.lastCtl, err = w.control(ctx, http.MethodPost, "/_sandbox/apps/"+url.PathEscape(a.key)+"/tokens", in, nil, http.StatusCreated, http.StatusBadRequest)
		return err
	})
	sc.Step(`^I revoke my app's token$`, func(ctx context.Context) error {
		if err := w.need(ctx, CapControl); err != nil {
			return err
		}
		a, err := w.myApp(ctx)
		if err != nil {
			return err
		}
		if _, err := w.control(ctx, http.MethodDelete, "/_sandbox/apps/"+url.PathEscape(a.key)+"/tokens", nil, nil, http.StatusNoContent); err != nil {
			return err
		}
		a.prev, a.token = a.token, ""
		return nil
	})
	sc.Step(`^the sandbox clock moves on (\d+) (seconds?|minutes?|hours?|days?|years?)$`, func(ctx context.Context, n int, unit string) error {
		_, err := w.advanceClock(ctx, n, unit, http.StatusOK)
		return err
	})
	sc.Step(`^I try to move the sandbox clock on (\d+) (seconds?|minutes?|hours?|days?|years?)$`, func(ctx context.Context, n int, unit string) error {
		var err error
		w.lastCtl, err = w.advanceClock(ctx, n, unit, http.StatusOK, http.StatusBadRequest)
		return err
	})
	sc.Step(`^another account$`, func(ctx context.Context) error {
		if err := w.ensureAccount(ctx); err != nil {
			return err
		}
		name, err := w.newAccount(ctx)
		if err == nil {
			w.others = append(w.others, name)
		}
		return err
	})
	sc.Step(`^my account's clock is (\d+) days ahead of (the other account's|real time)$`, func(ctx context.Context, days int, of string) error {
		t := tOf(ctx)
		if err := w.ensureAccount(ctx); err != nil {
			return err
		}
		mine, err := w.clockOffset(ctx, w.account)
		if err != nil {
			return err
		}
		var base time.Duration
		if of != "real time" {
			require.NotEmpty(t, w.others, "no other account was created")
			if base, err = w.clockOffset(ctx, w.others[0]); err != nil {
				return err
			}
		}
		assert.Equal(t, time.Duration(days)*24*time.Hour, mine-base, "my clock's offset %s, the other's %s", mine, base)
		return nil
	})

	sc.Step(`^I am given a new token, different from the previous one$`, func(ctx context.Context) error {
		t := tOf(ctx)
		require.NotNil(t, w.issued, "no token was issued in this scenario")
		a := w.apps["my app"]
		assert.Regexp(t, tokenRe, w.issued.Token, "a token is 56 upper-case letters and digits")
		assert.Equal(t, a.key, w.issued.AppKey)
		assert.NotEqual(t, a.prev, w.issued.Token, "the new token must differ from the previous one")
		assert.Nil(t, w.issued.ExpiresAt, "issued without an expiry, it never expires")
		return nil
	})
	sc.Step(`^my app's token history shows the previous token as "(superseded|revoked|expired)"$`, func(ctx context.Context, st string) error {
		t := tOf(ctx)
		a, err := w.myApp(ctx)
		if err != nil {
			return err
		}
		var list []tokenInfo
		if _, err := w.control(ctx, http.MethodGet, "/_sandbox/apps/"+url.PathEscape(a.key)+"/tokens", nil, &list, http.StatusOK); err != nil {
			return err
		}
		require.GreaterOrEqual(t, len(list), 1, "the app should have tokens")
		prevIdx := 1
		if st == "revoked" {
			prevIdx = 0 // revoking leaves no newer token
		}
		require.Greater(t, len(list), prevIdx, "the app should have a previous token: %+v", list)
		assert.Equal(t, st, list[prevIdx].State, "the previous token's state in %+v", list)
		if prevIdx == 1 {
			assert.Equal(t, "current", list[0].State, "the newest token's state in %+v", list)
		}
		return nil
	})
}

package steps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/cucumber/godog"
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

// registerTokens binds tokens.feature's and clock.feature's steps.
func (w *world) registerTokens(sc *godog.ScenarioContext) {
	sc.Step(`^my app has a token that expires in (\d+) (seconds?|minutes?|hours?|days?|years?)$`, w.myAppHasATokenThatExpiresIn)
	sc.Step(`^my app has a token that never expires$`, w.myAppHasATokenThatNeverExpires)
	sc.Step(`^my app's token was superseded by a newer one$`, w.myAppsTokenWasSuperseded)
	sc.Step(`^I issue a new token for my app$`, w.iIssueANewTokenForMyApp)
	sc.Step(`^I ask for a token for my app that expired (\d+) (seconds?|minutes?|hours?|days?|years?) ago$`, w.iAskForATokenThatExpired)
	sc.Step(`^I revoke my app's token$`, w.iRevokeMyAppsToken)
	sc.Step(`^the sandbox clock moves on (\d+) (seconds?|minutes?|hours?|days?|years?)$`, w.theSandboxClockMovesOn)
	sc.Step(`^I try to move the sandbox clock on (\d+) (seconds?|minutes?|hours?|days?|years?)$`, w.iTryToMoveTheSandboxClockOn)
	sc.Step(`^another account$`, w.anotherAccount)
	sc.Step(`^my account's clock is (\d+) days ahead of (the other account's|real time)$`, w.myAccountsClockIsAhead)

	sc.Step(`^I am given a new token, different from the previous one$`, w.iAmGivenANewToken)
	sc.Step(`^my app's token history shows the previous token as "(superseded|revoked|expired)"$`, w.myAppsTokenHistoryShowsThePreviousTokenAs)
}

func (w *world) myAppHasATokenThatExpiresIn(ctx context.Context, n int, unit string) error {
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
	return expect(tok.ExpiresAt != nil, "the token should have an expiry, but it has none")
}

func (w *world) myAppHasATokenThatNeverExpires(ctx context.Context) error {
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
	return expect(tok.ExpiresAt == nil, "a token issued without an expiry never expires, but it expires at %s", show(tok.ExpiresAt))
}

func (w *world) myAppsTokenWasSuperseded(ctx context.Context) error {
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
}

func (w *world) iIssueANewTokenForMyApp(ctx context.Context) error {
	if err := w.need(ctx, CapControl); err != nil {
		return err
	}
	a, err := w.myApp(ctx)
	if err != nil {
		return err
	}
	w.issued, err = w.issueToken(ctx, a, nil)
	return err
}

func (w *world) iAskForATokenThatExpired(ctx context.Context, n int, unit string) error {
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
}

func (w *world) iRevokeMyAppsToken(ctx context.Context) error {
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

func (w *world) iAmGivenANewToken(context.Context) error {
	if w.issued == nil {
		return errors.New("no token was issued in this scenario")
	}
	a := w.apps["my app"]
	return errors.Join(
		expect(tokenRe.MatchString(w.issued.Token), "a token is 56 upper-case letters and digits, got %q", w.issued.Token),
		expectEqual("the token's app", a.key, w.issued.AppKey),
		expect(a.prev != w.issued.Token, "the new token must differ from the previous one, but both are %q", a.prev),
		expect(w.issued.ExpiresAt == nil, "issued without an expiry, it never expires, but it expires at %s", show(w.issued.ExpiresAt)),
	)
}

func (w *world) myAppsTokenHistoryShowsThePreviousTokenAs(ctx context.Context, st string) error {
	a, err := w.myApp(ctx)
	if err != nil {
		return err
	}
	var list []tokenInfo
	if _, err := w.control(ctx, http.MethodGet, "/_sandbox/apps/"+url.PathEscape(a.key)+"/tokens", nil, &list, http.StatusOK); err != nil {
		return err
	}
	if len(list) == 0 {
		return errors.New("the app should have tokens, but its history is empty")
	}
	prevIdx := 1
	if st == "revoked" {
		prevIdx = 0 // revoking leaves no newer token
	}
	if len(list) <= prevIdx {
		return fmt.Errorf("the app should have a previous token: %+v", list)
	}
	err = expectEqual(fmt.Sprintf("the previous token's state in %+v", list), st, list[prevIdx].State)
	if prevIdx == 1 {
		err = errors.Join(err, expectEqual(fmt.Sprintf("the newest token's state in %+v", list), "current", list[0].State))
	}
	return err
}

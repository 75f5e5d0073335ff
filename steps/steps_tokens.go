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

// registerTokens binds tokens.feature's steps.
func (w *world) registerTokens(sc *godog.ScenarioContext) {
	sc.Step(`^my app has a token that expires in (\d+) (seconds?|minutes?|hours?|days?|years?)$`, w.myAppHasATokenThatExpiresIn)
	sc.Step(`^my app has a token that never expires$`, w.myAppHasATokenThatNeverExpires)
	sc.Step(`^my app's token was superseded by a newer one$`, w.myAppsTokenWasSuperseded)
	sc.Step(`^I issue a new token for my app$`, w.iIssueANewTokenForMyApp)
	sc.Step(`^I ask for a token for my app that expired (\d+) (seconds?|minutes?|hours?|days?|years?) ago$`, w.iAskForATokenThatExpired)
	sc.Step(`^I revoke my app's token$`, w.iRevokeMyAppsToken)

	sc.Step(`^I am given a new token, different from the previous one$`, w.iAmGivenANewToken)
	sc.Step(`^my app's token history shows the previous token as "(superseded|revoked|expired)"$`, w.myAppsTokenHistoryShowsThePreviousTokenAs)
}

// myAppByControl returns my app for a step that manages its tokens
// through the control API (skipped where there is none).
func (w *world) myAppByControl(ctx context.Context) (*app, error) {
	if err := w.need(ctx, CapControl); err != nil {
		return nil, err
	}
	return w.myApp(ctx)
}

func (w *world) myAppHasATokenThatExpiresIn(ctx context.Context, n int, unit string) error {
	a, err := w.myAppByControl(ctx)
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
	a, err := w.myAppByControl(ctx)
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
	a, err := w.myAppByControl(ctx)
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
	a, err := w.myAppByControl(ctx)
	if err != nil {
		return err
	}
	if _, err := w.control(ctx, http.MethodDelete, "/_sandbox/apps/"+url.PathEscape(a.key)+"/tokens", nil, nil, http.StatusNoContent); err != nil {
		return err
	}
	a.prev, a.token = a.token, ""
	return nil
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

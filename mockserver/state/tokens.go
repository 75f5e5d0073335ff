package state

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"time"
)

// AuthReason says why a request failed authentication; "" means it passed.
type AuthReason string

// Why authentication fails. Reported only in the sandbox-only header
// X-Sandbox-Auth-Reason; every one of them gets the same response body.
const (
	ReasonAppKeyUnknown   AuthReason = "appkey-unknown"
	ReasonTokenInvalid    AuthReason = "token-invalid"
	ReasonTokenOtherApp   AuthReason = "token-other-app"
	ReasonTokenSuperseded AuthReason = "token-superseded"
	ReasonTokenRevoked    AuthReason = "token-revoked"
	ReasonTokenExpired    AuthReason = "token-expired"
	ReasonBearerPrefix    AuthReason = "token-bearer-prefix"
)

// Principal is who an authenticated request acts as.
type Principal struct {
	App     App
	Account Account
}

// Authenticate checks an AppKey and a token. It returns the principal, or a
// reason when they do not identify an app and its current, unexpired token.
// The token is compared as a SHA-256 hash in constant time; it is never kept.
func (s *Sandbox) Authenticate(ctx context.Context, appKey, token string) (Principal, AuthReason, error) {
	app, acct, current, ok, err := s.store.AuthContext(ctx, appKey)
	if errors.Is(err, ErrNotFound) {
		return Principal{}, ReasonAppKeyUnknown, nil
	}
	if err != nil {
		return Principal{}, "", err
	}
	if len(token) > 7 && strings.EqualFold(token[:7], "Bearer ") {
		return Principal{}, ReasonBearerPrefix, nil
	}
	hash := HashToken(token)
	if ok && subtle.ConstantTimeCompare(hash[:], current.Hash[:]) == 1 {
		if current.ExpiresAt != nil && !s.Now(acct).Before(*current.ExpiresAt) {
			return Principal{}, ReasonTokenExpired, nil
		}
		return Principal{App: app, Account: acct}, "", nil
	}
	// Failed: find out why, for the developer's eyes only.
	t, err := s.store.TokenByHash(ctx, hash)
	switch {
	case errors.Is(err, ErrNotFound):
		return Principal{}, ReasonTokenInvalid, nil
	case err != nil:
		return Principal{}, "", err
	case t.AppKey != appKey:
		return Principal{}, ReasonTokenOtherApp, nil
	case t.State == TokenRevoked:
		return Principal{}, ReasonTokenRevoked, nil
	default:
		return Principal{}, ReasonTokenSuperseded, nil
	}
}

// IssueToken issues a new token for an app, invalidating every earlier one.
// expiresAt nil: never expires; it must lie after the account's now. The
// plain token is returned once and only its hash is stored.
func (s *Sandbox) IssueToken(ctx context.Context, appKey string, expiresAt *time.Time) (string, Token, error) {
	acct, err := s.accountOfApp(ctx, appKey)
	if err != nil {
		return "", Token{}, err
	}
	now := s.Now(acct)
	if expiresAt != nil && !expiresAt.After(now) {
		return "", Token{}, invalid("/expiresAt", "%s is not in the future (the account's clock reads %s)",
			expiresAt.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
	}
	plain := NewToken()
	t, err := s.storeToken(ctx, appKey, plain, now, expiresAt)
	return plain, t, err
}

// InstallToken makes a known token the app's current one (used by the seed,
// whose demo credentials are fixed so that docs and scripts can rely on them).
func (s *Sandbox) InstallToken(ctx context.Context, appKey, plain string, expiresAt *time.Time) error {
	acct, err := s.accountOfApp(ctx, appKey)
	if err != nil {
		return err
	}
	_, err = s.storeToken(ctx, appKey, plain, s.Now(acct), expiresAt)
	return err
}

func (s *Sandbox) storeToken(ctx context.Context, appKey, plain string, now time.Time, expiresAt *time.Time) (Token, error) {
	var exp *time.Time
	if expiresAt != nil {
		e := expiresAt.UTC()
		exp = &e
	}
	t := Token{Hash: HashToken(plain), AppKey: appKey, State: TokenCurrent, IssuedAt: now, ExpiresAt: exp}
	if err := s.checkAppQuota(ctx, appKey, ResourceTokens); err != nil {
		return Token{}, err
	}
	return t, s.store.IssueToken(ctx, t)
}

// TokenStatus describes an app's token for display: current, expired or none.
func (s *Sandbox) TokenStatus(ctx context.Context, appKey string) (string, *Token, error) {
	_, acct, cur, ok, err := s.store.AuthContext(ctx, appKey)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return "none", nil, nil
	}
	if cur.ExpiresAt != nil && !s.Now(acct).Before(*cur.ExpiresAt) {
		return "expired", &cur, nil
	}
	return "current", &cur, nil
}

// IsExpired tells whether a token has expired on the account's clock.
func (s *Sandbox) IsExpired(t Token, a Account) bool {
	return t.ExpiresAt != nil && !s.Now(a).Before(*t.ExpiresAt)
}

// RevokeToken revokes the app's current token.
func (s *Sandbox) RevokeToken(ctx context.Context, appKey string) error {
	acct, err := s.accountOfApp(ctx, appKey)
	if err != nil {
		return err
	}
	return s.store.RevokeToken(ctx, appKey, s.Now(acct))
}

// accountOfApp returns the account an app belongs to, whose clock its
// tokens' times are read on.
func (s *Sandbox) accountOfApp(ctx context.Context, appKey string) (Account, error) {
	app, err := s.store.GetApp(ctx, appKey)
	if err != nil {
		return Account{}, err
	}
	return s.store.GetAccount(ctx, app.Account)
}

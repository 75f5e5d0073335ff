package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/innosandbox/innosandbox/internal/payload"
	"github.com/innosandbox/innosandbox/internal/signing"
)

// Reasons a signed request (internal/signing) is refused, in the
// X-Sandbox-Auth-Reason header like every authentication failure.
const (
	ReasonSignatureInvalid AuthReason = "signature-invalid"
	ReasonSignatureExpired AuthReason = "signature-expired"
	ReasonTimestampInvalid AuthReason = "timestamp-invalid"
	ReasonNonceReused      AuthReason = "nonce-reused"
	ReasonSecretMissing    AuthReason = "secret-missing"
	ReasonSecretUnreadable AuthReason = "secret-unreadable"
	ReasonAppKeyMismatch   AuthReason = "appkey-mismatch"
)

// appSecretLen is the length of a drawn app secret (upper-case letters and
// digits, like tokens): 32 characters, about 165 bits.
const appSecretLen = 32

// SigningOptions configure signed requests; part of Options.
type SigningOptions struct {
	// Sealer seals app secrets at rest. Required to issue or use secrets.
	Sealer *Sealer
	// Window is how far a timestamp may be from the account's sandbox
	// clock, and how long a nonce is remembered (signing.DefaultWindow).
	Window time.Duration
}

func (s *Sandbox) signingWindow() time.Duration {
	if s.opts.Signing.Window > 0 {
		return s.opts.Signing.Window
	}
	return signing.DefaultWindow
}

// errNoSealer is the error of secret operations on a sandbox built without
// a Sealer (a programming error, not a caller's).
var errNoSealer = errors.New("app secrets: the sandbox has no sealer")

// IssueAppSecret draws a new secret for an app, replacing any earlier one
// (which stops verifying at once). The plain secret is returned once; only
// its sealed form is kept.
func (s *Sandbox) IssueAppSecret(ctx context.Context, appKey string) (string, AppSecret, error) {
	plain := payload.RandomString(upperAlnum, appSecretLen)
	sec, err := s.InstallAppSecret(ctx, appKey, plain)
	return plain, sec, err
}

// InstallAppSecret stores a given secret for an app (the seed's fixed one).
func (s *Sandbox) InstallAppSecret(ctx context.Context, appKey, plain string) (AppSecret, error) {
	if s.opts.Signing.Sealer == nil {
		return AppSecret{}, errNoSealer
	}
	if plain == "" {
		return AppSecret{}, invalid("/secret", "must not be empty")
	}
	app, err := s.store.GetApp(ctx, appKey)
	if err != nil {
		return AppSecret{}, err
	}
	acct, err := s.store.GetAccount(ctx, app.Account)
	if err != nil {
		return AppSecret{}, err
	}
	sealed, err := s.opts.Signing.Sealer.Seal(appKey, plain)
	if err != nil {
		return AppSecret{}, err
	}
	sec := AppSecret{AppKey: appKey, Sealed: sealed, IssuedAt: s.Now(acct)}
	return sec, s.store.SetAppSecret(ctx, sec)
}

// AppSecretInfo returns when the app's current secret was issued; ok is
// false when it has none. The secret itself is never shown again.
func (s *Sandbox) AppSecretInfo(ctx context.Context, appKey string) (AppSecret, bool, error) {
	if _, err := s.store.GetApp(ctx, appKey); err != nil {
		return AppSecret{}, false, err
	}
	sec, err := s.store.GetAppSecret(ctx, appKey)
	if errors.Is(err, ErrNotFound) {
		return AppSecret{}, false, nil
	}
	sec.Sealed = nil
	return sec, err == nil, err
}

// SignedCaller is the caller of a signed request once its headers are
// read: the app, its account and its secret. VerifySigned decides about
// the request once its body is known.
type SignedCaller struct {
	Principal Principal
	secret    string
	headers   SignedHeaders
}

// SignedHeaders are the four headers of a signed request.
type SignedHeaders struct {
	AppKey, Nonce, Timestamp, Signature string
}

// ResolveSigned finds the app a signed request names and its secret. The
// headers must all be present (the caller checks); a reason when the app is
// unknown or has no usable secret.
func (s *Sandbox) ResolveSigned(ctx context.Context, h SignedHeaders) (SignedCaller, AuthReason, error) {
	app, acct, _, _, err := s.store.AuthContext(ctx, h.AppKey)
	if errors.Is(err, ErrNotFound) {
		return SignedCaller{}, ReasonAppKeyUnknown, nil
	}
	if err != nil {
		return SignedCaller{}, "", err
	}
	if s.opts.Signing.Sealer == nil {
		return SignedCaller{}, "", errNoSealer
	}
	sec, err := s.store.GetAppSecret(ctx, h.AppKey)
	if errors.Is(err, ErrNotFound) {
		return SignedCaller{}, ReasonSecretMissing, nil
	}
	if err != nil {
		return SignedCaller{}, "", err
	}
	plain, err := s.opts.Signing.Sealer.Open(h.AppKey, sec.Sealed)
	if err != nil {
		return SignedCaller{}, ReasonSecretUnreadable, nil
	}
	return SignedCaller{Principal: Principal{App: app, Account: acct}, secret: plain, headers: h}, "", nil
}

// VerifySigned checks a signed request's signature over its signed body
// members (plus appKey, nonce, timestamp) on the account's sandbox clock,
// then takes its nonce: a nonce is spent only by a request whose signature
// holds, so a forged request cannot burn a real client's nonce.
func (s *Sandbox) VerifySigned(ctx context.Context, c SignedCaller, members map[string]string) (AuthReason, string, error) {
	h := c.headers
	params := signing.Params(h.AppKey, h.Nonce, h.Timestamp, members)
	now := s.Now(c.Principal.Account)
	window := s.signingWindow()
	switch err := signing.Verify(params, c.secret, h.Signature, now, window); {
	case errors.Is(err, signing.ErrTimestamp):
		return ReasonTimestampInvalid, err.Error(), nil
	case errors.Is(err, signing.ErrExpired):
		return ReasonSignatureExpired, err.Error(), nil
	case errors.Is(err, signing.ErrSignatureInvalid):
		return ReasonSignatureInvalid, "", nil
	case err != nil:
		return "", "", err
	}
	err := s.store.UseNonce(ctx, h.AppKey, h.Nonce, now, now.Add(window))
	if errors.Is(err, ErrConflict) {
		return ReasonNonceReused, fmt.Sprintf("nonce %q was used within the last %s", h.Nonce, window), nil
	}
	return "", "", err
}

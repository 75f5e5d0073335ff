package state

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// AppSecret is an app's secret for signed requests (internal/signing), as
// stored: sealed, never in clear (docs/DECISIONS.md row 69). Verifying a
// signature needs the secret itself, so a hash (as for tokens) cannot do;
// the sandbox seals it with a key only the running process holds.
type AppSecret struct {
	AppKey   string
	Sealed   []byte // Sealer.Seal of the secret, bound to AppKey
	IssuedAt time.Time
}

// SecretStore keeps app secrets and the nonces of signed requests. Part of
// Store.
type SecretStore interface {
	// SetAppSecret stores the app's secret, replacing any earlier one;
	// ErrNotFound for an unknown app. DeleteApp removes it.
	SetAppSecret(ctx context.Context, s AppSecret) error
	// GetAppSecret returns the app's secret; ErrNotFound when it has none.
	GetAppSecret(ctx context.Context, appKey string) (AppSecret, error)
	// UseNonce records that the app used nonce at 'at' (sandbox time), to be
	// remembered until 'until'. ErrConflict when the app used it before and
	// that use is remembered past 'at' (a replay); ErrNotFound for an
	// unknown app. Uses remembered no longer may be forgotten.
	UseNonce(ctx context.Context, appKey, nonce string, at, until time.Time) error
}

// Sealer seals app secrets at rest with AES-256-GCM, each bound to its
// AppKey (additional data), so a sealed secret copied to another app does
// not open.
type Sealer struct{ aead cipher.AEAD }

// NewSealer derives the sealing key from key material (any length; the
// sandbox's --secret-key, or random bytes) with SHA-256.
func NewSealer(material []byte) (*Sealer, error) {
	if len(material) == 0 {
		return nil, errors.New("sealer: empty key material")
	}
	k := sha256.Sum256(append([]byte("innosandbox app secrets v1\x00"), material...))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns nonce || ciphertext of secret, bound to appKey.
func (s *Sealer) Seal(appKey, secret string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, []byte(secret), []byte(appKey)), nil
}

// ErrSecretUnreadable is Open's error for a secret sealed under another key
// (the sandbox restarted with another --secret-key) or altered.
var ErrSecretUnreadable = errors.New("secret sealed under another key")

// Open returns the secret Seal sealed for appKey.
func (s *Sealer) Open(appKey string, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", fmt.Errorf("%w: %d bytes", ErrSecretUnreadable, len(sealed))
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(appKey))
	if err != nil {
		return "", ErrSecretUnreadable
	}
	return string(out), nil
}

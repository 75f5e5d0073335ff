// Package signing implements InnoPaaS's signed requests, the second way the
// newer known OTP client authenticates (the API notes §11.1, `client,
// newer`; no InnoPaaS page describes it). The caller sends x-appKey,
// x-nonce, x-timestamp (Unix milliseconds, decimal) and x-signature: the
// lower-case hex MD5 of the signed parameters, sorted by key in byte order,
// each non-empty one written as its key immediately followed by its value,
// nothing between pairs, and the app secret appended.
//
// Sign and Verify are pure: time is a parameter, so tests and the sandbox's
// per-account clock decide what "now" is. Remembering nonces is the
// caller's job (it needs shared state).
package signing

import (
	"crypto/md5" //nolint:gosec // MD5 is what the scheme uses; this package reproduces it, it does not choose it.
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The request headers of a signed request, as the client writes them.
const (
	HeaderAppKey    = "x-appKey"
	HeaderNonce     = "x-nonce"
	HeaderTimestamp = "x-timestamp"
	HeaderSignature = "x-signature"
)

// Headers are the four headers, in the order a refusal names a missing one.
var Headers = []string{HeaderAppKey, HeaderNonce, HeaderTimestamp, HeaderSignature}

// DefaultWindow is how far a timestamp may be from the verifier's clock,
// either way, and how long a nonce is remembered.
const DefaultWindow = 5 * time.Minute

// Errors of Verify; match them with errors.Is.
var (
	// ErrSignatureInvalid: the signature is not the one the parameters and
	// the secret give.
	ErrSignatureInvalid = errors.New("signature-invalid")
	// ErrExpired: the timestamp is outside the window around now.
	ErrExpired = errors.New("signature-expired")
	// ErrTimestamp: the timestamp is not Unix milliseconds in decimal.
	ErrTimestamp = errors.New("timestamp-invalid")
)

// StringToSign is what is hashed: params sorted by key (byte order), each
// non-empty one as key+value, then the secret.
func StringToSign(params map[string]string, secret string) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if v != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(params[k])
	}
	b.WriteString(secret)
	return b.String()
}

// Sign returns the signature of params (which include appKey, nonce and
// timestamp, as the scheme signs them) under secret: lower-case hex MD5.
func Sign(params map[string]string, secret string) string {
	sum := md5.Sum([]byte(StringToSign(params, secret))) //nolint:gosec // the scheme's hash
	return hex.EncodeToString(sum[:])
}

// Params builds the signed parameters of a request: the body members that
// are signed, plus appKey, nonce and timestamp as the headers carry them.
// body members named like those three are overridden by the headers.
func Params(appKey, nonce, timestamp string, body map[string]string) map[string]string {
	p := make(map[string]string, len(body)+3)
	for k, v := range body {
		p[k] = v
	}
	p["appKey"], p["nonce"], p["timestamp"] = appKey, nonce, timestamp
	return p
}

// Verify checks a signature against params and secret, and that the
// timestamp (params["timestamp"], Unix milliseconds) is within window of
// now either way. The comparison takes constant time. A bad timestamp is
// reported before the signature, since a stale request is refused whatever
// its signature.
func Verify(params map[string]string, secret, signature string, now time.Time, window time.Duration) error {
	ms, err := strconv.ParseInt(params["timestamp"], 10, 64)
	if err != nil || ms < 0 {
		return fmt.Errorf("%w: %q is not Unix milliseconds", ErrTimestamp, params["timestamp"])
	}
	at := time.UnixMilli(ms)
	if d := now.Sub(at); d > window || d < -window {
		return fmt.Errorf("%w: timestamp %s is %s from the clock's %s; the window is %s either way",
			ErrExpired, at.UTC().Format(time.RFC3339Nano), d.Round(time.Millisecond), now.UTC().Format(time.RFC3339Nano), window)
	}
	want := Sign(params, secret)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(signature)), []byte(want)) != 1 {
		return ErrSignatureInvalid
	}
	return nil
}

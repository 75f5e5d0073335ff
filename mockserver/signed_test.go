package mockserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
)

// A signed OTP send by the demo app, with values computed independently of
// the sandbox (a Python one-liner: hashlib.md5 over the sorted key+value
// pairs and the seed's demo secret), at the moment its timestamp names.
const (
	signedAt     = 1733475600123 // Unix ms; nonce and timestamp, as the client sends them
	signedNonce  = "1733475600123"
	signedBody   = `{"type":"3","language":"en","to":"+99900612345","code":"482913","templateId":"T-1"}`
	signedDigest = "cdabb5d00169e155d41786c4ec085ef4"
)

func signedHeaders(appKey, nonce, timestamp, signature string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range map[string]string{"x-appKey": appKey, "x-nonce": nonce, "x-timestamp": timestamp, "x-signature": signature} {
		if v != "-" {
			h[k] = []string{v} // as the client writes them, not canonicalised
		}
	}
	return h
}

// signedSandbox is a sandbox whose clock reads the signed request's time.
func signedSandbox(t *testing.T, tweak ...func(*mockserver.Config)) (*sandbox, *clock.Fake) {
	clk := clock.NewFake(time.UnixMilli(signedAt))
	return newSandbox(t, append([]func(*mockserver.Config){func(c *mockserver.Config) { c.Clock = clk }}, tweak...)...), clk
}

func authReason(r response) string { return r.header.Get("X-Sandbox-Auth-Reason") }

func TestSignedOTPSend(t *testing.T) {
	valid := func() (nonce, ts, sig string) { return signedNonce, signedNonce, signedDigest }
	tests := []struct {
		name       string
		change     func(nonce, ts, sig *string, body *string, clk *clock.Fake)
		wantReason string
	}{
		{"valid", func(*string, *string, *string, *string, *clock.Fake) {}, ""},
		{"4m59s later is still in the window", func(_, _, _, _ *string, clk *clock.Fake) { clk.Advance(4*time.Minute + 59*time.Second) }, ""},
		{"one window and a millisecond old", func(_, _, _, _ *string, clk *clock.Fake) { clk.Advance(5*time.Minute + time.Millisecond) }, "signature-expired"},
		{"one wrong character in the signature", func(_, _, sig, _ *string, _ *clock.Fake) { *sig = strings.Replace(*sig, "cd", "ce", 1) }, "signature-invalid"},
		{"one changed character in a signed member", func(_, _, _, body *string, _ *clock.Fake) {
			*body = strings.Replace(*body, "482913", "482914", 1)
		}, "signature-invalid"},
		{"templateId is not signed", func(_, _, _, body *string, _ *clock.Fake) {
			*body = strings.Replace(*body, "T-1", "T-2", 1)
		}, ""},
		{"a timestamp that is not a number", func(_, ts, _, _ *string, _ *clock.Fake) { *ts = "yesterday" }, "timestamp-invalid"},
		{"x-signature missing", func(_, _, sig, _ *string, _ *clock.Fake) { *sig = "-" }, "header-missing:x-signature"},
		{"x-nonce missing", func(nonce, _, _, _ *string, _ *clock.Fake) { *nonce = "-" }, "header-missing:x-nonce"},
		{"x-timestamp empty", func(_, ts, _, _ *string, _ *clock.Fake) { *ts = "" }, "header-empty:x-timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := signedSandbox(t)
			nonce, ts, sig := valid()
			body := signedBody
			tt.change(&nonce, &ts, &sig, &body, clk)
			r := s.do("POST", otpPath, body, signedHeaders(demoAppKey, nonce, ts, sig))
			if tt.wantReason == "" {
				r.must(t, 200)
				var ans mockserver.OTPEnvelope
				r.decode(t, &ans)
				assert.Equal(t, "000000", ans.Code)
				assert.True(t, ans.Success)
				return
			}
			r.must(t, 401)
			assert.Equal(t, tt.wantReason, authReason(r))
			assert.Equal(t, "102", r.envelope(t).Code, "the same refusal as every auth failure")
		})
	}
}

func TestSignedNonceIsUsedOnceWithinTheWindow(t *testing.T) {
	s, clk := signedSandbox(t)
	h := signedHeaders(demoAppKey, signedNonce, signedNonce, signedDigest)
	s.do("POST", otpPath, signedBody, h).must(t, 200)
	r := s.do("POST", otpPath, signedBody, h).must(t, 401)
	assert.Equal(t, "nonce-reused", authReason(r))

	// A forged request does not spend a nonce: one with a wrong signature
	// and a fresh nonce is refused, and the nonce stays usable.
	clk.Advance(time.Minute)
	r = s.do("POST", otpPath, signedBody, signedHeaders(demoAppKey, "fresh", signedNonce, "00000000000000000000000000000000")).must(t, 401)
	assert.Equal(t, "signature-invalid", authReason(r))
}

func TestSignedRequestsOnlyWhereTheEvidenceShowsThem(t *testing.T) {
	s, _ := signedSandbox(t)
	// The SMS send does not take signed requests: its headers are ignored
	// and the usual ones are missing.
	r := s.do("POST", smsPath, `{"msg":"Hi","mobile":"99900612345"}`, signedHeaders(demoAppKey, signedNonce, signedNonce, signedDigest)).must(t, 401)
	assert.Equal(t, "header-missing:AppKey", authReason(r))
}

func TestSignedRequestApps(t *testing.T) {
	t.Run("unknown AppKey", func(t *testing.T) {
		s, _ := signedSandbox(t)
		r := s.do("POST", otpPath, signedBody, signedHeaders("NoSuchApp00000000", signedNonce, signedNonce, signedDigest)).must(t, 401)
		assert.Equal(t, "appkey-unknown", authReason(r))
	})
	t.Run("an app without a secret", func(t *testing.T) {
		s, _ := signedSandbox(t)
		_, appKey, _ := s.account(false)
		r := s.do("POST", otpPath, signedBody, signedHeaders(appKey, signedNonce, signedNonce, signedDigest)).must(t, 401)
		assert.Equal(t, "secret-missing", authReason(r))
	})
	t.Run("a rotated secret replaces the old one at once", func(t *testing.T) {
		s, _ := signedSandbox(t)
		before := s.control("GET", "/_sandbox/apps/"+demoAppKey+"/secret", nil, "").must(t, 200)
		assert.NotContains(t, string(before.body), "DEMOSECRET", "the secret is never shown again")
		r := s.control("POST", "/_sandbox/apps/"+demoAppKey+"/secret", nil, "").must(t, 201)
		assert.Regexp(t, `"secret":"[A-Z0-9]{32}"`, string(r.body))
		r = s.do("POST", otpPath, signedBody, signedHeaders(demoAppKey, signedNonce, signedNonce, signedDigest)).must(t, 401)
		assert.Equal(t, "signature-invalid", authReason(r))
	})
	t.Run("both schemes: both must pass, for one app", func(t *testing.T) {
		s, _ := signedSandbox(t)
		h := signedHeaders(demoAppKey, signedNonce, signedNonce, signedDigest)
		h["Appkey"], h["Authorization"] = []string{demoAppKey}, []string{"wrong"}
		r := s.do("POST", otpPath, signedBody, h).must(t, 401)
		assert.Equal(t, "token-invalid", authReason(r))
		h["Appkey"] = []string{"AnotherApp0000000"}
		r = s.do("POST", otpPath, signedBody, h).must(t, 401)
		assert.Equal(t, "appkey-mismatch", authReason(r))
		h["Appkey"], h["Authorization"] = []string{demoAppKey}, []string{demoToken}
		s.do("POST", otpPath, signedBody, h).must(t, 200)
	})
}

// The secret is sealed at rest: the store never holds it in clear, and a
// sandbox started with another --secret-key cannot use it.
func TestAppSecretsAreSealedAtRest(t *testing.T) {
	store := memstore.New()
	clk := clock.NewFake(time.UnixMilli(signedAt))
	s := newSandboxOn(t, store, func(c *mockserver.Config) { c.Clock = clk; c.SecretKey = "first key" })
	sec, err := store.GetAppSecret(t.Context(), demoAppKey)
	require.NoError(t, err)
	assert.NotContains(t, string(sec.Sealed), "DEMOSECRET0INNOSANDBOX0PUBLIC000")
	s.do("POST", otpPath, signedBody, signedHeaders(demoAppKey, signedNonce, signedNonce, signedDigest)).must(t, 200)

	other := newSandboxOn(t, store, func(c *mockserver.Config) { c.Clock = clk; c.SecretKey = "second key" })
	r := other.do("POST", otpPath, signedBody, signedHeaders(demoAppKey, "another nonce", signedNonce, signedDigest)).must(t, 401)
	assert.Equal(t, "secret-unreadable", authReason(r))
}

func TestSignatureWindowIsConfigurable(t *testing.T) {
	s, clk := signedSandbox(t, func(c *mockserver.Config) { c.SignatureWindow = time.Minute })
	clk.Advance(time.Minute + time.Millisecond)
	r := s.do("POST", otpPath, signedBody, signedHeaders(demoAppKey, signedNonce, signedNonce, signedDigest)).must(t, 401)
	assert.Equal(t, "signature-expired", authReason(r))
}

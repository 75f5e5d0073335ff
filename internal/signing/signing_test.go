package signing_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/signing"
)

// Known answers: the strings and digests were computed once, independently
// of this package, with a Python one-liner (hashlib.md5 over the sorted
// key+value pairs and the secret) and checked with md5sum.
const (
	kaAppKey    = "XFbZY1rtTKo3UD4n1"
	kaSecret    = "s3cr3t-Secret"
	kaTimestamp = "1733475600123"
	kaNonce     = "1733475600123" // the client sends the same value as nonce and timestamp
	kaString    = "appKeyXFbZY1rtTKo3UD4n1code482913languageennonce1733475600123senderRideCotimestamp1733475600123to+250788123456type3s3cr3t-Secret"
	kaDigest    = "43cfce66883531388f537a36b4e594af"
	// Without sender (it is signed only when present).
	kaDigestNoSender = "f5c813227aa83e7ceac8439479e6fac6"
)

func kaBody() map[string]string {
	return map[string]string{"code": "482913", "language": "en", "to": "+250788123456", "type": "3", "sender": "RideCo"}
}

func TestSignKnownAnswer(t *testing.T) {
	p := signing.Params(kaAppKey, kaNonce, kaTimestamp, kaBody())
	assert.Equal(t, kaString, signing.StringToSign(p, kaSecret))
	assert.Equal(t, kaDigest, signing.Sign(p, kaSecret))

	body := kaBody()
	delete(body, "sender")
	assert.Equal(t, kaDigestNoSender, signing.Sign(signing.Params(kaAppKey, kaNonce, kaTimestamp, body), kaSecret))
	body["sender"] = "" // an empty member is left out, as an absent one
	assert.Equal(t, kaDigestNoSender, signing.Sign(signing.Params(kaAppKey, kaNonce, kaTimestamp, body), kaSecret))
}

func TestVerify(t *testing.T) {
	at := time.UnixMilli(1733475600123)
	valid := func() (map[string]string, string, string, time.Time) {
		return signing.Params(kaAppKey, kaNonce, kaTimestamp, kaBody()), kaSecret, kaDigest, at
	}
	tests := []struct {
		name   string
		change func(p map[string]string, secret, sig *string, now *time.Time)
		want   error
	}{
		{"valid", func(map[string]string, *string, *string, *time.Time) {}, nil},
		{"upper-case hex is the same digest", func(_ map[string]string, _ *string, sig *string, _ *time.Time) {
			*sig = "43CFCE66883531388F537A36B4E594AF"
		}, nil},
		{"one wrong character in the signature", func(_ map[string]string, _ *string, sig *string, _ *time.Time) {
			*sig = "43cfce66883531388f537a36b4e594ae"
		}, signing.ErrSignatureInvalid},
		{"one changed character in the body", func(p map[string]string, _ *string, _ *string, _ *time.Time) {
			p["code"] = "482914"
		}, signing.ErrSignatureInvalid},
		{"another secret", func(_ map[string]string, secret *string, _ *string, _ *time.Time) {
			*secret = "s3cr3t-Secreu"
		}, signing.ErrSignatureInvalid},
		{"4m59s later is inside the window", func(_ map[string]string, _ *string, _ *string, now *time.Time) {
			*now = now.Add(4*time.Minute + 59*time.Second)
		}, nil},
		{"one window and a millisecond later", func(_ map[string]string, _ *string, _ *string, now *time.Time) {
			*now = now.Add(signing.DefaultWindow + time.Millisecond)
		}, signing.ErrExpired},
		{"one window and a millisecond early", func(_ map[string]string, _ *string, _ *string, now *time.Time) {
			*now = now.Add(-signing.DefaultWindow - time.Millisecond)
		}, signing.ErrExpired},
		{"a timestamp in seconds, not milliseconds, is far in the past", func(p map[string]string, _ *string, sig *string, _ *time.Time) {
			p["timestamp"] = "1733475600"
			*sig = signing.Sign(p, kaSecret)
		}, signing.ErrExpired},
		{"a timestamp that is not a number", func(p map[string]string, _ *string, _ *string, _ *time.Time) {
			p["timestamp"] = "now"
		}, signing.ErrTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, secret, sig, now := valid()
			tt.change(p, &secret, &sig, &now)
			err := signing.Verify(p, secret, sig, now, signing.DefaultWindow)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			assert.True(t, errors.Is(err, tt.want), "got %v, want %v", err, tt.want)
		})
	}
}

package state

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
)

// UploadHandleTTL is how long, on the sandbox clock, the `e:` part of an
// upload handle says it lasts. Meta's resumable-upload handles carry an
// expiry there; the sandbox keeps nothing, so it only tells.
const UploadHandleTTL = 30 * 24 * time.Hour

// NewUploadHandle makes the `data` of an uploadFile answer, shaped like the
// documented handle 4::aW1hZ2UvanBlZw==:ARZ…:e:1695539910:…:ARaU…: "4::",
// the standard base64 of the MIME type, then opaque parts: two drawn from
// the SHA-256 of the content (the same file gives the same parts), the
// expiry in Unix seconds (now plus UploadHandleTTL) and a number drawn from
// the AppKey. Nothing is stored: the MIME type can be read back from the
// handle itself (UploadHandleMIME), which is all a later check needs.
func NewUploadHandle(mimeType string, content []byte, appKey string, now time.Time) string {
	return NewUploadHandleSum(mimeType, sha256.Sum256(content), appKey, now)
}

// NewUploadHandleSum is NewUploadHandle from the content's SHA-256, for a
// caller that hashed the content as it arrived instead of keeping it.
func NewUploadHandleSum(mimeType string, sum [32]byte, appKey string, now time.Time) string {
	app := sha256.Sum256([]byte(appKey))
	appNum := binary.BigEndian.Uint64(app[:8]) % 1e15
	var b strings.Builder
	b.Grow(120)
	b.WriteString("4::")
	b.WriteString(base64.StdEncoding.EncodeToString([]byte(mimeType)))
	b.WriteString(":AR")
	b.WriteString(base64.RawURLEncoding.EncodeToString(sum[:18]))
	b.WriteString(":e:")
	b.WriteString(strconv.FormatInt(now.Add(UploadHandleTTL).Unix(), 10))
	b.WriteString(":")
	b.WriteString(strconv.FormatUint(appNum, 10))
	b.WriteString(":AR")
	b.WriteString(base64.RawURLEncoding.EncodeToString(sum[18:]))
	return b.String()
}

// UploadHandleMIME reads the MIME type back from a handle; ok is false when
// the handle does not have the documented shape.
func UploadHandleMIME(handle string) (string, bool) {
	rest, ok := strings.CutPrefix(handle, "4::")
	if !ok {
		return "", false
	}
	enc, _, ok := strings.Cut(rest, ":")
	if !ok {
		return "", false
	}
	mt, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(mt) == 0 {
		return "", false
	}
	return string(mt), true
}

package state

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/innosandbox/innosandbox/internal/payload"
)

const (
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	digits      = "0123456789"
	appKeyLen   = 17 // like the docs' example XFbZY1rtTKo3UD4n1
	tokenLen    = 56 // like the docs' example token
	accountDigs = 7  // IW + 7 digits, like IW2267527
)

// NewAppKey returns a fresh AppKey: 17 letters and digits.
func NewAppKey() string { return payload.RandomString(alnum, appKeyLen) }

// NewToken returns a fresh token: 56 upper-case letters and digits (about
// 290 bits of entropy).
func NewToken() string { return payload.RandomString(upperAlnum, tokenLen) }

// AccountTokenPrefix starts every account control token, so that one found
// in a log or a repository can be recognised (and is never mistaken for an
// app's token, which is upper-case only).
const AccountTokenPrefix = "isa_"

// NewAccountToken returns a fresh account control token: the prefix and 43
// letters and digits (about 256 bits of entropy).
func NewAccountToken() string { return AccountTokenPrefix + payload.RandomString(alnum, 43) }

// HashToken is how tokens are kept: their SHA-256.
func HashToken(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// Fingerprint is a short, safe-to-show name of a token hash.
func Fingerprint(h [32]byte) string { return hex.EncodeToString(h[:6]) }

// NewAccountName returns "IW" and seven digits.
func NewAccountName() string { return "IW" + payload.RandomString(digits, accountDigs) }

// Message and event ids, wamids and hex ids are payload's: a refreshed
// example's ids and the sandbox's own have one shape.

// NewMessageID returns an 18-digit, time-ordered message id for real time now.
func NewMessageID(now time.Time) string { return payload.NewMessageID(now) }

// NewEventID returns a version 7 UUID for real time now.
func NewEventID(now time.Time) string { return payload.NewUUID(now) }

// NewWamid returns a Meta-style message id ("wamid." and base64).
func NewWamid() string { return payload.NewWamid() }

// NewHexID returns n random hex digits (inbound message ids are 24 hex digits).
func NewHexID(n int) string { return payload.NewHex(n) }

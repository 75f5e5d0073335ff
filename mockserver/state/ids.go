package state

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"time"
)

const (
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	digits      = "0123456789"
	appKeyLen   = 17 // like the docs' example XFbZY1rtTKo3UD4n1
	tokenLen    = 56 // like the docs' example token
	accountDigs = 7  // IW + 7 digits, like IW2267527
)

// randomString draws n characters uniformly from alphabet with crypto/rand.
// Bytes that would bias the draw (at or above the largest multiple of the
// alphabet's length) are thrown away and drawn again.
func randomString(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			// crypto/rand does not fail on supported platforms; if it ever
			// did, issuing a guessable secret would be worse than stopping.
			panic(fmt.Sprintf("crypto/rand: %v", err))
		}
		for _, c := range buf {
			if int(c) < limit {
				out = append(out, alphabet[int(c)%len(alphabet)])
				if len(out) == n {
					break
				}
			}
		}
	}
	return string(out)
}

// NewAppKey returns a fresh AppKey: 17 letters and digits.
func NewAppKey() string { return randomString(alnum, appKeyLen) }

// NewToken returns a fresh token: 56 upper-case letters and digits (about
// 290 bits of entropy).
func NewToken() string { return randomString(upperAlnum, tokenLen) }

// AccountTokenPrefix starts every account control token, so that one found
// in a log or a repository can be recognised (and is never mistaken for an
// app's token, which is upper-case only).
const AccountTokenPrefix = "isa_"

// NewAccountToken returns a fresh account control token: the prefix and 43
// letters and digits (about 256 bits of entropy).
func NewAccountToken() string { return AccountTokenPrefix + randomString(alnum, 43) }

// HashToken is how tokens are kept: their SHA-256.
func HashToken(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// Fingerprint is a short, safe-to-show name of a token hash.
func Fingerprint(h [32]byte) string { return hex.EncodeToString(h[:6]) }

// Message ids are 18 digits, like the docs' examples, and ordered by time:
// "1", the milliseconds since 2020-01-01 (12 digits, enough until 2051), and
// a 5-digit sequence. Ordered keys land at the end of the store's indexes
// instead of on random pages, which roughly halves the SQLite write cost of
// a send. The sequence starts at a random point in each process, so that
// replicas sharing a database rarely collide; the store refuses a
// collision and the send draws again.
const messageEpochMs = 1577836800000 // 2020-01-01T00:00:00Z

var messageSeq = func() *atomic.Uint64 {
	var s atomic.Uint64
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	s.Store(binary.LittleEndian.Uint64(b[:]))
	return &s
}()

// NewMessageID returns an 18-digit, time-ordered message id for real time now.
func NewMessageID(now time.Time) string {
	ms := max(now.UnixMilli()-messageEpochMs, 0) % 1e12
	return fmt.Sprintf("1%012d%05d", ms, messageSeq.Add(1)%100000)
}

// NewAccountName returns "IW" and seven digits.
func NewAccountName() string { return "IW" + randomString(digits, accountDigs) }

// NewEventID returns a version 7 UUID (RFC 9562) for real time now: 48 bits
// of milliseconds, then 74 random bits. Time-ordered for the same reason as
// message ids; still a UUID, as in every documented example.
func NewEventID(now time.Time) string {
	var r [eventIDRandom]byte
	if _, err := rand.Read(r[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return eventIDFrom(now, r[:])
}

// eventIDRandom and wamidRandom are the random bytes an id takes; a send
// with many recipients reads them for all its ids at once (randomBatch).
const (
	eventIDRandom = 10
	wamidRandom   = 27
)

// randomBatch reads n random bytes in one call.
func randomBatch(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return b
}

// eventIDFrom makes a version 7 UUID from the time and 10 random bytes.
func eventIDFrom(now time.Time, random []byte) string {
	return string(appendEventID(make([]byte, 0, eventIDLen), now, random))
}

// eventIDLen is the length of an event id (a UUID's text form).
const eventIDLen = 36

// hexDigits spell a UUID's bytes.
const hexDigits = "0123456789abcdef"

// appendEventID appends a version 7 UUID made from the time and 10 random
// bytes to dst.
func appendEventID(dst []byte, now time.Time, random []byte) []byte {
	var b [16]byte
	copy(b[6:], random[:eventIDRandom])
	ms := uint64(now.UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}

// eventIDs returns n event ids for real time now, end to end in one string
// (id i is [i*eventIDLen, (i+1)*eventIDLen)): a large send makes thousands,
// and one allocation holds them all.
func eventIDs(now time.Time, n int) string {
	random := randomBatch(eventIDRandom * n)
	b := make([]byte, 0, eventIDLen*n)
	for i := range n {
		b = appendEventID(b, now, random[i*eventIDRandom:])
	}
	return string(b)
}

// NewWamid returns a Meta-style message id ("wamid." and base64).
func NewWamid() string { return wamidFrom(randomBatch(wamidRandom)) }

// wamidFrom makes a wamid of 27 random bytes.
func wamidFrom(random []byte) string {
	return "wamid." + base64.StdEncoding.EncodeToString(random[:wamidRandom])
}

// wamidLen is the length of a wamid: "wamid." and 27 bytes in base64.
const wamidLen = len("wamid.") + wamidRandom/3*4

// wamidBatch returns n wamids end to end in one string, as eventIDs does.
func wamidBatch(n int) string {
	random := randomBatch(wamidRandom * n)
	b := make([]byte, 0, wamidLen*n)
	for i := range n {
		b = append(b, "wamid."...)
		b = base64.StdEncoding.AppendEncode(b, random[i*wamidRandom:(i+1)*wamidRandom])
	}
	return string(b)
}

// NewHexID returns n random hex digits (inbound message ids are 24 hex digits).
func NewHexID(n int) string { return randomString("0123456789abcdef", n) }

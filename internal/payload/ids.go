package payload

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"
)

// The ids payloads carry, drawn with crypto/rand: the sandbox's own (message
// ids, event ids, wamids) and the fresh ids a refreshed example gets, so
// that both have one shape.

// RandomString draws n characters uniformly from alphabet with crypto/rand.
// Bytes that would bias the draw (at or above the largest multiple of the
// alphabet's length) are thrown away and drawn again.
func RandomString(alphabet string, n int) string {
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

// NewUUID returns a version 7 UUID (RFC 9562) for real time now: 48 bits
// of milliseconds, then 74 random bits. Time-ordered for the same reason as
// message ids; still a UUID, as in every documented example.
func NewUUID(now time.Time) string {
	var r [UUIDRandom]byte
	if _, err := rand.Read(r[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return UUIDFrom(now, r[:])
}

// UUIDRandom and WamidRandom are the random bytes an id takes; a send
// with many recipients reads them for all its ids at once (RandomBytes).
const (
	UUIDRandom  = 10
	WamidRandom = 27
)

// RandomBytes reads n random bytes in one call.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return b
}

// UUIDFrom makes a version 7 UUID from the time and 10 random bytes.
func UUIDFrom(now time.Time, random []byte) string {
	return string(AppendUUID(make([]byte, 0, UUIDLen), now, random))
}

// UUIDLen is the length of a UUID (a UUID's text form).
const UUIDLen = 36

// AppendUUID appends a version 7 UUID made from the time and 10 random
// bytes to dst.
func AppendUUID(dst []byte, now time.Time, random []byte) []byte {
	var b [16]byte
	copy(b[6:], random[:UUIDRandom])
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

// UUIDs returns n UUIDs for real time now, end to end in one string
// (id i is [i*UUIDLen, (i+1)*UUIDLen)): a large send makes thousands,
// and one allocation holds them all.
func UUIDs(now time.Time, n int) string {
	random := RandomBytes(UUIDRandom * n)
	b := make([]byte, 0, UUIDLen*n)
	for i := range n {
		b = AppendUUID(b, now, random[i*UUIDRandom:])
	}
	return string(b)
}

// NewWamid returns a Meta-style message id ("wamid." and base64).
func NewWamid() string { return wamidFrom(RandomBytes(WamidRandom)) }

// wamidFrom makes a wamid of 27 random bytes.
func wamidFrom(random []byte) string {
	return "wamid." + base64.StdEncoding.EncodeToString(random[:WamidRandom])
}

// WamidLen is the length of a wamid: "wamid." and 27 bytes in base64.
const WamidLen = len("wamid.") + WamidRandom/3*4

// Wamids returns n wamids end to end in one string, as UUIDs does.
func Wamids(n int) string {
	random := RandomBytes(WamidRandom * n)
	b := make([]byte, 0, WamidLen*n)
	for i := range n {
		b = append(b, "wamid."...)
		b = base64.StdEncoding.AppendEncode(b, random[i*WamidRandom:(i+1)*WamidRandom])
	}
	return string(b)
}

// NewHex returns n random lower-case hex digits (inbound message ids are 24).
func NewHex(n int) string { return RandomString(hexDigits, n) }

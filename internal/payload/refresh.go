package payload

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// IDMembers are the members that identify an event or a message: a refresh
// renews them wherever they appear, each shaped like the example's value.
var IDMembers = []string{"id", "wamid", "messageId", "msgid"}

// TimeMembers are the members that carry the time of an event: a refresh
// sets them to its time, in the example's format. expireAt is renewed too,
// a day after that time (a conversation's end).
var TimeMembers = []string{"eventTime", "sendTime", "reportTime", "notifyTime", "requestTime", "moTime"}

// Time formats of the payloads.
const (
	ISOTime  = "2006-01-02T15:04:05.000Z" // eventTime, sendTime: ISO-8601 UTC with milliseconds
	DateTime = "2006-01-02 15:04:05"      // reportTime, conversation.expireAt
)

// Refresh gives a contract example fresh ids and times, so that no two
// payloads built from it look like one event, and the caller's own values
// for the members it knows (an account name, a webhook's credentials).
type Refresh struct {
	// Now is the time the time members get (for the sandbox: the account's
	// clock).
	Now time.Time
	// IDTime is the real time, for time-ordered ids; zero means Now.
	IDTime time.Time
	// Fill returns the value of a member the caller fills itself; ok false
	// leaves the member to the id and time rules (or as it is). It is
	// asked only about members present as strings, so a value that is
	// costly to find is looked up only when an example has the member.
	Fill func(member string) (value string, ok bool)
}

// Apply refreshes m in place, member by member, into nested objects and
// arrays of objects. A member keeps its shape: an 18-digit id stays 18
// digits, an epoch-milliseconds time stays one, a UUID stays a UUID.
func (r Refresh) Apply(m map[string]any) {
	idTime := r.IDTime
	if idTime.IsZero() {
		idTime = r.Now
	}
	r.apply(m, idTime)
}

func (r Refresh) apply(m map[string]any, idTime time.Time) {
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			r.apply(x, idTime)
			continue
		case []any:
			for _, it := range x {
				if o, ok := it.(map[string]any); ok {
					r.apply(o, idTime)
				}
			}
			continue
		}
		s, ok := v.(string)
		if !ok {
			continue
		}
		if r.Fill != nil {
			if fill, ok := r.Fill(k); ok {
				m[k] = fill
				continue
			}
		}
		switch {
		case k == "expireAt":
			m[k] = TimeLike(s, r.Now.Add(24*time.Hour))
		case slices.Contains(TimeMembers, k):
			m[k] = TimeLike(s, r.Now)
		case slices.Contains(IDMembers, k):
			m[k] = IDLike(s, idTime)
		}
	}
}

var (
	uuidShape = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	hexShape  = regexp.MustCompile(`^[0-9a-f]+$`)
)

// IDLike returns a fresh id shaped like example: a wamid for a wamid, a
// (time-ordered, real time now) UUID for a UUID, an 18-digit message id for
// one, as many digits (no leading zero) for other digits, as much
// lower-case hex for hex. An example of no known shape is kept: a value
// that is not an id is not changed into one.
func IDLike(example string, now time.Time) string {
	switch {
	case strings.HasPrefix(example, "wamid."):
		return NewWamid()
	case uuidShape.MatchString(example):
		return NewUUID(now)
	case IsDigits(example, 18, 18):
		return NewMessageID(now)
	case IsDigits(example, 1, 64):
		return Digits(len(example))
	case hexShape.MatchString(example):
		return NewHex(len(example))
	}
	return example
}

// TimeLike formats t as example is formatted: epoch milliseconds,
// "yyyy-MM-dd HH:mm:ss", or ISO-8601 UTC with milliseconds.
func TimeLike(example string, t time.Time) string {
	switch {
	case IsDigits(example, 1, 20):
		return strconv.FormatInt(t.UnixMilli(), 10)
	case len(example) == len(DateTime) && example[10] == ' ':
		return t.UTC().Format(DateTime)
	}
	return t.UTC().Format(ISOTime)
}

// Digits returns n random decimal digits, the first not a zero (ids and
// numbers are written without leading zeros).
func Digits(n int) string {
	if n <= 0 {
		return ""
	}
	return RandomString("123456789", 1) + RandomString("0123456789", n-1)
}

// IsDigits tells whether s is min to max decimal digits.
func IsDigits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

package state

import "strings"

// Magic recipient numbers let a developer ask the sandbox for an outcome
// other than success, with nothing but the number they send to. They all
// start with 999, a country calling code the ITU has not assigned, so no
// real phone can be one of them. The prefix names the outcome, and the
// digits after it are free (or, for MagicFail, carry the failure code), so
// a test can use as many distinct numbers with one outcome as it needs.
//
// The classification lives here, once, for every product; each product
// reads the outcome and decides what it means for its reports (the README's
// "Magic numbers" table): a kind a product has no use for behaves like an
// ordinary number there.

// MagicKind is the outcome a magic number asks for.
type MagicKind int

// Magic outcomes, by prefix.
const (
	// MagicNone is an ordinary number: the product's happy path.
	MagicNone MagicKind = iota
	// MagicFail (99910) fails the message; Code carries the failure code.
	MagicFail
	// MagicDeliveredNotRead (99920) is delivered and never read (WhatsApp).
	MagicDeliveredNotRead
	// MagicReadBeforeDelivered (99930) has its read report come before its
	// delivered report (WhatsApp), as Meta sometimes does.
	MagicReadBeforeDelivered
	// MagicSilent (99940) gets no report at all.
	MagicSilent
	// MagicSMECLFailed (99950) fails with status SMECL:FAILED (WhatsApp).
	MagicSMECLFailed
)

var magicNames = [...]string{
	MagicNone:                "none",
	MagicFail:                "fail",
	MagicDeliveredNotRead:    "delivered-not-read",
	MagicReadBeforeDelivered: "read-before-delivered",
	MagicSilent:              "silent",
	MagicSMECLFailed:         "smecl-failed",
}

func (k MagicKind) String() string {
	if k >= 0 && int(k) < len(magicNames) {
		return magicNames[k]
	}
	return "unknown"
}

// MagicOutcome is what Magic found in a number.
type MagicOutcome struct {
	Kind MagicKind
	// Code is the digits after the prefix ("" when none follow). For
	// MagicFail it is the failure code each product reports in its own way.
	Code string
}

// magicPrefixes is the whole scheme: one row per outcome. All prefixes are
// five digits, so none is a prefix of another and the order does not matter.
var magicPrefixes = [...]struct {
	prefix string
	kind   MagicKind
}{
	{"99910", MagicFail},
	{"99920", MagicDeliveredNotRead},
	{"99930", MagicReadBeforeDelivered},
	{"99940", MagicSilent},
	{"99950", MagicSMECLFailed},
}

// Magic classifies a recipient number by its prefix. A leading 00 (the
// international prefix, which SMS accepts and keeps) is ignored, so
// 0099940… is as silent as 99940….
func Magic(number string) MagicOutcome {
	n := strings.TrimPrefix(number, "00")
	if !strings.HasPrefix(n, "999") {
		return MagicOutcome{} // the common case, decided in one comparison
	}
	for _, m := range magicPrefixes {
		if rest, ok := strings.CutPrefix(n, m.prefix); ok {
			return MagicOutcome{Kind: m.kind, Code: rest}
		}
	}
	return MagicOutcome{}
}

// failureReasons are the failure codes SMS and OTP share, so that one magic
// number means the same failure in both products: SMS reports the status
// (picked by the first digit of the code, the rest being free), OTP the code
// itself with the text (for codes 1 to 5; others get a generic text).
var failureReasons = [...]struct{ status, text string }{
	1: {"UNDELIV", "undelivered: the operator could not deliver the message"},
	2: {"EXPIRED", "expired: the message was not delivered in time"},
	3: {"REJECTD", "rejected by the operator"},
	4: {"UNKNOWN", "unknown: the operator reported no final state"},
	5: {"DELETED", "deleted by the operator before delivery"},
}

// DefaultFailureCode is the code of a 99910 number with no digits after the
// prefix, or (for SMS) with a first digit the table does not name.
const DefaultFailureCode = "1"

// failureRow returns the row of a one-digit code; ok is false for any other.
func failureRow(code string) (status, text string, ok bool) {
	if len(code) != 1 || code[0] < '1' || int(code[0]-'0') >= len(failureReasons) {
		return "", "", false
	}
	r := failureReasons[code[0]-'0']
	return r.status, r.text, true
}

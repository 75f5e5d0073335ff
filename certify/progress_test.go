package certify

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestProgress(t *testing.T) {
	c := Check{ID: CheckDup, Severity: Required, Title: "The same event delivered twice is accepted both times"}
	res := CheckResult{Check: c, Status: Failed, Reason: "answered 409"}

	var plain bytes.Buffer
	p := NewProgress(&plain, false)
	p.Planned(&Plan{Total: 56, Rate: 100, Method: "POST", URL: "https://p.example/h", Product: "whatsapp", Events: []string{"e"}})
	p.CheckStarted(c)
	p.Pushed(1, 56)
	p.CheckDone(res)
	assert.Equal(t, "innosandbox certify: 56 pushes at most, at most 100 per second, to POST https://p.example/h\n"+
		"  product whatsapp, events: e\n"+
		"FAIL    CERT-DUP-01    required    The same event delivered twice is accepted both times — answered 409\n", plain.String())

	var tty bytes.Buffer
	p = NewProgress(&tty, true)
	p.CheckStarted(c)
	for _, id := range []string{CheckEvents, CheckNoAuth, CheckBadKey, CheckBadUser, CheckOrder, CheckCompat, CheckSize} {
		p.CheckStarted(Check{ID: id})
	}
	p.Pushed(7, 56)
	out := tty.String()
	last := out[strings.LastIndex(out, "\r\x1b[K")+4:]
	assert.True(t, strings.HasPrefix(last, "[7/56 pushes] running CERT-DUP-01, CERT-EVENT-01"), last)
	assert.LessOrEqual(t, len([]rune(last)), statusWidth, "the status line fits the terminal")
	for _, id := range []string{CheckDup, CheckEvents, CheckNoAuth, CheckBadKey, CheckBadUser, CheckOrder, CheckCompat, CheckSize} {
		p.CheckDone(CheckResult{Check: Check{ID: id}, Status: Passed})
	}
	assert.True(t, strings.HasSuffix(tty.String(), "\r\x1b[K"), "the status line is cleared at the end")
}

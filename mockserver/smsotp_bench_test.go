package mockserver_test

import (
	"net/http"
	"strings"
	"testing"
)

// benchPost sends one valid, authenticated JSON request per iteration
// through the whole handler (validator, auth, state, scheduling of the
// reports), as BenchmarkSubmitAuthenticated does for msg/submit.
func benchPost(b *testing.B, path, body string) {
	benchParallel(b, benchServer(b), path, 200, func() (string, http.Header) { return body, publicHeaders(demoAppKey, demoToken) })
}

// BenchmarkSMSSend: an SMS to one number (one status report scheduled).
func BenchmarkSMSSend(b *testing.B) {
	benchPost(b, smsPath, `{"msg":"[Shop] Your verification code is 245098.","mobile":"8613800138000","senderId":"10690000","uid":"ORDER_20251104_001"}`)
}

// BenchmarkSMSSend100: an SMS to 100 numbers (100 status reports).
func BenchmarkSMSSend100(b *testing.B) {
	numbers := strings.TrimSuffix(strings.Repeat("8613800138000,", 100), ",")
	benchPost(b, smsPath, `{"msg":"[Shop] Your parcel has shipped.","mobile":"`+numbers+`"}`)
}

// BenchmarkOTPSend: an OTP (in progress and success scheduled).
func BenchmarkOTPSend(b *testing.B) {
	benchPost(b, otpPath, otpBody("250784928786"))
}

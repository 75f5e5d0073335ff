package mockserver_test

import (
	"net/http"
	"testing"

	"github.com/innosandbox/innosandbox/internal/reference"
)

// BenchmarkReferenceSubmit is what BenchmarkSubmitAuthenticated is judged
// against (bench/load runs the same server as a process): kin-openapi's
// request validator behind its gorilla/mux router on the same contract,
// validating the same submit (security, parameters, body) and answering the
// spec's example, with no state. The difference in ns/op and allocs/op is
// what the sandbox's own work costs: authentication, the message, its two
// status reports, the store.
func BenchmarkReferenceSubmit(b *testing.B) {
	ref, err := reference.Handler(loadSpec().Public.Doc)
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(16)
	body := textSend(userNumber)
	benchParallel(b, ref, "/api/whatsapp/v3/msg/submit", 200, func() (string, http.Header) {
		return body, publicHeaders(demoAppKey, demoToken)
	})
}

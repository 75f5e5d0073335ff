package mockserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// BenchmarkReferenceSubmit is what BenchmarkSubmitAuthenticated is judged
// against (bench/load runs the same server as a process): kin-openapi's
// request validator behind its gorilla/mux router on the same contract,
// validating the same submit (security, parameters, body) and answering the
// spec's example, with no state. The difference in ns/op and allocs/op is
// what the sandbox's own work costs: authentication, the message, its two
// status reports, the store.
func BenchmarkReferenceSubmit(b *testing.B) {
	doc := loadSpec().Public.Doc
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		b.Fatal(err)
	}
	mt := doc.Paths.Find("/api/whatsapp/v3/msg/submit").Post.Responses.Status(200).Value.Content.Get("application/json")
	example := mt.Examples["accepted"]
	if example == nil || example.Value == nil {
		b.Fatal("no example named accepted of the submit's answer in the contract")
	}
	answer, err := json.Marshal(example.Value.Value)
	if err != nil {
		b.Fatal(err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil }}
	ref := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, params, err := router.FindRoute(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		if err := openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		_, _ = w.Write(answer)
	})
	b.SetParallelism(16)
	body := textSend(userNumber)
	benchParallel(b, ref, "/api/whatsapp/v3/msg/submit", 200, func() (string, http.Header) {
		return body, publicHeaders(demoAppKey, demoToken)
	})
}

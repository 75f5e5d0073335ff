// Package reference is the server the sandbox's throughput is judged
// against: what the fixed libraries allow. kin-openapi's request validator
// (route, security with an authenticator that accepts, parameters, body
// schema) behind its gorilla/mux router, built from a contract, answering
// every valid request with the contract's example of the operation's 200
// answer, with no state behind it. bench/load runs it as a process beside
// the sandbox; mockserver's BenchmarkReferenceSubmit runs it in process.
package reference

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Handler returns the reference server of doc.
func Handler(doc *openapi3.T) (http.Handler, error) {
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("reference router: %w", err)
	}
	answers := map[*openapi3.Operation][]byte{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			answers[op] = OKExample(op)
		}
	}
	opts := &openapi3filter.Options{AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		_, _ = w.Write(answers[route.Operation])
	}), nil
}

// OKExample is the JSON of an operation's documented 200 answer: the media
// type's example, else its first named example (by name), else its schema's
// example; nil when there is none.
func OKExample(op *openapi3.Operation) []byte {
	resp := op.Responses.Status(200)
	if resp == nil || resp.Value == nil {
		return nil
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil {
		return nil
	}
	ex := mt.Example
	if ex == nil {
		names := make([]string, 0, len(mt.Examples))
		for n := range mt.Examples {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(names) > 0 && mt.Examples[names[0]].Value != nil {
			ex = mt.Examples[names[0]].Value.Value
		}
	}
	if ex == nil && mt.Schema != nil && mt.Schema.Value != nil {
		ex = mt.Schema.Value.Example
	}
	if ex == nil {
		return nil
	}
	b, _ := json.Marshal(ex)
	return b
}

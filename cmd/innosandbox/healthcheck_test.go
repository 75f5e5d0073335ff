package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProbeHealth(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"code":"503","message":"store unavailable"}`, http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/healthz", http.StatusFound) })
	mux.HandleFunc("/slow", func(http.ResponseWriter, *http.Request) { <-release })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for the slow handler
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String() + "/healthz"
	require.NoError(t, ln.Close())

	tests := []struct {
		name   string
		url    string
		errHas string
	}{
		{name: "healthy", url: srv.URL + "/healthz"},
		{name: "answers 503", url: srv.URL + "/down", errHas: "answered 503: {\"code\":\"503\""},
		{name: "redirects", url: srv.URL + "/moved", errHas: "answered 302"},
		{name: "too slow", url: srv.URL + "/slow", errHas: "no answer within 100ms"},
		{name: "nothing listens", url: closed, errHas: "refused"},
		{name: "not a URL", url: "://x", errHas: `--url "://x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := probeHealth(context.Background(), tt.url, 100*time.Millisecond)
			if tt.errHas == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.errHas)
		})
	}
}

func TestHealthcheckCommandExitCodes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	run := func(args ...string) (string, error) {
		_, stderr, err := runCLI(t, args...)
		return stderr, err
	}

	_, err := run("healthcheck", "--url", srv.URL+"/healthz")
	assert.NoError(t, err)

	stderr, err := run("healthcheck", "--url", srv.URL+"/nope")
	assert.Equal(t, exitError{code: 1}, err, "a container engine reads 1 as unhealthy")
	assert.Contains(t, stderr, "unhealthy: "+srv.URL+"/nope answered 404")

	t.Setenv("INNOSANDBOX_URL", srv.URL+"/healthz")
	_, err = run("healthcheck")
	assert.NoError(t, err, "the URL can come from the environment")
}

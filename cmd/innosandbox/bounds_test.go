package main

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver"
)

func TestServeLimitFlags(t *testing.T) {
	parse := func(t *testing.T, args ...string) *serveOptions {
		t.Helper()
		o := &serveOptions{}
		f := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		bindServeFlags(f, o)
		require.NoError(t, f.Parse(args))
		return o
	}
	o := parse(t)
	require.NoError(t, o.validate())
	assert.Equal(t, mockserver.DefaultLimits, o.limits, "the flags default to DefaultLimits")
	assert.Equal(t, DefaultMaxConnections, o.maxConnections)

	o = parse(t, "--rate-limit", "0", "--max-apps", "0", "--max-pending-deliveries", "5")
	require.NoError(t, o.validate())
	assert.Zero(t, o.limits.Rate, "0 turns the rate limit off")
	assert.Equal(t, 5, o.limits.Quotas.PendingDeliveries)

	for _, tc := range []struct{ flag, want string }{
		{"--rate-limit=-1", "--rate-limit -1: must be 0 (off) or positive"},
		{"--max-apps=-1", "--max-apps -1: must be 0"},
		{"--max-tokens=-2", "--max-tokens -2: must be 0"},
		{"--max-uploads=-1", "--max-uploads -1: must be 0"},
		{"--max-connections=-1", "--max-connections -1: must be 0"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			assert.ErrorContains(t, parse(t, tc.flag).validate(), tc.want)
		})
	}
}

func TestBoundedServerRefusesHugeHeaders(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := boundedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	assert.Equal(t, time.Minute, hs.WriteTimeout)

	get := func(headerBytes int) int {
		req, err := http.NewRequest("GET", "http://"+ln.Addr().String()+"/", nil)
		require.NoError(t, err)
		req.Header.Set("X-Big", strings.Repeat("a", headerBytes))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusNoContent, get(1<<10))
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, get(2*MaxHeaderBytes))
}

func TestLimitListenerHoldsConnectionsBeyondTheLimit(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := limitListener(raw, 2)
	t.Cleanup(func() { _ = ln.Close() })
	accepted := make(chan net.Conn, 3)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", raw.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
	}
	first, second := <-accepted, <-accepted
	assert.Never(t, func() bool { return len(accepted) > 0 }, 200*time.Millisecond, 10*time.Millisecond, "a third connection is held while two are open")
	require.NoError(t, first.Close())
	third := <-accepted // taken once one closes
	_ = second.Close()
	_ = third.Close()
	assert.Same(t, raw, limitListener(raw, 0), "0: no limit")
}

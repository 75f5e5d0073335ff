package main

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// Bounds of serve's HTTP server: what one client, slow or hostile, can
// hold. A request's headers must arrive within ReadHeaderTimeout and its
// body within ReadTimeout (16 MiB uploads included, at 0.5 MiB/s); the
// answer must be written within WriteTimeout.
const (
	// DefaultMaxConnections is --max-connections: connections beyond it
	// wait in the listen queue until one closes.
	DefaultMaxConnections = 1024
	// MaxHeaderBytes bounds a request's header lines (net/http's default
	// is 1 MiB; the public API's headers are a few hundred bytes).
	MaxHeaderBytes    = 64 << 10
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
)

// boundedServer is the http.Server every listener of serve uses.
func boundedServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: MaxHeaderBytes}
}

// limitListener accepts at most n connections at once (n <= 0: any number).
func limitListener(ln net.Listener, n int) net.Listener {
	if n <= 0 {
		return ln
	}
	return netutil.LimitListener(ln, n)
}

// limitsValid refuses negative limit flags, naming the flag.
func (o *serveOptions) limitsValid() error {
	l, q := o.limits, o.limits.Quotas
	if l.Rate < 0 {
		return fmt.Errorf("--rate-limit %g: must be 0 (off) or positive", l.Rate)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"rate-burst", l.Burst}, {"max-apps", q.Apps}, {"max-webhooks", q.Webhooks}, {"max-templates", q.Templates},
		{"max-bindings", q.Bindings}, {"max-tokens", q.Tokens}, {"max-pending-deliveries", q.PendingDeliveries}, {"max-uploads", l.Uploads}} {
		if f.v < 0 {
			return fmt.Errorf("--%s %d: must be 0 (no limit) or positive", f.name, f.v)
		}
	}
	return nil
}

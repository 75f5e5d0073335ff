package dispatch_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/dispatch"
)

// BenchmarkGuardCheck: the decision the dialer makes before each connection.
func BenchmarkGuardCheck(b *testing.B) {
	g := dispatch.NewGuard(dispatch.DefaultPolicy(nil))
	g.AddSelf(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080})
	ap := netip.MustParseAddrPort("127.0.0.1:9000")
	for b.Loop() {
		if err := g.Check(ap); err != nil {
			b.Fatal(err)
		}
	}
}

// plainTransport hides an *http.Transport from the dispatcher, which then
// uses it as it is: no guard (the "before").
type plainTransport struct{ t *http.Transport }

func (p plainTransport) RoundTrip(r *http.Request) (*http.Response, error) { return p.t.RoundTrip(r) }

// BenchmarkDeliveries pushes deliveries to a receiver on loopback through
// the dispatcher, with and without the egress guard, each on fresh
// connections half of the time (a receiver that closes every other one), so
// that the dial check is in the measure.
func BenchmarkDeliveries(b *testing.B) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			w.Header().Set("Connection", "close")
		}
	}))
	defer srv.Close()
	// Rounds alternate the two in ABBA order, so that a busy machine and
	// the position in the run (the first is the fastest) weigh on both
	// alike; -count would run all of one before the other.
	rounds := []bool{false, true, true, false, false, true, true, false}
	if testing.Short() {
		rounds = rounds[:2]
	}
	for _, guarded := range rounds {
		b.Run(fmt.Sprintf("guard=%v", guarded), func(b *testing.B) {
			o := dispatch.Options{Workers: 32, PerHost: 16, Logger: slog.New(slog.DiscardHandler)}
			if !guarded {
				// The transport the dispatcher builds, less the guard's dialer.
				o.Client = &http.Client{Transport: plainTransport{&http.Transport{
					MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 5 * time.Second,
					MaxResponseHeaderBytes: dispatch.MaxResponseHeader,
					DialContext:            (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				}}}
			}
			q := newQueue()
			q.results = make(chan dispatch.Result, 1024)
			d := run(b, q, o)
			b.ResetTimer()
			for i := range b.N {
				del := delivery(srv.URL, 1)
				del.ID = fmt.Sprint(i)
				q.add(del)
				if i%64 == 63 || i == b.N-1 {
					d.Notify()
				}
			}
			for range b.N {
				<-q.results
			}
		})
	}
}

// BenchmarkDial: one loopback connection, through the guard's dialer and
// through a plain one.
func BenchmarkDial(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	plain := (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	guarded := dispatch.NewGuard(dispatch.DefaultPolicy(nil)).DialContext(5 * time.Second)
	for _, round := range []string{"plain", "guard", "plain", "guard", "plain", "guard"} {
		dial := plain
		if round == "guard" {
			dial = guarded
		}
		b.Run(round, func(b *testing.B) {
			for b.Loop() {
				c, err := dial(b.Context(), "tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				_ = c.Close()
			}
		})
	}
}

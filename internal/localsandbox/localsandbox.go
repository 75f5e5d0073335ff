// Package localsandbox runs an innosandbox inside this process on a
// loopback port, with its dispatcher, and can stop it and start it again at
// the same address on the same state, as a process restart would. The test
// entry of the features and `innosandbox test --target sandbox` use it; it
// never imports the steps, so the sandbox and the harness still meet only
// in cmd/ and features/suite_test.go.
package localsandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/mockserver"
)

// BuildFunc makes a server and opens the store it runs on; it is called at
// every start, so a store kept in a file comes back as it was. The closer
// closes the store.
type BuildFunc func(ctx context.Context) (*mockserver.Server, io.Closer, error)

// Sandbox is a running in-process sandbox.
type Sandbox struct {
	build BuildFunc
	addr  string

	mu         sync.Mutex
	srv        *mockserver.Server
	store      io.Closer
	hs         *http.Server
	stop       context.CancelFunc
	dispatched chan struct{}
	violations int64 // of instances already stopped
	closed     bool
}

// Start builds a server and serves it on addr ("127.0.0.1:0" for a free
// loopback port).
func Start(ctx context.Context, addr string, build BuildFunc) (*Sandbox, error) {
	s := &Sandbox{build: build, addr: addr}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Sandbox) start(ctx context.Context) error {
	srv, store, err := s.build(ctx)
	if err != nil {
		return err
	}
	ln, err := listen(ctx, s.addr)
	if err != nil {
		_ = store.Close()
		return err
	}
	s.addr = ln.Addr().String() // the port stays the same across restarts
	// The dispatcher outlives the caller's context (often a step's); Close
	// or Restart stops it.
	dctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	dispatched := make(chan struct{})
	go func() { srv.Run(dctx); close(dispatched) }()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	hs.RegisterOnShutdown(srv.EndWaits) // long polls on the deliveries answer at once
	go func() { _ = hs.Serve(ln) }()
	s.srv, s.store, s.hs, s.stop, s.dispatched = srv, store, hs, stop, dispatched
	return nil
}

// listen binds addr, trying again for a moment while a just-closed listener
// of a restart still holds the port.
func listen(ctx context.Context, addr string) (net.Listener, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			if err != nil {
				return nil, fmt.Errorf("listening on %s: %w", addr, err)
			}
			return ln, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// halt stops requests, the dispatcher and the store, in that order.
func (s *Sandbox) halt(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := s.hs.Shutdown(sctx)
	s.stop()
	select {
	case <-s.dispatched:
	case <-sctx.Done():
		err = errors.Join(err, errors.New("the dispatcher did not stop in time"))
	}
	s.violations += s.srv.SchemaViolations()
	return errors.Join(err, s.store.Close())
}

// URL is the sandbox's base URL; it stays the same across restarts.
func (s *Sandbox) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://" + s.addr
}

// Server returns the running server.
func (s *Sandbox) Server() *mockserver.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// SchemaViolations counts pushed payloads that broke their schema, over
// every start of the sandbox.
func (s *Sandbox) SchemaViolations() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.violations
	}
	return s.violations + s.srv.SchemaViolations()
}

// Restart stops the sandbox and starts it again at the same address; the
// build function reopens the state.
func (s *Sandbox) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("the sandbox is closed")
	}
	if err := s.halt(ctx); err != nil {
		return fmt.Errorf("stopping the sandbox: %w", err)
	}
	if err := s.start(ctx); err != nil {
		s.closed = true
		return fmt.Errorf("starting the sandbox again: %w", err)
	}
	return nil
}

// Close stops the sandbox for good.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.halt(context.Background())
}

// Private is a sandbox a scenario has to itself, on a state file in a
// directory of its own, which Close removes. Close fails when the sandbox
// pushed a payload that broke its schema.
type Private struct {
	*Sandbox
	Dir string
}

// Close stops the sandbox, removes its directory and reports schema
// violations.
func (p *Private) Close() error {
	err := p.Sandbox.Close()
	if n := p.SchemaViolations(); n > 0 {
		err = errors.Join(err, fmt.Errorf("the private sandbox pushed %d payloads that break their schema", n))
	}
	if p.Dir != "" {
		err = errors.Join(err, os.RemoveAll(p.Dir))
	}
	return err
}

package steps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cucumber/godog"

	"github.com/innosandbox/innosandbox/spec"
)

// PrivateSandbox is an innosandbox one scenario has to itself, whose state
// lives in a file, so that the scenario can stop it and start it again at
// the same URL, as a process restart would.
type PrivateSandbox interface {
	// URL is the sandbox's base URL; it stays the same across restarts.
	URL() string
	// Restart stops the sandbox (requests, dispatcher, store) and starts it
	// again on the same state file and address.
	Restart(ctx context.Context) error
	// Close stops the sandbox for good and removes its state.
	Close() error
}

// StartPrivateFunc starts a private sandbox. The test entry (go test
// ./features) and `innosandbox test --target sandbox` provide one; the steps
// cannot, since they never import the sandbox.
type StartPrivateFunc func(ctx context.Context) (PrivateSandbox, error)

// Config is what a run of the features needs.
type Config struct {
	Target Target
	// Spec is the contract every answer and push is held to (the embedded
	// one when nil).
	Spec *spec.Spec
	// Wait bounds every wait for something asynchronous: a push, a
	// delivery state (5s).
	Wait time.Duration
	// CallbackListen, when set, serves every scenario's receiver on this
	// one address, each under its own path, and CallbackPublicURL is how
	// the target reaches it. By default each scenario gets a receiver of
	// its own on a free loopback port.
	CallbackListen    string
	CallbackPublicURL string
	// StartPrivate gives scenarios tagged @restart a sandbox of their own;
	// nil: they are skipped with the reason.
	StartPrivate StartPrivateFunc
	// AuthChoice is how the sandbox under test refuses a call whose
	// credentials fail (DefaultAuthChoice).
	AuthChoice AuthChoice
	// LogToTest logs notes (skips, drift) through godog.Logf as they
	// happen, for go test -v. Either way they are collected in Report.
	LogToTest bool
}

// Suite runs the features against one target.
type Suite struct {
	cfg      Config
	contract *Contract
	report   *Report
	hub      *Hub
	client   *http.Client
	basePath string
	// validated counts the pushes judged at the end of their scenario
	// (by both validators).
	validated atomic.Int64
}

// New checks the configuration and prepares a suite; Close it after the run.
func New(cfg Config) (*Suite, error) {
	if err := cfg.Target.Validate(); err != nil {
		return nil, err
	}
	if cfg.Spec == nil {
		sp, err := spec.Load(context.Background(), spec.Sources{})
		if err != nil {
			return nil, err
		}
		cfg.Spec = sp
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 5 * time.Second
	}
	if cfg.AuthChoice.Status == 0 {
		cfg.AuthChoice.Status = DefaultAuthChoice.Status
	}
	if cfg.AuthChoice.Code == "" {
		cfg.AuthChoice.Code = DefaultAuthChoice.Code
	}
	cfg.Target.BaseURL = strings.TrimSuffix(cfg.Target.BaseURL, "/")
	u, _ := url.Parse(cfg.Target.BaseURL) // checked by Validate
	independent, err := NewPayloadSchemas(cfg.Spec.Public.Source)
	if err != nil {
		return nil, err
	}
	s := &Suite{cfg: cfg, contract: &Contract{Spec: cfg.Spec, Independent: independent}, report: &Report{},
		client: cfg.Target.Client, basePath: u.Path}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.CallbackListen != "" || cfg.CallbackPublicURL != "" {
		if cfg.CallbackListen == "" {
			return nil, errors.New("--callback-public-url needs --callback-listen: the address the receivers listen on")
		}
		hub, err := StartHub(cfg.CallbackListen, cfg.CallbackPublicURL)
		if err != nil {
			return nil, err
		}
		s.hub = hub
	}
	return s, nil
}

// Report returns the notes collected so far (skips with their reasons,
// drift).
func (s *Suite) Report() *Report { return s.report }

// Close stops the shared receiver, if any.
func (s *Suite) Close() error {
	if s.hub != nil {
		return s.hub.Close()
	}
	return nil
}

// Target returns the target the suite runs against.
func (s *Suite) Target() Target { return s.cfg.Target }

// PushesValidated returns how many pushes the scenarios' receivers got and
// had judged against their schemas by both validators.
func (s *Suite) PushesValidated() int64 { return s.validated.Load() }

// newReceiver gives a scenario a receiver of its own.
func (s *Suite) newReceiver() (*Receiver, error) {
	var r *Receiver
	if s.hub != nil {
		r = s.hub.NewReceiver()
	} else {
		var err error
		if r, err = StartReceiver(); err != nil {
			return nil, err
		}
	}
	r.FlatType = s.contract.FlatEventType
	return r, nil
}

// InitializeScenario is the godog ScenarioInitializer: it builds the
// scenario's world and binds the steps to it.
func (s *Suite) InitializeScenario(sc *godog.ScenarioContext) {
	w := &world{s: s, base: s.cfg.Target.BaseURL, basePath: s.basePath, apps: map[string]*app{}}
	sc.Before(w.before)
	sc.After(w.after)
	sc.StepContext().After(w.afterStep)
	w.registerAuth(sc)
	w.registerTokens(sc)
	w.registerWebhooks(sc)
	w.registerRouting(sc)
	w.registerRetries(sc)
	w.registerRestart(sc)
	w.registerProducts(sc)
	w.registerEvents(sc)
}

// skipError makes godog skip the rest of a scenario.
func skipError(reason string) error { return fmt.Errorf("%w: %s", godog.ErrSkip, reason) }

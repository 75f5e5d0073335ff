package features_test

import (
	"context"
	"flag"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/features"
	"github.com/innosandbox/innosandbox/internal/localsandbox"
	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/spec"
	"github.com/innosandbox/innosandbox/steps"
)

// godog's own options, as -godog.* test flags:
//
//	go test ./features -godog.tags '@auth && ~@sends' -godog.format pretty -godog.random 42
var (
	flagTags        = flag.String("godog.tags", "", "run only the scenarios these tags select, e.g. '@auth && ~@sends'")
	flagFormat      = flag.String("godog.format", "progress", "godog formatters, comma-separated (pretty, progress, junit:FILE, cucumber:FILE)")
	flagRandom      = flag.Int64("godog.random", -1, "scenario order seed; -1 picks one (and prints it), 0 keeps the files' order")
	flagConcurrency = flag.Int("godog.concurrency", 4, "scenarios run at once")
)

// TestFeatures runs every feature against a sandbox in this process: a
// memory store, strict answers (an answer breaking the contract is a 500),
// its dispatcher running.
func TestFeatures(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sp := spec.MustLoadEmbedded()
	srv, err := mockserver.New(ctx, mockserver.Config{Spec: sp, Store: memstore.New(), StoreKind: "memory", Strict: true})
	require.NoError(t, err)
	dispatched := make(chan struct{})
	go func() { srv.Run(ctx); close(dispatched) }()
	ts := httptest.NewServer(srv)
	defer func() { ts.Close(); cancel(); <-dispatched }()

	suite, err := steps.New(steps.Config{
		Target:       steps.Target{Kind: steps.KindSandbox, BaseURL: ts.URL},
		Spec:         sp,
		StartPrivate: startPrivate(sp),
		AuthChoice:   steps.AuthChoice{Status: 401, Code: mockserver.CodeAuthFailure, Message: mockserver.MsgAuthFailure},
		LogToTest:    true,
	})
	require.NoError(t, err)
	defer suite.Close()

	seed := *flagRandom
	if seed == -1 {
		seed = rand.Int64N(1<<31) + 1
	}
	t.Logf("scenario order: random seed %d (rerun it with -godog.random %d)", seed, seed)
	status := godog.TestSuite{
		Name:                "innosandbox",
		ScenarioInitializer: suite.InitializeScenario,
		Options: &godog.Options{
			FS: features.FS, Paths: []string{"."}, Format: *flagFormat, Tags: *flagTags, Output: os.Stdout,
			Strict: true, Randomize: seed, Concurrency: *flagConcurrency, TestingT: t, NoColors: true,
		},
	}.Run()

	var summary strings.Builder
	suite.Report().WriteSummary(&summary)
	if summary.Len() > 0 {
		t.Log(summary.String())
	}
	assert.Zero(t, status, "the features failed (random seed %d)", seed)
	assert.Zero(t, srv.SchemaViolations(), "the sandbox pushed payloads that break their schema")
	// Every push the receivers got was judged by kin-openapi and by the
	// independent JSON Schema validator; a run that received none proved
	// nothing about the payloads (unless a tag filter left them out).
	if *flagTags == "" {
		assert.Positive(t, suite.PushesValidated(), "pushes judged by both validators")
	}
	t.Logf("%d pushes judged by both validators", suite.PushesValidated())
	// Against its own in-process sandbox the suite has nothing to skip (a
	// tag filter leaves scenarios out before they start) and no drift.
	assert.Zero(t, suite.Report().Count(steps.NoteSkipped), "scenarios skipped against the sandbox itself")
	assert.Zero(t, suite.Report().Count(steps.NoteDrift), "drift against the sandbox itself")
}

// startPrivate starts a sandbox of a scenario's own on a state file in a
// directory of its own (the @restart scenarios).
func startPrivate(sp *spec.Spec) steps.StartPrivateFunc {
	return func(ctx context.Context) (steps.PrivateSandbox, error) {
		p, err := localsandbox.StartPrivate(ctx, func(stateFile string) localsandbox.BuildFunc {
			return func(ctx context.Context) (*mockserver.Server, io.Closer, error) {
				store, err := openStateFile(ctx, stateFile)
				if err != nil {
					return nil, nil, err
				}
				srv, err := mockserver.New(ctx, mockserver.Config{Spec: sp, Store: store, StoreKind: "sqlite", Strict: true})
				if err != nil {
					_ = store.Close()
					return nil, nil, err
				}
				return srv, store, nil
			}
		})
		if err != nil {
			return nil, err
		}
		return p, nil
	}
}

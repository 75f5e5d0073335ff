package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cucumber/godog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/innosandbox/innosandbox/features"
	"github.com/innosandbox/innosandbox/internal/localsandbox"
	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/spec"
	"github.com/innosandbox/innosandbox/steps"
)

// testOptions are the flags of `innosandbox test`.
type testOptions struct {
	target            string
	baseURL           string
	adminToken        string
	accountToken      string
	authFailureStatus int
	formats           []string
	tags              string
	concurrency       int
	random            int64
	callbackListen    string
	callbackPublicURL string
	allowSends        bool
	wait              time.Duration
	noColors          bool
}

func newTestCmd() *cobra.Command {
	o := &testOptions{}
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Run the embedded Gherkin features against the sandbox, a sandbox at a URL, or a real endpoint",
		Long: `Run the features that say what InnoPaaS does against a target:

  --target sandbox   a sandbox started in this process (the default)
  --target url       a sandbox already running at --base-url (its control API is used)
  --target real      an InnoPaaS-compatible endpoint at --base-url: the public API only.
                     Credentials come from INNOPAAS_APPKEY and INNOPAAS_AUTHORIZATION
                     (INNOPAAS_SUPERSEDED_TOKEN optionally); scenarios that would send
                     messages run only with --allow-sends, sending INNOPAAS_MESSAGE.

Scenarios the target cannot run are skipped, each with a one-line reason that says how
to enable it. Where a real target answers differently from the sandbox's own choice
(the docs being silent), the difference is reported as drift, not as a failure.
The exit status is 0 only when every scenario that ran passed.

Every flag can also be set from the environment: --base-url from INNOSANDBOX_BASE_URL,
and so on.`,
		Example: `  innosandbox test
  innosandbox test --target url --base-url http://127.0.0.1:8080 --format junit:report.xml
  INNOPAAS_APPKEY=... INNOPAAS_AUTHORIZATION=... innosandbox test --target real --base-url https://api.innopaas.com`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTest(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.target, "target", "sandbox", "what to test: sandbox (in process), url (a running sandbox) or real (an InnoPaaS endpoint)")
	f.StringVar(&o.baseURL, "base-url", "", "the target's base URL (--target url or real)")
	f.StringVar(&o.adminToken, "admin-token", "", "the sandbox's admin token, sent as X-Sandbox-Admin-Token (--target url)")
	f.StringVar(&o.accountToken, "account-token", "", "an account's control token instead (--target url): every scenario runs in that account, one at a time, and those that create accounts are skipped; set it as INNOSANDBOX_ACCOUNT_TOKEN")
	f.IntVar(&o.authFailureStatus, "auth-failure-status", 401, "the HTTP status the sandbox at --base-url was started to refuse with (--target url)")
	f.StringArrayVar(&o.formats, "format", []string{"pretty"}, "report format: pretty, progress, junit:FILE or cucumber:FILE; repeat for several")
	f.StringVar(&o.tags, "tags", "", "run only the scenarios these tags select, e.g. '@auth && ~@sends'")
	f.IntVar(&o.concurrency, "concurrency", 4, "scenarios run at once")
	f.Int64Var(&o.random, "random", -1, "scenario order seed: -1 picks one (and prints it), 0 keeps the files' order")
	f.StringVar(&o.callbackListen, "callback-listen", "", "serve every webhook receiver on this address (default: one free loopback port per scenario)")
	f.StringVar(&o.callbackPublicURL, "callback-public-url", "", "the URL the target reaches --callback-listen at (default: http://ADDR)")
	f.BoolVar(&o.allowSends, "allow-sends", false, "let scenarios that send messages run on a real target")
	f.DurationVar(&o.wait, "wait", 5*time.Second, "how long to wait for a webhook or a delivery state")
	f.BoolVar(&o.noColors, "no-colors", false, "no colours in the pretty report (off anyway when stdout is not a terminal)")
	return cmd
}

// godogFormats maps --format values onto godog's comma-separated list.
func godogFormats(formats []string) (string, error) {
	if len(formats) == 0 {
		formats = []string{"pretty"}
	}
	toStdout := 0
	out := make([]string, 0, len(formats))
	for _, f := range formats {
		name, file, hasFile := strings.Cut(f, ":")
		switch name {
		case "pretty", "progress", "junit", "cucumber":
		default:
			return "", fmt.Errorf("--format %q: use pretty, progress, junit:FILE or cucumber:FILE", f)
		}
		if hasFile && (file == "" || strings.Contains(file, ",")) {
			return "", fmt.Errorf("--format %q: name a file (without commas) after the colon", f)
		}
		if !hasFile {
			toStdout++
		}
		out = append(out, f)
	}
	if toStdout > 1 {
		return "", fmt.Errorf("--format: %d formats write to stdout; give all but one a file (junit:FILE)", toStdout)
	}
	return strings.Join(out, ","), nil
}

// peopleFormats gives the pretty or progress report on stdout an ending for
// people (steps.Report.PeopleFormats): each failed scenario with its step,
// error, request and answer, and a headline that counts passed, skipped and
// failed scenarios apart. Reports written to files, and junit and cucumber,
// stay as godog writes them. godog finds formatters by name in a
// process-wide list, so each run registers names of its own.
func peopleFormats(formats string, report *steps.Report) string {
	run := formatRuns.Add(1)
	parts := strings.Split(formats, ",")
	for i, f := range parts {
		if f != "pretty" && f != "progress" {
			continue
		}
		summary, inner := report.PeopleFormats(godog.FindFmt(f))
		sname, iname := fmt.Sprintf("innosandbox-summary-%d", run), fmt.Sprintf("innosandbox-%s-%d", f, run)
		godog.Format(sname, "a summary for people", summary)
		godog.Format(iname, "godog's "+f+" without its summary", inner)
		parts[i] = sname + "," + iname // the summary first: it silences the inner one's
	}
	return strings.Join(parts, ",")
}

var formatRuns atomic.Int64

// validate checks the options that do not need the network.
func (o *testOptions) validate() (steps.Kind, error) {
	kind, err := steps.ParseKind(o.target)
	if err != nil {
		return "", fmt.Errorf("--%w", err)
	}
	switch {
	case kind == steps.KindSandbox && o.baseURL != "":
		return "", errors.New("--base-url is for --target url or real; --target sandbox starts its own")
	case kind != steps.KindSandbox && o.baseURL == "":
		return "", fmt.Errorf("--target %s needs --base-url", kind)
	case o.concurrency < 1:
		return "", fmt.Errorf("--concurrency %d: at least 1", o.concurrency)
	case o.random < -1:
		return "", fmt.Errorf("--random %d: a seed, -1 to pick one or 0 for the files' order", o.random)
	case o.callbackPublicURL != "" && o.callbackListen == "":
		return "", errors.New("--callback-public-url needs --callback-listen: the address the receivers listen on")
	case o.accountToken != "" && kind != steps.KindURL:
		return "", fmt.Errorf("--account-token is for --target url (a running sandbox's control API), not --target %s", kind)
	}
	if _, err := godogFormats(o.formats); err != nil {
		return "", err
	}
	return kind, nil
}

func runTest(ctx context.Context, o *testOptions, stdout, stderr io.Writer) error {
	kind, err := o.validate()
	if err != nil {
		return err
	}
	formats, _ := godogFormats(o.formats)
	// One contract for the suite and every sandbox it starts: loading it
	// is most of a start-up.
	sp, err := spec.Load(ctx, spec.Sources{})
	if err != nil {
		return err
	}
	cfg := steps.Config{
		Spec:   sp,
		Target: steps.Target{Kind: kind, BaseURL: o.baseURL, AdminToken: o.adminToken, AccountToken: o.accountToken, AllowSends: o.allowSends},
		Wait:   o.wait, CallbackListen: o.callbackListen, CallbackPublicURL: o.callbackPublicURL,
		AuthChoice: steps.AuthChoice{Status: o.authFailureStatus, Code: mockserver.CodeAuthFailure, Message: mockserver.MsgAuthFailure},
	}
	var sandbox *localsandbox.Sandbox
	switch kind {
	case steps.KindSandbox:
		sandbox, err = startTestSandbox(ctx, sp, "memory", stderr)
		if err != nil {
			return err
		}
		defer sandbox.Close()
		cfg.Target.BaseURL = sandbox.URL()
		cfg.AuthChoice.Status = 401
		if private, ok := privateSandboxes(ctx, sp, stderr); ok {
			cfg.StartPrivate = private
		}
	case steps.KindURL:
		if err := checkHealth(ctx, o.baseURL); err != nil {
			return err
		}
	case steps.KindReal:
		cfg.Target.Credentials = steps.CredentialsFromEnv(os.Getenv)
		if m := os.Getenv(steps.EnvMessage); m != "" {
			cfg.Target.Message = []byte(m)
		}
		cfg.AuthChoice.Message = "" // a real endpoint words its refusals its own way
	}
	suite, err := steps.New(cfg)
	if err != nil {
		return err
	}
	defer suite.Close()
	format := peopleFormats(formats, suite.Report())

	concurrency := o.concurrency
	if o.accountToken != "" && concurrency > 1 {
		// Every scenario shares the token's account (its clock, default
		// app, delivery log): one at a time, or they would see each other.
		fmt.Fprintf(stderr, "innosandbox test: --account-token: scenarios share one account, so they run one at a time (not %d)\n", concurrency)
		concurrency = 1
	}
	seed := o.random
	if seed == -1 {
		seed = rand.Int64N(1<<31) + 1
	}
	if seed != 0 {
		fmt.Fprintf(stderr, "innosandbox test: %s target %s, random seed %d (rerun the same order with --random %d)\n", kind, cfg.Target.BaseURL, seed, seed)
	}
	// Outside go test, godog prints testify's failure messages straight to
	// os.Stdout (they are in the report too); send them to stderr, so that
	// stdout carries the report alone, e.g. junit XML a CI job parses.
	realStdout := os.Stdout
	os.Stdout = os.Stderr
	status := godog.TestSuite{
		Name:                "innosandbox",
		ScenarioInitializer: suite.InitializeScenario,
		Options: &godog.Options{
			FS: features.FS, Paths: []string{"."}, Format: format, Tags: o.tags, Output: stdout,
			Strict: true, Randomize: seed, Concurrency: concurrency, NoColors: o.noColors || !isTerminal(stdout),
		},
	}.Run()
	os.Stdout = realStdout

	suite.Report().WriteSummary(stderr)
	if sandbox != nil {
		if n := sandbox.SchemaViolations(); n > 0 {
			fmt.Fprintf(stderr, "\ninnosandbox test: the sandbox pushed %d payloads that break their schema (a sandbox bug)\n", n)
			status = max(status, 1)
		}
	}
	switch status {
	case 0:
		return nil
	case 1:
		return exitError{code: 1}
	default:
		return fmt.Errorf("the feature run could not start (godog status %d); see the messages above", status)
	}
}

// startTestSandbox starts a sandbox in this process the way serve does, on
// the contract sp and the given --store value, in strict mode, on a free
// loopback port.
func startTestSandbox(ctx context.Context, sp *spec.Spec, store string, stderr io.Writer) (*localsandbox.Sandbox, error) {
	so := &serveOptions{}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	bindServeFlags(fs, so) // serve's defaults
	so.store, so.strict, so.quiet = store, true, true
	log, err := newLogger(stderr, "text", "error") // contract breaches are logged as errors
	if err != nil {
		return nil, err
	}
	return localsandbox.Start(ctx, "127.0.0.1:0", func(ctx context.Context) (*mockserver.Server, io.Closer, error) {
		srv, st, err := buildServer(ctx, so, sp, log)
		if err != nil {
			return nil, nil, err
		}
		return srv, st, nil
	})
}

// privateSandboxes gives @restart scenarios sandboxes of their own on a
// SQLite file, when this build has the SQLite store.
func privateSandboxes(ctx context.Context, sp *spec.Spec, stderr io.Writer) (steps.StartPrivateFunc, bool) {
	dir, err := os.MkdirTemp("", "innosandbox-probe-*")
	if err != nil {
		return nil, false
	}
	defer os.RemoveAll(dir)
	st, _, err := openStore(ctx, "sqlite:"+filepath.Join(dir, "probe.db"), memstore.Options{})
	if err != nil {
		return nil, false
	}
	_ = st.Close()
	return func(ctx context.Context) (steps.PrivateSandbox, error) {
		dir, err := os.MkdirTemp("", "innosandbox-restart-*")
		if err != nil {
			return nil, err
		}
		sb, err := startTestSandbox(ctx, sp, "sqlite:"+filepath.Join(dir, "state.db"), stderr)
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		return &localsandbox.Private{Sandbox: sb, Dir: dir}, nil
	}, true
}

// checkHealth fails early, with one clear message, when no sandbox answers
// at the URL, instead of failing every scenario with the same error.
func checkHealth(ctx context.Context, baseURL string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	url := strings.TrimSuffix(baseURL, "/") + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("--base-url %q: %w", baseURL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("no sandbox answers at --base-url %s: %w", baseURL, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the sandbox at --base-url %s is not ready: GET /healthz answered HTTP %d", baseURL, resp.StatusCode)
	}
	return nil
}

// isTerminal reports whether w is a terminal (colours make sense there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

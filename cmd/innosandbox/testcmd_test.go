package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/fixtures"
	"github.com/innosandbox/innosandbox/internal/localsandbox"
	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/spec"
)

// runCLI runs the command line in process and returns its outputs.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot()
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// runProcess runs the command line in a process of the built binary (see
// sandbox) and returns its outputs; err is non-nil when it exits non-zero.
// The long feature runs use it: the harness then runs without the race
// detector (the features package runs it in process with it), several
// times faster, against sandboxes that may be in this raced process.
func runProcess(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(sandbox(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// junitReport is the part of a JUnit report the tests read.
type junitReport struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) junitReport {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var r junitReport
	require.NoError(t, xml.Unmarshal(data, &r), "the JUnit report must be valid XML")
	return r
}

func TestTestCommandAgainstTheInProcessSandbox(t *testing.T) {
	dir := t.TempDir()
	junit, cucumber := filepath.Join(dir, "report.xml"), filepath.Join(dir, "report.json")
	stdout, stderr, err := runProcess(t, "test", "--format", "progress", "--format", "junit:"+junit,
		"--format", "cucumber:"+cucumber, "--concurrency", "4", "--random", "7")
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)

	r := readJUnit(t, junit)
	assert.Greater(t, r.Tests, 50, "every scenario is in the report")
	assert.Zero(t, r.Failures)
	assert.Zero(t, r.Errors)
	assert.Greater(t, len(r.Suites), 5, "one suite per feature")

	data, err := os.ReadFile(cucumber)
	require.NoError(t, err)
	var features []map[string]any
	require.NoError(t, json.Unmarshal(data, &features), "the cucumber report must be JSON")
	assert.Len(t, features, len(r.Suites))

	assert.Contains(t, stderr, "random seed 7")
	assert.Regexp(t, fmt.Sprintf(`(?m)^%d scenarios: %d passed, 0 skipped, 0 failed$`, r.Tests, r.Tests), stdout,
		"the headline for people: every scenario of the report ran and passed")
	assert.NotContains(t, stderr, "Skipped scenarios", "the in-process sandbox runs every scenario, the restart on a SQLite file included")
}

func TestTestCommandFailsWhenTheTargetBreaksTheContract(t *testing.T) {
	// A "sandbox" that accepts everything with an answer no operation has.
	bogus := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/healthz" {
			_, _ = io.WriteString(w, `{"status":"ok"}`)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer bogus.Close()
	junit := filepath.Join(t.TempDir(), "report.xml")
	stdout, stderr, err := runCLI(t, "test", "--target", "url", "--base-url", bogus.URL, "--tags", "@auth",
		"--format", "junit:"+junit, "--format", "progress", "--wait", "200ms")
	var ee exitError
	require.True(t, errors.As(err, &ee), "want an exit status, got %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	assert.Equal(t, 1, ee.code)

	r := readJUnit(t, junit)
	assert.Positive(t, r.Failures)
	var messages []string
	for _, s := range r.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				messages = append(messages, c.Failure.Message)
			}
		}
	}
	assert.Contains(t, strings.Join(messages, "\n"), "breaks the contract", "the failures carry the validator's message")
	assert.NotContains(t, stdout, "Error Trace", "testify's messages go to stderr, not into the report")

	// The report ends for people: each failure with its step, request and
	// answer, no stack and no file paths, and a headline that counts apart.
	assert.Contains(t, stdout, "--- Failed scenarios:")
	assert.Regexp(t, `(?m)^    Step: +\S`, stdout)
	assert.Regexp(t, `(?m)^    Request: POST `+regexp.QuoteMeta(bogus.URL), stdout)
	assert.Regexp(t, `(?m)^    Answer: +HTTP 200: \{"ok":true\}`, stdout)
	assert.Regexp(t, `(?m)^\d+ scenarios: \d+ passed, \d+ skipped, [1-9]\d* failed$`, stdout)
	for name, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
		assert.NotContains(t, out, "Error Trace", name)
		assert.NotRegexp(t, `\.go:\d+`, out, "%s names no source file", name)
	}
}

// startSeeded starts a sandbox in process for the url and real targets.
func startSeeded(t *testing.T, authStatus int) *localsandbox.Sandbox {
	t.Helper()
	sp := spec.MustLoadEmbedded()
	sb, err := localsandbox.Start(context.Background(), "127.0.0.1:0", func(ctx context.Context) (*mockserver.Server, io.Closer, error) {
		st := memstore.New()
		srv, err := mockserver.New(ctx, mockserver.Config{Spec: sp, Store: st, Strict: true, AuthFailureStatus: authStatus})
		return srv, st, err
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sb.Close() })
	return sb
}

func TestTestCommandAgainstARealTarget(t *testing.T) {
	// A sandbox that refuses with HTTP 200, as a real endpoint may: the
	// public-API scenarios pass, the rest are skipped with their reasons,
	// and the difference from the sandbox's choice is reported as drift.
	sb := startSeeded(t, http.StatusOK)
	seed, err := fixtures.LoadSeed("")
	require.NoError(t, err)
	app := seed.Accounts[0].Apps[0]
	t.Setenv("INNOPAAS_APPKEY", app.AppKey)
	t.Setenv("INNOPAAS_AUTHORIZATION", app.Token)
	t.Setenv("INNOPAAS_SUPERSEDED_TOKEN", "")

	junit := filepath.Join(t.TempDir(), "report.xml")
	stdout, stderr, err := runProcess(t, "test", "--target", "real", "--base-url", sb.URL(), "--format", "junit:"+junit, "--format", "progress")
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	r := readJUnit(t, junit)
	assert.Zero(t, r.Failures)
	assert.Contains(t, stderr, "needs the sandbox control API: run with --target sandbox or --target url")
	assert.Contains(t, stderr, "would send real messages: run with --allow-sends")
	assert.Contains(t, stderr, "set INNOPAAS_SUPERSEDED_TOKEN")
	assert.Contains(t, stderr, "Drift")
	assert.Contains(t, stderr, "HTTP 200 where the sandbox answers 401")

	// The headline counts the skipped scenarios apart from the passed ones
	// (godog's own would call every one of them passed), grouped by reason.
	m := regexp.MustCompile(`(?m)^(\d+) scenarios: (\d+) passed, (\d+) skipped \((.*)\), 0 failed$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, "no headline in:\n%s", stdout)
	total, _ := strconv.Atoi(m[1])
	passed, _ := strconv.Atoi(m[2])
	skipped, _ := strconv.Atoi(m[3])
	assert.Equal(t, total, passed+skipped)
	assert.Positive(t, passed)
	assert.Positive(t, skipped)
	assert.Contains(t, m[4], "needs the sandbox control API: ")
	assert.NotContains(t, stdout, fmt.Sprintf("%d scenarios (%d passed)", total, total), "godog's own headline is replaced")
}

func TestTestCommandAgainstASandboxAtAURL(t *testing.T) {
	sb := startSeeded(t, 0)
	stdout, stderr, err := runProcess(t, "test", "--target", "url", "--base-url", sb.URL(), "--format", "progress", "--tags", "@routing,@tokens")
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.NotContains(t, stderr, "Skipped scenarios", "a sandbox at a URL runs them all")
}

func TestTestCommandWithAnAccountToken(t *testing.T) {
	sb := startSeeded(t, 0)
	var acct struct{ ControlToken string }
	adminCall(t, sb.URL(), "", "POST", "/_sandbox/accounts", `{"label":"partner"}`, 201, &acct)
	require.NotEmpty(t, acct.ControlToken)
	t.Setenv("INNOSANDBOX_ACCOUNT_TOKEN", acct.ControlToken)
	args := []string{"test", "--target", "url", "--base-url", sb.URL(), "--format", "progress", "--tags", "@clock,@tokens"}
	for range 2 { // twice in the same account: what a run leaves there does not fail the next
		stdout, stderr, err := runCLI(t, args...)
		require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		assert.Contains(t, stderr, "one at a time")
		assert.Contains(t, stderr, "which an account token cannot", "the scenario that creates another account is skipped, saying why")
	}
	var all []struct{ Name string }
	adminCall(t, sb.URL(), "", "GET", "/_sandbox/accounts", "", 200, &all)
	assert.Len(t, all, 2, "the suite made no account: the seed's and the partner's")
}

func TestTestCommandNeedsASandboxAtTheURL(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	url := gone.URL
	gone.Close()
	_, _, err := runCLI(t, "test", "--target", "url", "--base-url", url)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no sandbox answers at --base-url")
}

func TestTestCommandOptions(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown target", []string{"--target", "prod"}, "use sandbox, url or real"},
		{"url without a base URL", []string{"--target", "url"}, "needs --base-url"},
		{"real without a base URL", []string{"--target", "real"}, "needs --base-url"},
		{"a base URL for the in-process sandbox", []string{"--base-url", "http://x"}, "--target sandbox starts its own"},
		{"an unknown format", []string{"--format", "html"}, "use pretty, progress, junit:FILE or cucumber:FILE"},
		{"a format without its file", []string{"--format", "junit:"}, "name a file"},
		{"two formats on stdout", []string{"--format", "pretty", "--format", "junit"}, "2 formats write to stdout"},
		{"no concurrency", []string{"--concurrency", "0"}, "at least 1"},
		{"a public URL without a listener", []string{"--callback-public-url", "https://x"}, "needs --callback-listen"},
		{"an account token for the in-process sandbox", []string{"--account-token", "isa_x"}, "--account-token is for --target url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(t, append([]string{"test"}, tt.args...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestGodogFormats(t *testing.T) {
	got, err := godogFormats([]string{"pretty", "junit:out/r.xml", "cucumber:r.json"})
	require.NoError(t, err)
	assert.Equal(t, "pretty,junit:out/r.xml,cucumber:r.json", got)
	got, err = godogFormats(nil)
	require.NoError(t, err)
	assert.Equal(t, "pretty", got)
}

func TestTestCommandWithOneCallbackListener(t *testing.T) {
	// Every scenario's receiver behind one address, as when a real platform
	// must reach them through a public URL.
	stdout, stderr, err := runProcess(t, "test", "--format", "progress", "--tags", "@webhooks && ~@restart",
		"--callback-listen", "127.0.0.1:0")
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
}

// --tags with a product's tag runs that product's suite alone: every
// scenario that ran carries the tag (on its feature, scenario or examples),
// and scenarios of every SMS feature ran.
func TestTestCommandRunsOneProductsSuite(t *testing.T) {
	report := filepath.Join(t.TempDir(), "report.json")
	stdout, stderr, err := runProcess(t, "test", "--format", "progress", "--format", "cucumber:"+report, "--tags", "@sms")
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	data, err := os.ReadFile(report)
	require.NoError(t, err)
	var features []struct {
		URI      string `json:"uri"`
		Elements []struct {
			Name string `json:"name"`
			Tags []struct {
				Name string `json:"name"`
			} `json:"tags"`
		} `json:"elements"`
	}
	require.NoError(t, json.Unmarshal(data, &features))
	ran := map[string]int{}
	for _, f := range features {
		for _, e := range f.Elements {
			ran[f.URI]++
			var tags []string
			for _, tag := range e.Tags {
				tags = append(tags, tag.Name)
			}
			assert.Contains(t, tags, "@sms", "%s: %q ran under --tags @sms", f.URI, e.Name)
			assert.NotContains(t, tags, "@whatsapp", "%s: %q", f.URI, e.Name)
			assert.NotContains(t, tags, "@otp", "%s: %q", f.URI, e.Name)
		}
	}
	for _, uri := range []string{"sms.feature", "magic_numbers.feature", "events.feature"} {
		assert.Positive(t, ran[uri], "SMS scenarios of %s ran: %v", uri, ran)
	}
	assert.Zero(t, ran["otp.feature"]+ran["whatsapp_send.feature"]+ran["auth.feature"], "other products' features ran: %v", ran)
}

package main

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/certify"
	"github.com/innosandbox/innosandbox/certify/fixtures"
	"github.com/innosandbox/innosandbox/spec"
)

// startHTTPSReceiver serves a fixture receiver over HTTPS and writes its
// certificate to a PEM file, for --ca-file.
func startHTTPSReceiver(t *testing.T, cfg fixtures.Config) (url, caFile string) {
	t.Helper()
	cfg.Spec = spec.MustLoadEmbedded()
	ts := httptest.NewUnstartedServer(fixtures.New(cfg))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	require.NoError(t, os.WriteFile(caFile, pemBytes, 0o600))
	return ts.URL + "/hook", caFile
}

func TestCertifyCommand(t *testing.T) {
	const secret = "Bearer cmd-s3cret-WXYZ9876"
	t.Setenv("INNOSANDBOX_AUTHORIZATION", secret) // kept out of the arguments
	dir := t.TempDir()

	t.Run("a correct receiver is certified: exit 0 and three reports", func(t *testing.T) {
		url, ca := startHTTPSReceiver(t, fixtures.Config{UserName: "acme", Authorization: secret})
		html, xml, js := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.json")
		stdout, stderr, err := runCLI(t, "certify", "--url", url, "--username", "acme", "--ca-file", ca,
			"--report-html", html, "--junit", xml, "--json", js)
		require.NoError(t, err, stdout+stderr)
		assert.Regexp(t, `^innosandbox certify: \d+ pushes at most, at most 100 per second, to POST `+regexp.QuoteMeta(url)+"\n", stderr, "the bounds come first")
		assert.Contains(t, stderr, "PASS    CERT-BURST-01", "one plain line per check when not on a terminal")
		assert.NotContains(t, stderr, "\x1b[", "no terminal codes in a pipe")
		assert.Contains(t, stdout, url+": "+certify.VerdictCertified+"\n")
		for _, f := range []string{html, xml, js} {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			assert.NotContains(t, string(b), "cmd-s3cret", f)
		}
		var report struct {
			ToolVersion string `json:"toolVersion"`
			Verdict     struct{ Certified bool }
		}
		b, _ := os.ReadFile(js)
		require.NoError(t, json.Unmarshal(b, &report))
		assert.Equal(t, version, report.ToolVersion)
		assert.True(t, report.Verdict.Certified)
	})

	t.Run("a receiver that takes pushes without credentials is not certified: exit 1", func(t *testing.T) {
		url, ca := startHTTPSReceiver(t, fixtures.Config{UserName: "acme", Authorization: secret, Fault: fixtures.AcceptsWithoutCredentials})
		stdout, _, err := runCLI(t, "certify", "--url", url, "--username", "acme", "--ca-file", ca)
		require.Error(t, err)
		assert.Equal(t, exitError{code: 1}, err)
		assert.Contains(t, stdout, certify.VerdictNotCertified)
		assert.Contains(t, stdout, "Required checks that did not pass:\n  FAIL    CERT-AUTH-01")
	})

	t.Run("an untrusted certificate stops the run, and says how to go on", func(t *testing.T) {
		url, _ := startHTTPSReceiver(t, fixtures.Config{UserName: "acme", Authorization: secret})
		stdout, _, err := runCLI(t, "certify", "--url", url, "--username", "acme")
		assert.Equal(t, exitError{code: 1}, err)
		assert.Contains(t, stdout, "--ca-file")
		assert.Contains(t, stdout, "NOT RUN")
	})

	t.Run("a dry run sends nothing", func(t *testing.T) {
		r := fixtures.New(fixtures.Config{Spec: spec.MustLoadEmbedded()})
		ts := httptest.NewServer(r)
		defer ts.Close()
		stdout, _, err := runCLI(t, "certify", "--url", ts.URL, "--product", "otp", "--dry-run")
		require.NoError(t, err)
		assert.Contains(t, stdout, "nothing sent")
		assert.Contains(t, stdout, "CERT-SIZE-01   required    A large valid payload is accepted — does not apply")
		assert.Zero(t, r.Requests())
	})
}

func TestCertifyCommandNamesTheBadFlag(t *testing.T) {
	tests := []struct {
		args []string
		flag string
	}{
		{[]string{}, "--url is required"},
		{[]string{"--url", "partner.example/hook"}, "--url"},
		{[]string{"--url", "https://p.example/h", "--method", "PATCH"}, "--method"},
		{[]string{"--url", "https://p.example/h", "--product", "voice"}, "--product"},
		{[]string{"--url", "https://p.example/h", "--events", "whatsapp_message_status_updated,nope"}, "--events"},
		{[]string{"--url", "https://p.example/h", "--timeout", "0s"}, "--timeout"},
		{[]string{"--url", "https://p.example/h", "--burst", "500"}, "--burst"},
		{[]string{"--url", "https://p.example/h", "--ca-file", "/does/not/exist.pem"}, "--ca-file"},
		{[]string{"--url", "https://p.example/h", "--json", "/does/not/exist/r.json"}, "--json"},
		{[]string{"--url", "https://p.example/h", "--timeout", "soon"}, "--timeout"},
	}
	for _, tt := range tests {
		_, _, err := runCLI(t, append([]string{"certify"}, tt.args...)...)
		require.Error(t, err, tt.args)
		assert.NotEqual(t, exitError{code: 1}, err, "a bad flag is not a verdict")
		assert.Contains(t, err.Error(), tt.flag, tt.args)
	}
}

package certify_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/certify"
	"github.com/innosandbox/innosandbox/certify/fixtures"
	"github.com/innosandbox/innosandbox/spec"
)

var testSpec = spec.MustLoadEmbedded()

const (
	testUser   = "acme-webhooks"
	testSecret = "Bearer s3cr3t-T0ken-ABCD1234"
)

// allChecks lists every check id, from the features.
func allChecks(t testing.TB) []string {
	t.Helper()
	list, _, err := certify.LoadChecks(nil)
	require.NoError(t, err)
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	return ids
}

// expect returns every check passed, except the ones given.
func expect(t testing.TB, except map[string]certify.Status) map[string]certify.Status {
	t.Helper()
	out := map[string]certify.Status{}
	for _, id := range allChecks(t) {
		out[id] = certify.Passed
	}
	for id, s := range except {
		require.Contains(t, out, id)
		out[id] = s
	}
	return out
}

// serveTLS serves h over HTTPS (HTTP/2 allowed) and returns its URL and the
// pool that trusts its certificate.
func serveTLS(t testing.TB, h http.Handler) (*httptest.Server, certify.Options) {
	t.Helper()
	ts := startServer(t, h, true)
	return ts, certify.Options{
		URL: ts.URL + "/innopaas/hook", UserName: testUser, Authorization: testSecret,
		RootCAs: ts.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs,
		Spec:    testSpec, ToolVersion: "test",
	}
}

// startServer serves h on a loopback port, over TLS (HTTP/2 allowed) or
// plain HTTP, without logging the handshakes that the TLS checks break on
// purpose.
func startServer(t testing.TB, h http.Handler, useTLS bool) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(h)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		ts.EnableHTTP2 = true
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	return ts
}

func receiver(cfg fixtures.Config) *fixtures.Receiver {
	if cfg.UserName == "" && cfg.Authorization == "" {
		cfg.UserName, cfg.Authorization = testUser, testSecret
	}
	cfg.Spec = testSpec
	return fixtures.New(cfg)
}

func certifyOK(t testing.TB, o certify.Options) *certify.Result {
	t.Helper()
	res, err := certify.Run(context.Background(), o)
	require.NoError(t, err)
	return res
}

// TestFixtures certifies the correct receiver and one broken receiver per
// check: each broken one fails its check and no other.
func TestFixtures(t *testing.T) {
	tests := []struct {
		name    string
		cfg     fixtures.Config
		options func(*certify.Options)
		want    map[string]certify.Status
	}{
		{name: "correct receiver", want: nil},
		{name: "refuses one event type", cfg: fixtures.Config{Fault: fixtures.RefusesAnEvent, RefuseEvent: "whatsapp_template_status_updated"},
			want: map[string]certify.Status{certify.CheckEvents: certify.Failed}},
		{name: "accepts a push without credentials", cfg: fixtures.Config{Fault: fixtures.AcceptsWithoutCredentials},
			want: map[string]certify.Status{certify.CheckNoAuth: certify.Failed}},
		{name: "accepts any Authorization", cfg: fixtures.Config{Fault: fixtures.AcceptsAnyAuthorization},
			want: map[string]certify.Status{certify.CheckBadKey: certify.Failed}},
		{name: "ignores UserName", cfg: fixtures.Config{Fault: fixtures.IgnoresUserName},
			want: map[string]certify.Status{certify.CheckBadUser: certify.Failed}},
		{name: "not idempotent", cfg: fixtures.Config{Fault: fixtures.NotIdempotent},
			want: map[string]certify.Status{certify.CheckDup: certify.Failed}},
		{name: "refuses reports out of order", cfg: fixtures.Config{Fault: fixtures.RefusesOutOfOrder},
			want: map[string]certify.Status{certify.CheckOrder: certify.Failed}},
		{name: "refuses unknown fields", cfg: fixtures.Config{Fault: fixtures.RefusesUnknownFields},
			want: map[string]certify.Status{certify.CheckCompat: certify.Failed}},
		{name: "refuses large bodies", cfg: fixtures.Config{Fault: fixtures.RefusesLargeBodies},
			want: map[string]certify.Status{certify.CheckSize: certify.Failed}},
		{name: "slow", cfg: fixtures.Config{Fault: fixtures.Slow, Delay: 150 * time.Millisecond},
			options: func(o *certify.Options) { o.Timeout = 50 * time.Millisecond },
			want:    map[string]certify.Status{certify.CheckTime: certify.Failed}},
		{name: "5xx under a burst", cfg: fixtures.Config{Fault: fixtures.FailsUnderBurst},
			want: map[string]certify.Status{certify.CheckBurst: certify.Failed}},
		{name: "echoes the Authorization", cfg: fixtures.Config{Fault: fixtures.EchoesAuthorization},
			want: map[string]certify.Status{certify.CheckNoEcho: certify.Failed}},
		{name: "answers with large bodies", cfg: fixtures.Config{Fault: fixtures.AnswersLargeBodies},
			want: map[string]certify.Status{certify.CheckSmallBody: certify.Failed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, o := serveTLS(t, receiver(tt.cfg))
			if tt.options != nil {
				tt.options(&o)
			}
			res := certifyOK(t, o)
			assert.Equal(t, expect(t, tt.want), res.Statuses(), reasons(res))
			assert.LessOrEqual(t, res.Bounds.SentPushes, res.Bounds.PlannedPushes)
		})
	}
}

// reasons lists the reasons of the checks that did not pass, for failure messages.
func reasons(res *certify.Result) string {
	s := ""
	for _, c := range res.Checks {
		if c.Status != certify.Passed {
			s += "\n" + certify.CheckLine(c)
		}
	}
	return s
}

// BenchmarkCertifyCorrectReceiver is a full certification (56 pushes over
// HTTPS, every phase) against an in-process correct receiver.
func BenchmarkCertifyCorrectReceiver(b *testing.B) {
	_, o := serveTLS(b, receiver(fixtures.Config{}))
	for b.Loop() {
		res, err := certify.Run(context.Background(), o)
		if err != nil || !res.Verdict.Certified {
			b.Fatalf("%v %s", err, reasons(res))
		}
	}
}

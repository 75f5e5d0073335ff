package certify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/certify"
	"github.com/innosandbox/innosandbox/certify/fixtures"
)

// notRunAfter returns every check not run, except REACH failed and the given ones.
func notRunAfterReach(t testing.TB, tlsStatus certify.Status) map[string]certify.Status {
	t.Helper()
	out := map[string]certify.Status{}
	for _, id := range allChecks(t) {
		out[id] = certify.NotRun
	}
	out[certify.CheckReach] = certify.Failed
	out[certify.CheckTLS] = tlsStatus
	return out
}

func TestWithoutCredentialsTheAuthChecksAreRecommendations(t *testing.T) {
	ts := startServer(t, fixtures.New(fixtures.Config{Spec: testSpec}), false)
	res := certifyOK(t, certify.Options{URL: ts.URL, Insecure: true, Spec: testSpec})
	assert.Equal(t, expect(t, map[string]certify.Status{
		certify.CheckTLS:    certify.Allowed,
		certify.CheckNoAuth: certify.NotApplicable, certify.CheckBadKey: certify.NotApplicable,
		certify.CheckBadUser: certify.NotApplicable, certify.CheckNoEcho: certify.NotApplicable,
	}), res.Statuses(), reasons(res))
	assert.True(t, res.Verdict.Certified)
	assert.Equal(t, certify.VerdictRecommendations, res.Verdict.Text)
	for _, c := range res.Recommendations() {
		assert.NotEmpty(t, c.Reason, "%s says why it is a recommendation", c.ID)
	}
}

func TestTLS(t *testing.T) {
	correct := func() http.Handler { return receiver(fixtures.Config{}) }
	tests := []struct {
		name   string
		server func(t *testing.T) (url string, trusted bool)
		opts   func(*certify.Options)
		want   func(t testing.TB) map[string]certify.Status
		reason string // in CERT-REACH-01's or CERT-TLS-01's reason
	}{
		{
			name: "an untrusted certificate stops the run unless --insecure",
			server: func(t *testing.T) (string, bool) {
				return startServer(t, correct(), true).URL, false
			},
			want:   func(t testing.TB) map[string]certify.Status { return notRunAfterReach(t, certify.Failed) },
			reason: "--insecure",
		},
		{
			name: "an untrusted certificate is allowed with --insecure",
			server: func(t *testing.T) (string, bool) {
				return startServer(t, correct(), true).URL, false
			},
			opts: func(o *certify.Options) { o.Insecure = true },
			want: func(t testing.TB) map[string]certify.Status {
				return expect(t, map[string]certify.Status{certify.CheckTLS: certify.Allowed})
			},
			reason: "allowed with --insecure",
		},
		{
			name: "plain HTTP fails the recommended TLS check only",
			server: func(t *testing.T) (string, bool) {
				return startServer(t, correct(), false).URL, false
			},
			want: func(t testing.TB) map[string]certify.Status {
				return expect(t, map[string]certify.Status{certify.CheckTLS: certify.Failed})
			},
			reason: "plain HTTP",
		},
		{
			name: "plain HTTP is allowed with --insecure",
			server: func(t *testing.T) (string, bool) {
				return startServer(t, correct(), false).URL, false
			},
			opts: func(o *certify.Options) { o.Insecure = true },
			want: func(t testing.TB) map[string]certify.Status {
				return expect(t, map[string]certify.Status{certify.CheckTLS: certify.Allowed})
			},
			reason: "allowed with --insecure",
		},
		{
			name: "an endpoint that cannot be reached runs nothing else",
			server: func(t *testing.T) (string, bool) {
				ts := startServer(t, correct(), true)
				ts.Close()
				return ts.URL, true
			},
			want:   func(t testing.TB) map[string]certify.Status { return notRunAfterReach(t, certify.NotRun) },
			reason: "connection refused",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, _ := tt.server(t)
			o := certify.Options{URL: url + "/hook", UserName: testUser, Authorization: testSecret, Spec: testSpec}
			if tt.opts != nil {
				tt.opts(&o)
			}
			res := certifyOK(t, o)
			assert.Equal(t, tt.want(t), res.Statuses(), reasons(res))
			all := ""
			for _, c := range res.Checks {
				if c.ID == certify.CheckReach || c.ID == certify.CheckTLS {
					all += c.Reason + "\n"
				}
			}
			assert.Contains(t, all, tt.reason)
		})
	}
}

func TestUnreachableEndpointCostsOnePush(t *testing.T) {
	ts := httptest.NewServer(nil)
	ts.Close()
	res := certifyOK(t, certify.Options{URL: ts.URL, Spec: testSpec})
	assert.Equal(t, 1, res.Bounds.SentPushes)
	assert.False(t, res.Verdict.Certified)
	for _, c := range res.Checks {
		if c.Status == certify.NotRun && c.ID != certify.CheckTLS {
			assert.Contains(t, c.Reason, "could not be reached", c.ID)
		}
	}
}

func TestProducts(t *testing.T) {
	tests := []struct {
		product string
		fault   fixtures.Fault
		want    map[string]certify.Status
	}{
		{product: "sms"},
		{product: "otp", want: map[string]certify.Status{certify.CheckSize: certify.NotApplicable}},
		{product: "sms", fault: fixtures.RefusesOutOfOrder, want: map[string]certify.Status{certify.CheckOrder: certify.Failed}},
		{product: "otp", fault: fixtures.RefusesOutOfOrder, want: map[string]certify.Status{
			certify.CheckOrder: certify.Failed, certify.CheckSize: certify.NotApplicable}},
		{product: "sms", fault: fixtures.RefusesLargeBodies, want: map[string]certify.Status{certify.CheckSize: certify.Failed}},
		{product: "sms", fault: fixtures.NotIdempotent, want: map[string]certify.Status{certify.CheckDup: certify.Failed}},
		{product: "otp", fault: fixtures.RefusesUnknownFields, want: map[string]certify.Status{
			certify.CheckCompat: certify.Failed, certify.CheckSize: certify.NotApplicable}},
	}
	for _, tt := range tests {
		t.Run(tt.product+" "+string(tt.fault), func(t *testing.T) {
			t.Parallel()
			_, o := serveTLS(t, receiver(fixtures.Config{Fault: tt.fault}))
			o.Product, o.Method = tt.product, http.MethodPost
			res := certifyOK(t, o)
			assert.Equal(t, expect(t, tt.want), res.Statuses(), reasons(res))
		})
	}
}

func TestPUT(t *testing.T) {
	_, o := serveTLS(t, receiver(fixtures.Config{Method: http.MethodPut}))
	o.Method = "put"
	res := certifyOK(t, o)
	assert.Equal(t, expect(t, nil), res.Statuses(), reasons(res))
	assert.Equal(t, http.MethodPut, res.Target.Method)

	o.Method = http.MethodPost
	res = certifyOK(t, o)
	assert.Equal(t, certify.Failed, res.Statuses()[certify.CheckEvents], "a receiver configured for PUT refuses POST")
}

func TestRedirectsAreNeverFollowed(t *testing.T) {
	elsewhere := fixtures.New(fixtures.Config{Spec: testSpec})
	other := startServer(t, elsewhere, false)
	_, o := serveTLS(t, receiver(fixtures.Config{Fault: fixtures.RedirectsFirstPush, RedirectTo: other.URL + "/stolen"}))
	res := certifyOK(t, o)
	assert.Zero(t, elsewhere.Requests(), "the redirect target got a push")
	var redirect *certify.CheckResult
	for i := range res.Checks {
		if res.Checks[i].ID == certify.CheckNoRedirect {
			redirect = &res.Checks[i]
		}
	}
	require.NotNil(t, redirect)
	require.Len(t, redirect.Exchanges, 1)
	assert.Equal(t, http.StatusFound, redirect.Exchanges[0].Status)
	assert.Equal(t, other.URL+"/stolen", redirect.Exchanges[0].Location)
}

func TestSubscribedEventsOnly(t *testing.T) {
	r := receiver(fixtures.Config{})
	_, o := serveTLS(t, r)
	o.Events = []string{"whatsapp_template_status_updated"}
	res := certifyOK(t, o)
	assert.Equal(t, expect(t, map[string]certify.Status{
		certify.CheckOrder: certify.NotApplicable, certify.CheckSize: certify.NotApplicable,
	}), res.Statuses(), reasons(res))
	assert.Equal(t, []string{"whatsapp_template_status_updated"}, res.Options.Events)
	for _, c := range res.Checks {
		for _, e := range c.Exchanges {
			assert.Equal(t, "whatsapp_template_status_updated", e.Event, "%s pushed an event not subscribed to", c.ID)
		}
	}
	assert.Equal(t, res.Bounds.PlannedPushes, r.Requests())
}

func TestPlan(t *testing.T) {
	plan, err := certify.Prepare(certify.Options{URL: "https://partner.example/hook", UserName: "u", Authorization: testSecret, Spec: testSpec})
	require.NoError(t, err)
	// 1 reach + the events + 3 auth + 2 dup + 2 order + 1 compat + 1 size + 20 time + 20 burst
	want := 1 + len(testSpec.EventTypes("whatsapp")) + 3 + 2 + 2 + 1 + 1 + 20 + 20
	assert.Equal(t, want, plan.Total)
	assert.Equal(t, fmt.Sprintf("%d pushes at most, at most 100 per second, to POST https://partner.example/hook", want), plan.Bounds())
	assert.Equal(t, "whatsapp_message_status_updated", plan.Primary)
	assert.Equal(t, "whatsapp_mo_message_received", plan.TextEvent)
	assert.Empty(t, plan.NotApplicable)

	plan, err = certify.Prepare(certify.Options{URL: "https://partner.example/hook", Product: "otp", LatencyPushes: 5, Burst: 7, Spec: testSpec})
	require.NoError(t, err)
	assert.Equal(t, 1+1+2+2+1+5+7, plan.Total)
	assert.Len(t, plan.NotApplicable, 5, "auth (3), echo and size")
}

func TestOptionsAreValidated(t *testing.T) {
	valid := certify.Options{URL: "https://partner.example/hook"}
	tests := []struct {
		name   string
		change func(*certify.Options)
		flag   string
	}{
		{"no URL", func(o *certify.Options) { o.URL = "" }, "--url"},
		{"a relative URL", func(o *certify.Options) { o.URL = "/hook" }, "--url"},
		{"not http", func(o *certify.Options) { o.URL = "ftp://partner.example/hook" }, "--url"},
		{"credentials in the URL", func(o *certify.Options) { o.URL = "https://u:p@partner.example/hook" }, "--username"},
		{"GET", func(o *certify.Options) { o.Method = "GET" }, "--method"},
		{"an unknown product", func(o *certify.Options) { o.Product = "voice" }, "--product"},
		{"an unknown event", func(o *certify.Options) { o.Events = []string{"nope"} }, "--events"},
		{"another product's event", func(o *certify.Options) { o.Events = []string{"sms_status_report"} }, "--events"},
		{"an event twice", func(o *certify.Options) {
			o.Events = []string{"whatsapp_message_status_updated", "whatsapp_message_status_updated"}
		}, "--events"},
		{"a negative timeout", func(o *certify.Options) { o.Timeout = -time.Second }, "--timeout"},
		{"a burst over the rate", func(o *certify.Options) { o.Burst, o.Rate = 50, 10 }, "--burst"},
		{"a huge burst", func(o *certify.Options) { o.Burst, o.Rate = 1000, 1000 }, "--burst"},
		{"no lanes", func(o *certify.Options) { o.Concurrency = -1 }, "--concurrency"},
		{"a line break in a header", func(o *certify.Options) { o.Authorization = "a\r\nX: y" }, "--authorization"},
	}
	require.NoError(t, valid.Validate(testSpec))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid
			tt.change(&o)
			err := o.Validate(testSpec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.flag)
			_, err = certify.Run(context.Background(), certify.Options{URL: o.URL, Method: o.Method, Product: o.Product, Events: o.Events,
				Timeout: o.Timeout, Burst: o.Burst, Rate: o.Rate, Concurrency: o.Concurrency, Authorization: o.Authorization, Spec: testSpec})
			assert.Error(t, err, "Run refuses it too")
		})
	}
}

func TestAnInterruptedRunSaysSo(t *testing.T) {
	_, o := serveTLS(t, receiver(fixtures.Config{}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := certify.Run(ctx, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "interrupted")
	require.NotNil(t, res)
	assert.False(t, res.Verdict.Certified)
	for _, c := range res.Checks {
		assert.NotEqual(t, certify.Passed, c.Status, c.ID)
	}
	assert.True(t, strings.Contains(reasons(res), "interrupted") || strings.Contains(reasons(res), "could not be reached"))
}

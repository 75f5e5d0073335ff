package mockserver_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/syncbuf"
	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/sqlite"
)

// scrape is one read of GET /metrics.
type scrape map[string]*dto.MetricFamily

func (s *sandbox) scrape() scrape {
	s.t.Helper()
	resp, err := http.Get(s.url + "/metrics")
	require.NoError(s.t, err)
	defer resp.Body.Close()
	require.Equal(s.t, 200, resp.StatusCode)
	assert.Contains(s.t, resp.Header.Get("Content-Type"), "text/plain")
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(s.t, err)
	return fams
}

// value returns the counter or gauge value of the series with exactly
// these labels (0 when there is none), or a histogram's sample count.
func (sc scrape) value(name string, labels ...string) float64 {
	f, ok := sc[name]
	if !ok {
		return 0
	}
next:
	for _, m := range f.GetMetric() {
		want := map[string]string{}
		for i := 0; i+1 < len(labels); i += 2 {
			want[labels[i]] = labels[i+1]
		}
		if len(m.GetLabel()) != len(want) {
			continue
		}
		for _, l := range m.GetLabel() {
			if want[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return 0
}

func TestMetricsCountRequestsRefusalsAndAttempts(t *testing.T) {
	s := newSandbox(t)
	before := s.scrape()
	assert.Zero(t, before.value(mockserver.MetricRequests, "api", "public", "operation", "whatsappSubmitMessage", "status", "200"))

	for range 2 {
		s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(demoAppKey, demoToken)).must(t, 200)
	}
	s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), publicHeaders(demoAppKey, strings.Repeat("X", 56))).must(t, 401)
	h := publicHeaders(demoAppKey, demoToken)
	delete(h, "Appkey")
	s.do("POST", "/api/whatsapp/v3/msg/submit", textSend(userNumber), h).must(t, 401)
	s.do("GET", "/api/nothing/here", "", nil).must(t, 404)

	recv := newReceiver(t, 500)
	acct, appKey, _ := s.account(false)
	hookAll(t, s, appKey, "whatsapp", recv, nil)
	id := s.fire(appKey).Delivery.ID
	s.waitStatus(id, "pending", 1)
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1m"}, acct).must(t, 200)
	s.waitStatus(id, "delivered", 2)

	m := s.scrape()
	assert.Equal(t, 2.0, m.value(mockserver.MetricRequests, "api", "public", "operation", "whatsappSubmitMessage", "status", "200"))
	assert.Equal(t, 2.0, m.value(mockserver.MetricRequests, "api", "public", "operation", "whatsappSubmitMessage", "status", "401"))
	assert.Equal(t, 1.0, m.value(mockserver.MetricRequests, "api", "public", "operation", "none", "status", "404"))
	assert.Equal(t, 1.0, m.value(mockserver.MetricRequests, "api", "control", "operation", "triggerEvent", "status", "201"))
	assert.Equal(t, 1.0, m.value(mockserver.MetricAuthFailures, "reason", "token-invalid"))
	assert.Equal(t, 1.0, m.value(mockserver.MetricAuthFailures, "reason", "header-missing:AppKey"))
	assert.Equal(t, 1.0, m.value(mockserver.MetricAttempts, "outcome", "retry"))
	assert.Equal(t, 1.0, m.value(mockserver.MetricAttempts, "outcome", "delivered"))
	assert.GreaterOrEqual(t, m.value(mockserver.MetricAttemptSeconds), 2.0, "every attempt's latency is observed")
	assert.Equal(t, 1.0, m.value(mockserver.MetricStoreUp))
}

func TestMetricsShowTheOutboxDepthAndAge(t *testing.T) {
	// No dispatcher runs: what is due stays due.
	srv, err := mockserver.New(context.Background(), mockserver.Config{Spec: loadSpec(), Store: openSQLite(t), Strict: true})
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	s := &sandbox{t: t, srv: srv, url: ts.URL}

	acct, appKey, _ := s.account(false)
	hookAll(t, s, appKey, "whatsapp", newReceiver(t), nil)
	m := s.scrape()
	assert.Equal(t, 0.0, m.value(mockserver.MetricOutboxPending))
	for range 3 {
		s.fire(appKey)
	}
	// An hour later on the account's clock, the three have been due for an hour.
	s.control("POST", "/_sandbox/clock/advance", map[string]any{"by": "1h"}, acct).must(t, 200)
	m = s.scrape()
	assert.Equal(t, 3.0, m.value(mockserver.MetricOutboxPending))
	assert.Equal(t, 3.0, m.value(mockserver.MetricOutboxDue))
	assert.GreaterOrEqual(t, m.value(mockserver.MetricOutboxOldestDue), 3600.0)
	assert.Less(t, m.value(mockserver.MetricOutboxOldestDue), 2*3600.0)
}

func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sandbox.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestReadyzFollowsTheStore(t *testing.T) {
	st := openSQLite(t)
	logs := &syncbuf.Buffer{}
	s := newSandboxOn(t, st, func(c *mockserver.Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	var ready struct{ Status, Store string }
	s.do("GET", "/readyz", "", nil).must(t, 200).decode(t, &ready)
	assert.Equal(t, "ready", ready.Status)
	assert.Equal(t, st.String(), ready.Store)

	require.NoError(t, st.Close()) // the store fails from now on
	r := s.do("GET", "/readyz", "", nil).must(t, 503)
	e := r.envelope(t)
	assert.Equal(t, "503", e.Code)
	assert.Equal(t, mockserver.MsgNotReady, e.Message, "a generic reason: the store's error can name hosts and paths")
	assert.Contains(t, logs.String(), "not ready: the store does not answer", "the log has the detail")
	assert.Contains(t, logs.String(), "err=", "the log names the store's failure")
	assert.Equal(t, 0.0, s.scrape().value(mockserver.MetricStoreUp))
}

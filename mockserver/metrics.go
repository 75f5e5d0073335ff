package mockserver

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/mockserver/dispatch"
	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Metric names, for tests and dashboards.
const (
	MetricRequests        = "innosandbox_http_requests_total"
	MetricAuthFailures    = "innosandbox_auth_failures_total"
	MetricAttempts        = "innosandbox_webhook_attempts_total"
	MetricAttemptSeconds  = "innosandbox_webhook_attempt_duration_seconds"
	MetricOutboxPending   = "innosandbox_outbox_pending"
	MetricOutboxDue       = "innosandbox_outbox_due"
	MetricOutboxOldestDue = "innosandbox_outbox_oldest_due_age_seconds"
	MetricStoreUp         = "innosandbox_store_up"
	MetricPruned          = "innosandbox_retention_pruned_events_total"
)

// metrics are one sandbox's Prometheus metrics, on a registry of their own
// (several sandboxes may run in one process, as the tests do).
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	perRequest   sync.Map // reqKey -> prometheus.Counter, so the hot path skips label hashing
	authFailures *prometheus.CounterVec
	perReason    sync.Map // reason -> prometheus.Counter
	attempts     *prometheus.CounterVec
	attemptSecs  prometheus.Histogram
	pruned       prometheus.Counter
	handler      http.Handler
}

type reqKey struct {
	api, op string
	status  int
}

func newMetrics(store state.Store, clk clock.Clock) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricRequests,
		Help: "HTTP requests answered, by API (public, control), operation (operationId; \"none\" when no route matched) and status.",
	}, []string{"api", "operation", "status"})
	m.authFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricAuthFailures,
		Help: "Refused calls by reason: the public API's X-Sandbox-Auth-Reason values, control-admin-token and control-not-loopback for the control API.",
	}, []string{"reason"})
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricAttempts,
		Help: "Webhook delivery attempts by outcome: delivered, retry (another attempt planned), failed (a dead letter), gone (410), dropped and duplicate (chaos).",
	}, []string{"outcome"})
	m.attemptSecs = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    MetricAttemptSeconds,
		Help:    "Time from sending a webhook attempt to its answer (or to giving up on one).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	m.pruned = prometheus.NewCounter(prometheus.CounterOpts{
		Name: MetricPruned,
		Help: "Finished events removed from the delivery log by the retention janitor.",
	})
	m.reg.MustRegister(m.requests, m.authFailures, m.attempts, m.attemptSecs, m.pruned,
		&outboxCollector{store: store, clock: clk},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// request counts one answered request.
func (m *metrics) request(api, op string, status int) {
	k := reqKey{api: api, op: op, status: status}
	c, ok := m.perRequest.Load(k)
	if !ok {
		label := op
		if label == "" {
			label = "none"
		}
		c, _ = m.perRequest.LoadOrStore(k, m.requests.WithLabelValues(api, label, strconv.Itoa(status)))
	}
	c.(prometheus.Counter).Inc()
}

// authFailure counts one refused call.
func (m *metrics) authFailure(reason string) {
	c, ok := m.perReason.Load(reason)
	if !ok {
		c, _ = m.perReason.LoadOrStore(reason, m.authFailures.WithLabelValues(reason))
	}
	c.(prometheus.Counter).Inc()
}

// attempt counts one webhook attempt.
func (m *metrics) attempt(_ dispatch.Delivery, a dispatch.Attempt) {
	m.attempts.WithLabelValues(string(a.Outcome)).Inc()
	if a.Outcome != dispatch.OutcomeDropped {
		m.attemptSecs.Observe(a.Latency.Seconds())
	}
}

// outboxCollector reads the outbox's depth and age from the store on every
// scrape (one indexed read), so the figures are the store's, shared by all
// replicas, not this process's.
type outboxCollector struct {
	store state.Store
	clock clock.Clock
}

var (
	descPending = prometheus.NewDesc(MetricOutboxPending, "Webhook deliveries waiting in the outbox, in flight or not.", nil, nil)
	descDue     = prometheus.NewDesc(MetricOutboxDue, "Of those, the ones due now.", nil, nil)
	descOldest  = prometheus.NewDesc(MetricOutboxOldestDue, "How long the oldest due delivery has been due (0 when none is).", nil, nil)
	descStoreUp = prometheus.NewDesc(MetricStoreUp, "1 when the store answered this scrape, 0 when it did not (the outbox figures are then left out).", nil, nil)
)

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPending
	ch <- descDue
	ch <- descOldest
	ch <- descStoreUp
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	now := c.clock.Now()
	st, err := c.store.OutboxStats(ctx, now)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(descDue, prometheus.GaugeValue, float64(st.Due))
	age := 0.0
	if !st.OldestDue.IsZero() {
		age = max(now.Sub(st.OldestDue).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, age)
}

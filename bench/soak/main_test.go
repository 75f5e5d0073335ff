package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSlopeIsPerMinute(t *testing.T) {
	ts := []time.Duration{0, 30 * time.Second, time.Minute, 90 * time.Second}
	tests := []struct {
		name string
		ys   []float64
		want float64
	}{
		{"flat", []float64{50, 50, 50, 50}, 0},
		{"2 a minute", []float64{50, 51, 52, 53}, 2},
		{"falling", []float64{53, 52, 51, 50}, -2},
		{"noise around a flat line", []float64{48, 52, 48, 52}, 1.6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.want, slope(ts, tc.ys), 1e-9)
		})
	}
	assert.Zero(t, slope(ts[:2], []float64{1, 100}), "two samples are too few to judge")
}

func TestMetricsSumSelectsByNameAndLabel(t *testing.T) {
	m := metrics(`# HELP innosandbox_webhook_attempts_total Webhook delivery attempts by outcome.
# TYPE innosandbox_webhook_attempts_total counter
innosandbox_webhook_attempts_total{outcome="delivered"} 35135
innosandbox_webhook_attempts_total{outcome="failed"} 1104
innosandbox_webhook_attempts_total{outcome="retry"} 2e+03
innosandbox_webhook_attempts_total_extra 7
innosandbox_outbox_pending 12
go_goroutines 117
`)
	assert.Equal(t, 35135.0, m.sum("innosandbox_webhook_attempts_total", `outcome="delivered"`))
	assert.Equal(t, 1104.0, m.sum("innosandbox_webhook_attempts_total", `outcome="failed"`))
	assert.Equal(t, 38239.0, m.sum("innosandbox_webhook_attempts_total", ""), "every outcome, not the metric whose name only starts the same")
	assert.Equal(t, 12.0, m.sum("innosandbox_outbox_pending", ""))
	assert.Equal(t, 117.0, m.sum("go_goroutines", ""))
	assert.Zero(t, m.sum("innosandbox_missing", ""))
}

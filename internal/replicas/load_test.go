package replicas_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state/postgres/pgtest"
)

// envLoad turns on TestDeliveryLoad; its value is the delivery rate to
// offer (status reports per second; 0 or "1": 3000).
const envLoad = "INNOSANDBOX_TEST_LOAD"

// TestDeliveryLoad measures what the speed target asks: deliveries
// per second sustained by two replicas on PostgreSQL, the latency of
// deliveries due now (from the report's eventTime to its arrival), and
// that none is lost or pushed twice. Sends are offered at a fixed rate,
// alternately to each replica, with reports due at once; it runs only when
// asked, since its figures depend on the machine:
//
//	INNOSANDBOX_TEST_LOAD=3000 go test -run TestDeliveryLoad -v ./internal/replicas/
func TestDeliveryLoad(t *testing.T) {
	v := os.Getenv(envLoad)
	if v == "" {
		t.Skip("load test skipped: set " + envLoad + "=RATE (deliveries per second, e.g. 3000) and the PostgreSQL DSN to measure")
	}
	rate, _ := strconv.Atoi(v)
	if rate <= 1 {
		rate = 3000
	}
	duration := 10 * time.Second
	if d, err := time.ParseDuration(os.Getenv(envLoad + "_DURATION")); err == nil {
		duration = d
	}
	dsn := pgtest.Schema(t, 16)

	recv := newLoadReceiver(t)
	replicas := []*replica{start(t, "replica-a", dsn, options{load: true}), start(t, "replica-b", dsn, options{load: true})}
	replicas[0].control("POST", "/_sandbox/apps/"+demoAppKey+"/webhooks", map[string]any{"product": "whatsapp", "url": recv.srv.URL,
		"events": []string{"whatsapp_message_status_updated"}}).must(t, 201)

	// Each send causes two reports (delivered, read): offer rate/2 sends
	// per second from a pool of senders.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 10 * time.Second}
	sends := int(float64(rate) / 2 * duration.Seconds())
	interval := time.Duration(float64(time.Second) / (float64(rate) / 2))
	ticks := make(chan int, sends)
	var sendErrs atomic.Int64
	var wg sync.WaitGroup
	for range 128 {
		wg.Go(func() {
			for i := range ticks {
				r := replicas[i%2]
				req, _ := http.NewRequest("POST", r.url+"/api/whatsapp/v3/msg/submit", bytes.NewBufferString(templateSend))
				req.Header = http.Header{"Content-Type": {"application/json;charset=utf-8"}, "Appkey": {demoAppKey}, "Authorization": {demoToken}}
				resp, err := client.Do(req)
				if err != nil {
					sendErrs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					sendErrs.Add(1)
				}
			}
		})
	}
	begin := time.Now()
	for i := range sends {
		if d := time.Until(begin.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		ticks <- i
	}
	close(ticks)
	wg.Wait()
	offeredFor := time.Since(begin)

	want := 2 * (sends - int(sendErrs.Load()))
	deadline := time.Now().Add(60 * time.Second)
	for recv.count() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive in this time
	lat, dups, first, last := recv.summary()
	require.NotEmpty(t, lat)
	span := last.Sub(first)
	t.Logf("offered %d deliveries/s for %s (%d sends in %s, %d refused or failed)", rate, duration, sends, offeredFor.Round(time.Millisecond), sendErrs.Load())
	t.Logf("received %d of %d in %s: %.0f deliveries/s; latency from due to arrival p50 %s, p90 %s, p99 %s, max %s",
		len(lat), want, span.Round(time.Millisecond), float64(len(lat))/span.Seconds(),
		pct(lat, 0.50), pct(lat, 0.90), pct(lat, 0.99), lat[len(lat)-1])
	t.Logf("pushes by replica: a %d, b %d", replicas[0].sent.Load(), replicas[1].sent.Load())
	assert.Zero(t, sendErrs.Load(), "sends refused or failed")
	assert.Equal(t, want, len(lat), "no delivery lost")
	assert.Zero(t, dups, "no delivery pushed twice")
}

func pct(sorted []time.Duration, p float64) time.Duration {
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// loadReceiver notes when each report arrived and how late it was.
type loadReceiver struct {
	mu      sync.Mutex
	late    map[string]time.Duration
	dups    int
	first   time.Time
	last    time.Time
	srv     *httptest.Server
	arrived atomic.Int64
}

func newLoadReceiver(t *testing.T) *loadReceiver {
	r := &loadReceiver{late: map[string]time.Duration{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		now := time.Now()
		var ev struct {
			ID        string
			EventTime string
		}
		if err := json.NewDecoder(req.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		due, err := time.Parse("2006-01-02T15:04:05.000Z", ev.EventTime)
		if err != nil {
			http.Error(w, fmt.Sprint("eventTime: ", err), 400)
			return
		}
		r.mu.Lock()
		if _, seen := r.late[ev.ID]; seen {
			r.dups++
		} else {
			r.late[ev.ID] = now.Sub(due)
			r.arrived.Add(1)
		}
		if r.first.IsZero() {
			r.first = now
		}
		r.last = now
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *loadReceiver) count() int { return int(r.arrived.Load()) }

// summary returns the latencies, sorted, the duplicates, and the first and
// last arrival.
func (r *loadReceiver) summary() ([]time.Duration, int, time.Time, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]time.Duration, 0, len(r.late))
	for _, d := range r.late {
		out = append(out, d)
	}
	slices.Sort(out)
	return out, r.dups, r.first, r.last
}

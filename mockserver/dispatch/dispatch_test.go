package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/mockserver/dispatch"
)

func TestScheduleWait(t *testing.T) {
	s := dispatch.DefaultSchedule
	assert.Equal(t, time.Minute, s.Wait(1))
	assert.Equal(t, 2*time.Minute, s.Wait(2))
	assert.Equal(t, 4*time.Minute, s.Wait(3))
	assert.Equal(t, 8*time.Minute, s.Wait(4))
	assert.Equal(t, 10*time.Minute, s.Wait(5), "capped at MaxInterval")
	constant := dispatch.Schedule{MaxAttempts: 3, Initial: time.Minute, Multiplier: 1, MaxInterval: time.Minute}
	assert.Equal(t, time.Minute, constant.Wait(2), "multiplier 1 mirrors 'one minute apart'")
}

func TestScheduleValidate(t *testing.T) {
	valid := dispatch.DefaultSchedule
	require.NoError(t, valid.Validate())
	tests := []struct {
		name   string
		change func(*dispatch.Schedule)
		want   string
	}{
		{"no attempts", func(s *dispatch.Schedule) { s.MaxAttempts = 0 }, "attempts"},
		{"no initial wait", func(s *dispatch.Schedule) { s.Initial = 0 }, "initial"},
		{"shrinking", func(s *dispatch.Schedule) { s.Multiplier = 0.5 }, "multiplier"},
		{"cap below initial", func(s *dispatch.Schedule) { s.MaxInterval = time.Second }, "max interval"},
		{"jitter above 1", func(s *dispatch.Schedule) { s.Jitter = 2 }, "jitter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := valid
			tc.change(&s)
			assert.ErrorContains(t, s.Validate(), tc.want)
		})
	}
}

func TestJudge(t *testing.T) {
	assert.Equal(t, dispatch.Delivered, dispatch.Judge(200, nil))
	assert.Equal(t, dispatch.Delivered, dispatch.Judge(204, nil))
	assert.Equal(t, dispatch.Retry, dispatch.Judge(302, nil))
	assert.Equal(t, dispatch.Retry, dispatch.Judge(401, nil))
	assert.Equal(t, dispatch.Retry, dispatch.Judge(500, nil))
	assert.Equal(t, dispatch.Gone, dispatch.Judge(410, nil))
	assert.Equal(t, dispatch.Retry, dispatch.Judge(0, errors.New("refused")))
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	tests := []struct {
		name   string
		status int
		header http.Header
		want   time.Duration
		ok     bool
	}{
		{"seconds on 503", 503, h("120"), 2 * time.Minute, true},
		{"seconds on 429", 429, h("5"), 5 * time.Second, true},
		{"HTTP date", 503, h(now.Add(time.Hour).Format(http.TimeFormat)), time.Hour, true},
		{"date in the past", 503, h(now.Add(-time.Hour).Format(http.TimeFormat)), 0, true},
		{"capped", 503, h("999999999"), 24 * time.Hour, true},
		{"ignored on 500", 500, h("120"), 0, false},
		{"absent", 503, http.Header{}, 0, false},
		{"garbage", 503, h("soon"), 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := dispatch.RetryAfter(tc.status, tc.header, now)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, d)
		})
	}
}

// fakeQueue hands out its deliveries once and records results.
type fakeQueue struct {
	mu       sync.Mutex
	due      []dispatch.Delivery
	results  chan dispatch.Result
	released []string // owners whose leases were released, in order
}

func newQueue(ds ...dispatch.Delivery) *fakeQueue {
	return &fakeQueue{due: ds, results: make(chan dispatch.Result, 100)}
}

func (q *fakeQueue) add(ds ...dispatch.Delivery) {
	q.mu.Lock()
	q.due = append(q.due, ds...)
	q.mu.Unlock()
}

func (q *fakeQueue) Claim(_ context.Context, _ time.Time, limit int, _ string, _ time.Time, _ []string) ([]dispatch.Delivery, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(limit, len(q.due))
	out := q.due[:n]
	q.due = append([]dispatch.Delivery(nil), q.due[n:]...)
	return out, nil
}

func (q *fakeQueue) NextDue(context.Context) (time.Time, bool, error) { return time.Time{}, false, nil }

func (q *fakeQueue) Release(_ context.Context, owner string) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.released = append(q.released, owner)
	return 0, nil
}

func (q *fakeQueue) Record(_ context.Context, r dispatch.Result) error {
	q.results <- r
	return nil
}

func (q *fakeQueue) next(t *testing.T) dispatch.Result {
	t.Helper()
	select {
	case r := <-q.results:
		return r
	case <-time.After(5 * time.Second):
		require.FailNow(t, "no attempt was recorded")
		return dispatch.Result{}
	}
}

// run starts a dispatcher over q until the test ends.
func run(t testing.TB, q dispatch.Queue, o dispatch.Options) *dispatch.Dispatcher {
	t.Helper()
	if o.PollInterval == 0 {
		o.PollInterval = 10 * time.Millisecond
	}
	d := dispatch.New(q, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

func delivery(url string, attempt int) dispatch.Delivery {
	h := http.Header{"UserName": {"shop"}, "Authorization": {"s3cret"}}
	return dispatch.Delivery{ID: "ev-1", EventType: "whatsapp_mo_message_received", Attempt: attempt, URL: url, Method: "POST",
		Header: h, Body: []byte(`{"id":"ev-1"}`)}
}

func TestASuccessfulAttempt(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		w.WriteHeader(202)
		_, _ = w.Write([]byte("thanks"))
	}))
	defer srv.Close()
	q := newQueue(delivery(srv.URL, 1))
	run(t, q, dispatch.Options{})
	r := q.next(t)
	assert.Equal(t, dispatch.OutcomeDelivered, r.Outcome)
	assert.Equal(t, 202, r.Attempt.ResponseStatus)
	assert.Equal(t, "thanks", string(r.Attempt.ResponseExcerpt))
	assert.Equal(t, `{"id":"ev-1"}`, string(body))
	assert.Equal(t, "POST", got.Method)
	assert.Equal(t, "application/json;charset=utf-8", got.Header.Get("Content-Type"))
	assert.Equal(t, "s3cret", got.Header.Get("Authorization"))
	//lint:ignore SA1008 the configured spelling "UserName" must be kept, not canonicalised.
	assert.Equal(t, []string{"shop"}, r.Attempt.RequestHeader["UserName"], "the configured spelling is kept")
	assert.Equal(t, "shop", got.Header.Get("UserName"))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestFailedAttempts(t *testing.T) {
	redirect := httptest.NewServer(http.RedirectHandler("https://example.com/elsewhere", http.StatusFound))
	defer redirect.Close()
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer failing.Close()

	fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		name    string
		d       dispatch.Delivery
		outcome dispatch.Outcome
		status  int
		errText string
		next    time.Duration
	}{
		{"a redirect is not followed", delivery(redirect.URL, 1), "retry", 302, "", time.Minute},
		{"a timeout is retried", delivery(slow.URL, 1), "retry", 0, "timeout", time.Minute},
		{"the second failure waits longer", delivery(failing.URL, 2), "retry", 500, "", 2 * time.Minute},
		{"the last attempt gives up", delivery(failing.URL, 3), "failed", 500, "", 0},
		{"nothing listening", delivery("http://127.0.0.1:1/hook", 1), "retry", 0, "connection error", time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newQueue(tc.d)
			run(t, q, dispatch.Options{Timeout: 200 * time.Millisecond, Clock: fake})
			r := q.next(t)
			assert.Equal(t, tc.outcome, r.Outcome)
			assert.Equal(t, tc.outcome, r.Attempt.Outcome)
			assert.Equal(t, tc.status, r.Attempt.ResponseStatus)
			if tc.errText != "" {
				assert.Contains(t, r.Attempt.Error, tc.errText)
			}
			if tc.outcome == "retry" {
				assert.Equal(t, fake.Now().Add(tc.next), r.NextAttemptAt)
			} else {
				assert.Contains(t, r.Reason, "gave up after 3 attempts")
			}
		})
	}
}

func TestAPerDeliveryScheduleOverridesTheDefault(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer failing.Close()
	d := delivery(failing.URL, 3)
	d.Schedule = &dispatch.Schedule{MaxAttempts: 5, Initial: time.Second, Multiplier: 3, MaxInterval: time.Hour}
	fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	q := newQueue(d)
	run(t, q, dispatch.Options{Clock: fake})
	r := q.next(t)
	assert.Equal(t, dispatch.OutcomeRetry, r.Outcome)
	assert.Equal(t, fake.Now().Add(9*time.Second), r.NextAttemptAt)
}

func TestAPayloadThatBreaksItsSchema(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	invalid := func(string, []byte) error { return errors.New("/body/status: not allowed") }

	t.Run("strict: refused, not sent", func(t *testing.T) {
		q := newQueue(delivery(srv.URL, 1))
		d := run(t, q, dispatch.Options{ValidatePayload: invalid, StrictPayloads: true})
		r := q.next(t)
		assert.Equal(t, dispatch.OutcomeFailed, r.Outcome)
		assert.Contains(t, r.Attempt.Error, "payload does not match its schema")
		assert.Zero(t, hits)
		assert.EqualValues(t, 1, d.SchemaViolations())
	})
	t.Run("lenient: sent, counted", func(t *testing.T) {
		q := newQueue(delivery(srv.URL, 1))
		d := run(t, q, dispatch.Options{ValidatePayload: invalid})
		r := q.next(t)
		assert.Equal(t, dispatch.OutcomeDelivered, r.Outcome)
		assert.Equal(t, 1, hits)
		assert.EqualValues(t, 1, d.SchemaViolations())
	})
}

func TestNotifyWakesTheDispatcherAtOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	q := newQueue()
	d := run(t, q, dispatch.Options{PollInterval: time.Hour})
	time.Sleep(20 * time.Millisecond) // let it go to sleep for its hour
	q.add(delivery(srv.URL, 1))
	d.Notify()
	assert.Equal(t, dispatch.OutcomeDelivered, q.next(t).Outcome)
}

func TestTheAttemptLogKeepsAnExcerptOfLargeBodies(t *testing.T) {
	var got []byte
	big := strings.Repeat("r", 10<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = must(io.ReadAll(r.Body))
		_, _ = w.Write([]byte(big)) // a chatty receiver
	}))
	defer srv.Close()
	d := delivery(srv.URL, 1)
	d.Body = []byte(`{"id":"ev-1","text":"` + strings.Repeat("x", 1000) + `"}`)
	q := newQueue(d)
	run(t, q, dispatch.Options{AttemptBodyLimit: 100})
	r := q.next(t)
	assert.Equal(t, dispatch.OutcomeDelivered, r.Outcome)
	assert.Equal(t, d.Body, got, "the receiver gets the whole payload")
	assert.Equal(t, d.Body[:100], r.Attempt.RequestBody, "the log keeps its first 100 bytes")
	assert.Len(t, r.Attempt.ResponseExcerpt, 4<<10, "and 4 KiB of the answer")
}

func TestRunTakesBackItsOwnClaimsFirstAndReleasesThemAtTheEnd(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	q := newQueue(delivery(srv.URL, 1))
	d := dispatch.New(q, dispatch.Options{Owner: "replica-1", PollInterval: 10 * time.Millisecond})
	done := make(chan struct{})
	go func() { d.Run(context.Background()); close(done) }()
	assert.Equal(t, dispatch.OutcomeDelivered, q.next(t).Outcome)
	q.mu.Lock()
	assert.Equal(t, []string{"replica-1"}, q.released, "a crashed run's claims under the same owner are taken back at the start")
	q.mu.Unlock()
	require.NoError(t, d.Shutdown(context.Background()))
	<-done
	q.mu.Lock()
	assert.Equal(t, []string{"replica-1", "replica-1"}, q.released, "and released on the way out")
	q.mu.Unlock()
}

// batchQueue is a fakeQueue that records in batches, counting them; its
// first RecordAll waits for gate, so that results pile up behind it.
type batchQueue struct {
	*fakeQueue
	batches chan int
	gate    chan struct{}
	once    *sync.Once
}

func (q batchQueue) Record(context.Context, dispatch.Result) error {
	panic("a batch queue's results go through RecordAll")
}

func (q batchQueue) RecordAll(_ context.Context, rs []dispatch.Result) []error {
	q.once.Do(func() { <-q.gate })
	q.batches <- len(rs)
	for _, r := range rs {
		q.results <- r
	}
	return make([]error, len(rs))
}

func TestAttemptsThatEndTogetherAreRecordedTogether(t *testing.T) {
	const n = 20
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	var ds []dispatch.Delivery
	for i := range n {
		d := delivery(srv.URL, 1)
		d.ID = "ev-" + strings.Repeat("x", i)
		ds = append(ds, d)
	}
	q := batchQueue{fakeQueue: newQueue(ds...), batches: make(chan int, n), gate: make(chan struct{}), once: &sync.Once{}}
	var ended atomic.Int32
	// One account alone has half the workers: 2n, so that all n are in flight.
	run(t, q, dispatch.Options{PerHost: n, Workers: 2 * n, OnAttempt: func(dispatch.Delivery, dispatch.Attempt) {
		if ended.Add(1) == n {
			close(q.gate) // every attempt has ended: the first batch may go
		}
	}})
	close(release) // all answered at once
	ids := map[string]bool{}
	for range n {
		r := q.next(t)
		assert.Equal(t, dispatch.OutcomeDelivered, r.Outcome)
		ids[r.DeliveryID] = true
	}
	assert.Len(t, ids, n, "every result recorded once")
	close(q.batches)
	batches := 0
	for range q.batches {
		batches++
	}
	assert.Less(t, batches, n, "fewer batches than results")
}

// renewingQueue is a fakeQueue that renews leases, noting each renewal.
type renewingQueue struct {
	*fakeQueue
	renewals chan []string
}

func (q renewingQueue) Renew(_ context.Context, owner string, ids []string, until time.Time) (int, error) {
	if owner != "replica-1" || !until.After(time.Now()) {
		panic(fmt.Sprintf("renewal for %q until %s", owner, until))
	}
	select {
	case q.renewals <- slices.Sorted(slices.Values(ids)):
	default:
	}
	return len(ids), nil
}

func TestLeasesOfDeliveriesInFlightAreRenewed(t *testing.T) {
	answer := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-answer }))
	defer srv.Close()
	q := renewingQueue{fakeQueue: newQueue(delivery(srv.URL, 1)), renewals: make(chan []string, 100)}
	const lease = 100 * time.Millisecond
	run(t, q, dispatch.Options{Owner: "replica-1", Lease: lease})
	// The attempt outlasts several leases: each is renewed before it ends.
	for range 3 {
		select {
		case ids := <-q.renewals:
			assert.Equal(t, []string{"ev-1"}, ids)
		case <-time.After(5 * time.Second):
			require.FailNow(t, "the lease of the delivery in flight was not renewed")
		}
	}
	close(answer)
	assert.Equal(t, dispatch.OutcomeDelivered, q.next(t).Outcome, "an attempt longer than its lease still goes through")
	// Once recorded, the delivery's lease is no longer renewed (a tick
	// that collected it just before may still go out).
	time.Sleep(lease)
	for len(q.renewals) > 0 {
		<-q.renewals
	}
	select {
	case ids := <-q.renewals:
		assert.Empty(t, ids, "renewed after it was recorded")
	case <-time.After(3 * lease):
	}
}

func TestAReceiversHeadersAreBounded(t *testing.T) {
	chatty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 100 {
			w.Header().Set(fmt.Sprintf("X-Chatter-%03d", i), strings.Repeat("h", 100))
		}
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(503)
	}))
	defer chatty.Close()
	flood := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 80 {
			w.Header().Set(fmt.Sprintf("X-Flood-%03d", i), strings.Repeat("f", 1000))
		}
	}))
	defer flood.Close()
	fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))

	q := newQueue(delivery(chatty.URL, 1))
	run(t, q, dispatch.Options{Clock: fake})
	r := q.next(t)
	assert.Equal(t, fake.Now().Add(7*time.Second), r.NextAttemptAt, "judged on the whole answer")
	size := 0
	for k, vs := range r.Attempt.ResponseHeader {
		for _, v := range vs {
			size += len(k) + len(v) + 4
		}
	}
	assert.LessOrEqual(t, size, 4<<10, "at most 4 KiB of headers kept")
	assert.Greater(t, size, 3<<10, "as many as fit")

	q = newQueue(delivery(flood.URL, 1))
	run(t, q, dispatch.Options{Clock: fake})
	r = q.next(t)
	assert.Equal(t, dispatch.OutcomeRetry, r.Outcome)
	assert.Contains(t, r.Attempt.Error, "headers exceeded", "more than 64 KiB of headers is refused")
}

func TestAnAttemptKeeps16KiBOfTheBodyByDefault(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	d := delivery(srv.URL, 1)
	d.Body = []byte(`{"id":"ev-1","text":"` + strings.Repeat("x", 20<<10) + `"}`)
	q := newQueue(d)
	run(t, q, dispatch.Options{})
	assert.Len(t, q.next(t).Attempt.RequestBody, 16<<10)
}

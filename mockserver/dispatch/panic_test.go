package dispatch_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/dispatch"
)

// panicQueue is a fakeQueue whose Claim and Record each panic once.
type panicQueue struct {
	*fakeQueue
	claimed, recorded atomic.Bool
}

func (q *panicQueue) Claim(ctx context.Context, now time.Time, limit int, owner string, until time.Time, exclude []string) ([]dispatch.Delivery, error) {
	if !q.claimed.Swap(true) {
		panic("claim exploded")
	}
	return q.fakeQueue.Claim(ctx, now, limit, owner, until, exclude)
}

func (q *panicQueue) Record(ctx context.Context, r dispatch.Result) error {
	if !q.recorded.Swap(true) {
		panic("record exploded")
	}
	return q.fakeQueue.Record(ctx, r)
}

// syncBuffer is a log destination shared by goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestADispatcherSurvivesPanicsAndKeepsDelivering(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	var logs syncBuffer
	first := delivery(srv.URL, 1)
	q := &panicQueue{fakeQueue: newQueue(first)}
	d := run(t, q, dispatch.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	// The first claim panics; the loop goes on and claims the delivery; its
	// record panics; the attempt is lost, not the dispatcher.
	require.Eventually(t, func() bool { return hits.Load() == 1 }, 5*time.Second, 5*time.Millisecond, "the delivery was pushed after the claim loop's panic")
	second := delivery(srv.URL, 1)
	second.ID = "ev-2"
	q.add(second)
	d.Notify()
	r := q.next(t)
	assert.Equal(t, "ev-2", r.DeliveryID, "a later delivery is pushed and recorded")
	assert.Equal(t, dispatch.OutcomeDelivered, r.Outcome)

	out := logs.String()
	assert.Contains(t, out, `msg="BUG: panic in the webhook dispatcher, recovered; it carries on" in="the claim loop" panic="claim exploded"`)
	assert.Contains(t, out, `in="a delivery attempt" panic="record exploded"`)
	assert.Contains(t, out, "panicQueue).Claim", "with the stack")
}

// batchPanicQueue is a batch queue whose first RecordAll panics.
type batchPanicQueue struct {
	*fakeQueue
	once atomic.Bool
}

func (q *batchPanicQueue) RecordAll(ctx context.Context, rs []dispatch.Result) []error {
	if !q.once.Swap(true) {
		panic("batch exploded")
	}
	for _, r := range rs {
		q.results <- r
	}
	return make([]error, len(rs))
}

func TestARecorderPanicFailsItsBatchOnly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	var logs syncBuffer
	q := &batchPanicQueue{fakeQueue: newQueue(delivery(srv.URL, 1))}
	var attempts atomic.Int32
	d := run(t, q, dispatch.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		OnAttempt: func(dispatch.Delivery, dispatch.Attempt) { attempts.Add(1) }})
	require.Eventually(t, func() bool { return attempts.Load() == 1 }, 5*time.Second, 5*time.Millisecond)
	second := delivery(srv.URL, 1)
	second.ID = "ev-2"
	q.add(second)
	d.Notify()
	assert.Equal(t, "ev-2", q.next(t).DeliveryID, "the recorder goes on")
	assert.Contains(t, logs.String(), `in="recording attempts" panic="batch exploded"`)
	assert.Contains(t, logs.String(), "recording a delivery attempt failed", "the lost record is reported")
}

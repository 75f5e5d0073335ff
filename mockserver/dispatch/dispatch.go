// Package dispatch pushes webhook deliveries. It claims due deliveries from a
// Queue (the store's outbox, seen through plain values: dispatch never imports
// state), sends each with its configured method and headers, records every
// attempt, and decides by its Schedule whether and when to try again.
package dispatch

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/innosandbox/innosandbox/internal/clock"
)

// Delivery is one attempt to be made.
type Delivery struct {
	ID        string // the event id; the same for every attempt
	Account   string
	EventType string
	Attempt   int // the number of the attempt about to be made, 1-based
	URL       string
	Method    string
	Header    http.Header // the configured UserName / Authorization, nothing else
	Body      []byte
	Schedule  *Schedule // nil: the dispatcher's schedule
	Chaos     Chaos     // misbehaviour asked for by the webhook's configuration
	// Dest names the receiver (scheme://host:port) for the per-destination
	// limit and the claims' exclude list; "" takes the URL's scheme and host.
	Dest string
}

// Chaos is what a webhook's chaos settings ask of one delivery attempt.
type Chaos struct {
	// Drop loses this attempt in transit: it is recorded (outcome
	// "dropped"), nothing is sent, and the delivery is tried again after
	// Options.Redeliver.
	Drop bool
	// DuplicateNext: after a 2xx, push the same payload once more, at once.
	DuplicateNext bool
	// Duplicate: this attempt is that second push (outcome "duplicate");
	// whatever its answer, the delivery stays delivered.
	Duplicate bool
	// Lost counts earlier attempts lost to Drop; they do not use up the
	// schedule's attempts.
	Lost int
}

// Outcome is what came of an attempt, and of its delivery after it: the
// dispatcher decides it, a Queue maps it to the delivery's state. A
// Result's Outcome is delivered, retry, failed or gone; an Attempt's is the
// same, or one of chaos's dropped and duplicate. Its text is the name the
// delivery log and the attempts metric show.
type Outcome string

// Outcomes.
const (
	OutcomeDelivered Outcome = "delivered" // a 2xx answer
	OutcomeRetry     Outcome = "retry"     // another attempt at Result.NextAttemptAt
	OutcomeFailed    Outcome = "failed"    // a dead letter: attempts used up, or refused before sending
	OutcomeGone      Outcome = "gone"      // the receiver answered 410 Gone: no more attempts
	OutcomeDropped   Outcome = "dropped"   // lost in transit on purpose (chaos), redelivered
	OutcomeDuplicate Outcome = "duplicate" // the second push of a delivered payload (chaos)
)

// ReasonDuplicateFollows is the Reason of a delivery that was delivered and
// waits for its chaos duplicate (Result.DuplicateFollows).
const ReasonDuplicateFollows = "chaos: delivered; the same payload is pushed once more"

// MsgLostInTransit is the error recorded for an attempt chaos dropped.
const MsgLostInTransit = "chaos: lost in transit"

// Attempt is the record of one try.
type Attempt struct {
	N               int
	StartedAt       time.Time
	Latency         time.Duration
	Method          string
	URL             string
	RequestHeader   http.Header
	RequestBody     []byte
	ResponseStatus  int // 0: no answer
	ResponseHeader  http.Header
	ResponseExcerpt []byte
	Error           string
	Outcome         Outcome
}

// Result is what becomes of a delivery after an attempt.
type Result struct {
	DeliveryID    string
	Owner         string
	Attempt       Attempt
	Outcome       Outcome   // delivered, retry, failed or gone
	NextAttemptAt time.Time // when Outcome is OutcomeRetry
	Reason        string
	// DuplicateFollows: the payload was delivered (Outcome is retry, the
	// attempt's delivered), and chaos pushes it once more at NextAttemptAt.
	// A Queue hands that next attempt back with Chaos.Duplicate set.
	DuplicateFollows bool
}

// Queue is the outbox as the dispatcher sees it.
type Queue interface {
	// Claim leases up to limit due deliveries to owner until leaseUntil,
	// leaving aside those whose destination is in exclude.
	Claim(ctx context.Context, now time.Time, limit int, owner string, leaseUntil time.Time, exclude []string) ([]Delivery, error)
	// NextDue tells when the earliest unclaimed delivery comes due.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// Record stores an attempt and the delivery's new state.
	Record(ctx context.Context, r Result) error
	// Release frees every lease owner holds, so that others can take its
	// deliveries at once; it returns how many it freed.
	Release(ctx context.Context, owner string) (int, error)
}

// BatchQueue is a Queue that records several results in one go, cheaper
// than one Record each (a server database: one round trip). The dispatcher
// then hands it the results of the attempts that ended meanwhile, together.
type BatchQueue interface {
	Queue
	// RecordAll records each result as Record would, returning one error
	// per result.
	RecordAll(ctx context.Context, rs []Result) []error
}

// LeaseRenewer is a Queue that can extend leases. The dispatcher then keeps
// its leases short (DefaultRenewedLease) and renews, every RenewEvery, those
// of the deliveries it holds (claimed, queued or being sent): a process that
// dies holding claims lets others take them within one short lease, while
// an attempt that takes longer than the lease keeps its claim.
type LeaseRenewer interface {
	// Renew extends to until the leases owner holds on the deliveries ids
	// names, and returns how many it extended (a delivery another owner
	// took, or that was recorded meanwhile, is left alone).
	Renew(ctx context.Context, owner string, ids []string, until time.Time) (int, error)
}

// DefaultRenewedLease is the default Options.Lease over a LeaseRenewer:
// a dead replica's claims return to the others within this.
const DefaultRenewedLease = 4 * time.Second

// Options configure a Dispatcher. Zero values take the defaults in parentheses.
type Options struct {
	Owner string      // lease owner name, unique per process ("dispatcher")
	Clock clock.Clock // (clock.Real)
	// Client makes the attempts (one that never follows redirects). Its
	// transport, when an *http.Transport, is cloned to dial through Guard,
	// use no proxy and bound response headers (MaxResponseHeader); any
	// other RoundTripper is used as it is, unguarded (tests only).
	Client  *http.Client
	Timeout time.Duration // per attempt (5s)
	// Guard decides which addresses a push may connect to (nil: loopback,
	// private and public addresses, as for a sandbox on loopback).
	Guard *Guard
	// Schedule is the retry schedule of deliveries without their own (DefaultSchedule).
	Schedule Schedule
	// Workers bounds the attempts in flight at once, all destinations
	// together (DefaultWorkers).
	Workers int
	// PerHost bounds the attempts in flight to one destination (scheme,
	// host and port) (DefaultPerDestination). A destination whose slots
	// have all been busy for Stall without an answer is saturated: its
	// deliveries are no longer claimed, and those already claimed wait on
	// their own, so a slow or hung receiver never holds up the others.
	PerHost int
	// Stall is how long a destination's slots may all be busy without an
	// answer before it counts as saturated (200ms).
	Stall        time.Duration
	Batch        int           // deliveries claimed at once (128)
	Lease        time.Duration // how long a claim lasts (Timeout + 30s; DefaultRenewedLease over a LeaseRenewer)
	RenewEvery   time.Duration // over a LeaseRenewer, how often held leases are renewed (Lease/4)
	PollInterval time.Duration // look for due work at least this often (1s)
	// Grace is how long, once Run's context ends, the attempts in flight
	// may take to finish before they are cancelled and their deliveries
	// handed back (Timeout). Shutdown takes its deadline from its context.
	Grace     time.Duration
	Logger    *slog.Logger // (slog.Default)
	UserAgent string       // ("innosandbox")
	// ValidatePayload checks a payload against its event type's schema
	// before it is sent. A mismatch is a sandbox bug: it is logged at error
	// level and counted; with StrictPayloads the delivery is failed instead
	// of sent.
	ValidatePayload func(eventType string, body []byte) error
	StrictPayloads  bool
	// OnAttempt, if set, is called after every attempt (for metrics).
	OnAttempt func(d Delivery, a Attempt)
	// Redeliver is how long after an attempt chaos dropped the delivery is
	// tried again (1s).
	Redeliver time.Duration
	// AttemptBodyLimit bounds the part of a pushed body recorded with each
	// attempt (RequestExcerptLimit); the whole payload stays with its event.
	AttemptBodyLimit int
}

// Defaults of Options.
const (
	DefaultWorkers        = 64
	DefaultPerDestination = 16
	// DefaultTimeout is how long one attempt may take: 3 s, the only
	// figure anyone states (a public integration's notes say InnoPaaS
	// wants an HTTP 200 within 3 seconds), and certify's default limit.
	DefaultTimeout = 3 * time.Second
)

// Dispatcher sends due deliveries until its context ends.
//
// One goroutine (Run) claims; each attempt runs in a goroutine of its own.
// Claimed deliveries wait in a queue per destination until that destination
// has a free slot (at most PerHost attempts each) and a worker is free (at
// most Workers in all). A saturated destination (every slot busy, no answer
// for Stall) is excluded from claims, and its queue no longer counts against
// the workers, so the others keep being claimed and sent.
type Dispatcher struct {
	q    Queue
	o    Options
	wake chan struct{}

	mu      sync.Mutex
	running int                     // attempts in flight, from start to recorded
	closing bool                    // Stop was called: nothing more is claimed or started
	dests   map[string]*destination // by resolved address (destKeys)
	// accounts with deliveries in flight or waiting, for fair shares.
	accounts map[string]*accountLoad
	keys     *destKeys
	wg       sync.WaitGroup

	// held names the deliveries claimed and not yet finished (queued or
	// being sent): their leases are renewed over a LeaseRenewer, and a
	// claim that hands one back again (its lease ended while it waited) is
	// not sent twice.
	held map[string]struct{}

	// records carries results to the recorder goroutine when q is a
	// BatchQueue (nil otherwise).
	records chan recordReq

	// abort cancels attempts still in flight when the grace period ends.
	abortCtx context.Context
	abort    context.CancelFunc

	stopOnce   sync.Once
	stopping   chan struct{} // closed by Shutdown
	stopCtx    context.Context
	started    atomic.Bool
	done       chan struct{} // closed when Run has handed everything back
	releaseErr error

	// SchemaViolations counts payloads that did not match their schema.
	schemaViolations atomic.Int64
}

// Command webhooks measures whether webhooks keep up with sends: it sends
// the demo app's text message at a fixed rate (vegeta's pacer, the library
// bench/load already uses) to sandboxes whose demo app has its WhatsApp
// webhook pointing at a fast receiver of this program, each send raising
// two status reports (delivered after 1 s, read after 3 s), and reports for
// each store and rate:
//
//   - sends/s accepted (code "0") and the send's latency p50/p99;
//   - push lag p50/p99: from the push's due time (its eventTime) to the
//     receiver's answer;
//   - deliveries per second, from the first push due to the last one
//     received; pushes lost (never received) and received twice;
//   - the sandboxes' peak resident set.
//
// For each store it climbs a ladder of rates and stops at the first rate at
// which the lag's p99 is 1 s or more (or a push is lost, or a send fails):
// the highest rate before it is the store's result. Stores: memory, sqlite,
// and with -postgres (or INNOSANDBOX_TEST_POSTGRES_DSN) one PostgreSQL
// replica and two replicas beside each other on one database (sends
// alternate between them), each run in a schema of its own that is dropped
// afterwards.
//
//	go build -o bin/innosandbox ./cmd/innosandbox
//	go run ./bench/webhooks -binary bin/innosandbox
//	go run ./bench/webhooks -binary bin/innosandbox -stores sqlite -rates 1500,2000 -duration 15s
//
// Everything listens on 127.0.0.1; the program stops by itself (-max-time).
// The exit status is 1 when a run could not be made (a sandbox that does not
// start, a refused setup), not when a rate misses: that is the result.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	benchproc "github.com/innosandbox/innosandbox/bench/internal/proc"
)

// The seed's demo app, its WABA and number, and the user who writes to it.
const (
	appKey      = "XFbZY1rtTKo3UD4n1"
	token       = "YUIYIUIAIIASUDIAOSIDUOIWUOQWUEOIUWOEUQWOEUOQWUOUWOUWQOWU"
	demoAccount = "IW1000001"
	submitPath  = "/api/whatsapp/v3/msg/submit"
	sendBody    = `{"wabaId":"110129512080569","messageType":"text","sendNumber":"8618912123456","recipientNumber":"6285234567899","body":"Thanks for your reply."}`
	inbound     = `{"to":"8618912123456","from":"6285234567899","text":{"body":"hi"}}`
	pushesPer   = 2 // delivered and read
)

type config struct {
	binary   string
	stores   []string
	rates    []int
	duration time.Duration
	maxLag   time.Duration
	wait     time.Duration
	maxTime  time.Duration
	postgres string
	logDir   string
}

func main() {
	var c config
	flag.StringVar(&c.binary, "binary", "bin/innosandbox", "the innosandbox binary to measure")
	stores := flag.String("stores", "memory,sqlite,postgres,postgres-2", "stores to measure (postgres and postgres-2, two replicas, need -postgres)")
	rates := flag.String("rates", "100,250,500,1000,1500,2000,3000,4000", "sends per second to climb, in order; each store stops at its first miss")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "how long each rate sends")
	flag.DurationVar(&c.maxLag, "max-lag", time.Second, "a rate passes when the push lag's p99 stays under this")
	flag.DurationVar(&c.wait, "wait", 20*time.Second, "after the sends, how long to wait for the last pushes before counting the rest lost")
	flag.DurationVar(&c.maxTime, "max-time", 20*time.Minute, "stop climbing (every store) after this much time")
	flag.StringVar(&c.postgres, "postgres", os.Getenv("INNOSANDBOX_TEST_POSTGRES_DSN"), "a PostgreSQL DSN on loopback for the postgres stores (default $INNOSANDBOX_TEST_POSTGRES_DSN)")
	flag.Parse()
	for _, s := range strings.Split(*stores, ",") {
		if strings.HasPrefix(s, "postgres") && c.postgres == "" {
			fmt.Printf("# %s skipped: no -postgres DSN (or INNOSANDBOX_TEST_POSTGRES_DSN)\n", s)
			continue
		}
		c.stores = append(c.stores, s)
	}
	for _, r := range strings.Split(*rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bench/webhooks: -rates: %q is not a positive number of sends per second\n", r)
			os.Exit(2)
		}
		c.rates = append(c.rates, n)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench/webhooks:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	if _, err := os.Stat(c.binary); err != nil {
		return fmt.Errorf("%s: build it first (go build -o %s ./cmd/innosandbox): %w", c.binary, c.binary, err)
	}
	dir, err := os.MkdirTemp("", "bench-webhooks-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c.logDir = dir
	deadline := time.Now().Add(c.maxTime)
	fmt.Printf("# webhooks: %s per rate, lag target p99 < %s, rates %v, stores %v\n\n", c.duration, c.maxLag, c.rates, c.stores)
	fmt.Println("| store | sends/s (target) | send p50 | send p99 | lag p50 | lag p99 | delivered/s | received / expected | lost | twice | peak RSS | verdict |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	best := map[string]int{}
	for _, store := range c.stores {
		for i, rate := range c.rates {
			if time.Now().After(deadline) {
				fmt.Printf("# -max-time %s reached: the ladder stops here\n", c.maxTime)
				break
			}
			r, err := measure(c, store, rate, i)
			if err != nil {
				return fmt.Errorf("%s at %d sends/s: %w", store, rate, err)
			}
			fmt.Println(r.row())
			if !r.pass {
				break
			}
			best[store] = rate
		}
	}
	fmt.Printf("\n| store | highest rate with lag p99 < %s |\n|---|---|\n", c.maxLag)
	for _, store := range c.stores {
		if b, ok := best[store]; ok {
			fmt.Printf("| %s | %d sends/s (%d pushes/s) |\n", store, b, b*pushesPer)
		} else {
			fmt.Printf("| %s | below %d sends/s |\n", store, c.rates[0])
		}
	}
	return nil
}

// result of one store at one rate.
type result struct {
	store                string
	rate                 int
	sendsPerSec          float64
	sendP50, sendP99     time.Duration
	lagP50, lagP99       time.Duration
	deliveredPerSec      float64
	received, expected   int
	lost, twice, refused int
	peakRSS              float64
	pass                 bool
}

func (r result) row() string {
	verdict := "pass"
	if !r.pass {
		verdict = "miss"
	}
	if r.refused > 0 {
		verdict += fmt.Sprintf(" (%d sends failed)", r.refused)
	}
	return fmt.Sprintf("| %s | %.0f (%d) | %s | %s | %s | %s | %.0f | %d / %d | %d | %d | %.1f MiB | %s |",
		r.store, r.sendsPerSec, r.rate, ms(r.sendP50), ms(r.sendP99), ms(r.lagP50), ms(r.lagP99), r.deliveredPerSec,
		r.received, r.expected, r.lost, r.twice, r.peakRSS, verdict)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// measure starts fresh sandboxes on store, sends at rate for c.duration,
// waits for the pushes and stops them.
func measure(c config, store string, rate, step int) (result, error) {
	res := result{store: store, rate: rate}
	sandboxes, stop, err := startStore(c, store, step)
	if err != nil {
		return res, err
	}
	defer stop()

	recv := newReceiver()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	rs := &http.Server{Handler: recv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = rs.Serve(ln) }()
	defer rs.Close()
	if err := setup(sandboxes[0].URL, "http://"+ln.Addr().String()+"/hook"); err != nil {
		return res, err
	}
	offset, err := clockOffset(sandboxes[0].URL)
	if err != nil {
		return res, err
	}

	// Sends alternate between the sandboxes (replicas of one store).
	var next atomic.Uint64
	h := http.Header{"Content-Type": {"application/json;charset=utf-8"}, "Appkey": {appKey}, "Authorization": {token}}
	targeter := func(t *vegeta.Target) error {
		s := sandboxes[next.Add(1)%uint64(len(sandboxes))]
		t.Method, t.URL, t.Body, t.Header = "POST", s.URL+submitPath, []byte(sendBody), h
		return nil
	}
	attacker := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Connections(256), vegeta.Timeout(10*time.Second))
	var lat []time.Duration
	began := time.Now()
	for r := range attacker.Attack(targeter, vegeta.Rate{Freq: rate, Per: time.Second}, c.duration, "webhooks") {
		if r.Code == http.StatusOK && bytes.Contains(r.Body, []byte(`"code":"0"`)) {
			lat = append(lat, r.Latency)
		} else {
			res.refused++
		}
	}
	sending := time.Since(began)
	slices.Sort(lat)
	res.sendsPerSec = float64(len(lat)) / sending.Seconds()
	res.sendP50, res.sendP99 = benchproc.Percentile(lat, 0.5), benchproc.Percentile(lat, 0.99)
	res.expected = pushesPer * len(lat)

	// The last reports are due 3 s after the last send; from then on, wait
	// until every push arrived or nothing has come for c.wait.
	time.Sleep(time.Until(began.Add(c.duration + 3*time.Second)))
	benchproc.AwaitCount(recv.distinct, res.expected, c.wait)
	for _, s := range sandboxes {
		if m, err := benchproc.ReadMemory(s.Cmd.Process.Pid); err == nil {
			res.peakRSS = max(res.peakRSS, m.Peak)
		}
	}
	lags, firstDue, lastAt, twice := recv.summary(offset)
	res.received, res.twice = len(lags), twice
	res.lost = max(res.expected-res.received, 0)
	res.lagP50, res.lagP99 = benchproc.Percentile(lags, 0.5), benchproc.Percentile(lags, 0.99)
	if span := lastAt.Sub(firstDue); span > 0 {
		res.deliveredPerSec = float64(res.received) / span.Seconds()
	}
	res.pass = res.lost == 0 && res.refused == 0 && res.lagP99 < c.maxLag && len(lat) > 0
	return res, nil
}

// startStore starts the sandboxes of one run: one process, or two on one
// PostgreSQL schema made for the run.
func startStore(c config, store string, step int) ([]*benchproc.Sandbox, func(), error) {
	replicas := 1
	var storeArg string
	cleanup := func() {}
	switch store {
	case "memory":
		storeArg = "memory"
	case "sqlite":
		storeArg = "sqlite:" + filepath.Join(c.logDir, fmt.Sprintf("run-%d.db", step))
	case "postgres", "postgres-2":
		if store == "postgres-2" {
			replicas = 2
		}
		schema := fmt.Sprintf("bench_webhooks_%d_%d", os.Getpid(), step)
		dsn, drop, err := benchproc.PostgresSchema(c.postgres, schema)
		if err != nil {
			return nil, nil, err
		}
		storeArg, cleanup = dsn, drop
	default:
		return nil, nil, fmt.Errorf("unknown store %q (memory, sqlite, postgres, postgres-2)", store)
	}
	var out []*benchproc.Sandbox
	stop := func() {
		for _, s := range out {
			s.Stop()
		}
		cleanup()
	}
	for i := range replicas {
		logPath := filepath.Join(c.logDir, fmt.Sprintf("%s-%d-%d.log", store, step, i))
		// One app sends at every rate of the ladder, above the per-AppKey
		// rate limit's default (1,000 a second), and a lagging store's
		// backlog may pass the pending-deliveries quota: both are off, so
		// that the bench measures the outbox, not the limits.
		s, err := benchproc.Serve(c.binary, logPath, "--store", storeArg, "--log-level", "warn",
			"--rate-limit", "0", "--max-pending-deliveries", "0")
		if err != nil {
			stop()
			return nil, nil, err
		}
		out = append(out, s)
	}
	return out, stop, nil
}

// setup has the demo user write to the demo number (so that text sends are
// inside WhatsApp's 24-hour window), points the demo app's WhatsApp
// webhook at the receiver for status reports, and checks that one send is
// accepted.
func setup(base, hook string) error {
	if err := post(base+"/_sandbox/events/inbound", inbound, nil, http.StatusCreated); err != nil {
		return err
	}
	cfg := `{"product":"whatsapp","url":"` + hook + `","events":["whatsapp_message_status_updated"]}`
	if err := post(base+"/_sandbox/apps/"+appKey+"/webhooks", cfg, nil, http.StatusCreated); err != nil {
		return err
	}
	return nil
}

func post(u, body string, h map[string]string, want int) error {
	_, err := benchproc.Call(context.Background(), http.DefaultClient, "POST", u, []byte(body), h, want)
	return err
}

// clockOffset is how far the demo account's sandbox clock is ahead of real
// time (zero unless advanced): due times are on the sandbox clock.
func clockOffset(base string) (time.Duration, error) {
	b, err := benchproc.Call(context.Background(), http.DefaultClient, "GET", base+"/_sandbox/clock", nil,
		map[string]string{"X-Sandbox-Account": demoAccount}, http.StatusOK)
	if err != nil {
		return 0, err
	}
	i := bytes.Index(b, []byte(`"offsetSeconds":`))
	if i < 0 {
		return 0, errors.New("GET /_sandbox/clock: no offsetSeconds in " + string(b))
	}
	rest := b[i+len(`"offsetSeconds":`):]
	end := bytes.IndexAny(rest, ",}")
	secs, err := strconv.ParseFloat(strings.TrimSpace(string(rest[:end])), 64)
	if err != nil {
		return 0, fmt.Errorf("GET /_sandbox/clock: offsetSeconds: %w", err)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// receiver answers every push at once and notes, per event id, when it
// first arrived, when it was due (its eventTime) and how often it came.
type receiver struct {
	mu   sync.Mutex
	seen map[string]*arrival
}

type arrival struct {
	at, due time.Time
	count   int
}

func newReceiver() *receiver { return &receiver{seen: map[string]*arrival{}} }

var (
	idKey   = []byte(`"id":"`)
	timeKey = []byte(`"eventTime":"`)
)

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	w.WriteHeader(http.StatusNoContent)
	at := time.Now()                 // the answer is written: that is what the lag is measured to
	id := benchproc.Member(b, idKey) // the envelope's id is its first "id" member
	r.mu.Lock()
	a, ok := r.seen[id]
	if !ok {
		a = &arrival{at: at}
		a.due, _ = time.Parse(time.RFC3339Nano, benchproc.Member(b, timeKey))
		r.seen[id] = a
	}
	a.count++
	r.mu.Unlock()
}

func (r *receiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// summary returns the sorted lags (due, moved to real time by offset, to
// first arrival), the first due time, the last arrival, and the pushes
// received more than once.
func (r *receiver) summary(offset time.Duration) (lags []time.Duration, firstDue, lastAt time.Time, twice int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.seen {
		due := a.due.Add(-offset)
		lags = append(lags, max(a.at.Sub(due), 0))
		if firstDue.IsZero() || due.Before(firstDue) {
			firstDue = due
		}
		if a.at.After(lastAt) {
			lastAt = a.at
		}
		twice += a.count - 1
	}
	slices.Sort(lags)
	return lags, firstDue, lastAt, twice
}

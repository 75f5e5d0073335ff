// Command soak runs sandboxes under an hour (or -duration) of mixed load and
// judges whether they hold up: sends on all three products (WhatsApp text,
// SMS, OTP), token rotations, webhook reconfigurations between two
// receivers of its own that fail, hang and recover in turn, triggered
// events, and replays of the dead letters those failures leave. It
// reports:
//
//   - requests served, by kind, and errors by kind (every error is
//     unplanned: token rotations are serialised with the sends that use the
//     token, so none is refused for a stale one);
//   - webhook pushes raised (counted from the accepted sends and triggers),
//     delivered (distinct pushes a receiver answered 2xx), dead-lettered
//     (the sandboxes' own count of attempts that ran out), and received
//     twice; after the load, the dead letters are replayed until none is
//     left, and a push raised but never delivered is lost;
//   - every 10 s: each sandbox's resident set, goroutines and outbox, and
//     the store's size on disk (the SQLite file with its WAL, or the
//     PostgreSQL schema's tables), under retention; the slopes of resident
//     set and goroutines after the warm-up (the first fifth, and at least
//     until the retention janitor prunes) are printed and judged.
//
// Stores: sqlite (one process), postgres-2 (two replicas on one database,
// a schema made for the run; needs -postgres or INNOSANDBOX_TEST_POSTGRES_DSN).
//
//	make build
//	go run ./bench/soak -binary bin/innosandbox -duration 5m -stores sqlite   # make soak SOAK=5m
//
// Everything listens on 127.0.0.1. The exit status is 1 when the run is
// judged bad: an unplanned error, a push lost, memory or goroutines that
// keep growing.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
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

	benchproc "github.com/innosandbox/innosandbox/bench/internal/proc"
)

// The seed's demo app (it may send on all three products), its account,
// WABA and number, and the user who writes to it.
const (
	appKey      = "XFbZY1rtTKo3UD4n1"
	firstToken  = "YUIYIUIAIIASUDIAOSIDUOIWUOQWUEOIUWOEUQWOEUOQWUOUWOUWQOWU"
	demoAccount = "IW1000001"
	waBody      = `{"wabaId":"110129512080569","messageType":"text","sendNumber":"8618912123456","recipientNumber":"6285234567899","body":"soak"}`
	smsBody     = `{"msg":"[Shop] Your verification code is 245098.","mobile":"8613800138000","senderId":"10690000"}`
	otpBody     = `{"to":"250784928786","type":"3","language":"en","code":"0123"}`
	triggerBody = `{"type":"whatsapp_template_status_updated","appKey":"` + appKey + `"}`
	inbound     = `{"to":"8618912123456","from":"6285234567899","text":{"body":"hi"}}`
)

// The pushes each accepted request raises: a WhatsApp text two status
// reports (delivered, read), an SMS to one number one report, an OTP two
// (in progress, then its outcome), a trigger its one event.
var pushesPer = map[string]int64{"whatsapp send": 2, "sms send": 1, "otp send": 2, "trigger": 1}

// The webhook timeout the sandboxes run with, and how long a hanging
// receiver holds an answer (longer: the attempt times out and is retried).
const (
	webhookTimeout = 2 * time.Second
	hangFor        = 3 * time.Second
)

type config struct {
	binary   string
	stores   []string
	duration time.Duration
	sample   time.Duration
	postgres string
	waRate   int
	smsRate  int
	otpRate  int
	trigRate int
}

func main() {
	var c config
	flag.StringVar(&c.binary, "binary", "bin/innosandbox", "the innosandbox binary to soak")
	stores := flag.String("stores", "sqlite,postgres-2", "stores to soak in turn, each for -duration (postgres-2 needs -postgres)")
	flag.DurationVar(&c.duration, "duration", time.Hour, "how long each store is soaked")
	flag.DurationVar(&c.sample, "sample", 10*time.Second, "how often resident set, goroutines and sizes are sampled")
	flag.StringVar(&c.postgres, "postgres", os.Getenv("INNOSANDBOX_TEST_POSTGRES_DSN"), "a PostgreSQL DSN on loopback (default $INNOSANDBOX_TEST_POSTGRES_DSN)")
	flag.IntVar(&c.waRate, "whatsapp-rate", 40, "WhatsApp sends per second")
	flag.IntVar(&c.smsRate, "sms-rate", 20, "SMS sends per second")
	flag.IntVar(&c.otpRate, "otp-rate", 10, "OTP sends per second")
	flag.IntVar(&c.trigRate, "trigger-rate", 2, "triggered events per second")
	flag.Parse()
	for _, s := range strings.Split(*stores, ",") {
		if s == "postgres-2" && c.postgres == "" {
			fmt.Println("# postgres-2 skipped: no -postgres DSN (or INNOSANDBOX_TEST_POSTGRES_DSN)")
			continue
		}
		if s != "sqlite" && s != "postgres-2" {
			fmt.Fprintf(os.Stderr, "bench/soak: -stores: unknown store %q (sqlite, postgres-2)\n", s)
			os.Exit(2)
		}
		c.stores = append(c.stores, s)
	}
	bad := false
	for _, store := range c.stores {
		problems, err := soakStore(c, store)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench/soak: %s: %v\n", store, err)
			os.Exit(1)
		}
		if len(problems) > 0 {
			bad = true
			fmt.Printf("\n%s: JUDGED BAD:\n  - %s\n\n", store, strings.Join(problems, "\n  - "))
		} else {
			fmt.Printf("\n%s: judged good\n\n", store)
		}
	}
	if bad {
		os.Exit(1)
	}
}

// soak is one store's run.
type soak struct {
	c         config
	sandboxes []*benchproc.Sandbox
	client    *http.Client
	rr        atomic.Uint64 // round robin over the sandboxes

	tokMu sync.RWMutex // sends hold it shared, a rotation exclusively
	token string

	mu     sync.Mutex
	served map[string]int
	errs   map[string]int
	raised atomic.Int64

	recv     [2]*receiver
	hookedTo map[string]int // product -> receiver index
}

func soakStore(c config, store string) ([]string, error) {
	dir, err := os.MkdirTemp("", "bench-soak-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s := &soak{c: c, token: firstToken, served: map[string]int{}, errs: map[string]int{}, hookedTo: map[string]int{},
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}

	// The store, and a way to read its size.
	var storeArg string
	var size func() (int64, error)
	replicas := 1
	switch store {
	case "sqlite":
		db := filepath.Join(dir, "soak.db")
		storeArg = "sqlite:" + db
		size = func() (int64, error) {
			var n int64
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if fi, err := os.Stat(db + suffix); err == nil {
					n += fi.Size()
				}
			}
			return n, nil
		}
	case "postgres-2":
		replicas = 2
		schema := fmt.Sprintf("bench_soak_%d", os.Getpid())
		dsn, drop, err := benchproc.PostgresSchema(c.postgres, schema)
		if err != nil {
			return nil, err
		}
		defer drop()
		storeArg = dsn
		size = func() (int64, error) { return benchproc.PostgresSize(c.postgres, schema) }
	}
	for i := range replicas {
		sb, err := benchproc.Serve(c.binary, filepath.Join(dir, fmt.Sprintf("sandbox-%d.log", i)), "--store", storeArg,
			"--log-level", "warn", "--webhook-timeout", webhookTimeout.String(),
			// Retention small enough to reach its plateau in a short run.
			"--retention-count", "20000", "--retention-age", "10m", "--retention-interval", "10s")
		if err != nil {
			return nil, err
		}
		defer sb.Stop()
		s.sandboxes = append(s.sandboxes, sb)
	}

	// Two receivers, each cycling through answering, failing, hanging
	// and recovering, out of phase with each other.
	for i := range s.recv {
		r, err := newReceiver(time.Duration(i) * 30 * time.Second)
		if err != nil {
			return nil, err
		}
		defer r.close()
		s.recv[i] = r
	}
	if err := s.setup(); err != nil {
		return nil, err
	}
	fmt.Printf("# soak %s: %s, %d replica(s); per second %d WhatsApp, %d SMS, %d OTP sends, %d triggers; a token rotation every 20 s, a webhook moved to the other receiver every 15 s, dead letters replayed every 10 s\n",
		store, c.duration, replicas, c.waRate, c.smsRate, c.otpRate, c.trigRate)
	fmt.Println("| t | RSS MiB (per replica) | goroutines | outbox pending | store size MiB | served | errors |")
	fmt.Println("|---|---|---|---|---|---|---|")

	ctx, cancel := context.WithTimeout(context.Background(), c.duration)
	defer cancel()
	var wg sync.WaitGroup
	every := func(d time.Duration, f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(d)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					f()
				}
			}
		}()
	}
	// Paced load: each tick starts a request; at most 256 are in flight.
	inflight := make(chan struct{}, 256)
	paced := func(perSec int, f func()) {
		if perSec <= 0 {
			return
		}
		every(time.Second/time.Duration(perSec), func() {
			select {
			case inflight <- struct{}{}:
				wg.Add(1)
				go func() { defer wg.Done(); f(); <-inflight }()
			default:
				s.fail("load generator", "skipped: 256 requests in flight")
			}
		})
	}
	paced(c.waRate, func() { s.send("whatsapp send", "/api/whatsapp/v3/msg/submit", waBody) })
	paced(c.smsRate, func() { s.send("sms send", "/api/sms/v3/msg/send", smsBody) })
	paced(c.otpRate, func() { s.send("otp send", "/api/otp/v3/msg/send/verify", otpBody) })
	paced(c.trigRate, s.trigger)
	every(20*time.Second, s.rotate)
	every(15*time.Second, s.reconfigure)
	every(10*time.Second, func() { s.replay() })

	var samples []sample
	began := time.Now()
	take := func() {
		sm := s.sample(time.Since(began), size)
		samples = append(samples, sm)
		fmt.Println(sm.row())
	}
	take()
	tick := time.NewTicker(c.sample)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			take()
		}
	}
	tick.Stop()
	wg.Wait()

	// Drain: receivers answer from now on; dead letters are replayed until
	// none is left and the outbox is empty.
	for _, r := range s.recv {
		r.healthy.Store(true)
	}
	drainStart := time.Now()
	drained := false
	for time.Since(drainStart) < 3*time.Minute {
		time.Sleep(2 * time.Second)
		failed, err1 := s.deadLetters()
		pending, err2 := s.pending()
		if err := errors.Join(err1, err2); err != nil {
			s.fail("drain", err.Error())
			break
		}
		if failed == 0 && pending == 0 {
			drained = true
			break
		}
		if failed > 0 {
			s.replay()
		}
	}
	take()
	return s.report(store, samples, drained, time.Since(drainStart))
}

// setup has the demo user write to the demo number (WhatsApp texts need
// the 24-hour window) and points the demo app's webhook of each product at
// a receiver, with a short retry schedule so that a failing receiver
// leaves dead letters within seconds.
func (s *soak) setup() error {
	if _, err := s.do(0, "POST", "/_sandbox/events/inbound", inbound, nil, http.StatusCreated); err != nil {
		return err
	}
	for i, product := range []string{"whatsapp", "sms", "otp"} {
		cfg := s.webhookConfig(product, i%2)
		cfg["product"] = product
		b, _ := json.Marshal(cfg)
		if _, err := s.do(0, "POST", "/_sandbox/apps/"+appKey+"/webhooks", string(b), nil, http.StatusCreated); err != nil {
			return err
		}
		s.hookedTo[product] = i % 2
	}
	return nil
}

func (s *soak) webhookConfig(product string, receiver int) map[string]any {
	events := map[string][]string{
		"whatsapp": {"whatsapp_message_status_updated", "whatsapp_template_status_updated"},
		"sms":      {"sms_status_report"},
		"otp":      {"otp_status_report"},
	}[product]
	return map[string]any{
		"url": s.recv[receiver].url + "/" + product, "events": events,
		"retry": map[string]any{"maxAttempts": 3, "initial": "500ms", "multiplier": 2, "maxInterval": "2s"},
	}
}

// do makes one call on a sandbox (round robin when i < 0) and checks its
// status.
func (s *soak) do(i int, method, path, body string, h map[string]string, want int) ([]byte, error) {
	if i < 0 {
		i = int(s.rr.Add(1))
	}
	u := s.sandboxes[i%len(s.sandboxes)].URL + path
	return benchproc.Call(context.Background(), s.client, method, u, []byte(body), h, want)
}

func (s *soak) ok(kind string) {
	s.mu.Lock()
	s.served[kind]++
	s.mu.Unlock()
}

// fail counts an error of a kind, keeping the first message of each.
func (s *soak) fail(kind, msg string) {
	key := kind + ": " + firstWords(msg)
	s.mu.Lock()
	s.errs[key]++
	s.mu.Unlock()
}

// firstWords shortens an error message to its kind (up to the first body).
func firstWords(msg string) string {
	if i := strings.Index(msg, ": {"); i > 0 {
		return msg[:i]
	}
	if len(msg) > 120 {
		return msg[:120]
	}
	return msg
}

// send makes one public API send with the current token.
func (s *soak) send(kind, path, body string) {
	s.tokMu.RLock()
	h := map[string]string{"AppKey": appKey, "Authorization": s.token}
	b, err := s.do(-1, "POST", path, body, h, http.StatusOK)
	s.tokMu.RUnlock()
	switch {
	case err != nil:
		s.fail(kind, err.Error())
	case !bytes.Contains(b, []byte(`"code":"0"`)):
		s.fail(kind, "refused: "+string(b))
	default:
		s.ok(kind)
		s.raised.Add(pushesPer[kind])
	}
}

func (s *soak) trigger() {
	if _, err := s.do(-1, "POST", "/_sandbox/events", triggerBody, nil, http.StatusCreated); err != nil {
		s.fail("trigger", err.Error())
		return
	}
	s.ok("trigger")
	s.raised.Add(pushesPer["trigger"])
}

// rotate issues a new token; every earlier one stops working at once, so
// no send may be in flight with the old one.
func (s *soak) rotate() {
	s.tokMu.Lock()
	defer s.tokMu.Unlock()
	b, err := s.do(-1, "POST", "/_sandbox/apps/"+appKey+"/tokens", "", nil, http.StatusCreated)
	var tok struct{ Token string }
	if err == nil {
		err = json.Unmarshal(b, &tok)
	}
	if err != nil || tok.Token == "" {
		s.fail("token rotation", fmt.Sprint(err))
		return
	}
	s.token = tok.Token
	s.ok("token rotation")
}

// reconfigure moves one product's webhook to the other receiver.
func (s *soak) reconfigure() {
	s.mu.Lock()
	n := s.served["webhook reconfiguration"]
	s.mu.Unlock()
	product := []string{"whatsapp", "sms", "otp"}[n%3]
	to := 1 - s.hookedTo[product]
	b, _ := json.Marshal(s.webhookConfig(product, to))
	if _, err := s.do(-1, "PUT", "/_sandbox/apps/"+appKey+"/webhooks/"+product, string(b), nil, http.StatusOK); err != nil {
		s.fail("webhook reconfiguration", err.Error())
		return
	}
	s.hookedTo[product] = to // one reconfiguration at a time (one ticker)
	s.ok("webhook reconfiguration")
}

// replay queues the demo app's dead letters again.
func (s *soak) replay() {
	if _, err := s.do(-1, "POST", "/_sandbox/apps/"+appKey+"/deliveries/replay", "", nil, http.StatusAccepted); err != nil {
		s.fail("replay", err.Error())
		return
	}
	s.ok("replay")
}

// deadLetters counts the account's failed deliveries (up to a page).
func (s *soak) deadLetters() (int, error) {
	b, err := s.do(0, "GET", "/_sandbox/deliveries?status=failed&limit=1000", "", map[string]string{"X-Sandbox-Account": demoAccount}, http.StatusOK)
	if err != nil {
		return 0, err
	}
	var page []json.RawMessage
	if err := json.Unmarshal(b, &page); err != nil {
		return 0, err
	}
	return len(page), nil
}

// pending is the outbox's pending deliveries, from /metrics.
func (s *soak) pending() (int, error) {
	m, err := s.metrics(0)
	if err != nil {
		return 0, err
	}
	return int(m.sum("innosandbox_outbox_pending", "")), nil
}

// metrics is the text of one sandbox's /metrics.
type metrics string

func (s *soak) metrics(i int) (metrics, error) {
	b, err := s.do(i, "GET", "/metrics", "", nil, http.StatusOK)
	return metrics(b), err
}

// sum adds the values of the samples of name whose labels contain label.
func (m metrics) sum(name, label string) float64 {
	var total float64
	for _, line := range strings.Split(string(m), "\n") {
		if !strings.HasPrefix(line, name) || strings.HasPrefix(line, "#") {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') || !strings.Contains(rest, label) {
			continue
		}
		f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			total += v
		}
	}
	return total
}

// sample is one reading every -sample.
type sample struct {
	at         time.Duration
	rss        []float64 // MiB, per replica
	goroutines []float64 // per replica
	pending    float64
	pruned     float64 // events the retention janitor removed so far (all replicas)
	size       int64
	served     int
	errors     int
}

func (s *soak) sample(at time.Duration, size func() (int64, error)) sample {
	sm := sample{at: at}
	for i, sb := range s.sandboxes {
		m, _ := benchproc.ReadMemory(sb.Cmd.Process.Pid)
		sm.rss = append(sm.rss, m.Now)
		if mt, err := s.metrics(i); err == nil {
			sm.goroutines = append(sm.goroutines, mt.sum("go_goroutines", ""))
			sm.pruned += mt.sum("innosandbox_retention_pruned_events_total", "")
			if i == 0 {
				sm.pending = mt.sum("innosandbox_outbox_pending", "")
			}
		} else {
			sm.goroutines = append(sm.goroutines, math.NaN())
		}
	}
	sm.size, _ = size()
	s.mu.Lock()
	for _, n := range s.served {
		sm.served += n
	}
	for _, n := range s.errs {
		sm.errors += n
	}
	s.mu.Unlock()
	return sm
}

func (sm sample) row() string {
	return fmt.Sprintf("| %s | %s | %s | %.0f | %.1f | %d | %d |", sm.at.Round(time.Second), floats(sm.rss, "%.1f"), floats(sm.goroutines, "%.0f"),
		sm.pending, float64(sm.size)/(1<<20), sm.served, sm.errors)
}

func floats(xs []float64, format string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(parts, ", ")
}

// slope fits y = a + b·t by least squares and returns b per minute.
func slope(ts []time.Duration, ys []float64) float64 {
	n := float64(len(ts))
	if n < 3 {
		return 0
	}
	var st, sy, stt, sty float64
	for i, t := range ts {
		x := t.Minutes()
		st, sy, stt, sty = st+x, sy+ys[i], stt+x*x, sty+x*ys[i]
	}
	den := n*stt - st*st
	if den == 0 {
		return 0
	}
	return (n*sty - st*sy) / den
}

func (s *soak) report(store string, samples []sample, drained bool, drainTook time.Duration) ([]string, error) {
	var problems []string
	fmt.Printf("\n## %s: requests served\n\n| kind | served |\n|---|---|\n", store)
	s.mu.Lock()
	kinds := make([]string, 0, len(s.served))
	total := 0
	for k, n := range s.served {
		kinds = append(kinds, k)
		total += n
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Printf("| %s | %d |\n", k, s.served[k])
	}
	fmt.Printf("| all | %d |\n", total)
	fmt.Printf("\n## %s: errors by kind (every one unplanned)\n\n", store)
	if len(s.errs) == 0 {
		fmt.Println("none")
	}
	errKinds := make([]string, 0, len(s.errs))
	for k := range s.errs {
		errKinds = append(errKinds, k)
	}
	slices.Sort(errKinds)
	for _, k := range errKinds {
		fmt.Printf("- %d × %s\n", s.errs[k], k)
		problems = append(problems, fmt.Sprintf("%d unplanned errors: %s", s.errs[k], k))
	}
	s.mu.Unlock()

	// Deliveries.
	var deadLettered, attemptsDelivered, duplicatesChaos float64
	for i := range s.sandboxes {
		m, err := s.metrics(i)
		if err != nil {
			return nil, err
		}
		deadLettered += m.sum("innosandbox_webhook_attempts_total", `outcome="failed"`)
		attemptsDelivered += m.sum("innosandbox_webhook_attempts_total", `outcome="delivered"`)
		duplicatesChaos += m.sum("innosandbox_webhook_attempts_total", `outcome="duplicate"`)
	}
	raised := s.raised.Load()
	answers, late := 0, 0
	for _, r := range s.recv {
		a, l := r.counts()
		answers, late = answers+a, late+l
	}
	// A push may be answered by both receivers (moved while retried):
	// distinct over both.
	delivered := distinctAcross(s.recv[:])
	twice := answers - delivered
	lost := raised - int64(delivered)
	fmt.Printf("\n## %s: deliveries\n\n| raised | delivered (distinct) | dead-lettered (then replayed) | received twice | answered late (after the timeout: retried) | lost |\n|---|---|---|---|---|---|\n", store)
	fmt.Printf("| %d | %d | %.0f | %d | %d | %d |\n", raised, delivered, deadLettered, twice, late, lost)
	fmt.Printf("\nAttempts the sandboxes recorded as delivered: %.0f. Drain after the load: %s (%s).\n", attemptsDelivered, drainTook.Round(time.Second),
		map[bool]string{true: "outbox empty, no dead letter left", false: "NOT drained"}[drained])
	switch {
	case lost > 0:
		problems = append(problems, fmt.Sprintf("%d pushes lost (raised %d, delivered %d)", lost, raised, delivered))
	case lost < 0:
		problems = append(problems, fmt.Sprintf("%d pushes delivered that were never raised", -lost))
	}
	if !drained {
		problems = append(problems, "the outbox did not drain within 3 minutes after the load")
	}

	// Slopes after the warm-up: the first fifth of the run, and at least
	// until the retention janitor has begun to prune (until then the log
	// grows by design); over whole cycles of the receivers (their hanging
	// phases hold goroutines and memory: a window that began or ended in
	// one would show a slope that is only the cycle).
	end := s.c.duration
	warmup := s.c.duration / 5
	pruning := time.Duration(-1)
	for _, sm := range samples {
		if sm.pruned > 0 {
			pruning = sm.at
			break
		}
	}
	if pruning < 0 || pruning > end {
		fmt.Printf("\n%s: the retention janitor never pruned during the load: the log grew all along\n", store)
		pruning = end
	}
	warmup = max(warmup, pruning+s.c.sample)
	cycles := (end - warmup) / receiverCycle
	warm := end - cycles*receiverCycle
	var ts []time.Duration
	var rssY, gorY []float64
	for _, sm := range samples {
		if cycles == 0 || sm.at < warm-s.c.sample/2 || sm.at > end+s.c.sample/2 {
			continue
		}
		ts = append(ts, sm.at)
		rssY = append(rssY, sumFloats(sm.rss))
		gorY = append(gorY, sumFloats(sm.goroutines))
	}
	if len(ts) >= 3 {
		rssSlope, gorSlope := slope(ts, rssY), slope(ts, gorY)
		span := (ts[len(ts)-1] - ts[0]).Minutes()
		meanRSS := sumFloats(rssY) / float64(len(rssY))
		fmt.Printf("\n## %s: after the warm-up (%s, %d samples)\n\nresident set %+.2f MiB/min (%+.1f MiB over %.1f min, mean %.1f MiB); goroutines %+.2f/min (%+.0f)\n",
			store, warm.Round(time.Second), len(ts), rssSlope, rssSlope*span, span, meanRSS, gorSlope, gorSlope*span)
		// Judged: growth over the judged window within 15 % of the mean
		// resident set and at least 8 MiB (the collector's own swing between
		// two samples is about that), goroutines within 50 (requests and
		// attempts in flight come and go).
		if grow := rssSlope * span; grow > max(8, 0.15*meanRSS) {
			problems = append(problems, fmt.Sprintf("resident set grows %.2f MiB/min after the warm-up (%.1f MiB over %.1f min)", rssSlope, grow, span))
		}
		if grow := gorSlope * span; grow > 50 {
			problems = append(problems, fmt.Sprintf("goroutines grow %.1f/min after the warm-up", gorSlope))
		}
	} else {
		fmt.Printf("\n%s: too short to judge slopes (%d samples after the warm-up)\n", store, len(ts))
	}
	if len(ts) >= 3 {
		var sizeY []float64
		for _, sm := range samples {
			if sm.at >= warm-s.c.sample/2 && sm.at <= end+s.c.sample/2 {
				sizeY = append(sizeY, float64(sm.size)/(1<<20))
			}
		}
		fmt.Printf("store size after the warm-up %+.2f MiB/min (reported, not judged: freed space is reused, as SQLite free pages or after PostgreSQL vacuums)\n", slope(ts, sizeY))
	}
	first, last := samples[0], samples[len(samples)-1]
	fmt.Printf("store size on disk: %.1f MiB at the start, %.1f MiB at the end (retention: 20,000 finished deliveries, 10 min)\n",
		float64(first.size)/(1<<20), float64(last.size)/(1<<20))
	return problems, nil
}

func sumFloats(xs []float64) float64 {
	var t float64
	for _, x := range xs {
		t += x
	}
	return t
}

// receiverCycle is the length of a receiver's cycle of behaviours.
const receiverCycle = 80 * time.Second

// receiver is a webhook receiver on loopback that, in a cycle of 80 s,
// (receiverCycle) answers 204 for 50 s, fails with 500 for 10 s, hangs (holds each
// answer past the sandboxes' webhook timeout) for 10 s, then recovers.
// Each push is known by its body (the same event's attempts carry the same
// body; two events never do).
type receiver struct {
	url     string
	srv     *http.Server
	began   time.Time
	phase   time.Duration
	healthy atomic.Bool // answer from now on, whatever the cycle says

	mu    sync.Mutex
	seen  map[[32]byte]int // 2xx answers per push
	late  int
	fails int
}

func newReceiver(phase time.Duration) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String(), began: time.Now(), phase: phase, seen: map[[32]byte]int{}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) close() { _ = r.srv.Close() }

// mode is what the receiver does now: ok, fail or hang.
func (r *receiver) mode() string {
	if r.healthy.Load() {
		return "ok"
	}
	switch t := (time.Since(r.began) + r.phase) % receiverCycle; {
	case t < 50*time.Second:
		return "ok"
	case t < 60*time.Second:
		return "fail"
	case t < 70*time.Second:
		return "hang"
	default:
		return "ok"
	}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	key := sha256.Sum256(b)
	switch r.mode() {
	case "fail":
		r.mu.Lock()
		r.fails++
		r.mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
		return
	case "hang":
		time.Sleep(hangFor) // the sandbox has given up by now
		r.mu.Lock()
		r.late++
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(http.StatusNoContent)
	r.mu.Lock()
	r.seen[key]++
	r.mu.Unlock()
}

// counts returns the 2xx answers in time, and those given too late.
func (r *receiver) counts() (answers, late int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.seen {
		answers += n
	}
	return answers, r.late
}

// distinctAcross counts the distinct pushes over all receivers.
func distinctAcross(rs []*receiver) int {
	all := map[[32]byte]bool{}
	for _, r := range rs {
		r.mu.Lock()
		for k := range r.seen {
			all[k] = true
		}
		r.mu.Unlock()
	}
	return len(all)
}

// Command deliveries measures webhook delivery: how many pushes a sandbox
// makes per second, and how long a delivery waits between becoming due and
// its first attempt. It speaks to the sandbox over its public and control
// APIs only, with a webhook receiver of its own on loopback, and counts
// every event id, so that a lost push (or one pushed twice) shows.
//
// Two phases:
//
//   - burst: template sends to -n numbers under the magic prefix 99920 (one
//     delivered report each, due 1 s after the send on the sandbox clock):
//     deliveries per second from the first report due to the last one
//     received, and due→first-attempt latency, which under a burst is mostly
//     queueing;
//
//   - due now: -latency-n triggered events at -rate per second, each due the
//     moment it is made: trigger→first-attempt latency.
//
//     go build -o bin/innosandbox ./cmd/innosandbox
//     go run ./bench/deliveries -binary bin/innosandbox                      # one process, SQLite
//     go run ./bench/deliveries -binary bin/innosandbox -replicas 2 \
//     -store postgres://postgres@127.0.0.1:5432/bench?sslmode=disable     # two replicas, one database
//     go run ./bench/deliveries -sandbox http://127.0.0.1:8080               # a sandbox already running
//
// The exit status is 1 when a push is lost or a target is missed.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	benchproc "github.com/innosandbox/innosandbox/bench/internal/proc"
)

func main() {
	sandboxes := flag.String("sandbox", "", "base URLs of running sandboxes sharing one store, comma-separated (default: start -binary)")
	binary := flag.String("binary", "", "an innosandbox binary to start (serve on 127.0.0.1) when -sandbox is not given")
	store := flag.String("store", "", "with -binary: the --store of the started sandboxes (default: a SQLite file in a temporary folder)")
	replicas := flag.Int("replicas", 1, "with -binary: how many sandboxes to start on the store (more than 1 needs a shared store: postgres://...)")
	n := flag.Int("n", 20000, "deliveries in the burst (a multiple of 1000 is sent as sends of 1000 numbers)")
	latencyN := flag.Int("latency-n", 2000, "triggered events in the due-now phase")
	rate := flag.Int("rate", 500, "triggers per second in the due-now phase")
	adminToken := flag.String("admin-token", "", "the sandboxes' admin token, when they have one")
	wait := flag.Duration("wait", 60*time.Second, "how long to wait for the last pushes before counting the rest lost")
	minRate := flag.Float64("min-rate", 3000, "deliveries per second the burst must sustain")
	maxP50 := flag.Duration("max-p50", 20*time.Millisecond, "the due-now phase's p50 latency must stay below this")
	flag.Parse()
	err := run(config{sandboxes: *sandboxes, binary: *binary, store: *store, replicas: *replicas, n: *n, latencyN: *latencyN,
		rate: *rate, adminToken: *adminToken, wait: *wait, minRate: *minRate, maxP50: *maxP50})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/deliveries:", err)
		os.Exit(1)
	}
}

type config struct {
	sandboxes, binary, store string
	replicas, n, latencyN    int
	rate                     int
	adminToken               string
	wait                     time.Duration
	minRate                  float64
	maxP50                   time.Duration
}

// receiver notes, for each event id, when it first arrived, when it was
// due (the payload's eventTime) and how often it came.
type receiver struct {
	mu   sync.Mutex
	seen map[string]*arrival
}

type arrival struct {
	first, due time.Time
	status     bool // a message status report (the burst), not a trigger
	count      int
}

var (
	idKey     = []byte(`"id":"`)
	timeKey   = []byte(`"eventTime":"`)
	statusKey = []byte(`"type":"whatsapp_message_status_updated"`)
)

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	b, _ := io.ReadAll(req.Body)
	id := benchproc.Member(b, idKey) // the envelope's id is its first "id" member
	r.mu.Lock()
	a, ok := r.seen[id]
	if !ok {
		a = &arrival{first: at, status: bytes.Contains(b, statusKey)}
		a.due, _ = time.Parse("2006-01-02T15:04:05.000Z", benchproc.Member(b, timeKey))
		r.seen[id] = a
	}
	a.count++
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// statusReports counts the distinct status reports that arrived.
func (r *receiver) statusReports() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, a := range r.seen {
		if a.status {
			n++
		}
	}
	return n
}

// arrived counts the ids among want that arrived.
func (r *receiver) arrived(want []string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, id := range want {
		if _, ok := r.seen[id]; ok {
			n++
		}
	}
	return n
}

func run(c config) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var urls []string
	switch {
	case c.sandboxes != "":
		urls = strings.Split(c.sandboxes, ",")
	case c.binary != "":
		var stop func()
		var err error
		if urls, stop, err = start(ctx, c); err != nil {
			return err
		}
		defer stop()
	default:
		return errors.New("give -sandbox URL[,URL] or -binary PATH")
	}

	recv := &receiver{seen: map[string]*arrival{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	rs := &http.Server{Handler: recv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = rs.Serve(ln) }()
	defer rs.Close()

	cl := &client{urls: urls, adminToken: c.adminToken,
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	app, err := cl.setup(ctx, "http://"+ln.Addr().String()+"/hook")
	if err != nil {
		return err
	}
	fmt.Printf("sandboxes: %s\n", strings.Join(urls, ", "))

	var failed []string
	// Burst.
	if c.n > 0 {
		res, err := burst(ctx, cl, app, recv, c)
		if err != nil {
			return err
		}
		fmt.Printf("burst: %d deliveries in %s: %.0f deliveries/s sustained; due→first attempt p50 %s p99 %s max %s; lost %d\n",
			res.delivered, res.span.Round(time.Millisecond), res.perSec, ms(res.p50), ms(res.p99), ms(res.max), res.lost)
		if res.lost > 0 {
			failed = append(failed, fmt.Sprintf("%d burst deliveries lost", res.lost))
		}
		if res.perSec < c.minRate {
			failed = append(failed, fmt.Sprintf("%.0f deliveries/s is under the target of %.0f", res.perSec, c.minRate))
		}
	}
	// Due now.
	if c.latencyN > 0 {
		res, err := dueNow(ctx, cl, app, recv, c)
		if err != nil {
			return err
		}
		fmt.Printf("due now: %d triggers at %d/s: trigger→first attempt p50 %s p99 %s max %s; lost %d\n",
			c.latencyN, c.rate, ms(res.p50), ms(res.p99), ms(res.max), res.lost)
		if res.lost > 0 {
			failed = append(failed, fmt.Sprintf("%d due-now deliveries lost", res.lost))
		}
		if res.p50 >= c.maxP50 {
			failed = append(failed, fmt.Sprintf("p50 %s is not under the target of %s", ms(res.p50), ms(c.maxP50)))
		}
	}
	recv.mu.Lock()
	dups := 0
	for _, a := range recv.seen {
		dups += a.count - 1
	}
	recv.mu.Unlock()
	fmt.Printf("duplicate pushes: %d\n", dups)
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

type result struct {
	delivered, lost int
	span            time.Duration
	perSec          float64
	p50, p99, max   time.Duration
}

// burst sends template messages to c.n numbers, 1000 per send, spread over
// the sandboxes, and waits for their delivered reports.
func burst(ctx context.Context, cl *client, a app, recv *receiver, c config) (result, error) {
	offset, err := cl.offset(ctx, a.account)
	if err != nil {
		return result{}, err
	}
	for first, i := 0, 0; first < c.n; first, i = first+1000, i+1 {
		numbers := make([]string, 0, 1000)
		for k := first; k < min(first+1000, c.n); k++ {
			numbers = append(numbers, fmt.Sprintf("99920%08d", k))
		}
		body := `{"wabaId":"110129512080569","messageType":"template","sendNumber":"8618912123456","recipientNumber":"` +
			strings.Join(numbers, ",") + `","templateName":"otp_login","language":"en_US","bodyParams":["245098"]}`
		if err := cl.submit(ctx, i, a, body); err != nil {
			return result{}, err
		}
	}
	// Each report is due at its eventTime (sandbox clock); one id each.
	benchproc.AwaitCount(recv.statusReports, c.n, c.wait)
	var lat []time.Duration
	var firstDue, lastAt time.Time
	recv.mu.Lock()
	for _, ar := range recv.seen {
		if !ar.status {
			continue
		}
		due := ar.due.Add(-offset)
		lat = append(lat, ar.first.Sub(due))
		if firstDue.IsZero() || due.Before(firstDue) {
			firstDue = due
		}
		if ar.first.After(lastAt) {
			lastAt = ar.first
		}
	}
	recv.mu.Unlock()
	r := percentiles(lat)
	r.delivered = len(lat)
	r.lost = c.n - len(lat)
	// The last answers are recorded just after they arrive: give the log
	// the time to agree.
	for deadline := time.Now().Add(c.wait); r.lost == 0; {
		left, err := cl.unfinished(ctx, a.account)
		if err != nil {
			return r, err
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("every report arrived, yet the log still has %d pending or failed after %s", left, c.wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.span = lastAt.Sub(firstDue)
	if r.span > 0 {
		r.perSec = float64(r.delivered) / r.span.Seconds()
	}
	return r, nil
}

// dueNow fires c.latencyN triggers at c.rate per second and measures from
// each trigger's request to its push's arrival.
func dueNow(ctx context.Context, cl *client, a app, recv *receiver, c config) (result, error) {
	type fired struct {
		id string
		at time.Time
	}
	sent := make([]fired, c.latencyN)
	body := []byte(`{"type":"whatsapp_template_status_updated","appKey":"` + a.key + `"}`)
	interval := time.Second / time.Duration(max(c.rate, 1))
	began := time.Now()
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for i := range c.latencyN {
		if d := time.Until(began.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := time.Now()
			id, err := cl.trigger(ctx, i, body)
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			sent[i] = fired{id: id, at: at}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return result{}, err
	}
	ids := make([]string, len(sent))
	for i, s := range sent {
		ids[i] = s.id
	}
	waitFor(recv, ids, c.wait)
	got := recv.arrived(ids)
	lat := make([]time.Duration, 0, len(sent))
	recv.mu.Lock()
	for _, s := range sent {
		if a, ok := recv.seen[s.id]; ok {
			lat = append(lat, a.first.Sub(s.at))
		}
	}
	recv.mu.Unlock()
	r := percentiles(lat)
	r.delivered, r.lost = got, len(ids)-got
	return r, nil
}

// waitFor returns once every id arrived, or after wait without progress.
func waitFor(recv *receiver, ids []string, wait time.Duration) {
	benchproc.AwaitCount(func() int { return recv.arrived(ids) }, len(ids), wait)
}

func percentiles(lat []time.Duration) result {
	if len(lat) == 0 {
		return result{}
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration { return lat[min(int(q*float64(len(lat))), len(lat)-1)] }
	return result{p50: at(0.50), p99: at(0.99), max: lat[len(lat)-1]}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// start runs c.replicas `innosandbox serve` processes on one store.
func start(ctx context.Context, c config) ([]string, func(), error) {
	dir, err := os.MkdirTemp("", "bench-deliveries-")
	if err != nil {
		return nil, nil, err
	}
	store := c.store
	if store == "" {
		store = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	var cmds []*exec.Cmd
	stop := func() {
		for _, cmd := range cmds {
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		}
		_ = os.RemoveAll(dir)
	}
	var urls []string
	for i := range max(c.replicas, 1) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			stop()
			return nil, nil, err
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("sandbox-%d.log", i)))
		if err != nil {
			stop()
			return nil, nil, err
		}
		cmd := exec.CommandContext(ctx, c.binary, "serve", "--addr", addr, "--store", store, "--quiet", "--log-level", "warn")
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			stop()
			return nil, nil, fmt.Errorf("-binary %s: %w", c.binary, err)
		}
		cmds = append(cmds, cmd)
		url := "http://" + addr
		if err := ready(url); err != nil {
			stop()
			return nil, nil, fmt.Errorf("%s did not become ready: %w (log: %s)", url, err, logf.Name())
		}
		urls = append(urls, url)
	}
	return urls, stop, nil
}

func ready(url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// client calls the sandboxes, spreading calls over them.
type client struct {
	urls       []string
	adminToken string
	http       *http.Client
}

type app struct{ key, token, account string }

func (c *client) do(ctx context.Context, i int, method, path string, header map[string]string, body []byte, want int, out any) error {
	h := map[string]string{"Content-Type": "application/json;charset=utf-8"}
	if c.adminToken != "" {
		h["X-Sandbox-Admin-Token"] = c.adminToken
	}
	for k, v := range header {
		h[k] = v
	}
	b, err := benchproc.Call(ctx, c.http, method, c.urls[i%len(c.urls)]+path, body, h, want)
	if err != nil {
		return err
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// setup makes an app of the seed's account (whose WABA has the otp_login
// template), with a token and a WhatsApp webhook to the receiver.
func (c *client) setup(ctx context.Context, hook string) (app, error) {
	var a struct{ AppKey, Account string }
	if err := c.do(ctx, 0, "POST", "/_sandbox/apps", nil, []byte(`{"name":"bench/deliveries"}`), http.StatusCreated, &a); err != nil {
		return app{}, err
	}
	var tok struct{ Token string }
	if err := c.do(ctx, 0, "POST", "/_sandbox/apps/"+a.AppKey+"/tokens", nil, nil, http.StatusCreated, &tok); err != nil {
		return app{}, err
	}
	cfg := []byte(`{"product":"whatsapp","url":"` + hook + `","events":["whatsapp_message_status_updated","whatsapp_template_status_updated"]}`)
	if err := c.do(ctx, 0, "POST", "/_sandbox/apps/"+a.AppKey+"/webhooks", nil, cfg, http.StatusCreated, nil); err != nil {
		return app{}, err
	}
	return app{key: a.AppKey, token: tok.Token, account: a.Account}, nil
}

// offset is how far the account's sandbox clock is ahead of real time.
func (c *client) offset(ctx context.Context, account string) (time.Duration, error) {
	var clk struct{ OffsetSeconds float64 }
	err := c.do(ctx, 0, "GET", "/_sandbox/clock", map[string]string{"X-Sandbox-Account": account}, nil, http.StatusOK, &clk)
	return time.Duration(clk.OffsetSeconds * float64(time.Second)), err
}

func (c *client) submit(ctx context.Context, i int, a app, body string) error {
	var env struct{ Code string }
	h := map[string]string{"AppKey": a.key, "Authorization": a.token}
	if err := c.do(ctx, i, "POST", "/api/whatsapp/v3/msg/submit", h, []byte(body), http.StatusOK, &env); err != nil {
		return err
	}
	if env.Code != "0" {
		return fmt.Errorf("send refused with code %s", env.Code)
	}
	return nil
}

func (c *client) trigger(ctx context.Context, i int, body []byte) (string, error) {
	var res struct{ Delivery struct{ ID string } }
	err := c.do(ctx, i, "POST", "/_sandbox/events", nil, body, http.StatusCreated, &res)
	return res.Delivery.ID, err
}

// unfinished counts the account's pending and failed status reports in
// the delivery log (the first page of each is enough to tell zero).
func (c *client) unfinished(ctx context.Context, account string) (int, error) {
	n := 0
	h := map[string]string{"X-Sandbox-Account": account}
	for _, status := range []string{"pending", "failed"} {
		var page []json.RawMessage
		if err := c.do(ctx, 0, "GET", "/_sandbox/deliveries?type=whatsapp_message_status_updated&limit=1000&status="+status, h, nil, http.StatusOK, &page); err != nil {
			return 0, err
		}
		n += len(page)
	}
	return n, nil
}

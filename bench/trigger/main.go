// Command trigger measures how long a triggered event takes to reach a
// receiver: from the moment POST /_sandbox/events is sent to the moment the
// push arrives, for events due now (the sandbox clock is not advanced). It
// starts a sandbox in this process (or targets one with --sandbox), starts a
// receiver on loopback, gives a fresh app a webhook pointing at it, fires
// the triggers and reports p50, p99 and max latency and any losses.
//
//	go run ./bench/trigger                       # in process, SQLite store
//	go run ./bench/trigger -store memory
//	go run ./bench/trigger -sandbox http://127.0.0.1:8080
//
// The target: p99 under 50 ms over 1000 triggers.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/mockserver/state/sqlite"
	"github.com/innosandbox/innosandbox/spec"
)

// eventType is small and enveloped, so the receiver finds its id at once.
const eventType = "whatsapp_template_status_updated"

func main() {
	sandbox := flag.String("sandbox", "", "base URL of a running sandbox (default: start one in this process)")
	store := flag.String("store", "sqlite", "store of the in-process sandbox: sqlite (a file in a temporary folder) or memory")
	n := flag.Int("n", 1000, "triggers to fire")
	conc := flag.Int("concurrency", 1, "triggers in flight at once")
	adminToken := flag.String("admin-token", "", "the sandbox's admin token, when it has one")
	wait := flag.Duration("wait", 5*time.Second, "how long after the last trigger to wait for pushes before counting the rest lost")
	target := flag.Duration("target", 50*time.Millisecond, "p99 latency to meet; the exit status is 1 when it is missed or a push is lost")
	flag.Parse()
	if err := run(*sandbox, *store, *n, *conc, *adminToken, *wait, *target); err != nil {
		fmt.Fprintln(os.Stderr, "bench/trigger:", err)
		os.Exit(1)
	}
}

// receiver notes when each event id first arrives, and how often.
type receiver struct {
	mu    sync.Mutex
	first map[string]time.Time
	count map[string]int
	all   chan struct{} // closed when want distinct ids arrived
	want  int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	var ev struct {
		ID string `json:"id"`
	}
	b, _ := io.ReadAll(req.Body)
	_ = json.Unmarshal(b, &ev)
	r.mu.Lock()
	if _, seen := r.first[ev.ID]; !seen {
		r.first[ev.ID] = at
		if len(r.first) == r.want {
			close(r.all)
		}
	}
	r.count[ev.ID]++
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func run(sandbox, store string, n, conc int, adminToken string, wait, target time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kind := "remote"
	if sandbox == "" {
		url, stop, err := startSandbox(ctx, store)
		if err != nil {
			return err
		}
		defer stop()
		sandbox, kind = url, "in process, "+store
	}

	recv := &receiver{first: map[string]time.Time{}, count: map[string]int{}, all: make(chan struct{}), want: n}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	rs := &http.Server{Handler: recv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = rs.Serve(ln) }()
	defer rs.Close()

	c := &controlClient{base: sandbox, adminToken: adminToken, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc + 4}}}
	appKey, account, err := c.setup(ctx, "http://"+ln.Addr().String()+"/hook")
	if err != nil {
		return err
	}

	type fired struct {
		id string
		at time.Time
	}
	sent := make([]fired, n)
	var firstErr error
	var errMu sync.Mutex
	jobs := make(chan int)
	var wg sync.WaitGroup
	body, _ := json.Marshal(map[string]any{"type": eventType, "appKey": appKey})
	began := time.Now()
	for range max(conc, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				at := time.Now()
				id, err := c.trigger(ctx, body)
				if err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					continue
				}
				sent[i] = fired{id: id, at: at}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	fireTime := time.Since(began)
	if firstErr != nil {
		return fmt.Errorf("a trigger failed: %w", firstErr)
	}
	select {
	case <-recv.all:
	case <-time.After(wait):
	}

	recv.mu.Lock()
	defer recv.mu.Unlock()
	var lat []time.Duration
	lost, dup := 0, 0
	for _, f := range sent {
		got, ok := recv.first[f.id]
		if !ok {
			lost++
			continue
		}
		lat = append(lat, got.Sub(f.at))
		if recv.count[f.id] > 1 {
			dup++
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	fmt.Printf("trigger -> receipt, %d triggers of %s (sandbox %s, account %s, concurrency %d)\n", n, eventType, kind, account, conc)
	fmt.Printf("  fired in %s (%.0f/s)\n", fireTime.Round(time.Millisecond), float64(n)/fireTime.Seconds())
	fmt.Printf("  p50 %s  p99 %s  max %s\n", ms(pct(0.50)), ms(pct(0.99)), ms(pct(1)))
	fmt.Printf("  received %d, lost %d, duplicated %d\n", len(lat), lost, dup)
	verdict := "met"
	if pct(0.99) >= target || lost > 0 {
		verdict = "MISSED"
	}
	fmt.Printf("  target p99 < %s and no losses: %s\n", target, verdict)
	if verdict != "met" {
		return errors.New("target missed")
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

// startSandbox serves a sandbox in this process on a loopback port, with
// its dispatcher running; stop ends both.
func startSandbox(ctx context.Context, kind string) (string, func(), error) {
	var st state.Store
	var dir string
	switch kind {
	case "memory":
		st = memstore.New()
	case "sqlite":
		var err error
		if dir, err = os.MkdirTemp("", "bench-trigger-"); err != nil {
			return "", nil, err
		}
		if st, err = sqlite.Open(ctx, filepath.Join(dir, "bench.db")); err != nil {
			return "", nil, err
		}
	default:
		return "", nil, fmt.Errorf("-store %q: use sqlite or memory", kind)
	}
	sp, err := spec.Load(ctx, spec.Sources{})
	if err != nil {
		return "", nil, err
	}
	srv, err := mockserver.New(ctx, mockserver.Config{Spec: sp, Store: st, StoreKind: kind, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return "", nil, err
	}
	rctx, stopRun := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Run(rctx); close(done) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stopRun()
		return "", nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		_ = hs.Close()
		stopRun()
		<-done
		_ = st.Close()
		if dir != "" {
			_ = os.RemoveAll(dir)
		}
	}, nil
}

// controlClient speaks to the control API.
type controlClient struct {
	base, adminToken string
	http             *http.Client
}

func (c *controlClient) do(ctx context.Context, method, path, account string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.adminToken != "" {
		req.Header.Set("X-Sandbox-Admin-Token", c.adminToken)
	}
	if account != "" {
		req.Header.Set("X-Sandbox-Account", account)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// setup makes a fresh account and app whose WhatsApp webhook points at the
// receiver, so that a shared sandbox's other users are not disturbed.
func (c *controlClient) setup(ctx context.Context, hook string) (appKey, account string, err error) {
	var acct struct{ Name string }
	if err = c.do(ctx, "POST", "/_sandbox/accounts", "", []byte(`{"label":"bench/trigger"}`), http.StatusCreated, &acct); err != nil {
		return "", "", err
	}
	var app struct{ AppKey string }
	if err = c.do(ctx, "POST", "/_sandbox/apps", acct.Name, []byte(`{"name":"bench"}`), http.StatusCreated, &app); err != nil {
		return "", "", err
	}
	cfg, _ := json.Marshal(map[string]any{"product": "whatsapp", "url": hook, "events": []string{eventType}})
	if err = c.do(ctx, "POST", "/_sandbox/apps/"+app.AppKey+"/webhooks", "", cfg, http.StatusCreated, nil); err != nil {
		return "", "", err
	}
	return app.AppKey, acct.Name, nil
}

// trigger fires one event and returns its id.
func (c *controlClient) trigger(ctx context.Context, body []byte) (string, error) {
	var res struct {
		Delivery struct{ ID string }
	}
	if err := c.do(ctx, "POST", "/_sandbox/events", "", body, http.StatusCreated, &res); err != nil {
		return "", err
	}
	return res.Delivery.ID, nil
}

// Command load drives a running `innosandbox serve` with valid authenticated
// submits and refused (401) ones, a bare net/http server answering a static
// body to the same request, and a reference server (kin-openapi's request
// validator behind its gorilla/mux router on the same contract, no state,
// answering the spec's example), in the same run, so that the figures are
// ratios measured under the same conditions. The judged figure is requests
// per server CPU-second (the server process's CPU time from /proc/PID/stat)
// as a share of the reference's. It also measures latency at a fixed rate,
// peak RSS, and cold start to the first /healthz answer.
//
//	go build -o bin/innosandbox ./cmd/innosandbox
//	go run ./bench/load -binary bin/innosandbox
//
// Everything it starts listens on 127.0.0.1 and is stopped at the end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	benchproc "github.com/innosandbox/innosandbox/bench/internal/proc"
	"github.com/innosandbox/innosandbox/internal/reference"
	"github.com/innosandbox/innosandbox/spec"
)

const (
	appKey = "XFbZY1rtTKo3UD4n1"
	token  = "YUIYIUIAIIASUDIAOSIDUOIWUOQWUEOIUWOEUQWOEUOQWUOUWOUWQOWU"
	body   = `{"wabaId":"110129512080569","messageType":"text","sendNumber":"8618912123456","recipientNumber":"6285234567899","body":"Thanks for your reply."}`
	path   = "/api/whatsapp/v3/msg/submit"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		bare(os.Args[2])
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "validator" {
		validatorOnly(os.Args[2])
		return
	}
	binary := flag.String("binary", "bin/innosandbox", "the innosandbox binary to measure")
	duration := flag.Duration("duration", 5*time.Second, "length of each throughput attack")
	rounds := flag.Int("rounds", 3, "rounds; each round measures every case once, in turn")
	conns := flag.Int("connections", 64, "concurrent connections of a throughput attack")
	rate := flag.Int("rate", 2000, "requests per second of the fixed-rate latency run")
	stores := flag.String("stores", "memory,sqlite", "stores to measure, comma-separated")
	logLevel := flag.String("log-level", "warn", "log level of the measured sandbox")
	starts := flag.Int("starts", 10, "cold starts to time per store")
	driver := flag.String("driver", "auto", "throughput driver: wrk, vegeta, or auto (wrk when installed)")
	flag.Parse()
	if *driver == "auto" {
		*driver = "vegeta"
		if _, err := exec.LookPath("wrk"); err == nil {
			*driver = "wrk"
		}
	}
	if err := run(*binary, *driver, *duration, *rounds, *conns, *rate, strings.Split(*stores, ","), *logLevel, *starts); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// bare is the baseline: a net/http server answering every request with a
// static body of the same shape as a sandbox answer.
func bare(addr string) {
	static := []byte(`{"code":"0","message":"Success","data":"356139161272397824"}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		_, _ = w.Write(static)
	})
	if err := http.ListenAndServe(addr, h); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// validatorOnly is the reference the sandbox's throughput is judged
// against (package reference), on the embedded contract.
func validatorOnly(addr string) {
	ref, err := reference.Handler(spec.MustLoadEmbedded().Public.Doc)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" { // the readiness probe of start
			return
		}
		ref.ServeHTTP(w, r)
	})
	if err := http.ListenAndServe(addr, h); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// proc is a server under test.
type proc struct {
	cmd  *exec.Cmd
	addr string
}

// start runs a command and waits until GET /healthz (or /, for bare) answers.
func start(name string, args ...string) (*proc, time.Duration, error) {
	addr, err := benchproc.FreeAddr()
	if err != nil {
		return nil, 0, err
	}
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "ADDR", addr)
	}
	cmd := exec.Command(name, args...)
	// nil: the child writes to the null device itself, with no copying here.
	cmd.Stdout, cmd.Stderr = nil, nil
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	p := &proc{cmd: cmd, addr: addr}
	client := &http.Client{Timeout: 200 * time.Millisecond}
	for time.Since(began) < 10*time.Second {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p, time.Since(began), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	p.stop()
	return nil, 0, fmt.Errorf("%s did not become ready", name)
}

func (p *proc) stop() { benchproc.Stop(p.cmd, 5*time.Second) }

// rss is a process's memory as /proc/PID/status reports it, in MiB: the
// high-water resident set size, and the resident set now split into pages
// mapped from files (mostly the binary's own code and data, shared with the
// page cache) and anonymous memory (heap, stacks, runtime).
type rss struct{ peak, file, anon float64 }

func (p *proc) rss() rss {
	m, _ := benchproc.ReadMemory(p.cmd.Process.Pid)
	return rss{peak: m.Peak, file: m.File, anon: m.Anon}
}

// cpu is the CPU time the process has used.
func (p *proc) cpu() (time.Duration, error) { return benchproc.ReadCPU(p.cmd.Process.Pid) }

// perCPU is requests per server CPU-second.
func (r result) perCPU() float64 {
	if r.cpu <= 0 {
		return 0
	}
	return float64(r.requests) / r.cpu.Seconds()
}

// converse has the demo user write to the demo number (control API).
func converse(addr string) error {
	_, err := benchproc.Call(context.Background(), http.DefaultClient, "POST", "http://"+addr+"/_sandbox/events/inbound",
		[]byte(`{"to":"8618912123456","from":"6285234567899","text":{"body":"hi"}}`), nil, http.StatusCreated)
	return err
}

// probe sends the load's submit once and requires it accepted (code "0").
func probe(addr string) error {
	b, err := benchproc.Call(context.Background(), http.DefaultClient, "POST", "http://"+addr+path, []byte(body),
		map[string]string{"AppKey": appKey, "Authorization": token}, http.StatusOK)
	if err == nil && !strings.Contains(string(b), `"code":"0"`) {
		err = fmt.Errorf("the load's submit is not accepted: %s", b)
	}
	return err
}

func targeter(addr, tok string) vegeta.Targeter {
	h := http.Header{"Content-Type": {"application/json;charset=utf-8"}, "Appkey": {appKey}, "Authorization": {tok}}
	return vegeta.NewStaticTargeter(vegeta.Target{Method: "POST", URL: "http://" + addr + path, Body: []byte(body), Header: h})
}

// result of one attack.
type result struct {
	rps      float64
	requests uint64
	cpu      time.Duration // the server process's CPU time during the attack
	p50, p99 time.Duration
	max      time.Duration
	errors   uint64
	codes    map[string]int
}

// attack runs vegeta: at a fixed rate (pacer), or as fast as conns workers
// go (vegeta.Rate{Freq: 0}). Answers other than want count as errors.
func attack(tr vegeta.Targeter, pacer vegeta.Pacer, d time.Duration, conns int, want int) result {
	opts := []func(*vegeta.Attacker){vegeta.KeepAlive(true), vegeta.Connections(conns), vegeta.MaxConnections(conns), vegeta.Timeout(10 * time.Second)}
	if r, ok := pacer.(vegeta.Rate); ok && r.Freq == 0 {
		opts = append(opts, vegeta.Workers(uint64(conns)), vegeta.MaxWorkers(uint64(conns)))
	}
	a := vegeta.NewAttacker(opts...)
	var m vegeta.Metrics
	for res := range a.Attack(tr, pacer, d, "load") {
		m.Add(res)
	}
	m.Close()
	r := result{rps: float64(m.Requests) / m.Duration.Seconds(), requests: m.Requests, p50: m.Latencies.P50, p99: m.Latencies.P99, max: m.Latencies.Max, codes: m.StatusCodes}
	for code, n := range m.StatusCodes {
		if code != strconv.Itoa(want) {
			r.errors += uint64(n) // code "0" counts transport errors
		}
	}
	return r
}

// wrkAttack runs wrk (2 threads) as fast as it goes, when wrk is installed:
// it costs the client far less CPU than vegeta, so the server is what is
// measured. wrk reports non-2xx answers in bulk: for want=401 every request
// must be one, for want=200 none.
func wrkAttack(dir, addr, tok string, d time.Duration, conns int, want int) (result, error) {
	script := filepath.Join(dir, "submit.lua")
	lua := fmt.Sprintf(`wrk.method = "POST"
wrk.body = %q
wrk.headers["Content-Type"] = "application/json;charset=utf-8"
wrk.headers["AppKey"] = %q
wrk.headers["Authorization"] = %q
done = function(s, lat, req)
  local e = s.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d\n", s.requests, s.duration, lat:percentile(50), lat:percentile(99), lat.max, e.status, e.connect + e.read + e.write + e.timeout))
end
`, body, appKey, tok)
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		return result{}, err
	}
	out, err := exec.Command("wrk", "-t2", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", int(d.Seconds())), "-s", script, "http://"+addr+path).Output()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 8 || f[0] != "RESULT" {
			continue
		}
		n := make([]int64, 7)
		for i := range n {
			n[i], _ = strconv.ParseInt(f[i+1], 10, 64)
		}
		r := result{rps: float64(n[0]) / (float64(n[1]) / 1e6), requests: uint64(n[0]), p50: time.Duration(n[2]) * time.Microsecond,
			p99: time.Duration(n[3]) * time.Microsecond, max: time.Duration(n[4]) * time.Microsecond, errors: uint64(n[6])}
		switch {
		case want == 200:
			r.errors += uint64(n[5])
		case n[5] != n[0]:
			r.errors += uint64(n[0] - n[5])
		}
		r.codes = map[string]int{"non-2xx": int(n[5]), "requests": int(n[0])}
		return r, nil
	}
	return result{}, fmt.Errorf("wrk printed no result: %s", out)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// serveRateLimit is the measured sandbox's --rate-limit. Every call of the
// load is made with the demo AppKey, far beyond serve's default rate, so
// the bucket is set high enough never to refuse: its cost is still paid
// and measured. "" passes nothing, for a binary older than the flag.
var serveRateLimit = flag.String("serve-rate-limit", "1000000000", "--rate-limit of the measured sandbox (\"\" for a binary without that flag)")

func run(binary, driver string, d time.Duration, rounds, conns, rate int, stores []string, logLevel string, starts int) error {
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("%s: build it first (go build -o %s ./cmd/innosandbox): %w", binary, binary, err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "innosandbox-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	storeArg := func(store string, round int) string {
		if store == "sqlite" {
			return "sqlite:" + filepath.Join(dir, fmt.Sprintf("r%d.db", round))
		}
		return store
	}
	serve := func(store string, round int) (*proc, time.Duration, error) {
		args := []string{"serve", "--quiet", "--addr", "ADDR", "--store", storeArg(store, round), "--log-level", logLevel}
		if *serveRateLimit != "" {
			args = append(args, "--rate-limit", *serveRateLimit)
		}
		return start(binary, args...)
	}
	// serveReady is serve, then the demo user writes to the demo number
	// (so the text submits are inside WhatsApp's 24-hour window) and one
	// submit must be accepted: a load run measures accepted sends, not
	// refusals that happen to answer HTTP 200.
	serveReady := func(store string, round int) (*proc, error) {
		p, _, err := serve(store, round)
		if err != nil {
			return nil, err
		}
		if err := converse(p.addr); err != nil {
			p.stop()
			return nil, err
		}
		if err := probe(p.addr); err != nil {
			p.stop()
			return nil, err
		}
		return p, nil
	}

	fmt.Printf("# load: driver %s, %d rounds, %s per attack, %d connections, stores %v, sandbox log level %s\n\n", driver, rounds, d, conns, stores, logLevel)
	// throughput attacks p as fast as the driver goes and reads p's CPU
	// time before and after, so that requests per server CPU-second can be
	// compared across servers whatever share of the cores each one got.
	throughput := func(p *proc, tok string, want int) (result, error) {
		before, err := p.cpu()
		if err != nil {
			return result{}, err
		}
		var r result
		if driver == "wrk" {
			if r, err = wrkAttack(dir, p.addr, tok, d, conns, want); err != nil {
				return r, err
			}
		} else {
			r = attack(targeter(p.addr, tok), vegeta.Rate{Freq: 0}, d, conns, want)
		}
		after, err := p.cpu()
		r.cpu = after - before
		return r, err
	}
	const reference = "reference (kin-openapi + gorilla/mux)"
	shares := map[string][]float64{} // req/s as a share of the bare server's in the same round
	perCPU := map[string][]float64{} // requests per server CPU-second
	toRef := map[string][]float64{}  // perCPU as a share of the reference's in the same round
	peak := map[string]rss{}         // per store, the reading with the highest peak
	var errs []string
	line := func(round int, name string, r result, base, ref result) {
		fmt.Printf("round %d  %-38s %7.0f req/s  %6.0f req/CPU-s  p50 %-9v p99 %-9v errors %d", round, name, r.rps, r.perCPU(), r.p50, r.p99, r.errors)
		if name != "bare net/http" {
			shares[name] = append(shares[name], r.rps/base.rps)
			fmt.Printf("  share of bare %.2f", r.rps/base.rps)
		}
		perCPU[name] = append(perCPU[name], r.perCPU())
		if ref.perCPU() > 0 {
			toRef[name] = append(toRef[name], r.perCPU()/ref.perCPU())
			fmt.Printf("  per CPU-s vs reference %.2f", r.perCPU()/ref.perCPU())
		}
		fmt.Println()
		if r.errors > 0 {
			errs = append(errs, fmt.Sprintf("%s round %d: %d errors %v", name, round, r.errors, r.codes))
		}
	}
	for round := 1; round <= rounds; round++ {
		b, _, err := start(self, "bare", "ADDR")
		if err != nil {
			return err
		}
		base, err := throughput(b, token, 200)
		b.stop()
		if err != nil {
			return err
		}
		v, _, err := start(self, "validator", "ADDR")
		if err != nil {
			return err
		}
		ref, err := throughput(v, token, 200)
		v.stop()
		if err != nil {
			return err
		}
		line(round, "bare net/http", base, base, ref)
		line(round, reference, ref, base, ref)
		for _, store := range stores {
			p, err := serveReady(store, round)
			if err != nil {
				return err
			}
			valid, err := throughput(p, token, 200)
			if err == nil {
				err = probe(p.addr) // still accepting sends after the attack
			}
			if err != nil {
				p.stop()
				return err
			}
			refused, err := throughput(p, strings.Repeat("X", 56), 401)
			mem := p.rss()
			p.stop()
			if err != nil {
				return err
			}
			if mem.peak > peak[store].peak {
				peak[store] = mem
			}
			line(round, store+" valid", valid, base, ref)
			line(round, store+" refused", refused, base, ref)
			fmt.Printf("round %d  %-38s peak RSS %.1f MiB (after the attacks: file pages %.1f, anonymous %.1f)\n", round, store, mem.peak, mem.file, mem.anon)
		}
	}

	// The judged figure: requests per server CPU-second, as a share of the
	// reference's in the same round (the least noisy figure on a shared
	// machine); the share of the bare server's req/s is reported beside it.
	targets := map[string]float64{"memory valid": 0.9, "sqlite valid": 0.4}
	fmt.Printf("\n## requests per server CPU-second (median of %d rounds), against the reference and the bare server\n\n", rounds)
	fmt.Printf("| case | req/CPU-s | vs reference | rounds | target | req/s share of bare |\n|---|---|---|---|---|---|\n")
	names := make([]string, 0, len(perCPU))
	for n := range perCPU {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		verdict := "—"
		if t, ok := targets[n]; ok {
			verdict = fmt.Sprintf("≥ %.1f %s", t, metOrMissed(median(toRef[n]) >= t))
		}
		share := "—"
		if len(shares[n]) > 0 {
			share = fmt.Sprintf("%.2f", median(shares[n]))
		}
		fmt.Printf("| %s | %.0f | %.2f | %s | %s | %s |\n", n, median(perCPU[n]), median(toRef[n]), fmtList(toRef[n]), verdict, share)
	}

	fmt.Printf("\n## latency at a fixed rate of %d req/s (%s, valid submits; target: SQLite p99 ≤ 5 ms, memory beside it)\n\n| store | p50 | p99 | max | errors | target |\n|---|---|---|---|---|---|\n", rate, 2*d)
	for _, store := range stores {
		p, err := serveReady(store, 0)
		if err != nil {
			return err
		}
		r := attack(targeter(p.addr, token), vegeta.Rate{Freq: rate, Per: time.Second}, 2*d, conns, 200)
		mem := p.rss()
		p.stop()
		if mem.peak > peak[store].peak {
			peak[store] = mem
		}
		verdict := "—"
		if store == "sqlite" {
			verdict = "≤ 5 ms " + metOrMissed(r.p99 <= 5*time.Millisecond)
		}
		fmt.Printf("| %s | %v | %v | %v | %d | %s |\n", store, r.p50, r.p99, r.max, r.errors, verdict)
		if r.errors > 0 {
			errs = append(errs, fmt.Sprintf("fixed rate %s: %d errors %v", store, r.errors, r.codes))
		}
	}

	fmt.Printf("\n## peak RSS under load (MiB; file and anonymous pages read after the load that peaked; target ≤ 64 MiB)\n\n| store | peak | file pages | anonymous | target |\n|---|---|---|---|---|\n")
	for _, store := range stores {
		m := peak[store]
		fmt.Printf("| %s | %.1f | %.1f | %.1f | %s |\n", store, m.peak, m.file, m.anon, metOrMissed(m.peak <= 64))
	}

	fmt.Printf("\n## cold start to the first 200 from /healthz (%d starts, fresh store each)\n\n| store | min | median | max |\n|---|---|---|---|\n", starts)
	for _, store := range stores {
		var ts []float64
		for i := 0; i < starts; i++ {
			p, took, err := serve(store, 1000+i)
			if err != nil {
				return err
			}
			p.stop()
			ts = append(ts, float64(took.Microseconds())/1000)
		}
		sort.Float64s(ts)
		fmt.Printf("| %s | %.1f ms | %.1f ms | %.1f ms |\n", store, ts[0], median(ts), ts[len(ts)-1])
	}
	if len(errs) > 0 {
		return errors.New("requests failed: " + strings.Join(errs, "; "))
	}
	return nil
}

func metOrMissed(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

func fmtList(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(parts, ", ")
}

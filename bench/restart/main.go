// Command restart measures whether a sandbox restarted on a large SQLite
// file answers at once, or stalls behind its own housekeeping (the
// retention janitor's first pass, taking back claims): the time from the
// first 200 of /healthz to the answer of the first submit.
//
// It fills a SQLite file once, directly through the store: the demo app's
// -submits sends, each with its two status events delivered and their
// attempts recorded, as a run under load leaves it. Then, for -rounds
// rounds, it starts each binary (-baseline first, when given, then
// -binary) on a fresh copy of that file, twice in a row on the same copy
// (the first start prunes what retention removes, the second finds it
// done), on 127.0.0.1 only:
//
//	go build -o bin/innosandbox ./cmd/innosandbox
//	go run ./bench/restart -binary bin/innosandbox -baseline bin/innosandbox.old
//
// Target: the first submit answers within 100 ms of /healthz.
package main

import (
	"context"
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

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/sqlite"
)

// The demo app every serve seeds, and the submit the measurement sends.
const (
	appKey = "XFbZY1rtTKo3UD4n1"
	token  = "YUIYIUIAIIASUDIAOSIDUOIWUOQWUEOIUWOEUQWOEUOQWUOUWOUWQOWU"
	body   = `{"wabaId":"110129512080569","messageType":"text","sendNumber":"8618912123456","recipientNumber":"6285234567899","body":"Thanks for your reply."}`
	path   = "/api/whatsapp/v3/msg/submit"
)

func main() {
	binary := flag.String("binary", "bin/innosandbox", "the innosandbox binary to measure")
	baseline := flag.String("baseline", "", "another binary measured alternately with -binary (e.g. the one before a change)")
	submits := flag.Int("submits", 150_000, "sends in the filled file (two delivered events each)")
	rounds := flag.Int("rounds", 3, "rounds; each starts every binary twice on a fresh copy of the file")
	dir := flag.String("dir", "", "where the files go (default: a new temporary folder, removed at the end)")
	flag.Parse()
	if err := run(*binary, *baseline, *submits, *rounds, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "bench/restart:", err)
		os.Exit(1)
	}
}

func run(binary, baseline string, submits, rounds int, dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "restart-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	filled := filepath.Join(dir, "filled.db")
	if _, err := os.Stat(filled); err == nil {
		fmt.Printf("reusing %s\n", filled)
	} else {
		// The first start seeds the demo account and app, as a user's would.
		p, _, err := start(binary, filled)
		if err != nil {
			return err
		}
		p.stop()
		began := time.Now()
		if err := fill(filled, submits); err != nil {
			return err
		}
		fmt.Printf("filled %s with %d sends (%d events, delivered) in %s\n", filepath.Base(filled), submits, 2*submits,
			time.Since(began).Round(time.Second))
	}
	if err := converse(filled); err != nil {
		return err
	}
	info, err := os.Stat(filled)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %.0f MB\n\n", filepath.Base(filled), float64(info.Size())/1e6)

	bins := []string{binary}
	if baseline != "" {
		bins = []string{baseline, binary}
	}
	type key struct {
		bin   string
		start int
	}
	results := map[key][]time.Duration{}
	for r := range rounds {
		for _, bin := range bins {
			file := filepath.Join(dir, fmt.Sprintf("run-%d.db", r))
			if err := copyFile(filled, file); err != nil {
				return err
			}
			for i := range 2 {
				p, ready, err := start(bin, file)
				if err != nil {
					return err
				}
				took, err := submit(p.addr)
				p.stop()
				if err != nil {
					return fmt.Errorf("%s: %w", bin, err)
				}
				fmt.Printf("round %d %-30s start %d: /healthz after %6s, first submit answered %8s later\n",
					r+1, filepath.Base(bin), i+1, ready.Round(time.Millisecond), took.Round(100*time.Microsecond))
				results[key{bin, i}] = append(results[key{bin, i}], took)
			}
			if err := removeDB(file); err != nil {
				return err
			}
		}
	}
	fmt.Printf("\n| binary | start on the file | first submit after /healthz: median | max |\n|---|---|---:|---:|\n")
	for _, bin := range bins {
		for i, name := range []string{"first", "second"} {
			d := results[key{bin, i}]
			slices.Sort(d)
			fmt.Printf("| %s | %s | %s | %s |\n", filepath.Base(bin), name, d[len(d)/2].Round(100*time.Microsecond), d[len(d)-1].Round(100*time.Microsecond))
		}
	}
	return nil
}

// fill writes submits sends of the demo app straight into the store, each
// with two events that a dispatcher then claimed and delivered.
func fill(file string, submits int) error {
	ctx := context.Background()
	s, app, err := openDemo(ctx, file)
	if err != nil {
		return err
	}
	defer s.Close()
	target := &state.Target{URL: "http://127.0.0.1:9/hooks/whatsapp", Method: "POST"}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 { // concurrent writers share commits, as requests do
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(submits) {
					return
				}
				now := time.Now()
				id := fmt.Sprintf("%018d", 100000000000000000+i)
				sub := state.Submission{Message: state.Message{
					ID: id, Account: app.Account, AppKey: appKey, Product: state.ProductWhatsApp, MessageType: "text",
					WabaID: "110129512080569", SendNumber: "8618912123456", Recipients: []string{"6285234567899"},
					Wamids: []string{"wamid." + id}, Request: []byte(body), CreatedAt: now,
				}}
				for j := range 2 {
					eid := state.NewEventID(now)
					sub.Events = append(sub.Events, state.Event{
						ID: eid, Account: app.Account, Type: state.EventWAStatus, Product: state.ProductWhatsApp,
						AppKey: appKey, Route: "sender", Status: state.EventPending,
						Payload: []byte(`{"id":"` + eid + `","type":"whatsapp_message_status_updated","data":{"messageId":"` + id + `","status":"` +
							[]string{"sent", "delivered"}[j] + `","to":"6285234567899"}}`),
						Target: target, DueAt: now, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
					})
				}
				if err := s.RecordSubmission(ctx, sub); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	// Deliver them all, as a dispatcher would have.
	for {
		now := time.Now()
		got, err := s.ClaimDue(ctx, now, 1000, "fill", now.Add(time.Minute), nil)
		if err != nil {
			return err
		}
		if len(got) == 0 {
			return nil
		}
		rs := make([]state.AttemptResult, len(got))
		for i, e := range got {
			rs[i] = state.AttemptResult{Owner: "fill", Status: state.EventDelivered, Attempt: state.Attempt{
				EventID: e.ID, N: 1, StartedAt: now, Latency: time.Millisecond, Method: "POST", URL: e.Target.URL,
				RequestHeaders: map[string][]string{"Content-Type": {"application/json"}}, RequestBody: e.Payload,
				ResponseStatus: 200, ResponseBody: []byte("ok"), Outcome: "delivered",
			}}
		}
		// Concurrently, so that the store's writer commits them in batches.
		var wg sync.WaitGroup
		errs := make([]error, len(rs))
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(rs); i += 16 {
					errs[i] = s.RecordAttempt(ctx, rs[i])
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
}

// converse has the demo user write to the demo number just now, so that
// the measured submit (a text, not a template) is inside the 24-hour
// window.
func converse(file string) error {
	ctx := context.Background()
	s, app, err := openDemo(ctx, file)
	if err != nil {
		return err
	}
	defer s.Close()
	acct, err := s.GetAccount(ctx, app.Account)
	if err != nil {
		return err
	}
	return s.TouchSession(ctx, app.Account, "8618912123456", "6285234567899", time.Now().Add(acct.ClockOffset))
}

// openDemo opens the SQLite file and finds the demo app in it.
func openDemo(ctx context.Context, file string) (*sqlite.Store, state.App, error) {
	s, err := sqlite.Open(ctx, file)
	if err != nil {
		return nil, state.App{}, err
	}
	app, err := s.GetApp(ctx, appKey)
	if err != nil {
		s.Close()
		return nil, state.App{}, fmt.Errorf("the demo app: %w", err)
	}
	return s, app, nil
}

// proc is a started sandbox.
type proc struct {
	cmd  *exec.Cmd
	addr string
}

// start serves binary on file at a free loopback port and waits for the
// first 200 of /healthz, which it returns with the time it took.
func start(binary, file string) (*proc, time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(binary, "serve", "--quiet", "--addr", addr, "--store", "sqlite:"+file, "--log-level", "warn")
	cmd.Stderr = os.Stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	p := &proc{cmd: cmd, addr: addr}
	client := &http.Client{Timeout: time.Second}
	for time.Since(began) < 60*time.Second {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, time.Since(began), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	p.stop()
	return nil, 0, fmt.Errorf("%s did not answer /healthz within 60s", binary)
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// submit sends the demo app's submit and returns how long its answer
// took; it must be accepted.
func submit(addr string) (time.Duration, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = http.Header{"Content-Type": {"application/json;charset=utf-8"}, "Appkey": {appKey}, "Authorization": {token}}
	began := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	took := time.Since(began)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"code":"0"`) {
		return 0, fmt.Errorf("the submit was not accepted: %s: %s", resp.Status, b)
	}
	return took, nil
}

func copyFile(from, to string) error {
	if err := removeDB(to); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// removeDB removes a database file with its WAL and shared-memory files.
func removeDB(file string) error {
	for _, f := range []string{file, file + "-wal", file + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

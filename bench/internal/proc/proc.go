// Package proc starts `innosandbox serve` processes for the programs under
// bench/ and reads what the kernel knows about them (resident set, CPU
// time), so that every program measures them the same way. Everything it
// starts listens on 127.0.0.1.
package proc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Sandbox is one running `innosandbox serve`.
type Sandbox struct {
	Cmd  *exec.Cmd
	Addr string // host:port on 127.0.0.1
	URL  string // http://Addr
}

// FreeAddr returns a loopback address with a port free at the time.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Serve starts `binary serve --addr 127.0.0.1:PORT --quiet` with args
// after it, its output to logPath (discarded when empty), and waits until
// /healthz answers 200.
func Serve(binary, logPath string, args ...string) (*Sandbox, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, append([]string{"serve", "--addr", addr, "--quiet"}, args...)...)
	if logPath != "" {
		f, err := os.Create(logPath)
		if err != nil {
			return nil, err
		}
		defer f.Close() // the child has its own descriptor
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	s := &Sandbox{Cmd: cmd, Addr: addr, URL: "http://" + addr}
	client := &http.Client{Timeout: time.Second}
	for began := time.Now(); time.Since(began) < 30*time.Second; time.Sleep(10 * time.Millisecond) {
		resp, err := client.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.Stop()
	return nil, fmt.Errorf("%s serve %s did not become ready in 30 s (log: %s)", binary, strings.Join(args, " "), logPath)
}

// Stop interrupts the process and waits for it (kills it after 10 s).
func (s *Sandbox) Stop() { Stop(s.Cmd, 10*time.Second) }

// Stop interrupts a started command and waits for it to exit, killing it
// when it has not after grace.
func Stop(cmd *exec.Cmd, grace time.Duration) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Member returns the JSON string value that follows key (e.g. `"id":"`) in
// b: a receiver's cheap look at a push without decoding it.
func Member(b, key []byte) string {
	i := bytes.Index(b, key)
	if i < 0 {
		return ""
	}
	rest := b[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// Memory is a process's memory as /proc/PID/status reports it, in MiB.
type Memory struct {
	Peak float64 // VmHWM: the high-water resident set
	Now  float64 // VmRSS
	File float64 // RssFile: pages mapped from files (mostly the binary)
	Anon float64 // RssAnon: heap, stacks, runtime
}

// ReadMemory reads pid's memory figures.
func ReadMemory(pid int) (Memory, error) {
	var m Memory
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.Atoi(fields[1])
		mib := float64(kb) / 1024
		switch fields[0] {
		case "VmHWM:":
			m.Peak = mib
		case "VmRSS:":
			m.Now = mib
		case "RssFile:":
			m.File = mib
		case "RssAnon:":
			m.Anon = mib
		}
	}
	return m, sc.Err()
}

// ReadThreads is the number of threads of pid (a Go process's goroutines
// are not visible from outside; its /metrics has go_goroutines).
func ReadThreads(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, errors.New("no Threads line")
}

// ReadCPU is the CPU time (user and system, all threads) pid has used, from
// /proc/PID/stat, whose clock ticks are 1/100 s on Linux.
func ReadCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count from after its closing one, where field 3 (state) starts.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// Percentile is the q-quantile (0..1) of sorted durations, 0 when empty.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(int(q*float64(len(sorted))), len(sorted)-1)]
}

// Call makes one HTTP request to a sandbox (a JSON body when body is not
// empty, header added) and returns the answer's body; an answer other than
// want is an error naming the request and quoting the body.
func Call(ctx context.Context, client *http.Client, method, url string, body []byte, header map[string]string, want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json;charset=utf-8")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return b, fmt.Errorf("%s %s: HTTP %d: %.300s", method, url, resp.StatusCode, b)
	}
	return b, nil
}

// AwaitCount returns once count() reaches want, or once it has not changed
// for stall (the rest are then lost, as far as the caller can tell).
func AwaitCount(count func() int, want int, stall time.Duration) {
	last, lastChange := -1, time.Now()
	for {
		got := count()
		if got >= want {
			return
		}
		if got != last {
			last, lastChange = got, time.Now()
		}
		if time.Since(lastChange) > stall {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

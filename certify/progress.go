package certify

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// Progress is told what a run does as it does it. Its methods are called
// from several goroutines.
type Progress interface {
	// Planned is called once, before the first push.
	Planned(p *Plan)
	// CheckStarted is called when a check begins.
	CheckStarted(c Check)
	// Pushed is called after each push with the number made so far.
	Pushed(done, planned int)
	// CheckDone is called with each check's result.
	CheckDone(r CheckResult)
}

type noProgress struct{}

func (noProgress) Planned(*Plan)         {}
func (noProgress) CheckStarted(Check)    {}
func (noProgress) Pushed(int, int)       {}
func (noProgress) CheckDone(CheckResult) {}

// NewProgress returns a Progress that writes to w: on a terminal, a status
// line redrawn in place (the checks running, the pushes made) above which
// each finished check is printed; elsewhere one plain line per check.
func NewProgress(w io.Writer, terminal bool) Progress {
	return &lineProgress{out: w, terminal: terminal}
}

type lineProgress struct {
	mu       sync.Mutex
	out      io.Writer
	terminal bool
	running  []string
	done     int
	planned  int
	checks   int
}

func (p *lineProgress) Planned(pl *Plan) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.planned = pl.Total
	fmt.Fprintf(p.out, "innosandbox certify: %s\n", pl.Bounds())
	fmt.Fprintf(p.out, "  product %s, events: %s\n", pl.Product, strings.Join(pl.Events, ", "))
}

func (p *lineProgress) CheckStarted(c Check) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running = append(p.running, c.ID)
	p.redraw()
}

func (p *lineProgress) Pushed(done, planned int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.planned = max(p.done, done), planned
	p.redraw()
}

func (p *lineProgress) CheckDone(r CheckResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.running, r.ID); i >= 0 {
		p.running = slices.Delete(p.running, i, i+1)
	}
	p.checks++
	if p.terminal {
		fmt.Fprint(p.out, "\r\x1b[K")
	}
	fmt.Fprintln(p.out, CheckLine(r))
	p.redraw()
}

// redraw rewrites the status line; only on a terminal.
func (p *lineProgress) redraw() {
	if !p.terminal {
		return
	}
	if len(p.running) == 0 {
		// Between phases and at the end: leave a clean line for what follows.
		fmt.Fprint(p.out, "\r\x1b[K")
		return
	}
	status := fmt.Sprintf("[%d/%d pushes] running %s", p.done, p.planned, strings.Join(p.running, ", "))
	// A line longer than the terminal wraps, and \r would then redraw only
	// its last part.
	if r := []rune(status); len(r) > statusWidth {
		status = string(r[:statusWidth-1]) + "…"
	}
	fmt.Fprint(p.out, "\r\x1b[K"+status)
}

// statusWidth keeps the status line within an 80-column terminal.
const statusWidth = 79

// Label is how a status is shown in text output.
func (s Status) Label() string {
	switch s {
	case Passed:
		return "PASS"
	case Failed:
		return "FAIL"
	case Allowed:
		return "ALLOWED"
	case NotApplicable:
		return "N/A"
	case NotRun:
		return "NOT RUN"
	}
	return strings.ToUpper(string(s))
}

// CheckLine is one check's result on one line: status, id, severity,
// title and reason.
func CheckLine(r CheckResult) string {
	line := fmt.Sprintf("%-7s %-14s %-11s %s", r.Status.Label(), r.ID, r.Severity, r.Title)
	if r.Reason != "" {
		line += " — " + r.Reason
	}
	return line
}

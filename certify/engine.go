package certify

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/cucumber/godog"

	"github.com/innosandbox/innosandbox/features/certification"
	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/spec"
)

// run is one certification run's shared state.
type run struct {
	opts     Options
	plan     *Plan
	checks   CheckList
	payloads *builder
	sender   *sender

	mu      sync.Mutex
	worlds  map[string]*world
	results map[string]CheckResult
}

// Run certifies the endpoint at o.URL: it plans the run, prints nothing
// itself (o.Progress is told what happens), runs the certification
// features phase by phase, and returns the result. The error is for a run
// that could not be made (bad options, a broken contract, an interruption);
// an endpoint that fails checks is a Result whose verdict says so.
func Run(ctx context.Context, o Options) (*Result, error) {
	r, err := prepare(o)
	if err != nil {
		return nil, err
	}
	defer r.sender.close()
	return r.execute(ctx)
}

// Prepare checks the options and returns the plan of the run without
// sending anything, for a dry run and for the bounds printed before a run.
func Prepare(o Options) (*Plan, error) {
	r, err := prepare(o)
	if err != nil {
		return nil, err
	}
	r.sender.close()
	return r.plan, nil
}

func prepare(o Options) (*run, error) {
	o = o.withDefaults()
	if o.Spec == nil {
		sp, err := spec.Load(context.Background(), spec.Sources{})
		if err != nil {
			return nil, err
		}
		o.Spec = sp
	}
	if err := o.Validate(o.Spec); err != nil {
		return nil, err
	}
	checks, _, err := LoadChecks(nil)
	if err != nil {
		return nil, err
	}
	plan, err := newPlan(o, o.Spec)
	if err != nil {
		return nil, err
	}
	s, err := newSender(o, plan.Total)
	if err != nil {
		return nil, err
	}
	r := &run{
		opts: o, plan: plan, checks: checks, sender: s,
		payloads: &builder{contract: o.Spec, clock: o.Clock, user: o.UserName, pass: o.Authorization},
		worlds:   map[string]*world{}, results: map[string]CheckResult{},
	}
	s.onPush = func(done int) { o.Progress.Pushed(done, plan.Total) }
	// Build one payload of every kind now: a contract without the examples
	// a check needs stops the run before the first push, not in the middle.
	if err := r.preflight(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *run) preflight() error {
	for _, ev := range r.plan.Events {
		if _, err := r.payloads.valid(ev); err != nil {
			return err
		}
	}
	if _, err := r.payloads.withUnknownFields(r.plan.Primary); err != nil {
		return err
	}
	if _, ok := r.plan.Pushes[CheckOrder]; ok {
		if _, _, err := r.payloads.outOfOrder(statusEvents[r.plan.Product]); err != nil {
			return err
		}
	}
	if r.plan.TextEvent != "" {
		if _, err := r.payloads.withLongText(r.plan.TextEvent, r.plan.TextLimit); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) execute(ctx context.Context) (*Result, error) {
	_, features, err := LoadChecks(nil)
	if err != nil {
		return nil, err
	}
	r.opts.Progress.Planned(r.plan)
	startedAt := r.opts.Clock.Now().UTC()
	sw := clock.Start()
	notRun := ""
	for i, phase := range phases {
		if notRun == "" && ctx.Err() != nil {
			notRun = "not run: the certification was interrupted"
		}
		if notRun != "" {
			for _, id := range phase {
				r.skip(id, notRun)
			}
			continue
		}
		if err := r.runPhase(ctx, phase); err != nil {
			return nil, err
		}
		if i == 0 {
			if reach := r.results[CheckReach]; reach.Status != Passed {
				notRun = "not run: your endpoint could not be reached (" + CheckReach + ": " + reach.Reason + ")"
			}
		}
	}
	res := &Result{
		Tool: "innosandbox certify", ToolVersion: r.opts.ToolVersion, SuiteVersion: SuiteVersion,
		ChecksSHA256: r.checks.SHA256(), StartedAt: startedAt, FinishedAt: r.opts.Clock.Now().UTC(),
		DurationMs: ms(sw.Elapsed()),
		Target:     Target{URL: r.opts.URL, Method: r.opts.Method, Product: r.opts.Product},
		Options: ReportOptions{
			Events: r.plan.Events, UserName: r.opts.UserName, TimeoutMs: ms(r.opts.Timeout), Insecure: r.opts.Insecure,
			CustomCA: r.opts.RootCAs != nil, LatencyPushes: r.opts.LatencyPushes, Burst: r.opts.Burst, Rate: r.opts.Rate,
			Concurrency: r.opts.Concurrency,
		},
		Bounds:   Bounds{PlannedPushes: r.plan.Total, SentPushes: int(r.sender.sent.Load()), MaxPushes: MaxPushes, RatePerSecond: r.opts.Rate},
		Features: features,
	}
	if r.opts.Authorization != "" {
		res.Options.Authorization = mask(r.opts.Authorization)
	}
	for _, c := range r.checks {
		res.Checks = append(res.Checks, r.results[c.ID])
	}
	res.Verdict = verdictOf(res.Checks)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("the certification was interrupted: %w", err)
	}
	return res, nil
}

// runPhase runs the scenarios of one phase concurrently.
func (r *run) runPhase(ctx context.Context, ids []string) error {
	tags := make([]string, len(ids))
	for i, id := range ids {
		tags[i] = "@" + id
	}
	status := godog.TestSuite{
		Name:                "certification",
		ScenarioInitializer: r.initScenario,
		Options: &godog.Options{
			FS: certification.FS, Paths: []string{"."}, Tags: strings.Join(tags, ","),
			Format: "progress", Output: io.Discard, NoColors: true,
			Strict: true, Concurrency: len(ids), DefaultContext: ctx,
		},
	}.Run()
	if status > 1 {
		return fmt.Errorf("BUG: the certification features could not be run (godog status %d)", status)
	}
	for _, id := range ids {
		r.mu.Lock()
		w, ran := r.worlds[id]
		_, done := r.results[id]
		r.mu.Unlock()
		switch {
		case ran && !done:
			r.finish(w)
		case !ran:
			r.skip(id, "not run: BUG: its scenario did not start")
		}
	}
	return nil
}

func (r *run) register(w *world) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.worlds[w.check.ID] = w
}

// skip records a check that does not run; a check that does not apply
// says so rather than that it did not run.
func (r *run) skip(id, reason string) {
	c, _ := r.checks.Find(id)
	res := CheckResult{Check: c, Status: NotRun, Reason: reason}
	if na, ok := r.plan.NotApplicable[id]; ok {
		res.Status, res.Reason = NotApplicable, na
	}
	r.record(res)
}

// finish turns a world into its check's result, once.
func (r *run) finish(w *world) {
	w.done.Do(func() {
		res := CheckResult{Check: w.check, Facts: w.facts, Exchanges: w.exchanges, DurationMs: ms(w.stopwatch.Elapsed())}
		switch {
		case w.notApplicable != "":
			res.Status, res.Reason = NotApplicable, w.notApplicable
		case w.notRun != "":
			res.Status, res.Reason = NotRun, w.notRun
		case w.failure != nil:
			res.Status, res.Reason = Failed, w.failure.Error()
		case w.allowed != "":
			res.Status, res.Reason = Allowed, w.allowed
		default:
			res.Status, res.Reason = Passed, w.summary
		}
		if res.Exchanges == nil {
			res.Exchanges = []Exchange{}
		}
		r.record(res)
	})
}

func (r *run) record(res CheckResult) {
	if res.Exchanges == nil {
		res.Exchanges = []Exchange{}
	}
	r.mu.Lock()
	r.results[res.ID] = res
	r.mu.Unlock()
	r.opts.Progress.CheckDone(res)
}

// PhaseOf returns the index of the phase a check runs in, or -1.
func PhaseOf(id string) int {
	for i, p := range phases {
		if slices.Contains(p, id) {
			return i
		}
	}
	return -1
}

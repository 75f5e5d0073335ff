package steps

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/cucumber/godog"
	"github.com/cucumber/godog/formatters"
	messages "github.com/cucumber/messages/go/v34"
)

// tOf is godog.T for the steps: testify's failure messages without their
// "Error Trace" (the build machine's file paths and godog's call stack) and
// without the "Test" line that repeats the scenario's name. A person reads
// what failed; the stack belongs to a debugger.
func tOf(ctx context.Context) godog.TestingT { return peopleT{godog.T(ctx)} }

type peopleT struct{ godog.TestingT }

func (p peopleT) Errorf(format string, args ...any) {
	p.TestingT.Errorf("%s", withoutTrace(fmt.Sprintf(format, args...)))
}

// withoutTrace drops the "Error Trace" and "Test" fields of a testify
// message and the indentation of its field labels, keeping Error and
// Messages (and any other field) in full.
func withoutTrace(msg string) string {
	var out []string
	drop := false
	for _, line := range strings.Split(msg, "\n") {
		label, rest, isField := testifyField(line)
		switch {
		case isField && (label == "Error Trace" || label == "Test"):
			drop = true
		case isField && label == "Error":
			drop = false
			out = append(out, rest)
		case isField:
			drop = false
			out = append(out, label+": "+rest)
		case drop:
		default:
			out = append(out, strings.TrimPrefix(line, "\t"))
		}
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// testifyField reads a line of testify's labelled output: a tab, a label,
// a colon, padding, a tab and the value. Continuation lines start with a
// tab and spaces instead.
func testifyField(line string) (label, rest string, ok bool) {
	if !strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "\t ") {
		return "", "", false
	}
	label, rest, ok = strings.Cut(line[1:], ":")
	if !ok || label == "" || strings.ContainsAny(label, "\t{}\"") {
		return "", "", false
	}
	return label, strings.TrimSpace(rest), true
}

// failure is what a person needs to see of a failed scenario: the step
// that failed, why, and the last call the scenario made.
type failure struct {
	request, answer string
}

// scenarioRecord is what the report keeps per scenario (by pickle id).
type scenarioRecord struct {
	skipReason string
	failure    *failure
}

func (r *Report) record(id string, f func(*scenarioRecord)) {
	if id == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.scenarios == nil {
		r.scenarios = map[string]*scenarioRecord{}
	}
	rec := r.scenarios[id]
	if rec == nil {
		rec = &scenarioRecord{}
		r.scenarios[id] = rec
	}
	f(rec)
}

func (r *Report) scenario(id string) scenarioRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rec := r.scenarios[id]; rec != nil {
		return *rec
	}
	return scenarioRecord{}
}

// PeopleFormats gives a run the formatter functions that print its report
// for people: inner (godog's pretty or progress) prints everything as it
// does, except its summary; summary, which must come *before* inner in
// godog's list of formats, prints instead each failed scenario with its
// step, error, request and answer, and a headline that counts scenarios
// passed, skipped (grouped by reason) and failed apart. godog itself counts a
// scenario skipped on a target as passed ("242 scenarios (242 passed)" when
// 10 ran).
//
// They are two formatters, not one wrapping the other, because godog hands
// its result storage only to formatters of its own types.
func (r *Report) PeopleFormats(base formatters.FormatterFunc) (summary, inner formatters.FormatterFunc) {
	g := &gate{}
	summary = func(_ string, out io.Writer) formatters.Formatter {
		return &peopleFormatter{out: out, report: r, gate: g,
			docs: map[string]*messages.GherkinDocument{}, steps: map[string][]godog.StepResultStatus{}}
	}
	inner = func(suite string, out io.Writer) formatters.Formatter {
		return base(suite, &gatedWriter{w: out, g: g})
	}
	return summary, inner
}

// gate silences the inner formatter once the summary has begun.
type gate struct {
	mu    sync.Mutex
	muted bool
}

type gatedWriter struct {
	w io.Writer
	g *gate
}

func (gw *gatedWriter) Write(p []byte) (int, error) {
	gw.g.mu.Lock()
	muted := gw.g.muted
	gw.g.mu.Unlock()
	if muted {
		return len(p), nil
	}
	return gw.w.Write(p)
}

// peopleFormatter watches the run and prints the summary for people.
type peopleFormatter struct {
	out    io.Writer
	report *Report
	gate   *gate

	mu      sync.Mutex
	docs    map[string]*messages.GherkinDocument // by URI
	pickles []*messages.Pickle
	steps   map[string][]godog.StepResultStatus // by pickle id
	failed  map[string]failedStep               // by pickle id: the first failed step
}

type failedStep struct {
	step *messages.PickleStep
	err  error
}

// TestRunStarted is part of godog's formatter interface; nothing to print.
func (f *peopleFormatter) TestRunStarted() {}

// Defined is part of godog's formatter interface; nothing to print.
func (f *peopleFormatter) Defined(*messages.Pickle, *messages.PickleStep, *formatters.StepDefinition) {
}

// Feature keeps the feature's document, to find lines in it.
func (f *peopleFormatter) Feature(doc *messages.GherkinDocument, uri string, _ []byte) {
	f.mu.Lock()
	f.docs[uri] = doc
	f.mu.Unlock()
}

// Pickle notes a scenario, in the order of the run.
func (f *peopleFormatter) Pickle(p *messages.Pickle) {
	f.mu.Lock()
	f.pickles = append(f.pickles, p)
	f.mu.Unlock()
}

func (f *peopleFormatter) result(p *messages.Pickle, st *messages.PickleStep, s godog.StepResultStatus, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steps[p.Id] = append(f.steps[p.Id], s)
	if err != nil || s == godog.StepUndefined || s == godog.StepPending {
		if f.failed == nil {
			f.failed = map[string]failedStep{}
		}
		if _, seen := f.failed[p.Id]; !seen {
			f.failed[p.Id] = failedStep{step: st, err: err}
		}
	}
}

// Failed records a step's result.
func (f *peopleFormatter) Failed(p *messages.Pickle, st *messages.PickleStep, _ *formatters.StepDefinition, err error) {
	f.result(p, st, godog.StepFailed, err)
}

// Passed records a step's result.
func (f *peopleFormatter) Passed(p *messages.Pickle, st *messages.PickleStep, _ *formatters.StepDefinition) {
	f.result(p, st, godog.StepPassed, nil)
}

// Skipped records a step's result.
func (f *peopleFormatter) Skipped(p *messages.Pickle, st *messages.PickleStep, _ *formatters.StepDefinition) {
	f.result(p, st, godog.StepSkipped, nil)
}

// Undefined records a step's result.
func (f *peopleFormatter) Undefined(p *messages.Pickle, st *messages.PickleStep, _ *formatters.StepDefinition) {
	f.result(p, st, godog.StepUndefined, nil)
}

// Pending records a step's result.
func (f *peopleFormatter) Pending(p *messages.Pickle, st *messages.PickleStep, _ *formatters.StepDefinition) {
	f.result(p, st, godog.StepPending, nil)
}

// Ambiguous records a step's result.
func (f *peopleFormatter) Ambiguous(p *messages.Pickle, st *messages.PickleStep, _ *formatters.StepDefinition, err error) {
	f.result(p, st, godog.StepAmbiguous, err)
}

// Outcome is what became of a scenario, as a person counts it.
type Outcome string

// Outcomes.
const (
	OutcomePassed  Outcome = "passed"
	OutcomeSkipped Outcome = "skipped"
	OutcomeFailed  Outcome = "failed"
)

// outcome judges a scenario by its steps' results: any step failed,
// undefined, pending or ambiguous (the suite runs strict) fails it; else a
// skipped step means it did not run in full; else it passed.
func outcome(results []godog.StepResultStatus) Outcome {
	out := OutcomePassed
	if len(results) == 0 {
		return OutcomeSkipped
	}
	for _, s := range results {
		switch s {
		case godog.StepFailed, godog.StepUndefined, godog.StepPending, godog.StepAmbiguous:
			return OutcomeFailed
		case godog.StepSkipped:
			out = OutcomeSkipped
		}
	}
	return out
}

// Summary silences the inner formatter's own summary, then prints the
// failures and the headline.
func (f *peopleFormatter) Summary() {
	f.gate.mu.Lock()
	f.gate.muted = true
	f.gate.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	counts := map[Outcome]int{}
	reasons := map[string]int{}
	var failures []string
	for _, p := range f.pickles {
		o := outcome(f.steps[p.Id])
		counts[o]++
		rec := f.report.scenario(p.Id)
		switch o {
		case OutcomeSkipped:
			reason := rec.skipReason
			if reason == "" {
				reason = "no reason given"
			}
			group, _, _ := strings.Cut(reason, ": ")
			reasons[group]++
		case OutcomeFailed:
			failures = append(failures, f.describe(p, rec))
		}
	}
	if len(failures) > 0 {
		fmt.Fprintf(f.out, "\n--- Failed scenarios:\n\n%s", strings.Join(failures, "\n"))
	}
	fmt.Fprintf(f.out, "\n%s\n", Headline(len(f.pickles), counts, reasons))
}

// Headline is the run's one-line count: "242 scenarios: 10 passed,
// 232 skipped (needs the sandbox control API: 200; …), 0 failed".
func Headline(total int, counts map[Outcome]int, skipReasons map[string]int) string {
	skipped := fmt.Sprintf("%d skipped", counts[OutcomeSkipped])
	if len(skipReasons) > 0 {
		groups := make([]string, 0, len(skipReasons))
		for g := range skipReasons {
			groups = append(groups, g)
		}
		sort.Slice(groups, func(i, j int) bool {
			if skipReasons[groups[i]] != skipReasons[groups[j]] {
				return skipReasons[groups[i]] > skipReasons[groups[j]]
			}
			return groups[i] < groups[j]
		})
		parts := make([]string, len(groups))
		for i, g := range groups {
			parts[i] = fmt.Sprintf("%s: %d", g, skipReasons[g])
		}
		skipped += " (" + strings.Join(parts, "; ") + ")"
	}
	noun := "scenarios"
	if total == 1 {
		noun = "scenario"
	}
	return fmt.Sprintf("%d %s: %d passed, %s, %d failed", total, noun, counts[OutcomePassed], skipped, counts[OutcomeFailed])
}

// describe renders one failed scenario for people: where it is, the step,
// the error and the last call the scenario made before it failed.
func (f *peopleFormatter) describe(p *messages.Pickle, rec scenarioRecord) string {
	var b strings.Builder
	doc := f.docs[p.Uri]
	fmt.Fprintf(&b, "  Scenario: %s (%s)\n", p.Name, location(p.Uri, scenarioLine(doc, p)))
	fs, ok := f.failed[p.Id]
	if ok && fs.step != nil {
		fmt.Fprintf(&b, "    Step:    %s (%s)\n", fs.step.Text, location(p.Uri, stepLine(doc, fs.step)))
	}
	why := "the step is undefined or pending"
	if ok && fs.err != nil {
		why = withoutTrace(fs.err.Error())
	}
	fmt.Fprintf(&b, "    Error:   %s\n", indent(why, "             "))
	if rec.failure != nil {
		fmt.Fprintf(&b, "    Request: %s\n", indent(rec.failure.request, "             "))
		fmt.Fprintf(&b, "    Answer:  %s\n", indent(rec.failure.answer, "             "))
	}
	return b.String()
}

func indent(s, pad string) string { return strings.ReplaceAll(s, "\n", "\n"+pad) }

func location(uri string, line int64) string {
	if line == 0 {
		return uri
	}
	return fmt.Sprintf("%s:%d", uri, line)
}

// scenarioLine finds the line of the scenario (or example row) a pickle came from.
func scenarioLine(doc *messages.GherkinDocument, p *messages.Pickle) int64 {
	if doc == nil || doc.Feature == nil || len(p.AstNodeIds) == 0 {
		return 0
	}
	want := p.AstNodeIds[len(p.AstNodeIds)-1] // an example row, or the scenario
	var line int64
	walkScenarios(doc.Feature.Children, func(sc *messages.Scenario) {
		if sc.Id == p.AstNodeIds[0] && line == 0 {
			line = sc.Location.Line
		}
		for _, ex := range sc.Examples {
			for _, row := range ex.TableBody {
				if row.Id == want {
					line = row.Location.Line
				}
			}
		}
	})
	return line
}

// stepLine finds the line of a pickle's step (a scenario's or a
// background's) in its feature file.
func stepLine(doc *messages.GherkinDocument, st *messages.PickleStep) int64 {
	if doc == nil || doc.Feature == nil || len(st.AstNodeIds) == 0 {
		return 0
	}
	var groups [][]*messages.Step
	for _, c := range doc.Feature.Children {
		if c.Background != nil {
			groups = append(groups, c.Background.Steps)
		}
		if c.Rule != nil {
			for _, rc := range c.Rule.Children {
				if rc.Background != nil {
					groups = append(groups, rc.Background.Steps)
				}
			}
		}
	}
	walkScenarios(doc.Feature.Children, func(sc *messages.Scenario) { groups = append(groups, sc.Steps) })
	for _, steps := range groups {
		for _, s := range steps {
			if s.Id == st.AstNodeIds[0] {
				return s.Location.Line
			}
		}
	}
	return 0
}

func walkScenarios(children []*messages.FeatureChild, f func(*messages.Scenario)) {
	for _, c := range children {
		switch {
		case c.Scenario != nil:
			f(c.Scenario)
		case c.Rule != nil:
			for _, rc := range c.Rule.Children {
				if rc.Scenario != nil {
					f(rc.Scenario)
				}
			}
		}
	}
}

package certify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/innosandbox/innosandbox/internal/clock"
)

// The steps return plain errors rather than failing through godog.T(ctx)
// and testify: a step's error is the one-line reason a partner reads in the
// report, and testify's messages carry traces and diffs meant for Go
// developers.

// world is one scenario's state: one check being run. Nothing in it is
// shared with another scenario; what the whole run shares is in run.
type world struct {
	run       *run
	check     Check
	stopwatch clock.Stopwatch

	exchanges []Exchange
	facts     []string
	// summary says what a passed check measured.
	summary string
	// Set by a step when the check does not apply, is allowed or cannot run.
	notApplicable string
	allowed       string
	notRun        string
	failure       error

	tls     *tlsFacts
	answers []Exchange // CERT-HTTP: every answer of the run
	done    sync.Once
}

// initScenario is the godog ScenarioInitializer: a world per scenario.
func (r *run) initScenario(sc *godog.ScenarioContext) {
	w := &world{run: r}
	sc.Before(func(ctx context.Context, s *godog.Scenario) (context.Context, error) {
		w.stopwatch = clock.Start()
		for _, t := range s.Tags {
			if c, ok := r.checks.Find(strings.TrimPrefix(t.Name, "@")); ok {
				w.check = c
			}
		}
		if w.check.ID == "" {
			return ctx, fmt.Errorf("scenario %q has no check id", s.Name)
		}
		r.register(w)
		r.opts.Progress.CheckStarted(w.check)
		return ctx, nil
	})
	sc.StepContext().After(func(ctx context.Context, st *godog.Step, status godog.StepResultStatus, err error) (context.Context, error) {
		switch status {
		case godog.StepFailed:
			if w.failure == nil {
				w.failure = err
			}
		case godog.StepUndefined, godog.StepPending, godog.StepAmbiguous:
			if w.failure == nil {
				w.failure = fmt.Errorf("BUG: the step %q has no single implementation in this tool", st.Text)
			}
		}
		return ctx, nil
	})
	sc.After(func(ctx context.Context, _ *godog.Scenario, _ error) (context.Context, error) {
		r.finish(w)
		return ctx, nil
	})

	// Reachability and TLS.
	sc.Step(`^InnoPaaS pushes a valid event with your credentials$`, w.pushValid)
	sc.Step(`^your endpoint answers it with an HTTP status$`, w.answersAtAll)
	sc.Step(`^InnoPaaS connects to your endpoint$`, w.connect)
	sc.Step(`^the connection is encrypted with TLS 1\.2 or later$`, w.encrypted)
	sc.Step(`^your certificate is trusted, valid for your host name and not expired$`, w.certificateValid)
	// Events.
	sc.Step(`^InnoPaaS pushes every subscribed event with your credentials$`, w.pushEveryEvent)
	sc.Step(`^each is answered with a 2xx$`, w.all2xx)
	// Credentials.
	sc.Step(`^you configured credentials for your webhook$`, w.applies)
	sc.Step(`^you configured an Authorization for your webhook$`, w.applies)
	sc.Step(`^you configured a UserName for your webhook$`, w.applies)
	sc.Step(`^InnoPaaS pushes a valid event without UserName and Authorization$`, w.pushWithoutCredentials)
	sc.Step(`^InnoPaaS pushes a valid event with a wrong Authorization$`, w.pushWrongAuthorization)
	sc.Step(`^InnoPaaS pushes a valid event with a wrong UserName$`, w.pushWrongUserName)
	sc.Step(`^it is refused with 401 or 403$`, w.refused)
	// Delivery.
	sc.Step(`^InnoPaaS pushes the same event twice, with the same id$`, w.pushTwice)
	sc.Step(`^both pushes are answered with a 2xx$`, w.all2xx)
	sc.Step(`^you subscribed to your product's status reports$`, w.applies)
	sc.Step(`^InnoPaaS pushes a message's later status report before its earlier one$`, w.pushOutOfOrder)
	sc.Step(`^InnoPaaS pushes a valid event that also carries fields you do not know yet$`, w.pushUnknownFields)
	sc.Step(`^it is answered with a 2xx$`, w.all2xx)
	sc.Step(`^you subscribed to an event that carries a message's text$`, w.applies)
	sc.Step(`^InnoPaaS pushes a message whose text is as long as its channel allows$`, w.pushLongText)
	// Load.
	sc.Step(`^InnoPaaS pushes valid events one after another$`, w.pushSequence)
	sc.Step(`^95% of them are answered within the time limit$`, w.withinLimit)
	sc.Step(`^InnoPaaS pushes a burst of valid events at the same time$`, w.pushBurst)
	sc.Step(`^none of them is answered with a 5xx or left unanswered$`, w.noServerError)
	// Answers.
	sc.Step(`^InnoPaaS looks at every answer your endpoint gave$`, w.lookAtAnswers)
	sc.Step(`^none of them is a redirect$`, w.noRedirect)
	sc.Step(`^none of them contains your Authorization$`, w.noEcho)
	sc.Step(`^none of them has a body larger than 4 KiB$`, w.smallBodies)
}

// ------------------------------------------------------------- helpers

func (w *world) push(ctx context.Context, label string, p payload, h http.Header) Exchange {
	e := w.run.sender.push(ctx, w.check.ID, request{label: label, body: p, header: h, laned: true})
	w.exchanges = append(w.exchanges, e)
	return e
}

func (w *world) last() (Exchange, error) {
	if len(w.exchanges) == 0 {
		return Exchange{}, errors.New("BUG: no push was made")
	}
	return w.exchanges[len(w.exchanges)-1], nil
}

// applies skips the rest of the scenario when the plan says the check does
// not apply; the reason goes into the report.
func (w *world) applies() error {
	if reason, ok := w.run.plan.NotApplicable[w.check.ID]; ok {
		w.notApplicable = reason
		return godog.ErrSkip
	}
	return nil
}

// ------------------------------------------------ reachability and TLS

func (w *world) pushValid(ctx context.Context) error {
	p, err := w.run.payloads.valid(w.run.plan.Primary)
	if err != nil {
		return err
	}
	w.push(ctx, p.Event, p, w.run.sender.credentials())
	return nil
}

func (w *world) answersAtAll() error {
	e, err := w.last()
	if err != nil {
		return err
	}
	if !e.answered() {
		reason := e.Outcome()
		if strings.HasPrefix(e.Error, "TLS: ") && !w.run.opts.Insecure {
			reason += "; InnoPaaS cannot deliver to it either. Fix the certificate, or certify the rest with --ca-file (a private CA) or --insecure"
		}
		return errors.New(reason)
	}
	w.summary = e.Outcome()
	return nil
}

func (w *world) connect(ctx context.Context) error {
	w.tls = probeTLS(ctx, w.run.opts, w.run.opts.Clock.Now())
	w.facts = append(w.facts, w.tls.facts(w.run.opts.Clock.Now())...)
	return nil
}

// tlsProblem fails the check with problem, or allows it under --insecure.
func (w *world) tlsProblem(problem string) error {
	if w.run.opts.Insecure {
		w.allowed = problem + " (allowed with --insecure)"
		return godog.ErrSkip
	}
	return errors.New(problem)
}

func (w *world) encrypted() error {
	switch {
	case w.tls.plain:
		return w.tlsProblem("plain HTTP: every push, your credentials included, travels unencrypted; give an https URL")
	case w.tls.dialError != "":
		w.notRun = "no TLS handshake could be made: " + w.tls.dialError
		return godog.ErrSkip
	case w.tls.version < tls.VersionTLS12:
		return w.tlsProblem(tls.VersionName(w.tls.version) + " is too old: use TLS 1.2 or later")
	}
	return nil
}

func (w *world) certificateValid() error {
	if w.tls.verifyError != "" {
		return w.tlsProblem(w.tls.verifyError)
	}
	w.summary = fmt.Sprintf("%s, certificate valid until %s", tls.VersionName(w.tls.version), w.tls.notAfter.UTC().Format(time.DateOnly))
	return nil
}

// --------------------------------------------------------------- events

func (w *world) pushEveryEvent(ctx context.Context) error {
	events := w.run.plan.Events
	out := make([]Exchange, len(events))
	errs := make([]error, len(events))
	var wg sync.WaitGroup
	for i, ev := range events {
		wg.Go(func() {
			p, err := w.run.payloads.valid(ev)
			if err != nil {
				errs[i] = err
				return
			}
			out[i] = w.run.sender.push(ctx, w.check.ID, request{label: ev, body: p, header: w.run.sender.credentials(), laned: true})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	w.exchanges = append(w.exchanges, out...)
	return nil
}

// all2xx judges every push the check made: each must be answered with a 2xx.
func (w *world) all2xx() error {
	if len(w.exchanges) == 0 {
		return errors.New("BUG: no push was made")
	}
	var bad []string
	var slowest time.Duration
	for _, e := range w.exchanges {
		slowest = max(slowest, e.latency)
		if !e.is2xx() {
			bad = append(bad, e.Label+": "+e.Outcome()+hint(e))
		}
	}
	if len(bad) > 0 {
		if len(w.exchanges) == 1 {
			return fmt.Errorf("%s; want a 2xx", strings.TrimPrefix(bad[0], w.exchanges[0].Label+": "))
		}
		return fmt.Errorf("%s of %d not answered with a 2xx: %s", plural(len(bad), "push"), len(w.exchanges), strings.Join(bad, "; "))
	}
	if len(w.exchanges) == 1 {
		w.summary = w.exchanges[0].Outcome()
	} else {
		w.summary = fmt.Sprintf("%d pushes, each answered with a 2xx (slowest in %s)", len(w.exchanges), fmtLatency(slowest))
	}
	return nil
}

// hint adds what an answer means to InnoPaaS.
func hint(e Exchange) string {
	switch {
	case e.Status >= 300 && e.Status < 400:
		return " (a redirect, which InnoPaaS does not follow)"
	case e.Status == 401 || e.Status == 403:
		return " (refused: does your endpoint expect the credentials configured for the webhook, exactly?)"
	}
	return ""
}

// ----------------------------------------------------------- credentials

func (w *world) pushWithoutCredentials(ctx context.Context) error {
	p, err := w.run.payloads.withCreds("", "").valid(w.run.plan.Primary)
	if err != nil {
		return err
	}
	w.push(ctx, "without credentials", p, http.Header{})
	return nil
}

func (w *world) pushWrongAuthorization(ctx context.Context) error {
	wrong := wrongValue(w.run.opts.Authorization)
	p, err := w.run.payloads.withCreds(w.run.opts.UserName, wrong).valid(w.run.plan.Primary)
	if err != nil {
		return err
	}
	h := w.run.sender.credentials()
	h["Authorization"] = []string{wrong}
	w.push(ctx, "wrong Authorization", p, h)
	return nil
}

func (w *world) pushWrongUserName(ctx context.Context) error {
	wrong := wrongValue(w.run.opts.UserName)
	p, err := w.run.payloads.withCreds(wrong, w.run.opts.Authorization).valid(w.run.plan.Primary)
	if err != nil {
		return err
	}
	h := w.run.sender.credentials()
	h["UserName"] = []string{wrong}
	w.push(ctx, "wrong UserName", p, h)
	return nil
}

// wrongValue returns a value of the same form as v that differs from it:
// the same scheme ("Bearer ", "Basic "), random characters of the same
// length after it.
func wrongValue(v string) string {
	prefix, rest := "", v
	if scheme, cred, ok := strings.Cut(v, " "); ok {
		prefix, rest = scheme+" ", cred
	}
	n := max(len(rest), 8)
	for {
		w := prefix + randomBase64(n)
		if w != v {
			return w
		}
	}
}

func (w *world) refused() error {
	e, err := w.last()
	if err != nil {
		return err
	}
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		w.summary = e.Outcome()
		return nil
	case e.is2xx():
		return fmt.Errorf("%s: the push was accepted; refuse it with 401 or 403", e.Outcome())
	default:
		return fmt.Errorf("%s; want 401 or 403", e.Outcome())
	}
}

// -------------------------------------------------------------- delivery

func (w *world) pushTwice(ctx context.Context) error {
	p, err := w.run.payloads.valid(w.run.plan.Primary)
	if err != nil {
		return err
	}
	w.push(ctx, "first delivery", p, w.run.sender.credentials())
	w.push(ctx, "second delivery, same id", p, w.run.sender.credentials())
	w.facts = append(w.facts, fmt.Sprintf("both pushes carried the same %s payload, id %s", p.Event, p.ID))
	return nil
}

func (w *world) pushOutOfOrder(ctx context.Context) error {
	ev := statusEvents[w.run.plan.Product]
	later, earlier, err := w.run.payloads.outOfOrder(ev)
	if err != nil {
		return err
	}
	labels := map[string][2]string{
		"whatsapp_message_status_updated": {`"read" first`, `then "delivered"`},
		"otp_status_report":               {`status "2" (succeeded) first`, `then status "0" (in progress)`},
		"sms_status_report":               {"the later report of a send first", "then its earlier report"},
	}[ev]
	w.push(ctx, labels[0], later, w.run.sender.credentials())
	w.push(ctx, labels[1], earlier, w.run.sender.credentials())
	w.facts = append(w.facts, "both reports are about message "+later.Message)
	return nil
}

func (w *world) pushUnknownFields(ctx context.Context) error {
	p, err := w.run.payloads.withUnknownFields(w.run.plan.Primary)
	if err != nil {
		return err
	}
	w.push(ctx, "with unknown fields", p, w.run.sender.credentials())
	w.facts = append(w.facts, "the payload also carries innopaasFutureField (an object) and innopaasFutureNote (a string), at its top and in its body where it has one")
	return nil
}

func (w *world) pushLongText(ctx context.Context) error {
	p, err := w.run.payloads.withLongText(w.run.plan.TextEvent, w.run.plan.TextLimit)
	if err != nil {
		return err
	}
	w.push(ctx, fmt.Sprintf("%s, %d characters of text", p.Event, w.run.plan.TextLimit), p, w.run.sender.credentials())
	w.facts = append(w.facts, fmt.Sprintf("a text of %d characters; the payload is %s", w.run.plan.TextLimit, fmtBytes(len(p.Body))))
	return nil
}

// ------------------------------------------------------------------ load

func (w *world) pushSequence(ctx context.Context) error {
	n := w.run.opts.LatencyPushes
	// p95 by nearest rank is the ceil(0.95 n)-th fastest: once more than
	// n - that many pushes were slow, it cannot be within the limit, and
	// the rest are not sent.
	tolerated := n - int(math.Ceil(0.95*float64(n)))
	slow := 0
	for i := range n {
		p, err := w.run.payloads.valid(w.run.plan.Primary)
		if err != nil {
			return err
		}
		e := w.push(ctx, fmt.Sprintf("push %d of %d", i+1, n), p, w.run.sender.credentials())
		if !e.answered() || e.latency > w.run.opts.Timeout {
			slow++
		}
		if slow > tolerated {
			if i+1 < n {
				w.facts = append(w.facts, fmt.Sprintf("stopped after %d of %d pushes: %d were not answered within the limit, so the 95th percentile cannot be", i+1, n, slow))
			}
			break
		}
	}
	return nil
}

func (w *world) withinLimit() error {
	lat := make([]time.Duration, 0, len(w.exchanges))
	for _, e := range w.exchanges {
		if e.answered() {
			lat = append(lat, e.latency)
		} else {
			lat = append(lat, time.Duration(math.MaxInt64)) // never answered
		}
	}
	slices.Sort(lat)
	p50, p95 := percentile(lat, 0.50), percentile(lat, 0.95)
	limit := w.run.opts.Timeout
	n := w.run.opts.LatencyPushes
	w.facts = append(w.facts, fmt.Sprintf("over %d pushes: median %s, 95th percentile %s, slowest %s; the limit is %s",
		len(lat), showLatency(p50), showLatency(p95), showLatency(lat[len(lat)-1]), fmtLimit(limit)))
	if len(lat) < n || p95 > limit {
		slow := 0
		for _, l := range lat {
			if l > limit {
				slow++
			}
		}
		return fmt.Errorf("%s of %d not answered within %s, so the 95th percentile of %d pushes is over it: answer first, and do the slow work afterwards",
			plural(slow, "push"), len(lat), fmtLimit(limit), n)
	}
	w.summary = fmt.Sprintf("95th percentile %s over %d pushes (limit %s)", fmtLatency(p95), len(lat), fmtLimit(limit))
	return nil
}

// percentile returns the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func showLatency(d time.Duration) string {
	if d == time.Duration(math.MaxInt64) {
		return "no answer"
	}
	return fmtLatency(d)
}

func (w *world) pushBurst(ctx context.Context) error {
	n := w.run.opts.Burst
	ps := make([]payload, n)
	for i := range ps {
		p, err := w.run.payloads.valid(w.run.plan.Primary)
		if err != nil {
			return err
		}
		ps[i] = p
	}
	out := make([]Exchange, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = w.run.sender.push(ctx, w.check.ID, request{label: fmt.Sprintf("burst push %d of %d", i+1, n), body: ps[i], header: w.run.sender.credentials()})
		})
	}
	close(start)
	wg.Wait()
	w.exchanges = append(w.exchanges, out...)
	return nil
}

func (w *world) noServerError() error {
	byStatus := map[string]int{}
	var bad []string
	for _, e := range w.exchanges {
		switch {
		case !e.answered():
			byStatus["no answer"]++
			bad = append(bad, e.Label+": "+e.Outcome())
		case e.Status >= 500:
			byStatus[fmt.Sprint(e.Status)]++
			bad = append(bad, e.Label+": "+e.Outcome())
		default:
			byStatus[fmt.Sprint(e.Status)]++
		}
	}
	keys := make([]string, 0, len(byStatus))
	for k := range byStatus {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, byStatus[k]))
	}
	w.facts = append(w.facts, fmt.Sprintf("%d pushes at once; answers by status: %s", len(w.exchanges), strings.Join(parts, ", ")))
	if len(bad) > 0 {
		return fmt.Errorf("%s of %d sent at once got a 5xx or no answer: %s", plural(len(bad), "push"), len(w.exchanges), firstFew(bad, 3))
	}
	w.summary = fmt.Sprintf("%d pushes at once, none answered with a 5xx or left unanswered", len(w.exchanges))
	for _, e := range w.exchanges {
		if !e.is2xx() {
			w.facts = append(w.facts, "some pushes of the burst were not answered with a 2xx: InnoPaaS pushes them again later; accept bursts if you can")
			break
		}
	}
	return nil
}

func firstFew(xs []string, n int) string {
	if len(xs) <= n {
		return strings.Join(xs, "; ")
	}
	return strings.Join(xs[:n], "; ") + fmt.Sprintf("; and %d more", len(xs)-n)
}

// --------------------------------------------------------------- answers

func (w *world) lookAtAnswers() error {
	for _, e := range w.run.sender.exchanges() {
		if e.answered() {
			w.answers = append(w.answers, e)
		}
	}
	w.facts = append(w.facts, fmt.Sprintf("%d answers looked at", len(w.answers)))
	return nil
}

// offending keeps the answers that break a rule as the check's evidence.
func (w *world) offending(bad func(Exchange) bool) []Exchange {
	var out []Exchange
	for _, e := range w.answers {
		if bad(e) {
			out = append(out, e)
		}
	}
	const shown = 10
	w.exchanges = append(w.exchanges, out[:min(len(out), shown)]...)
	return out
}

func (w *world) noRedirect() error {
	bad := w.offending(func(e Exchange) bool { return e.Status >= 300 && e.Status < 400 })
	if len(bad) > 0 {
		return fmt.Errorf("%s of %d were redirects (the first, to the %s push %q: %s); InnoPaaS never follows a redirect, so such a push is not received: answer at the URL itself",
			plural(len(bad), "answer"), len(w.answers), bad[0].Check, bad[0].Label, bad[0].Outcome())
	}
	w.summary = fmt.Sprintf("none of %d answers was a redirect", len(w.answers))
	return nil
}

func (w *world) noEcho() error {
	bad := w.offending(func(e Exchange) bool { return e.EchoesSecret })
	if len(bad) > 0 {
		return fmt.Errorf("%s of %d contain your Authorization (the first: the answer to the %s push %q); answers get logged and shown in many places: never put credentials in them",
			plural(len(bad), "answer"), len(w.answers), bad[0].Check, bad[0].Label)
	}
	w.summary = fmt.Sprintf("none of %d answers contains your Authorization", len(w.answers))
	return nil
}

func (w *world) smallBodies() error {
	bad := w.offending(func(e Exchange) bool { return e.AnswerBytes > BodyLimit })
	if len(bad) > 0 {
		largest := 0
		for _, e := range bad {
			largest = max(largest, e.AnswerBytes)
		}
		return fmt.Errorf("%s of %d have a body over %s (the largest: %s); InnoPaaS reads only the status: answer with an empty or short body",
			plural(len(bad), "answer"), len(w.answers), fmtBytes(BodyLimit), fmtBytes(largest))
	}
	largest := 0
	for _, e := range w.answers {
		largest = max(largest, e.AnswerBytes)
	}
	w.summary = fmt.Sprintf("the largest of %d answer bodies is %s", len(w.answers), fmtBytes(largest))
	return nil
}

func fmtBytes(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	default:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
}

// plural returns "1 push", "2 pushes", "3 answers".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "sh") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

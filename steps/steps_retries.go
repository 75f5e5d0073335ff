package steps

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cucumber/godog"
)

// delivery is an event in the sandbox's delivery log.
type delivery struct {
	ID            string    `json:"id"`
	Type          string    `json:"type"`
	Status        string    `json:"status"`
	Reason        *string   `json:"reason"`
	Attempts      int       `json:"attempts"`
	DueAt         string    `json:"dueAt"`
	NextAttemptAt *string   `json:"nextAttemptAt"`
	AttemptLog    []attempt `json:"attemptLog"`
	Payload       any       `json:"payload"`
}

// attempt is one try in a delivery's attempt log.
type attempt struct {
	N         int    `json:"n"`
	StartedAt string `json:"startedAt"`
	Request   struct {
		Method  string              `json:"method"`
		Headers map[string][]string `json:"headers"`
	} `json:"request"`
	Response *struct {
		Status int `json:"status"`
	} `json:"response"`
	Error   *string `json:"error"`
	Outcome string  `json:"outcome"`
}

var answersRe = regexp.MustCompile(`^\d{3}(, then \d{3})*$`)

// parseAnswers reads "500, then 200" into receiver answers.
func parseAnswers(s string) ([]Answer, error) {
	if !answersRe.MatchString(s) {
		return nil, fmt.Errorf("answers %q: write them like 500, then 200", s)
	}
	var out []Answer
	for _, part := range strings.Split(s, ", then ") {
		n, _ := strconv.Atoi(part)
		out = append(out, Answer{Status: n})
	}
	return out, nil
}

// eventID is the event the retry steps follow: the last user message or
// triggered event.
func (w *world) eventID() (string, error) {
	if w.inbound == nil {
		return "", errors.New("no user wrote and no event was triggered in this scenario")
	}
	return w.inbound.Delivery.ID, nil
}

// getDelivery reads one event with its attempt log.
func (w *world) getDelivery(ctx context.Context, id string) (delivery, error) {
	var d delivery
	_, err := w.control(ctx, http.MethodGet, "/_sandbox/deliveries/"+url.PathEscape(id), nil, &d, http.StatusOK)
	return d, err
}

// followedDelivery reads the event the retry steps follow.
func (w *world) followedDelivery(ctx context.Context) (delivery, error) {
	id, err := w.eventID()
	if err != nil {
		return delivery{}, err
	}
	return w.getDelivery(ctx, id)
}

// registerRetries binds retries.feature's steps.
func (w *world) registerRetries(sc *godog.ScenarioContext) {
	sc.Step(`^my receiver answers (\d{3}(?:, then \d{3})*)$`, w.myReceiverAnswers)
	sc.Step(`^my receiver answers (\d{3}) with Retry-After "(\d+)", then (\d{3})$`, w.myReceiverAnswersWithRetryAfter)
	sc.Step(`^my receiver gets the (?:user's message|triggered event) (\d+) times?$`, w.myReceiverGetsTheEventTimes)
	sc.Step(`^the delivery log shows the (?:user's message|triggered event) as "(pending|delivered|failed|dropped)" after (\d+) attempts?$`, w.theDeliveryLogShowsTheEventAs)
	sc.Step(`^the attempt log reads:$`, w.theAttemptLogReads)
	sc.Step(`^I replay the user's message from the delivery log$`, w.iReplayTheUsersMessage)
	sc.Step(`^no further attempt is planned$`, w.noFurtherAttemptIsPlanned)
	sc.Step(`^the next attempt is planned (\d+) seconds after the first$`, w.theNextAttemptIsPlannedAfterTheFirst)
}

func (w *world) myReceiverAnswers(ctx context.Context, spec string) error {
	answers, err := parseAnswers(spec)
	if err != nil {
		return err
	}
	_, r, err := w.myAppWithReceiver(ctx)
	if err != nil {
		return err
	}
	r.Script(answers...)
	return nil
}

func (w *world) myReceiverAnswersWithRetryAfter(ctx context.Context, first int, after string, then int) error {
	_, r, err := w.myAppWithReceiver(ctx)
	if err != nil {
		return err
	}
	r.Script(Answer{Status: first, RetryAfter: after}, Answer{Status: then})
	return nil
}

func (w *world) myReceiverGetsTheEventTimes(ctx context.Context, n int) error {
	id, err := w.eventID()
	if err != nil {
		return err
	}
	r, err := w.myReceiver()
	if err != nil {
		return err
	}
	of := func(ps []Push) []Push {
		var out []Push
		for _, p := range ps {
			if p.ID == id {
				out = append(out, p)
			}
		}
		return out
	}
	got, err := r.WaitFor(ctx, w.s.cfg.Wait, func(ps []Push) bool { return len(of(ps)) >= n })
	if err != nil {
		return fmt.Errorf("waiting for %d pushes of event %s: %w; received: %s", n, id, err, describePushes(got))
	}
	mine := of(got)
	errs := []error{expect(len(mine) == n, "event %s should be pushed %d times, but it was pushed %d: %s", id, n, len(mine), describePushes(mine))}
	for _, p := range mine {
		errs = append(errs, w.checkPush(r, p),
			expect(string(mine[0].Body) == string(p.Body), "every attempt pushes the same payload, event id included, but push %d carries %s after %s", p.N, p.Body, mine[0].Body))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// The sandbox records an attempt just after the receiver answers it;
	// wait for that too, so that a following step (a clock move) acts
	// on a settled delivery rather than on an attempt in flight.
	return w.waitUntil(ctx, fmt.Sprintf("the delivery log to record %d attempts of event %s", n, id), func() (bool, error) {
		d, err := w.getDelivery(ctx, id)
		if err != nil {
			return false, err
		}
		if len(d.AttemptLog) >= n {
			return true, nil
		}
		return false, fmt.Errorf("%w: %d attempts recorded", errNotYet, len(d.AttemptLog))
	})
}

func (w *world) theDeliveryLogShowsTheEventAs(ctx context.Context, status string, n int) error {
	id, err := w.eventID()
	if err != nil {
		return err
	}
	var d delivery
	err = w.waitUntil(ctx, fmt.Sprintf("event %s to be %s after %d attempts", id, status, n), func() (bool, error) {
		var err error
		if d, err = w.getDelivery(ctx, id); err != nil {
			return false, err
		}
		if d.Status == status && len(d.AttemptLog) == n {
			return true, nil
		}
		return false, fmt.Errorf("%w: it is %s after %d attempts", errNotYet, d.Status, len(d.AttemptLog))
	})
	if err != nil {
		return err
	}
	return expectEqual("the attempt count", n, d.Attempts)
}

func (w *world) theAttemptLogReads(ctx context.Context, table *godog.Table) error {
	d, err := w.followedDelivery(ctx)
	if err != nil {
		return err
	}
	if len(table.Rows) == 0 {
		return errors.New("the table needs a header row")
	}
	head := table.Rows[0].Cells
	var want, got [][]string
	for _, row := range table.Rows[1:] {
		var r []string
		for _, c := range row.Cells {
			r = append(r, c.Value)
		}
		want = append(want, r)
	}
	for _, a := range d.AttemptLog {
		var r []string
		for _, c := range head {
			switch c.Value {
			case "attempt":
				r = append(r, strconv.Itoa(a.N))
			case "answer":
				if a.Response == nil {
					r = append(r, "none")
				} else {
					r = append(r, strconv.Itoa(a.Response.Status))
				}
			case "outcome":
				r = append(r, a.Outcome)
			case "method":
				r = append(r, a.Request.Method)
			default:
				return fmt.Errorf("unknown column %q: use attempt, answer, outcome, method", c.Value)
			}
		}
		got = append(got, r)
	}
	return expectEqual("the attempt log", want, got)
}

func (w *world) iReplayTheUsersMessage(ctx context.Context) error {
	id, err := w.eventID()
	if err != nil {
		return err
	}
	var d delivery
	ex, err := w.control(ctx, http.MethodPost, "/_sandbox/deliveries/"+url.PathEscape(id)+"/replay", nil, &d, http.StatusAccepted)
	if err != nil {
		return err
	}
	return about(expectEqual("a replayed delivery's status (it waits for its next attempt)", "pending", d.Status), ex)
}

func (w *world) noFurtherAttemptIsPlanned(ctx context.Context) error {
	d, err := w.followedDelivery(ctx)
	if err != nil {
		return err
	}
	return expect(d.NextAttemptAt == nil, "no further attempt of a %s delivery should be planned, but the next is at %s", d.Status, show(d.NextAttemptAt))
}

func (w *world) theNextAttemptIsPlannedAfterTheFirst(ctx context.Context, secs int) error {
	d, err := w.followedDelivery(ctx)
	if err != nil {
		return err
	}
	if d.NextAttemptAt == nil {
		return fmt.Errorf("the delivery should be waiting for its next attempt: %+v", d)
	}
	due, err := time.Parse(time.RFC3339, d.DueAt)
	if err != nil {
		return fmt.Errorf("the delivery's dueAt: %w", err)
	}
	next, err := time.Parse(time.RFC3339, *d.NextAttemptAt)
	if err != nil {
		return fmt.Errorf("the delivery's nextAttemptAt: %w", err)
	}
	// dueAt is when the event was raised, a moment before the first
	// attempt; allow for that moment.
	gap := next.Sub(due)
	want := time.Duration(secs) * time.Second
	return expect(math.Abs(want.Seconds()-gap.Seconds()) <= 5, "the next attempt is due %s after the event, want about %s (within 5s)", gap, want)
}

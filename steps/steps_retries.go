package steps

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
func (w *world) eventID(ctx context.Context) string {
	t := tOf(ctx)
	require.NotNil(t, w.inbound, "no user wrote and no event was triggered in this scenario")
	return w.inbound.Delivery.ID
}

// getDelivery reads one event with its attempt log.
func (w *world) getDelivery(ctx context.Context, id string) (delivery, error) {
	var d delivery
	_, err := w.control(ctx, http.MethodGet, "/_sandbox/deliveries/"+url.PathEscape(id), nil, &d, http.StatusOK)
	return d, err
}

func (w *world) registerRetries(sc *godog.ScenarioContext) {
	sc.Step(`^my receiver answers (\d{3}(?:, then \d{3})*)$`, func(ctx context.Context, spec string) error {
		answers, err := parseAnswers(spec)
		if err != nil {
			return err
		}
		a, err := w.myApp(ctx)
		if err != nil {
			return err
		}
		r, err := w.receiverOf(a)
		if err != nil {
			return err
		}
		r.Script(answers...)
		return nil
	})
	sc.Step(`^my receiver answers (\d{3}) with Retry-After "(\d+)", then (\d{3})$`, func(ctx context.Context, first int, after string, then int) error {
		a, err := w.myApp(ctx)
		if err != nil {
			return err
		}
		r, err := w.receiverOf(a)
		if err != nil {
			return err
		}
		r.Script(Answer{Status: first, RetryAfter: after}, Answer{Status: then})
		return nil
	})
	sc.Step(`^my receiver gets the (?:user's message|triggered event) (\d+) times?$`, func(ctx context.Context, n int) error {
		t := tOf(ctx)
		id := w.eventID(ctx)
		a := w.apps["my app"]
		require.NotNil(t, a, "my app has no receiver")
		require.NotNil(t, a.receiver, "my app has no receiver")
		of := func(ps []Push) []Push {
			var out []Push
			for _, p := range ps {
				if p.ID == id {
					out = append(out, p)
				}
			}
			return out
		}
		got, err := a.receiver.WaitFor(ctx, w.s.cfg.Wait, func(ps []Push) bool { return len(of(ps)) >= n })
		require.NoError(t, err, "waiting for %d pushes of event %s; received: %s", n, id, describePushes(got))
		mine := of(got)
		assert.Len(t, mine, n, "pushes of event %s: %s", id, describePushes(mine))
		for _, p := range mine {
			w.checkPush(ctx, a.receiver, p)
			assert.Equal(t, string(mine[0].Body), string(p.Body), "every attempt pushes the same payload, event id included")
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
	})
	sc.Step(`^the delivery log shows the (?:user's message|triggered event) as "(pending|delivered|failed|dropped)" after (\d+) attempts?$`, func(ctx context.Context, status string, n int) error {
		t := tOf(ctx)
		id := w.eventID(ctx)
		var d delivery
		err := w.waitUntil(ctx, fmt.Sprintf("event %s to be %s after %d attempts", id, status, n), func() (bool, error) {
			var err error
			if d, err = w.getDelivery(ctx, id); err != nil {
				return false, err
			}
			if d.Status == status && len(d.AttemptLog) == n {
				return true, nil
			}
			return false, fmt.Errorf("%w: it is %s after %d attempts", errNotYet, d.Status, len(d.AttemptLog))
		})
		require.NoError(t, err)
		assert.Equal(t, n, d.Attempts, "the attempt count")
		return nil
	})
	sc.Step(`^the attempt log reads:$`, func(ctx context.Context, table *godog.Table) error {
		t := tOf(ctx)
		d, err := w.getDelivery(ctx, w.eventID(ctx))
		if err != nil {
			return err
		}
		require.NotEmpty(t, table.Rows, "the table needs a header row")
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
		assert.Equal(t, want, got, "the attempt log")
		return nil
	})
	sc.Step(`^I replay the user's message from the delivery log$`, func(ctx context.Context) error {
		var d delivery
		_, err := w.control(ctx, http.MethodPost, "/_sandbox/deliveries/"+url.PathEscape(w.eventID(ctx))+"/replay", nil, &d, http.StatusAccepted)
		if err != nil {
			return err
		}
		assert.Equal(tOf(ctx), "pending", d.Status, "a replayed delivery waits for its next attempt")
		return nil
	})
	sc.Step(`^no further attempt is planned$`, func(ctx context.Context) error {
		d, err := w.getDelivery(ctx, w.eventID(ctx))
		if err != nil {
			return err
		}
		assert.Nil(tOf(ctx), d.NextAttemptAt, "next attempt of a %s delivery", d.Status)
		return nil
	})
	sc.Step(`^the next attempt is planned (\d+) seconds after the first$`, func(ctx context.Context, secs int) error {
		t := tOf(ctx)
		d, err := w.getDelivery(ctx, w.eventID(ctx))
		if err != nil {
			return err
		}
		require.NotNil(t, d.NextAttemptAt, "the delivery should be waiting for its next attempt: %+v", d)
		due, err1 := time.Parse(time.RFC3339, d.DueAt)
		next, err2 := time.Parse(time.RFC3339, *d.NextAttemptAt)
		require.NoError(t, err1)
		require.NoError(t, err2)
		// dueAt is when the event was raised, a moment before the first
		// attempt; allow for that moment.
		gap := next.Sub(due)
		want := time.Duration(secs) * time.Second
		assert.InDelta(t, want.Seconds(), gap.Seconds(), 5, "the next attempt is due %s after the event, want about %s", gap, want)
		return nil
	})
}

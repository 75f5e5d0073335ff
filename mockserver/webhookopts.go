package mockserver

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/dispatch"
	"github.com/innosandbox/innosandbox/mockserver/state"
)

// A webhook configuration's own retry policy and delivery chaos, as the
// control API reads and shows them: durations as Go duration strings
// ("90s", "2m"), probabilities from 0 to 1.

// retryIn is a webhook's retry policy as asked for; members left out take
// the sandbox's schedule's values.
type retryIn struct {
	MaxAttempts *int     `json:"maxAttempts"`
	Initial     *string  `json:"initial"`
	Multiplier  *float64 `json:"multiplier"`
	MaxInterval *string  `json:"maxInterval"`
}

// chaosIn is a webhook's delivery chaos as asked for; a missing seed is
// drawn (and shown), so that the run can be repeated.
type chaosIn struct {
	Seed      *int64  `json:"seed"`
	Delay     *string `json:"delay"`
	Duplicate float64 `json:"duplicate"`
	Reorder   float64 `json:"reorder"`
	Drop      float64 `json:"drop"`
}

type retryView struct {
	MaxAttempts int     `json:"maxAttempts"`
	Initial     string  `json:"initial"`
	Multiplier  float64 `json:"multiplier"`
	MaxInterval string  `json:"maxInterval"`
}

type chaosView struct {
	Seed      int64   `json:"seed"`
	Delay     string  `json:"delay"`
	Duplicate float64 `json:"duplicate"`
	Reorder   float64 `json:"reorder"`
	Drop      float64 `json:"drop"`
}

// badDuration answers a duration member that does not parse.
func badDuration(field, v string) *reply {
	r := fail(http.StatusBadRequest, fmt.Sprintf("request body: %s: %q is not a duration; write it like 500ms, 30s or 2m", field, v))
	return &r
}

// schedule is the sandbox's own retry schedule (the one a webhook without
// a policy gets).
func (s *Server) schedule() dispatch.Schedule {
	if sc := s.cfg.Dispatch.Schedule; sc.MaxAttempts != 0 {
		return sc
	}
	return dispatch.DefaultSchedule
}

// retryPolicy reads a retry policy; the members left out take the sandbox
// schedule's values, so the stored policy is complete and shown as used.
func (s *Server) retryPolicy(in *retryIn) (*state.RetryPolicy, *reply) {
	if in == nil {
		return nil, nil
	}
	def := s.schedule()
	p := &state.RetryPolicy{MaxAttempts: def.MaxAttempts, Initial: def.Initial, Multiplier: def.Multiplier, MaxInterval: def.MaxInterval}
	if in.MaxAttempts != nil {
		p.MaxAttempts = *in.MaxAttempts
	}
	if in.Multiplier != nil {
		p.Multiplier = *in.Multiplier
	}
	var err error
	if in.Initial != nil {
		if p.Initial, err = time.ParseDuration(*in.Initial); err != nil {
			return nil, badDuration("/retry/initial", *in.Initial)
		}
		if in.MaxInterval == nil && p.MaxInterval < p.Initial {
			// A longer first wait than the default cap: the cap follows it.
			p.MaxInterval = p.Initial
		}
	}
	if in.MaxInterval != nil {
		if p.MaxInterval, err = time.ParseDuration(*in.MaxInterval); err != nil {
			return nil, badDuration("/retry/maxInterval", *in.MaxInterval)
		}
	}
	return p, nil
}

// chaosSettings reads delivery chaos settings.
func chaosSettings(in *chaosIn) (*state.Chaos, *reply) {
	if in == nil {
		return nil, nil
	}
	c := &state.Chaos{Duplicate: in.Duplicate, Reorder: in.Reorder, Drop: in.Drop}
	if in.Seed != nil {
		c.Seed = *in.Seed
	} else {
		// Not a secret: any seed will do, as long as it is shown.
		c.Seed = rand.Int64N(1 << 53) // exact as a JSON number in any client
	}
	if in.Delay != nil {
		d, err := time.ParseDuration(*in.Delay)
		if err != nil {
			return nil, badDuration("/chaos/delay", *in.Delay)
		}
		c.Delay = d
	}
	return c, nil
}

func retryViewOf(p *state.RetryPolicy) *retryView {
	if p == nil {
		return nil
	}
	return &retryView{MaxAttempts: p.MaxAttempts, Initial: p.Initial.String(), Multiplier: p.Multiplier, MaxInterval: p.MaxInterval.String()}
}

func chaosViewOf(c *state.Chaos) *chaosView {
	if c == nil {
		return nil
	}
	return &chaosView{Seed: c.Seed, Delay: c.Delay.String(), Duplicate: c.Duplicate, Reorder: c.Reorder, Drop: c.Drop}
}

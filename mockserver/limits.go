package mockserver

import (
	"fmt"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Limits bound what one caller of a shared sandbox can take, so that none
// can starve the others. Every bound is off when zero (a Config built in
// code, as tests build it, has none); `serve` starts with DefaultLimits.
type Limits struct {
	// Quotas bound what each account may own: apps, webhook
	// configurations, templates, bindings, kept tokens and pending
	// deliveries. A request that would exceed one is refused (HTTP 403,
	// the envelope naming the quota) and nothing is stored.
	Quotas state.Quotas
	// Rate is the public API's request rate per AppKey, in requests per
	// second (a token bucket); Burst is the bucket's size (Rate rounded up
	// when zero). A call over it is refused with HTTP 429 and Retry-After.
	Rate  float64
	Burst int
	// Uploads bounds the uploads (uploadFile) read at once; one more is
	// refused with HTTP 503 and Retry-After.
	Uploads int
}

// DefaultLimits are serve's: far above what a developer or a CI run uses
// (a test suite makes a few apps per scenario and a few hundred calls a
// second), low enough that one runaway caller cannot fill the store or
// hold every worker.
var DefaultLimits = Limits{
	Quotas: state.Quotas{Apps: 1000, Webhooks: 3000, Templates: 10000, Bindings: 10000, Tokens: 100000, PendingDeliveries: 100000},
	Rate:   1000, Burst: 2000,
	Uploads: 32,
}

// Validate refuses negative bounds, naming the setting.
func (l Limits) Validate() error {
	q := l.Quotas
	for _, c := range []struct {
		name string
		v    int
	}{{"apps", q.Apps}, {"webhooks", q.Webhooks}, {"templates", q.Templates}, {"bindings", q.Bindings},
		{"tokens", q.Tokens}, {"pending deliveries", q.PendingDeliveries}, {"burst", l.Burst}, {"uploads", l.Uploads}} {
		if c.v < 0 {
			return fmt.Errorf("config: limit of %s %d is negative (0 turns it off)", c.name, c.v)
		}
	}
	if l.Rate < 0 {
		return fmt.Errorf("config: rate %g is negative (0 turns it off)", l.Rate)
	}
	return nil
}

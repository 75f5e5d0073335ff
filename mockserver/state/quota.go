package state

import (
	"context"
	"errors"
	"fmt"
)

// Resource names what an account's quota counts (Store.CountOwned).
type Resource string

// The resources with a quota.
const (
	ResourceApps      Resource = "apps"
	ResourceWebhooks  Resource = "webhook configurations"
	ResourceTemplates Resource = "templates"
	ResourceBindings  Resource = "bindings"
	// ResourceTokens counts the tokens kept, of every state: superseded and
	// revoked ones stay, so that a caller using one is told why it fails.
	ResourceTokens Resource = "tokens"
	// ResourcePending counts the deliveries waiting in the outbox.
	ResourcePending Resource = "pending deliveries"
)

// Quotas bound what one account may own, so that one caller of a shared
// sandbox cannot fill its store or its outbox for everyone. Zero: no bound.
type Quotas struct {
	Apps              int
	Webhooks          int
	Templates         int
	Bindings          int
	Tokens            int
	PendingDeliveries int
}

// limit is the quota of a resource (0: none).
func (q Quotas) limit(r Resource) int {
	switch r {
	case ResourceApps:
		return q.Apps
	case ResourceWebhooks:
		return q.Webhooks
	case ResourceTemplates:
		return q.Templates
	case ResourceBindings:
		return q.Bindings
	case ResourceTokens:
		return q.Tokens
	case ResourcePending:
		return q.PendingDeliveries
	}
	return 0
}

// ErrQuota marks a request refused because it would take an account over
// one of its quotas; nothing was stored.
var ErrQuota = errors.New("quota exceeded")

// QuotaError says which quota a request would exceed.
type QuotaError struct {
	Account  string
	Resource Resource
	Have     int // what the account owns now
	Adding   int // what the request would add
	Limit    int
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("quota: account %s has %d %s and this would add %d; at most %d are allowed",
		e.Account, e.Have, e.Resource, e.Adding, e.Limit)
}

// Is makes errors.Is(err, ErrQuota) true.
func (e *QuotaError) Is(target error) bool { return target == ErrQuota }

// checkQuota refuses adding n of r to an account when that would exceed its
// quota. It counts before the write, so concurrent requests of one account
// may go over by as many as run at once: a bound against floods, not an
// exact ledger.
func (s *Sandbox) checkQuota(ctx context.Context, account string, r Resource, n int) error {
	limit := s.opts.Quotas.limit(r)
	if limit <= 0 || n <= 0 {
		return nil
	}
	have, err := s.store.CountOwned(ctx, account, r)
	if err != nil {
		return err
	}
	if have+n > limit {
		return &QuotaError{Account: account, Resource: r, Have: have, Adding: n, Limit: limit}
	}
	return nil
}

// checkPending is checkQuota for the pending events among events.
func (s *Sandbox) checkPending(ctx context.Context, account string, events []Event) error {
	n := 0
	for _, e := range events {
		if e.Status == EventPending {
			n++
		}
	}
	return s.checkQuota(ctx, account, ResourcePending, n)
}

// checkAppQuota is checkQuota for a resource owned through an app.
func (s *Sandbox) checkAppQuota(ctx context.Context, appKey string, r Resource) error {
	if s.opts.Quotas.limit(r) <= 0 {
		return nil
	}
	app, err := s.store.GetApp(ctx, appKey)
	if err != nil {
		return err
	}
	return s.checkQuota(ctx, app.Account, r, 1)
}

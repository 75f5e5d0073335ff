package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// route sends e to an app: to its webhook for the product if that webhook
// subscribes to the event type, else nowhere (with the reason).
//
// Routing decides, for every event, which app's webhook it goes to, or that
// it goes nowhere and why (docs/DECISIONS.md rows 11 to 13):
//
//	event                      | goes to                                    | Route
//	---------------------------+--------------------------------------------+----------------
//	status report of a send    | the app whose AppKey sent the message      | sender
//	inbound (MO) message       | the app the business number is bound to,   | binding:number
//	                           | else the app the WABA is bound to,         | binding:waba
//	                           | else the account's default app,            | default-app
//	                           | else nowhere: dropped, the reason says so  |
//	triggered event            | the app named, else the default app        | trigger, default-app
//
// The default app is one per account, not per product (row 12). An app has
// at most one webhook per product (row 13); an event of a type that webhook
// does not tick, or for an app without a webhook for the product, is
// dropped with the reason, never re-routed to the default app. Sending from
// an unbound number binds it to the sending app (SubmitWhatsApp).
func (s *Sandbox) route(ctx context.Context, e *Event, appKey, how string) error {
	w, err := s.webhookFor(ctx, appKey, e.Product)
	if err != nil {
		return err
	}
	applyRoute(e, appKey, how, w)
	return nil
}

// routeUnmatched finds the app for an event that names no app: the app bound
// to the business number, else to the WABA, else the default app.
func (s *Sandbox) routeUnmatched(ctx context.Context, e *Event, acct Account, number, waba string) error {
	if number != "" {
		if b, err := s.store.FindBinding(ctx, acct.Name, BindNumber, number); err == nil {
			return s.route(ctx, e, b.AppKey, "binding:number")
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if waba != "" {
		if b, err := s.store.FindBinding(ctx, acct.Name, BindWABA, waba); err == nil {
			return s.route(ctx, e, b.AppKey, "binding:waba")
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if acct.DefaultApp != "" {
		return s.route(ctx, e, acct.DefaultApp, "default-app")
	}
	e.Status = EventDropped
	e.Reason = fmt.Sprintf("no app is bound to number %s or WABA %s, and account %s has no default app", orNone(number), orNone(waba), acct.Name)
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// applyRoute sets where e goes given the app's webhook w (nil: none).
func applyRoute(e *Event, appKey, how string, w *Webhook) {
	routeFor(appKey, how, e.Product, e.Type, w).apply(e)
}

// routing is where events of one type from one app go; a send computes it
// once for all its reports.
type routing struct {
	appKey, how string
	status      EventStatus
	reason      string
	target      *Target
	chaos       *chaosTag
}

func routeFor(appKey, how, product, typ string, w *Webhook) routing {
	r := routing{appKey: appKey, how: how}
	switch {
	case w == nil:
		r.status, r.reason = EventDropped, fmt.Sprintf("app %s has no %s webhook configured", appKey, product)
	case !slices.Contains(w.Events, typ):
		r.status, r.reason = EventDropped, fmt.Sprintf("app %s's %s webhook does not subscribe to %s", appKey, product, typ)
	default:
		r.status = EventPending
		r.target = &Target{URL: w.URL, Method: w.Method, Username: w.Username, Authorization: w.Authorization, Retry: w.Retry}
		r.chaos = tagFor(w)
	}
	return r
}

func (r routing) apply(e *Event) {
	e.AppKey, e.Route, e.Status, e.Reason = r.appKey, r.how, r.status, r.reason
	if r.target != nil {
		t := *r.target
		e.Target = &t
	}
	e.chaos = r.chaos
}

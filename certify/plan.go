package certify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/innosandbox/innosandbox/spec"
)

// statusEvents are the events whose reports CERT-ORDER-01 pushes out of
// order, per product.
var statusEvents = map[string]string{
	"whatsapp": "whatsapp_message_status_updated",
	"sms":      "sms_status_report",
	"otp":      "otp_status_report",
}

// textEvents are the events that carry a message's text, per product, in
// order of preference, and the longest text CERT-SIZE-01 pushes in them:
// WhatsApp lets a user send 4096 characters (more than the 3000 InnoPaaS
// documents for sending); the SMS API documents 2000. The OTP product
// pushes no message text.
var textEvents = map[string][]string{
	"whatsapp": {"whatsapp_mo_message_received", "chat_mo_message_notify", "chat_mt_message_notify"},
	"sms":      {"sms_mo_message_received"},
}

var textLimits = map[string]int{"whatsapp": 4096, "sms": 2000}

// Plan is what a run will do, decided before anything is sent: the events,
// which checks apply, and how many pushes each check makes.
type Plan struct {
	URL     string
	Method  string
	Product string
	// Events are the subscribed event types, sorted.
	Events []string
	// Primary is the event the checks that need "a valid event" push: the
	// product's status report when subscribed (the push a partner gets
	// most), else the first subscribed event.
	Primary string
	// TextEvent is the event CERT-SIZE-01 pushes ("" when none applies);
	// TextLimit its text's length in characters.
	TextEvent string
	TextLimit int
	// Pushes is the number of pushes of each check that applies.
	Pushes map[string]int
	// NotApplicable gives, for each check that does not apply, the reason
	// and what the partner can do about it.
	NotApplicable map[string]string
	// Total is the most pushes the run makes; Rate the most in any second.
	Total int
	Rate  int
}

func newPlan(o Options, sp *spec.Spec) (*Plan, error) {
	p := &Plan{
		URL: shownURL(o.URL), Method: o.Method, Product: o.Product, Rate: o.Rate,
		Pushes: map[string]int{}, NotApplicable: map[string]string{},
	}
	p.Events = slices.Clone(o.Events)
	if len(p.Events) == 0 {
		p.Events = sp.EventTypes(o.Product)
	}
	slices.Sort(p.Events)
	if len(p.Events) == 0 {
		return nil, fmt.Errorf("the contract describes no %s events", o.Product)
	}
	p.Primary = p.Events[0]
	if s := statusEvents[o.Product]; slices.Contains(p.Events, s) {
		p.Primary = s
	}
	for _, e := range textEvents[o.Product] {
		if slices.Contains(p.Events, e) {
			p.TextEvent, p.TextLimit = e, textLimits[o.Product]
			break
		}
	}

	na := func(id, reason string) { p.NotApplicable[id] = reason }
	if !hasCredentials(o) {
		na(CheckNoAuth, "you configured no credentials for your webhook, so a forged push cannot be told from a real one: configure a UserName and an Authorization, and refuse every push that does not carry them")
	}
	if o.Authorization == "" {
		na(CheckBadKey, "you configured no Authorization for your webhook: configure one, and refuse every push that does not carry it")
		na(CheckNoEcho, "you configured no Authorization for your webhook, so there is no secret to leak")
	} else if len(o.Authorization) < minSecretLen {
		na(CheckNoEcho, fmt.Sprintf("your Authorization is shorter than %d characters: too short to look for in answers, and too short to be a secret", minSecretLen))
	}
	if o.UserName == "" {
		na(CheckBadUser, "you configured no UserName for your webhook: configure one, and refuse every push whose UserName differs")
	}
	if s := statusEvents[o.Product]; !slices.Contains(p.Events, s) {
		na(CheckOrder, fmt.Sprintf("you did not subscribe to %s, the %s status reports", s, o.Product))
	}
	if p.TextEvent == "" {
		if evs := textEvents[o.Product]; len(evs) > 0 {
			na(CheckSize, fmt.Sprintf("you subscribed to no event that carries a message's text (%s)", strings.Join(evs, ", ")))
		} else {
			na(CheckSize, fmt.Sprintf("the %s product pushes no message text: none of its payloads can grow large", o.Product))
		}
	}

	counts := map[string]int{
		CheckReach: 1, CheckEvents: len(p.Events), CheckNoAuth: 1, CheckBadKey: 1, CheckBadUser: 1,
		CheckDup: 2, CheckOrder: 2, CheckCompat: 1, CheckSize: 1,
		CheckTime: o.LatencyPushes, CheckBurst: o.Burst,
	}
	for id, n := range counts {
		if _, skip := p.NotApplicable[id]; !skip {
			p.Pushes[id] = n
			p.Total += n
		}
	}
	if p.Total > MaxPushes {
		return nil, fmt.Errorf("this run would make %d pushes, more than the %d a certification may make: lower --burst or --latency-pushes", p.Total, MaxPushes)
	}
	return p, nil
}

// hasCredentials tells whether the webhook has any credentials configured.
func hasCredentials(o Options) bool { return o.UserName != "" || o.Authorization != "" }

// Bounds is the line printed before a run: what will be sent, how fast, where.
func (p *Plan) Bounds() string {
	return fmt.Sprintf("%d pushes at most, at most %d per second, to %s %s", p.Total, p.Rate, p.Method, p.URL)
}

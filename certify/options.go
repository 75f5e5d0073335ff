package certify

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/spec"
)

// Defaults and bounds of the options.
const (
	DefaultTimeout       = 3 * time.Second
	DefaultLatencyPushes = 20
	DefaultBurst         = 20
	DefaultRate          = 100
	DefaultConcurrency   = 4
	// MaxPushes bounds the pushes of one run, whatever the options: a
	// certification is a handful of pushes, not a load test.
	MaxPushes = 500
	// BodyLimit is the largest answer body CERT-HTTP-03 accepts.
	BodyLimit = 4 << 10
)

// Options say what to certify and how. Zero values take the defaults.
type Options struct {
	// URL is the partner's webhook URL, the only one pushed to.
	URL string
	// Method is POST (default) or PUT, as configured for the webhook.
	Method string
	// UserName and Authorization are the credentials configured for the
	// webhook, sent as headers exactly as given; empty: not configured.
	UserName      string
	Authorization string
	// Product is whatsapp (default), sms or otp.
	Product string
	// Events are the event types the partner subscribed to; empty: all of
	// the product's.
	Events []string
	// Timeout is the time limit an answer must come within (3s), judged
	// by CERT-TIME-01 on the 95th percentile of LatencyPushes pushes.
	Timeout time.Duration
	// Insecure accepts plain HTTP and a certificate that does not verify:
	// CERT-TLS-01 is then reported as allowed instead of failed, and a bad
	// certificate no longer stops the other checks.
	Insecure bool
	// RootCAs verifies the endpoint's certificate instead of the system's
	// roots (--ca-file: a private CA; tests: httptest's certificate).
	RootCAs *x509.CertPool
	// LatencyPushes is how many pushes CERT-TIME-01 times (20).
	LatencyPushes int
	// Burst is how many pushes CERT-BURST-01 sends at once (20).
	Burst int
	// Rate bounds the pushes in any one second (100); Burst must fit in it.
	Rate int
	// Concurrency bounds the pushes in flight outside the burst (4).
	Concurrency int
	// Spec is the contract the payloads come from (the embedded one).
	Spec *spec.Spec
	// Clock stamps payloads and reports (clock.Real).
	Clock clock.Clock
	// Progress is told what happens as it happens (nothing).
	Progress Progress
	// ToolVersion is the version of the binary, for the reports.
	ToolVersion string
}

// Products that can be certified.
var products = []string{"whatsapp", "sms", "otp"}

// withDefaults returns a copy of o with every zero value replaced.
func (o Options) withDefaults() Options {
	if o.Method == "" {
		o.Method = http.MethodPost
	}
	o.Method = strings.ToUpper(o.Method)
	if o.Product == "" {
		o.Product = "whatsapp"
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.LatencyPushes == 0 {
		o.LatencyPushes = DefaultLatencyPushes
	}
	if o.Burst == 0 {
		o.Burst = DefaultBurst
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Progress == nil {
		o.Progress = noProgress{}
	}
	if o.ToolVersion == "" {
		o.ToolVersion = "dev"
	}
	return o
}

// Validate reports the first option that cannot work, naming its flag. It
// needs the contract to check the product's event types.
func (o Options) Validate(sp *spec.Spec) error {
	o = o.withDefaults()
	u, err := url.Parse(o.URL)
	switch {
	case o.URL == "":
		return errors.New("--url is required: the partner's webhook URL")
	case err != nil:
		return fmt.Errorf("--url %q: %w", o.URL, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("--url %q: use an absolute http(s) URL such as https://partner.example/innopaas/webhook", o.URL)
	case u.User != nil:
		return fmt.Errorf("--url %q: carries credentials; pass them with --username and --authorization, as they are configured for the webhook", redactURL(u))
	case u.Fragment != "":
		return fmt.Errorf("--url %q: a fragment is never sent; remove it", o.URL)
	}
	if o.Method != http.MethodPost && o.Method != http.MethodPut {
		return fmt.Errorf("--method %q: use POST or PUT, as configured for the webhook", o.Method)
	}
	if !slices.Contains(products, o.Product) {
		return fmt.Errorf("--product %q: use whatsapp, sms or otp", o.Product)
	}
	known := sp.EventTypes(o.Product)
	for _, e := range o.Events {
		if !slices.Contains(known, e) {
			if ev, ok := sp.Event(e); ok {
				return fmt.Errorf("--events: %s is a %s event, not a %s one; the %s events are %s", e, ev.Product, o.Product, o.Product, strings.Join(known, ", "))
			}
			return fmt.Errorf("--events: %q is not an event type; the %s events are %s", e, o.Product, strings.Join(known, ", "))
		}
	}
	if dup := firstDuplicate(o.Events); dup != "" {
		return fmt.Errorf("--events: %s is named twice", dup)
	}
	switch {
	case o.Timeout < 0 || o.Timeout > time.Minute:
		return fmt.Errorf("--timeout %s: use a duration above 0 and at most 1m", o.Timeout)
	case o.LatencyPushes < 1 || o.LatencyPushes > 100:
		return fmt.Errorf("--latency-pushes %d: use 1 to 100", o.LatencyPushes)
	case o.Burst < 1 || o.Burst > 200:
		return fmt.Errorf("--burst %d: use 1 to 200", o.Burst)
	case o.Rate < 1 || o.Rate > 1000:
		return fmt.Errorf("--rate %d: use 1 to 1000 pushes a second", o.Rate)
	case o.Burst > o.Rate:
		return fmt.Errorf("--burst %d is more than --rate %d: a burst is sent within one second; raise --rate or lower --burst", o.Burst, o.Rate)
	case o.Concurrency < 1 || o.Concurrency > 50:
		return fmt.Errorf("--concurrency %d: use 1 to 50", o.Concurrency)
	case strings.ContainsAny(o.UserName, "\r\n") || strings.ContainsAny(o.Authorization, "\r\n"):
		return errors.New("--username and --authorization must not contain line breaks")
	}
	return nil
}

func firstDuplicate(xs []string) string {
	seen := map[string]bool{}
	for _, x := range xs {
		if seen[x] {
			return x
		}
		seen[x] = true
	}
	return ""
}

// abandonAfter is how long a push may go unanswered before it is given up:
// twice the time limit, and at least 2 seconds more than it, so that a slow
// endpoint's answer is still seen (CERT-TIME-01 judges it; the other checks
// judge its status).
func (o Options) abandonAfter() time.Duration {
	return max(2*o.Timeout, o.Timeout+2*time.Second)
}

// redactURL drops a URL's user information, for messages.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

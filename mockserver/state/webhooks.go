package state

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Methods a webhook may use. GET is refused: InnoPaaS does not document how a
// JSON payload would travel in a GET, and guessing would mislead integrators.
var webhookMethods = []string{"POST", "PUT"}

// NormalizeWebhook checks a configuration and fills defaults; the error names
// the field and the rule.
func (s *Sandbox) NormalizeWebhook(w Webhook) (Webhook, error) {
	if !slices.Contains([]string{ProductWhatsApp, ProductSMS, ProductOTP}, w.Product) {
		return w, invalid("/product", "%q is not a product; use whatsapp, sms or otp", w.Product)
	}
	if err := checkWebhookURL(w.URL); err != nil {
		return w, err
	}
	if err := s.checkDestination("/url", w.URL); err != nil {
		return w, err
	}
	if len(w.Events) == 0 {
		return w, invalid("/events", "must name at least one event type")
	}
	known := s.catalog.EventTypes(w.Product)
	for i, e := range w.Events {
		if !slices.Contains(known, e) {
			if len(known) == 0 {
				return w, invalid(fmt.Sprintf("/events/%d", i), "%q: the contract describes no events for product %s yet", e, w.Product)
			}
			return w, invalid(fmt.Sprintf("/events/%d", i), "%q is not a %s event type; known: %s", e, w.Product, strings.Join(known, ", "))
		}
		if slices.Index(w.Events, e) != i {
			return w, invalid(fmt.Sprintf("/events/%d", i), "%q is listed twice", e)
		}
	}
	w.Method = strings.ToUpper(strings.TrimSpace(w.Method))
	if w.Method == "" {
		w.Method = "POST"
	}
	if w.Method == "GET" {
		return w, invalid("/method", "GET is not supported: InnoPaaS does not document how a JSON payload is sent in a GET; use POST or PUT")
	}
	if !slices.Contains(webhookMethods, w.Method) {
		return w, invalid("/method", "%q is not supported; use POST (the default) or PUT", w.Method)
	}
	for _, h := range []struct {
		field string
		v     *string
	}{{"/username", w.Username}, {"/authorization", w.Authorization}} {
		if h.v != nil && (*h.v == "" || strings.ContainsAny(*h.v, "\r\n\x00")) {
			return w, invalid(h.field, "must be a non-empty header value without CR, LF or NUL; omit it to send no header")
		}
	}
	if err := checkRetry(w.Retry); err != nil {
		return w, err
	}
	if err := checkChaos(w.Chaos); err != nil {
		return w, err
	}
	return w, nil
}

// checkWebhookURL refuses URLs a webhook cannot use: only http and https
// with a host.
func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("/url", "not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return invalid("/url", "scheme %q is not allowed; use http or https", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return invalid("/url", "has no host")
	}
	if u.Fragment != "" {
		return invalid("/url", "must not have a fragment (#%s)", u.Fragment)
	}
	return nil
}

// checkDestination applies Options.CheckDestination to a URL, naming field.
func (s *Sandbox) checkDestination(field, raw string) error {
	if s.opts.CheckDestination == nil {
		return nil
	}
	if err := s.opts.CheckDestination(raw); err != nil {
		return invalid(field, "%v", err)
	}
	return nil
}

// CreateWebhook validates and stores an app's configuration for a product.
func (s *Sandbox) CreateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	if _, err := s.store.GetApp(ctx, w.AppKey); err != nil {
		return Webhook{}, err
	}
	w, err := s.NormalizeWebhook(w)
	if err != nil {
		return Webhook{}, err
	}
	if err := s.checkAppQuota(ctx, w.AppKey, ResourceWebhooks); err != nil {
		return Webhook{}, err
	}
	w.CreatedAt = s.clock.Now()
	w.UpdatedAt = w.CreatedAt
	return w, s.store.CreateWebhook(ctx, w)
}

// UpdateWebhook validates and replaces an app's configuration for a product.
func (s *Sandbox) UpdateWebhook(ctx context.Context, w Webhook) (Webhook, error) {
	old, err := s.store.GetWebhook(ctx, w.AppKey, w.Product)
	if err != nil {
		return Webhook{}, err
	}
	w, err = s.NormalizeWebhook(w)
	if err != nil {
		return Webhook{}, err
	}
	w.CreatedAt = old.CreatedAt
	w.UpdatedAt = s.clock.Now()
	return w, s.store.UpdateWebhook(ctx, w)
}

// webhookFor returns the app's webhook for a product, nil when none.
func (s *Sandbox) webhookFor(ctx context.Context, appKey, product string) (*Webhook, error) {
	w, err := s.store.GetWebhook(ctx, appKey, product)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &w, nil
}

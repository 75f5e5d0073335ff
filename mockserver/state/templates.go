package state

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/innosandbox/innosandbox/internal/payload"
)

// Codes of refusals on a template send. 143 is InnoPaaS's own; the others
// are Meta's error codes, which InnoPaaS relays for WhatsApp's own rules
// (see docs/DECISIONS.md).
const (
	CodeTemplateNotFound = "143"    // no such template (in that language, for that WABA)
	CodeSendNumber       = "118"    // the sending number is not a number of the WABA
	CodeParamMismatch    = "132000" // Meta: the parameters do not match the template's variables
	CodeTemplateNotReady = "132001" // Meta: no approved template in that language (pending or rejected)
	CodeTemplatePaused   = "132015" // Meta: the template is paused
	CodeTemplateDisabled = "132016" // Meta: the template is disabled
	CodeReengagement     = "131047" // Meta: more than 24 hours since the user last wrote
)

// EventWATemplate is the template review's push.
const EventWATemplate = "whatsapp_template_status_updated"

// Template names that steer the sandbox's review (documented in the README):
// a name starting with RejectPrefix is rejected, one starting with
// PendingPrefix is never reviewed; every other name is approved.
const (
	RejectPrefix  = "reject_"
	PendingPrefix = "pending_"
)

// neverReviewed is the review end of a template that stays PENDING.
var neverReviewed = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// templateCategories maps template/submit's category codes to the names the
// status event uses.
var templateCategories = map[string]string{"1": "MARKETING", "2": "AUTHENTICATION", "3": "UTILITY"}

// CategoryName turns a category code ("1".."3") or name into its name.
func CategoryName(c string) (string, bool) {
	if n, ok := templateCategories[c]; ok {
		return n, true
	}
	for _, n := range templateCategories {
		if strings.EqualFold(n, c) {
			return n, true
		}
	}
	return "", false
}

// CategoryCode turns a category name into template/submit's code.
func CategoryCode(name string) string {
	for code, n := range templateCategories {
		if n == name {
			return code
		}
	}
	return ""
}

var variable = regexp.MustCompile(`\{\{\s*([0-9]+)\s*\}\}`)

// CountVariables counts the distinct {{n}} variables of a template text.
func CountVariables(text string) int {
	seen := map[string]bool{}
	for _, m := range variable.FindAllStringSubmatch(text, -1) {
		seen[m[1]] = true
	}
	return len(seen)
}

// TemplateSubmission is what template/submit asks for.
type TemplateSubmission struct {
	WabaID     string
	Name       string
	Language   string
	Category   string // "1", "2" or "3"
	HeaderType int    // 1 none, 2 text, 3 image, 4 video, 5 document
	Caption    string // the text header
	Body       string
	Request    []byte
}

// SubmitTemplate stores a template as PENDING and schedules its review's
// whatsapp_template_status_updated push for the app that submitted it, at
// the end of the review on the account's sandbox clock.
func (s *Sandbox) SubmitTemplate(ctx context.Context, p Principal, in TemplateSubmission) (Template, error) {
	category, ok := CategoryName(in.Category)
	if !ok {
		return Template{}, invalid("/category", "%q is not a category; use 1 (MARKETING), 2 (AUTHENTICATION) or 3 (UTILITY)", in.Category)
	}
	now := s.Now(p.Account)
	t := Template{
		Account: p.Account.Name, WabaID: in.WabaID, Name: in.Name, Language: in.Language, Category: category,
		TemplateID: NewHexID(32), SID: payload.Digits(15), AppKey: p.App.Key,
		BodyParams: CountVariables(in.Body), Status: TemplateApproved, Reason: "NONE",
		ReviewAt: now.Add(s.opts.TemplateReview), Request: in.Request, CreatedAt: s.clock.Now(), UpdatedAt: s.clock.Now(),
	}
	if in.HeaderType == 2 {
		t.HeaderParams = CountVariables(in.Caption)
	}
	var events []Event
	switch {
	case strings.HasPrefix(in.Name, PendingPrefix):
		t.ReviewAt = neverReviewed
	case strings.HasPrefix(in.Name, RejectPrefix):
		t.Status, t.Reason = TemplateRejected, "INVALID_FORMAT"
		fallthrough
	default:
		e, err := s.templateEvent(ctx, p.Account, t, t.ReviewAt)
		if err != nil {
			return Template{}, err
		}
		events = append(events, e)
	}
	if err := s.checkQuota(ctx, p.Account.Name, ResourceTemplates, 1); err != nil {
		return Template{}, err
	}
	if err := s.checkPending(ctx, p.Account.Name, events); err != nil {
		return Template{}, err
	}
	if err := s.store.CreateTemplate(ctx, t, events); err != nil {
		if errors.Is(err, ErrConflict) {
			return Template{}, fmt.Errorf("WABA %s has a template %s in %s already: %w", t.WabaID, t.Name, t.Language, ErrConflict)
		}
		return Template{}, err
	}
	s.notify()
	return t, nil
}

// templateEvent builds a template's status push due at 'due', routed to the
// app that submitted it, or the account's default app for a template no app
// submitted (seeded ones).
func (s *Sandbox) templateEvent(ctx context.Context, acct Account, t Template, due time.Time) (Event, error) {
	e := s.newEvent(acct, EventWATemplate, ProductWhatsApp, due)
	w := payload.NewWriter(400)
	envelopeStart(&w, &e)
	w.String("accountName", acct.Name)
	w.String("category", t.Category)
	w.String("reason", t.Reason)
	w.String("templateId", t.SID)
	w.String("templateLanguage", t.Language)
	w.String("templateName", t.Name)
	w.String("templateStatus", string(t.Status))
	w.String("wabaId", t.WabaID)
	w.Close()
	w.Close()
	e.Payload = w.Bytes()
	if t.AppKey != "" {
		return e, s.route(ctx, &e, t.AppKey, "sender")
	}
	return e, s.routeUnmatched(ctx, &e, acct, "", "")
}

// SetTemplateStatus changes a template's status at once (approve early,
// reject, pause, disable) and pushes the change like a review would.
func (s *Sandbox) SetTemplateStatus(ctx context.Context, acct Account, wabaID, name, language string, status TemplateStatus, reason string) (Template, error) {
	t, err := s.store.GetTemplate(ctx, acct.Name, wabaID, name, language)
	if err != nil {
		return Template{}, err
	}
	switch status {
	case TemplateApproved, TemplateRejected, TemplatePaused, TemplateDisabled:
	default:
		return Template{}, invalid("/status", "%q cannot be set; use APPROVED, REJECTED, PAUSED or DISABLED", status)
	}
	if reason == "" {
		reason = "NONE"
	}
	now := s.Now(acct)
	t.Status, t.Reason, t.ReviewAt, t.UpdatedAt = status, reason, now, s.clock.Now()
	if err := s.store.UpdateTemplateStatus(ctx, t); err != nil {
		return Template{}, err
	}
	e, err := s.templateEvent(ctx, acct, t, now)
	if err != nil {
		return Template{}, err
	}
	if err := s.checkPending(ctx, acct.Name, []Event{e}); err != nil {
		return Template{}, err
	}
	if err := s.store.AddEvents(ctx, []Event{e}); err != nil {
		return Template{}, err
	}
	s.notify()
	return t, nil
}

// SeedTemplate adds an approved template without a review or a push (the
// seed's and the control API's ready-to-use templates).
func (s *Sandbox) SeedTemplate(ctx context.Context, account, wabaID, name, language, category string, bodyParams, headerParams int) (Template, error) {
	cat, ok := CategoryName(category)
	if !ok {
		return Template{}, invalid("/category", "%q is not a category; use MARKETING, AUTHENTICATION or UTILITY", category)
	}
	t := Template{Account: account, WabaID: wabaID, Name: name, Language: language, Category: cat,
		TemplateID: NewHexID(32), SID: payload.Digits(15),
		BodyParams: bodyParams, HeaderParams: headerParams, Status: TemplateApproved, Reason: "NONE",
		CreatedAt: s.clock.Now(), UpdatedAt: s.clock.Now()}
	if err := s.store.CreateTemplate(ctx, t, nil); err != nil {
		if errors.Is(err, ErrConflict) {
			return Template{}, fmt.Errorf("WABA %s has a template %s in %s already: %w", wabaID, name, language, ErrConflict)
		}
		return Template{}, err
	}
	return t, nil
}

// TemplateUse is what a template send names.
type TemplateUse struct {
	Name        string
	GroupID     string // templateGroupId, instead of Name (groups.go)
	Language    string
	BodyParams  int  // values given in bodyParams
	HeaderParam bool // a header.paramValue was given
}

// checkTemplate refuses a template send the way InnoPaaS and WhatsApp do:
// no such template in that language for the WABA (143), not approved, or
// parameters that do not fill the template's variables.
func (s *Sandbox) checkTemplate(ctx context.Context, acct Account, wabaID string, use TemplateUse) error {
	if use.GroupID != "" {
		if err := s.resolveGroup(ctx, acct, wabaID, &use); err != nil {
			return err
		}
	}
	t, err := s.store.GetTemplate(ctx, acct.Name, wabaID, use.Name, use.Language)
	if errors.Is(err, ErrNotFound) {
		msg := fmt.Sprintf("WhatsApp template not found: WABA %s has no template %q in %s", wabaID, use.Name, use.Language)
		if others := s.languagesOf(ctx, acct, wabaID, use.Name); len(others) > 0 {
			msg += "; it has it in " + strings.Join(others, ", ")
		}
		return &BusinessError{Code: CodeTemplateNotFound, Field: "/templateName", Message: msg}
	} else if err != nil {
		return err
	}
	if st := t.StatusAt(s.Now(acct)); st != TemplateApproved {
		code := CodeTemplateNotReady
		switch st {
		case TemplatePaused:
			code = CodeTemplatePaused
		case TemplateDisabled:
			code = CodeTemplateDisabled
		}
		return &BusinessError{Code: code, Field: "/templateName",
			Message: fmt.Sprintf("template %q (%s) is %s, not APPROVED", use.Name, use.Language, st)}
	}
	if use.BodyParams != t.BodyParams {
		return &BusinessError{Code: CodeParamMismatch, Field: "/bodyParams",
			Message: "number of parameters does not match: template " + strconv.Quote(use.Name) + " has " +
				strconv.Itoa(t.BodyParams) + " body variables, bodyParams gives " + strconv.Itoa(use.BodyParams)}
	}
	if t.HeaderParams > 0 && !use.HeaderParam {
		return &BusinessError{Code: CodeParamMismatch, Field: "/header/paramValue",
			Message: fmt.Sprintf("number of parameters does not match: template %q has a header variable; give header.paramValue", use.Name)}
	}
	return nil
}

func (s *Sandbox) languagesOf(ctx context.Context, acct Account, wabaID, name string) []string {
	list, err := s.store.ListTemplates(ctx, acct.Name, wabaID)
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range list {
		if t.Name == name {
			out = append(out, t.Language)
		}
	}
	return out
}

// ListTemplates lists an account's templates of a WABA ("" for all).
func (s *Sandbox) ListTemplates(ctx context.Context, account, wabaID string) ([]Template, error) {
	return s.store.ListTemplates(ctx, account, wabaID)
}

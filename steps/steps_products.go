package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// What the products' steps (steps_whatsapp.go, steps_sms.go, steps_otp.go,
// steps_uploads.go) share: the endpoints, the contract's examples, the
// changes a step writes, the send with my app's credentials.

// The public API's other endpoints.
const (
	TemplatePath = "/api/whatsapp/v3/template/submit"
	UploadPath   = "/api/whatsapp/v3/uploadFile"
	SMSPath      = "/api/sms/v3/msg/send"
	OTPPath      = "/api/otp/v3/msg/send/verify"
)

// requestExample returns a fresh copy of a named example of an operation's
// JSON request body in the contract, so that a scenario can send "the
// contract's image message" without restating it.
func (w *world) requestExample(operationID, name string) (map[string]any, error) {
	for _, item := range w.s.cfg.Spec.Public.Doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.OperationID != operationID || op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			mt := op.RequestBody.Value.Content["application/json"]
			if mt == nil {
				break
			}
			ex := mt.Examples[name]
			if ex == nil || ex.Value == nil {
				var names []string
				for n := range mt.Examples {
					names = append(names, n)
				}
				return nil, fmt.Errorf("the contract has no example %q of %s; it has %s", name, operationID, strings.Join(names, ", "))
			}
			b, err := json.Marshal(ex.Value.Value)
			if err != nil {
				return nil, err
			}
			var out map[string]any
			return out, json.Unmarshal(b, &out)
		}
	}
	return nil, fmt.Errorf("the contract has no operation %s with a JSON request body", operationID)
}

// substitute replaces what a feature file writes for values only the run
// knows: <my message> (the last accepted message id), <my handle> (the last
// upload's handle), <my app> (my app's AppKey), <the template's id> (Meta's
// id of the submitted template).
func (w *world) substitute(s string) string {
	r := strings.NewReplacer(
		"<my message>", w.messageID,
		"<my handle>", w.handle,
		"<the template's id>", w.template.SID,
	)
	s = r.Replace(s)
	if a := w.apps["my app"]; a != nil {
		s = strings.ReplaceAll(s, "<my app>", a.key)
	}
	return s
}

// changed applies the changes a step names ("" for none) to a body.
func (w *world) changed(body map[string]any, changes string) error {
	if changes == "" {
		return nil
	}
	list, err := parseChanges(w.substitute(changes))
	if err != nil {
		return err
	}
	return applyChanges(body, list)
}

// sendJSON makes a public JSON call with my app's credentials; its answer
// is w.last.
func (w *world) sendJSON(ctx context.Context, path string, body map[string]any) error {
	c, err := w.newSend(ctx)
	if err != nil {
		return err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	w.sent = body
	return w.callPublic(ctx, http.MethodPost, path, c.header, b)
}

// sendChanged sends a product's default body with the changes a step
// names.
func (w *world) sendChanged(ctx context.Context, path string, body map[string]any, changes string) error {
	w.reachNoOne(body)
	if err := w.changed(body, changes); err != nil {
		return err
	}
	return w.sendJSON(ctx, path, body)
}

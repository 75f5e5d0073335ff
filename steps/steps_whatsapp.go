package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/cucumber/godog"
)

// Steps of whatsapp_send.feature, whatsapp_templates.feature and
// session_window.feature: sending WhatsApp messages and templates, and
// setting up the WABA they come from.

// submittedTemplate is what the scenario knows of the template it submitted.
type submittedTemplate struct {
	Name, Language, SID string
}

// registerWhatsApp binds the WhatsApp features' steps.
func (w *world) registerWhatsApp(sc *godog.ScenarioContext) {
	sc.Step(`^I send the contract's "([^"]+)" message(?: with (.+))?$`, w.iSendTheContractsMessage)
	sc.Step(`^I send a message with (/.+)$`, w.iSendAMessageWithChanges)
	sc.Step(`^I send the template "([^"]+)" in "([^"]+)" with (\d+) body parameters?(?: and (a|no) header parameter)?$`, w.iSendTheTemplate)
	sc.Step(`^I submit the contract's "([^"]+)" template(?: named "([^"]+)")?(?: with (.+))?$`, w.iSubmitTheContractsTemplate)
	sc.Step(`^the template is accepted as PENDING$`, w.theTemplateIsAcceptedAsPending)
	sc.Step(`^my WABA has the approved template "([^"]+)" in "([^"]+)" with (\d+) body parameters?( and a header parameter)?$`, w.myWABAHasTheApprovedTemplate)
	sc.Step(`^the template "([^"]+)" in "([^"]+)" is set to (APPROVED|REJECTED|PAUSED|DISABLED)(?: because "([^"]+)")?$`, w.theTemplateIsSetTo)
	sc.Step(`^my WABA's sending number is "(\d+)"$`, w.myWABAsSendingNumberIs)
	sc.Step(`^(?:the|a) user (?:"(\d+)" )?writes "([^"]*)" to my business number$`, w.aUserWritesToMyBusinessNumber)
}

func (w *world) iSendTheContractsMessage(ctx context.Context, name, changes string) error {
	body, err := w.requestExample("whatsappSubmitMessage", name)
	if err != nil {
		return err
	}
	if err := w.changed(body, changes); err != nil {
		return err
	}
	return w.sendJSON(ctx, SubmitPath, body)
}

func (w *world) iSendAMessageWithChanges(ctx context.Context, changes string) error {
	return w.sendWith(ctx, func(c *sendCall) error { return w.changed(c.body, changes) })
}

func (w *world) iSendTheTemplate(ctx context.Context, name, lang string, n int, header string) error {
	return w.sendWith(ctx, func(c *sendCall) error {
		c.body["templateName"], c.body["language"] = name, lang
		params := make([]any, n)
		for i := range params {
			params[i] = fmt.Sprintf("value %d", i+1)
		}
		c.body["bodyParams"] = params
		if header == "a" {
			c.body["header"] = map[string]any{"type": "text", "paramValue": "A123"}
		}
		return nil
	})
}

func (w *world) iSubmitTheContractsTemplate(ctx context.Context, example, name, changes string) error {
	body, err := w.requestExample("whatsappSubmitTemplate", example)
	if err != nil {
		return err
	}
	if name != "" {
		body["name"] = name
	}
	if err := w.changed(body, changes); err != nil {
		return err
	}
	w.template.Name, _ = body["name"].(string)
	w.template.Language, _ = body["messageLanguage"].(string)
	return w.sendJSON(ctx, TemplatePath, body)
}

func (w *world) theTemplateIsAcceptedAsPending(context.Context) error {
	if err := w.accepted("template"); err != nil {
		return err
	}
	var data struct {
		Name, MessageLanguage, TemplateStatus, SID string
	}
	if err := json.Unmarshal(w.lastEnv.Data, &data); err != nil {
		return about(fmt.Errorf("data should be the template: %w", err), w.last)
	}
	w.template.SID = data.SID
	return about(errors.Join(
		expectEqual("the template's status (a new template waits for its review)", "PENDING", data.TemplateStatus),
		expectEqual("the template's name", w.template.Name, data.Name),
		expectEqual("the template's language", w.template.Language, data.MessageLanguage),
	), w.last)
}

func (w *world) myWABAHasTheApprovedTemplate(ctx context.Context, name, lang string, n int, header string) error {
	if err := w.ensureAccount(ctx); err != nil {
		return err
	}
	in := map[string]any{"wabaId": WabaID, "name": name, "language": lang, "category": "UTILITY", "bodyParams": n}
	if header != "" {
		in["headerParams"] = 1
	}
	return w.approvedTemplate(ctx, in)
}

func (w *world) theTemplateIsSetTo(ctx context.Context, name, lang, status, reason string) error {
	if err := w.ensureAccount(ctx); err != nil {
		return err
	}
	in := map[string]any{"status": status}
	if reason != "" {
		in["reason"] = reason
	}
	path := "/_sandbox/templates/" + url.PathEscape(WabaID) + "/" + url.PathEscape(name) + "/" + url.PathEscape(lang) + "/status"
	_, err := w.control(ctx, http.MethodPut, path, in, nil, http.StatusOK)
	return err
}

func (w *world) myWABAsSendingNumberIs(ctx context.Context, number string) error {
	if err := w.ensureAccount(ctx); err != nil {
		return err
	}
	_, err := w.control(ctx, http.MethodPost, "/_sandbox/wabas/"+url.PathEscape(WabaID)+"/numbers", map[string]string{"number": number}, nil, http.StatusCreated, http.StatusOK)
	return err
}

func (w *world) aUserWritesToMyBusinessNumber(ctx context.Context, from, text string) error {
	if from == "" {
		from = RecipientNumber
	}
	return w.userWrites(ctx, map[string]any{"to": SendNumber, "from": from, "wabaId": WabaID, "text": map[string]string{"body": text}})
}

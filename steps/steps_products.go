package steps

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/cucumber/godog"
)

// The public API's other endpoints.
const (
	TemplatePath = "/api/whatsapp/v3/template/submit"
	UploadPath   = "/api/whatsapp/v3/uploadFile"
	SMSPath      = "/api/sms/v3/msg/send"
	OTPPath      = "/api/otp/v3/msg/send/verify"
)

// DefaultSMS and DefaultOTP are what an SMS or OTP send carries unless a
// step changes it.
func DefaultSMS() map[string]any {
	return map[string]any{"msg": "Your parcel A123 has shipped.", "mobile": RecipientNumber}
}

// DefaultOTP is the body the only known client sends (type "3" is OTP).
func DefaultOTP() map[string]any {
	return map[string]any{"to": RecipientNumber, "type": "3", "language": "en", "code": "245098"}
}

// submittedTemplate is what the scenario knows of the template it submitted.
type submittedTemplate struct {
	Name, Language, SID string
}

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

// upload makes an uploadFile call with a body and its Content-Type.
func (w *world) upload(ctx context.Context, contentType string, body []byte) error {
	c, err := w.newSend(ctx)
	if err != nil {
		return err
	}
	c.header["Content-Type"] = []string{contentType}
	return w.callPublic(ctx, http.MethodPost, UploadPath, c.header, body)
}

// form builds a multipart/form-data body with one part per name; a part's
// Content-Type is given, as a client that knows its file's type sends it.
func form(parts ...[3]string) (contentType string, body []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p[0], p[1]))
		if p[2] != "" {
			h.Set("Content-Type", p[2])
		}
		pw, _ := mw.CreatePart(h)
		_, _ = pw.Write([]byte("innosandbox test file " + p[1]))
	}
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// registerProducts binds the steps of the products' features:
// whatsapp_send, whatsapp_templates, sms, otp, uploads, messages.
func (w *world) registerProducts(sc *godog.ScenarioContext) {
	// WhatsApp send
	sc.Step(`^I send the contract's "([^"]+)" message(?: with (.+))?$`, w.iSendTheContractsMessage)
	sc.Step(`^I send a message with (/.+)$`, w.iSendAMessageWithChanges)
	sc.Step(`^I send the template "([^"]+)" in "([^"]+)" with (\d+) body parameters?(?: and (a|no) header parameter)?$`, w.iSendTheTemplate)

	// SMS
	sc.Step(`^I send an SMS "([^"]*)" to "([^"]*)"$`, w.iSendAnSMSTo)
	sc.Step(`^I send an SMS with (/.+)$`, w.iSendAnSMSWithChanges)
	sc.Step(`^I send an SMS to "([^"]*)" with a callback receiver as its callBackUrl$`, w.iSendAnSMSWithACallbackReceiver)

	// OTP
	sc.Step(`^I send the OTP code "([^"]*)" to "([^"]*)"$`, w.iSendTheOTPCodeTo)
	sc.Step(`^I send an OTP with (/.+)$`, w.iSendAnOTPWithChanges)
	sc.Step(`^the answer's success is (true|false)$`, w.theAnswersSuccessIs)

	// template/submit
	sc.Step(`^I submit the contract's "([^"]+)" template(?: named "([^"]+)")?(?: with (.+))?$`, w.iSubmitTheContractsTemplate)
	sc.Step(`^the template is accepted as PENDING$`, w.theTemplateIsAcceptedAsPending)

	// uploadFile
	sc.Step(`^I upload a file "([^"]+)" of type "([^"]*)"$`, w.iUploadAFileOfType)
	sc.Step(`^I upload a PNG file of (\d+) MiB and one byte$`, w.iUploadAPNGFileOfMiBAndOneByte)
	sc.Step(`^I upload a form whose only part is "([^"]+)"$`, w.iUploadAFormWhoseOnlyPartIs)
	sc.Step(`^I upload a file as "([^"]+)"$`, w.iUploadAFileAs)
	sc.Step(`^the file is accepted with a handle starting "([^"]+)"$`, w.theFileIsAcceptedWithAHandleStarting)
	sc.Step(`^the handle names the type "([^"]+)"$`, w.theHandleNamesTheType)

	// templates and numbers, by control
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

func (w *world) iSendAnSMSTo(ctx context.Context, text, to string) error {
	body := DefaultSMS()
	body["msg"], body["mobile"] = text, to
	return w.sendJSON(ctx, SMSPath, body)
}

func (w *world) iSendAnSMSWithChanges(ctx context.Context, changes string) error {
	return w.sendChanged(ctx, SMSPath, DefaultSMS(), changes)
}

func (w *world) iSendAnSMSWithACallbackReceiver(ctx context.Context, to string) error {
	r, err := w.callbackReceiver(ctx)
	if err != nil {
		return err
	}
	body := DefaultSMS()
	body["mobile"], body["callBackUrl"] = to, r.URL()
	return w.sendJSON(ctx, SMSPath, body)
}

func (w *world) iSendTheOTPCodeTo(ctx context.Context, code, to string) error {
	body := DefaultOTP()
	body["code"], body["to"] = code, to
	return w.sendJSON(ctx, OTPPath, body)
}

func (w *world) iSendAnOTPWithChanges(ctx context.Context, changes string) error {
	return w.sendChanged(ctx, OTPPath, DefaultOTP(), changes)
}

func (w *world) theAnswersSuccessIs(_ context.Context, want string) error {
	if w.last == nil {
		return errNoCall
	}
	var a struct {
		Success *bool `json:"success"`
	}
	if err := json.Unmarshal(w.last.Body, &a); err != nil {
		return about(fmt.Errorf("the answer is not a JSON object: %w", err), w.last)
	}
	if a.Success == nil {
		return about(errors.New("the OTP answer has no success member"), w.last)
	}
	return about(expectEqual("success", want == "true", *a.Success), w.last)
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

func (w *world) iUploadAFileOfType(ctx context.Context, name, mimeType string) error {
	ct, body := form([3]string{"file", name, mimeType})
	return w.upload(ctx, ct, body)
}

func (w *world) iUploadAPNGFileOfMiBAndOneByte(ctx context.Context, mib int) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="big.png"`)
	h.Set("Content-Type", "image/png")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := pw.Write(bytes.Repeat([]byte{0x42}, mib<<20+1)); err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return err
	}
	return w.upload(ctx, mw.FormDataContentType(), buf.Bytes())
}

func (w *world) iUploadAFormWhoseOnlyPartIs(ctx context.Context, part string) error {
	ct, body := form([3]string{part, "logo.png", "image/png"})
	return w.upload(ctx, ct, body)
}

func (w *world) iUploadAFileAs(ctx context.Context, contentType string) error {
	return w.upload(ctx, contentType, []byte(`{"file":"logo.png"}`))
}

func (w *world) theFileIsAcceptedWithAHandleStarting(_ context.Context, prefix string) error {
	if err := w.accepted("file"); err != nil {
		return err
	}
	h := w.lastEnv.DataString()
	if !strings.HasPrefix(h, prefix) {
		return about(fmt.Errorf("data should be a handle starting %q, but it is %q", prefix, h), w.last)
	}
	w.handle = h
	return nil
}

func (w *world) theHandleNamesTheType(ctx context.Context, mimeType string) error {
	if w.handle == "" {
		return errors.New("no file was accepted yet")
	}
	enc, _, _ := strings.Cut(strings.TrimPrefix(w.handle, "4::"), ":")
	got, err := base64.StdEncoding.DecodeString(enc)
	if w.innosandbox() {
		if err != nil {
			return fmt.Errorf("the handle's type part %q is not base64: %w", enc, err)
		}
		return expectEqual(fmt.Sprintf("the type the handle %q carries", w.handle), mimeType, string(got))
	}
	// How the handle carries the type is the sandbox's choice: on a
	// real target a difference is drift.
	if err != nil || string(got) != mimeType {
		w.note(ctx, NoteDrift, fmt.Sprintf("the handle %q does not carry the type %q (base64 after 4::, as the sandbox's handles do)", w.handle, mimeType))
	}
	return nil
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

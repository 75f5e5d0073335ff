package steps

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// sendChanged builds a step that sends a product's default body with the
// changes the step names.
func (w *world) sendChanged(path string, defaults func() map[string]any) func(context.Context, string) error {
	return func(ctx context.Context, changes string) error {
		body := defaults()
		if err := w.changed(body, changes); err != nil {
			return err
		}
		return w.sendJSON(ctx, path, body)
	}
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

func (w *world) registerProducts(sc *godog.ScenarioContext) {
	// ------------------------------------------------------ WhatsApp send
	sc.Step(`^I send the contract's "([^"]+)" message(?: with (.+))?$`, func(ctx context.Context, name, changes string) error {
		body, err := w.requestExample("whatsappSubmitMessage", name)
		if err != nil {
			return err
		}
		if err := w.changed(body, changes); err != nil {
			return err
		}
		return w.sendJSON(ctx, SubmitPath, body)
	})
	sc.Step(`^I send a message with (/.+)$`, func(ctx context.Context, changes string) error {
		return w.withSend(func(c *sendCall) error { return w.changed(c.body, changes) })(ctx)
	})
	sc.Step(`^I send the template "([^"]+)" in "([^"]+)" with (\d+) body parameters?(?: and (a|no) header parameter)?$`, func(ctx context.Context, name, lang string, n int, header string) error {
		return w.withSend(func(c *sendCall) error {
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
		})(ctx)
	})

	// ------------------------------------------------------------- SMS
	sc.Step(`^I send an SMS "([^"]*)" to "([^"]*)"$`, func(ctx context.Context, text, to string) error {
		body := DefaultSMS()
		body["msg"], body["mobile"] = text, to
		return w.sendJSON(ctx, SMSPath, body)
	})
	sc.Step(`^I send an SMS with (/.+)$`, w.sendChanged(SMSPath, DefaultSMS))
	sc.Step(`^I send an SMS to "([^"]*)" with a callback receiver as its callBackUrl$`, func(ctx context.Context, to string) error {
		r, err := w.callbackReceiver(ctx)
		if err != nil {
			return err
		}
		body := DefaultSMS()
		body["mobile"], body["callBackUrl"] = to, r.URL()
		return w.sendJSON(ctx, SMSPath, body)
	})

	// ------------------------------------------------------------- OTP
	sc.Step(`^I send the OTP code "([^"]*)" to "([^"]*)"$`, func(ctx context.Context, code, to string) error {
		body := DefaultOTP()
		body["code"], body["to"] = code, to
		return w.sendJSON(ctx, OTPPath, body)
	})
	sc.Step(`^I send an OTP with (/.+)$`, w.sendChanged(OTPPath, DefaultOTP))
	sc.Step(`^the answer's success is (true|false)$`, func(ctx context.Context, want string) error {
		t := tOf(ctx)
		require.NotNil(t, w.last, "no call was made")
		var a struct {
			Success *bool `json:"success"`
		}
		require.NoError(t, json.Unmarshal(w.last.Body, &a), w.last.Summary())
		require.NotNil(t, a.Success, "the OTP answer has no success member: %s", w.last.Summary())
		assert.Equal(t, want == "true", *a.Success, "success: %s", w.last.Summary())
		return nil
	})

	// -------------------------------------------------- template/submit
	sc.Step(`^I submit the contract's "([^"]+)" template(?: named "([^"]+)")?(?: with (.+))?$`, func(ctx context.Context, example, name, changes string) error {
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
	})
	sc.Step(`^the template is accepted as PENDING$`, func(ctx context.Context) error {
		t := tOf(ctx)
		w.requireAccepted(t, "template")
		var data struct {
			Name, MessageLanguage, TemplateStatus, SID string
		}
		require.NoError(t, json.Unmarshal(w.lastEnv.Data, &data), w.last.Summary())
		assert.Equal(t, "PENDING", data.TemplateStatus, "a new template waits for its review")
		assert.Equal(t, w.template.Name, data.Name)
		assert.Equal(t, w.template.Language, data.MessageLanguage)
		w.template.SID = data.SID
		return nil
	})

	// ------------------------------------------------------- uploadFile
	sc.Step(`^I upload a file "([^"]+)" of type "([^"]*)"$`, func(ctx context.Context, name, mimeType string) error {
		ct, body := form([3]string{"file", name, mimeType})
		return w.upload(ctx, ct, body)
	})
	sc.Step(`^I upload a PNG file of (\d+) MiB and one byte$`, func(ctx context.Context, mib int) error {
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
	})
	sc.Step(`^I upload a form whose only part is "([^"]+)"$`, func(ctx context.Context, part string) error {
		ct, body := form([3]string{part, "logo.png", "image/png"})
		return w.upload(ctx, ct, body)
	})
	sc.Step(`^I upload a file as "([^"]+)"$`, func(ctx context.Context, contentType string) error {
		return w.upload(ctx, contentType, []byte(`{"file":"logo.png"}`))
	})
	sc.Step(`^the file is accepted with a handle starting "([^"]+)"$`, func(ctx context.Context, prefix string) error {
		t := tOf(ctx)
		w.requireAccepted(t, "file")
		h := w.lastEnv.DataString()
		require.True(t, strings.HasPrefix(h, prefix), "data should be a handle starting %q: %s", prefix, w.last.Summary())
		w.handle = h
		return nil
	})
	sc.Step(`^the handle names the type "([^"]+)"$`, func(ctx context.Context, mimeType string) error {
		t := tOf(ctx)
		require.NotEmpty(t, w.handle, "no file was accepted yet")
		enc, _, _ := strings.Cut(strings.TrimPrefix(w.handle, "4::"), ":")
		got, err := base64.StdEncoding.DecodeString(enc)
		if w.innosandbox() {
			require.NoError(t, err, "the handle's type part %q is not base64", enc)
			assert.Equal(t, mimeType, string(got), "the type the handle carries")
			return nil
		}
		// How the handle carries the type is the sandbox's choice: on a
		// real target a difference is drift.
		if err != nil || string(got) != mimeType {
			w.note(ctx, NoteDrift, fmt.Sprintf("the handle %q does not carry the type %q (base64 after 4::, as the sandbox's handles do)", w.handle, mimeType))
		}
		return nil
	})

	// ------------------------------------- templates and numbers, by control
	sc.Step(`^my WABA has the approved template "([^"]+)" in "([^"]+)" with (\d+) body parameters?( and a header parameter)?$`, func(ctx context.Context, name, lang string, n int, header string) error {
		if err := w.ensureAccount(ctx); err != nil {
			return err
		}
		in := map[string]any{"wabaId": WabaID, "name": name, "language": lang, "category": "UTILITY", "bodyParams": n}
		if header != "" {
			in["headerParams"] = 1
		}
		return w.approvedTemplate(ctx, in)
	})
	sc.Step(`^the template "([^"]+)" in "([^"]+)" is set to (APPROVED|REJECTED|PAUSED|DISABLED)(?: because "([^"]+)")?$`, func(ctx context.Context, name, lang, status, reason string) error {
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
	})
	sc.Step(`^my WABA's sending number is "(\d+)"$`, func(ctx context.Context, number string) error {
		if err := w.ensureAccount(ctx); err != nil {
			return err
		}
		_, err := w.control(ctx, http.MethodPost, "/_sandbox/wabas/"+url.PathEscape(WabaID)+"/numbers", map[string]string{"number": number}, nil, http.StatusCreated, http.StatusOK)
		return err
	})
	sc.Step(`^(?:the|a) user (?:"(\d+)" )?writes "([^"]*)" to my business number$`, func(ctx context.Context, from, text string) error {
		if from == "" {
			from = RecipientNumber
		}
		return w.userWrites(ctx, map[string]any{"to": SendNumber, "from": from, "wabaId": WabaID, "text": map[string]string{"body": text}})
	})
}

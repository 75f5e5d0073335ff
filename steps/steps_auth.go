package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/cucumber/godog"
)

// Numbers of the messages the suite sends on a sandbox (the docs' examples;
// every scenario has its own account, so they never collide).
const (
	WabaID          = "110129512080569"
	SendNumber      = "8618912123456"
	RecipientNumber = "6285234567899"
	DefaultTemplate = "otp_login"
	DefaultLanguage = "en_US"
	// UnassignedNumber is the recipient of every default send on a real
	// target: 999 is a country calling code the ITU has not assigned, so
	// no phone has it, and the digits after 9990 ask the sandbox for no
	// magic outcome. The features' own numbers follow the same rule
	// (features/numbers_test.go).
	UnassignedNumber = "99900612345"
)

// recipientMembers are the members that name whom a send reaches, per
// product (WhatsApp, SMS, OTP).
var recipientMembers = []string{"recipientNumber", "mobile", "to"}

// reachNoOne points a default body at UnassignedNumber on a real target, so
// that no default send of the suite can message a real person there.
func (w *world) reachNoOne(body map[string]any) {
	if w.innosandbox() {
		return
	}
	for _, k := range recipientMembers {
		if _, ok := body[k]; ok {
			body[k] = UnassignedNumber
		}
	}
}

// DefaultMessage is what a send carries unless a step changes it: a
// template message, the realistic first contact with a user.
func DefaultMessage() map[string]any {
	return map[string]any{
		"wabaId": WabaID, "messageType": "template", "sendNumber": SendNumber,
		"recipientNumber": RecipientNumber, "templateName": DefaultTemplate, "language": DefaultLanguage,
		"bodyParams": []any{"245098"},
	}
}

// sendCall is a send as a step shapes it before it is made.
type sendCall struct {
	header http.Header
	body   map[string]any
}

// newSend prepares a send with my app's AppKey and current token.
func (w *world) newSend(ctx context.Context) (*sendCall, error) {
	a, err := w.myApp(ctx)
	if err != nil {
		return nil, err
	}
	body := DefaultMessage()
	w.reachNoOne(body)
	if m := w.s.cfg.Target.Message; len(m) > 0 && !w.innosandbox() {
		body = map[string]any{}
		if err := json.Unmarshal(m, &body); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvMessage, err)
		}
	}
	h := http.Header{}
	h["Content-Type"] = []string{"application/json;charset=utf-8"}
	h["AppKey"] = []string{a.key}
	h["Authorization"] = []string{a.token}
	return &sendCall{header: h, body: body}, nil
}

// send makes the call; its answer is w.last.
func (w *world) send(ctx context.Context, c *sendCall) error {
	body, err := json.Marshal(c.body)
	if err != nil {
		return err
	}
	w.sent = c.body
	return w.callPublic(ctx, http.MethodPost, SubmitPath, c.header, body)
}

func (w *world) callPublic(ctx context.Context, method, path string, h http.Header, body []byte) error {
	ex, err := w.do(ctx, PublicAPI, method, path, h, body)
	w.last, w.lastEnv = ex, nil
	if ex != nil {
		w.lastEnv, _ = ParseEnvelope(ex.Body)
	}
	return err
}

// sendWith prepares a send, lets change shape it (nil: no change) and
// makes it.
func (w *world) sendWith(ctx context.Context, change func(c *sendCall) error) error {
	c, err := w.newSend(ctx)
	if err != nil {
		return err
	}
	if change != nil {
		if err := change(c); err != nil {
			return err
		}
	}
	return w.send(ctx, c)
}

const (
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

// registerAuth binds auth.feature's steps (and the sends and refusals
// other features share).
func (w *world) registerAuth(sc *godog.ScenarioContext) {
	sc.Step(`^my app has a current token$`, w.myAppHasACurrentToken)

	sc.Step(`^I send a message$`, w.iSendAMessage)
	sc.Step(`^I send a message with the (previous|current) token$`, w.iSendAMessageWithTheToken)
	sc.Step(`^I send a message with another app's token$`, w.iSendAMessageWithAnotherAppsToken)
	sc.Step(`^I send a message without the (AppKey|Authorization|Content-Type) header$`, w.iSendAMessageWithoutTheHeader)
	sc.Step(`^I send a message with an empty (AppKey|Authorization|Content-Type) header$`, w.iSendAMessageWithAnEmptyHeader)
	sc.Step(`^I send a message with the (AppKey|Authorization) header given twice$`, w.iSendAMessageWithTheHeaderGivenTwice)
	sc.Step(`^I send a message with a wrong (AppKey|Authorization)$`, w.iSendAMessageWithAWrong)
	sc.Step(`^I send a message with the token prefixed by "Bearer "$`, w.iSendAMessageWithABearerToken)
	sc.Step(`^I send a message with Content-Type "([^"]*)"$`, w.iSendAMessageWithContentType)
	sc.Step(`^I send a message to (\d+) recipients$`, w.iSendAMessageToRecipients)
	sc.Step(`^I send a message to the number "([^"]*)"$`, w.iSendAMessageToTheNumber)
	sc.Step(`^I send a message with an extra field "([^"]+)"$`, w.iSendAMessageWithAnExtraField)
	sc.Step(`^I send a message without the field "([^"]+)"$`, w.iSendAMessageWithoutTheField)
	sc.Step(`^I call (GET|POST|PUT|DELETE|PATCH) "([^"]+)" with my credentials$`, w.iCallWithMyCredentials)

	sc.Step(`^the message is accepted$`, w.messageAccepted)
	sc.Step(`^the call is refused$`, w.theCallIsRefused)
	sc.Step(`^the call is refused with code "([^"]+)"$`, w.theCallIsRefusedWithCode)
	sc.Step(`^the sandbox says why: "([^"]+)"$`, w.sandboxSaysWhy)
	sc.Step(`^the sandbox answers HTTP (\d+)$`, w.theSandboxAnswersHTTP)
	sc.Step(`^the sandbox answers HTTP (\d+) with code "([^"]+)"$`, w.sandboxStatus)
	sc.Step(`^the answer says "([^"]+)"$`, w.theAnswerSays)
	sc.Step(`^the sandbox warns that the field "([^"]+)" is ignored$`, w.theSandboxWarnsThatTheFieldIsIgnored)
	sc.Step(`^the sandbox gave no warning$`, w.theSandboxGaveNoWarning)
}

func (w *world) myAppHasACurrentToken(ctx context.Context) error {
	_, err := w.myApp(ctx)
	return err
}

func (w *world) iSendAMessage(ctx context.Context) error { return w.sendWith(ctx, nil) }

func (w *world) iSendAMessageWithTheToken(ctx context.Context, which string) error {
	return w.sendWith(ctx, func(c *sendCall) error {
		a := w.apps["my app"]
		tok := a.token
		if which == "previous" {
			if a.prev == "" {
				return fmt.Errorf("my app has no previous token: an earlier step must supersede or revoke one")
			}
			tok = a.prev
		}
		c.header["Authorization"] = []string{tok}
		return nil
	})
}

func (w *world) iSendAMessageWithAnotherAppsToken(ctx context.Context) error {
	other, err := w.createApp(ctx, "another app", true)
	if err != nil {
		return err
	}
	return w.sendWith(ctx, func(c *sendCall) error {
		c.header["Authorization"] = []string{other.token}
		return nil
	})
}

func (w *world) iSendAMessageWithoutTheHeader(ctx context.Context, name string) error {
	return w.sendWith(ctx, func(c *sendCall) error { delete(c.header, name); return nil })
}

func (w *world) iSendAMessageWithAnEmptyHeader(ctx context.Context, name string) error {
	return w.sendWith(ctx, func(c *sendCall) error { c.header[name] = []string{""}; return nil })
}

func (w *world) iSendAMessageWithTheHeaderGivenTwice(ctx context.Context, name string) error {
	return w.sendWith(ctx, func(c *sendCall) error { c.header[name] = append(c.header[name], c.header[name]...); return nil })
}

func (w *world) iSendAMessageWithAWrong(ctx context.Context, name string) error {
	return w.sendWith(ctx, func(c *sendCall) error {
		if name == "AppKey" {
			c.header[name] = []string{randomString(alnum, 17)}
		} else {
			c.header[name] = []string{randomString(upperAlnum, 56)}
		}
		return nil
	})
}

func (w *world) iSendAMessageWithABearerToken(ctx context.Context) error {
	return w.sendWith(ctx, func(c *sendCall) error {
		c.header["Authorization"] = []string{"Bearer " + c.header["Authorization"][0]}
		return nil
	})
}

func (w *world) iSendAMessageWithContentType(ctx context.Context, ct string) error {
	return w.sendWith(ctx, func(c *sendCall) error { c.header["Content-Type"] = []string{ct}; return nil })
}

func (w *world) iSendAMessageToRecipients(ctx context.Context, n int) error {
	return w.sendWith(ctx, func(c *sendCall) error {
		nums := make([]string, n)
		for i := range nums {
			nums[i] = fmt.Sprintf("6285%09d", i)
		}
		c.body["recipientNumber"] = strings.Join(nums, ",")
		return nil
	})
}

func (w *world) iSendAMessageToTheNumber(ctx context.Context, number string) error {
	return w.sendWith(ctx, func(c *sendCall) error { c.body["recipientNumber"] = number; return nil })
}

func (w *world) iSendAMessageWithAnExtraField(ctx context.Context, field string) error {
	return w.sendWith(ctx, func(c *sendCall) error { c.body[field] = "x"; return nil })
}

func (w *world) iSendAMessageWithoutTheField(ctx context.Context, field string) error {
	return w.sendWith(ctx, func(c *sendCall) error { delete(c.body, field); return nil })
}

func (w *world) iCallWithMyCredentials(ctx context.Context, method, path string) error {
	c, err := w.newSend(ctx)
	if err != nil {
		return err
	}
	var body []byte
	if method != http.MethodGet && method != http.MethodDelete {
		body = []byte("{}")
	} else {
		delete(c.header, "Content-Type")
	}
	return w.callPublic(ctx, method, path, c.header, body)
}

func (w *world) theCallIsRefused(context.Context) error {
	if w.last == nil {
		return errNoCall
	}
	refused, seen := IsRefused(w.last.Status, w.lastEnv)
	return about(expect(refused, "the call should be refused (HTTP 401/403, or a code other than \"0\"), but it was answered %s", seen), w.last)
}

func (w *world) theCallIsRefusedWithCode(_ context.Context, code string) error {
	if w.last == nil {
		return errNoCall
	}
	if refused, seen := IsRefused(w.last.Status, w.lastEnv); !refused {
		return about(fmt.Errorf("the call should be refused with code %q, but it was answered %s", code, seen), w.last)
	}
	if w.lastEnv == nil {
		return about(fmt.Errorf("the call should be refused with code %q, but the answer is not an envelope", code), w.last)
	}
	return about(expectEqual("the refusal's code", code, w.lastEnv.Code), w.last)
}

func (w *world) theSandboxAnswersHTTP(ctx context.Context, status int) error {
	return w.sandboxStatus(ctx, status, "")
}

func (w *world) theAnswerSays(ctx context.Context, text string) error {
	if w.last == nil {
		return errNoCall
	}
	if w.lastEnv == nil {
		return about(errors.New("the answer is not an envelope"), w.last)
	}
	if err := w.needSandboxChoice(ctx, "the answer's wording"); err != nil {
		return err
	}
	return about(expect(strings.Contains(w.lastEnv.Message, text), "the answer's message should say %q, but it is %q", text, w.lastEnv.Message), w.last)
}

func (w *world) theSandboxWarnsThatTheFieldIsIgnored(ctx context.Context, field string) error {
	text := fmt.Sprintf("unknown field %q ignored", field)
	if w.last == nil {
		return errNoCall
	}
	if err := w.needSandboxChoice(ctx, "X-Sandbox-Warning"); err != nil {
		return err
	}
	got := strings.Join(w.last.Header.Values("X-Sandbox-Warning"), " | ")
	return about(expect(strings.Contains(got, text), "X-Sandbox-Warning should say %q, but it is %q", text, got), w.last)
}

func (w *world) theSandboxGaveNoWarning(ctx context.Context) error {
	if w.last == nil {
		return errNoCall
	}
	if err := w.needSandboxChoice(ctx, "X-Sandbox-Warning"); err != nil {
		return err
	}
	got := w.last.Header.Values("X-Sandbox-Warning")
	return about(expect(len(got) == 0, "every member is known, so X-Sandbox-Warning should be absent, but it is %s", show(got)), w.last)
}

var messageIDRe = regexp.MustCompile(`^[0-9]{18}$`)

// messageAccepted: InnoPaaS documents HTTP 200 with code "0" and the message
// id in data.
func (w *world) messageAccepted(context.Context) error {
	if err := w.accepted("message"); err != nil {
		return err
	}
	id := w.lastEnv.DataString()
	if !messageIDRe.MatchString(id) {
		return about(fmt.Errorf("data should be the 18-digit message id, but it is %q", id), w.last)
	}
	w.messageID = id
	return nil
}

// accepted returns an error unless the last call was accepted as InnoPaaS
// documents it: HTTP 200, the envelope, a success code.
func (w *world) accepted(what string) error {
	switch {
	case w.last == nil:
		return errNoCall
	case w.last.Status != http.StatusOK:
		return about(fmt.Errorf("the %s should be accepted with HTTP 200, but it was answered HTTP %d", what, w.last.Status), w.last)
	case w.lastEnv == nil:
		return about(errors.New("the answer is not an envelope"), w.last)
	case !IsSuccessCode(w.lastEnv.Code):
		return about(fmt.Errorf("the %s should be accepted (code \"0\", or \"000000\" on the OTP send), but the code is %q", what, w.lastEnv.Code), w.last)
	}
	return nil
}

// sandboxSaysWhy checks the sandbox's own refusal: HTTP 401 (or the status
// it was started with), code "102", the one message, and the reason header.
// On a real target the status, code and body are compared with that choice
// and any difference is reported as drift; the header is the sandbox's own.
func (w *world) sandboxSaysWhy(ctx context.Context, reason string) error {
	if w.last == nil {
		return errNoCall
	}
	choice := w.s.cfg.AuthChoice
	if w.innosandbox() {
		diffs := CompareAuthRefusal(choice, reason, true, w.last.Status, w.last.Header, w.lastEnv)
		return about(expect(len(diffs) == 0, "the sandbox's refusal (%s) differs from its choice: %s", reason, strings.Join(diffs, "; ")), w.last)
	}
	choice.Message = "" // the wording is the sandbox's own
	if diffs := CompareAuthRefusal(choice, reason, false, w.last.Status, w.last.Header, w.lastEnv); len(diffs) > 0 {
		text := fmt.Sprintf("refused (%s) with %s", reason, strings.Join(diffs, "; "))
		if w.last.Status == http.StatusOK {
			text += " (start the sandbox with --auth-failure-status 200 to mimic it)"
		}
		w.note(ctx, NoteDrift, text)
	}
	return nil
}

// sandboxStatus checks an HTTP status the sandbox chose (415, 404, 405, ...);
// on a real target a difference is drift.
func (w *world) sandboxStatus(ctx context.Context, status int, code string) error {
	if w.last == nil {
		return errNoCall
	}
	gotCode := "(none)"
	if w.lastEnv != nil {
		gotCode = w.lastEnv.Code
	}
	if w.innosandbox() {
		err := expectEqual("HTTP status", status, w.last.Status)
		if code != "" {
			err = errors.Join(err, expectEqual("code", code, gotCode))
		}
		return about(err, w.last)
	}
	if w.last.Status != status || (code != "" && gotCode != code) {
		w.note(ctx, NoteDrift, fmt.Sprintf("answered HTTP %d with code %q where the sandbox answers HTTP %d%s",
			w.last.Status, gotCode, status, map[bool]string{true: " with code " + strconv.Quote(code)}[code != ""]))
	}
	return nil
}

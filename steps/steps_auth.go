package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Numbers of the messages the suite sends on a sandbox (the docs' examples;
// every scenario has its own account, so they never collide).
const (
	WabaID          = "110129512080569"
	SendNumber      = "8618912123456"
	RecipientNumber = "6285234567899"
	DefaultTemplate = "otp_login"
	DefaultLanguage = "en_US"
)

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

// withSend builds a send step: prepare, let change shape it, make it.
func (w *world) withSend(change func(c *sendCall) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
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

func (w *world) registerAuth(sc *godog.ScenarioContext) {
	sc.Step(`^my app has a current token$`, func(ctx context.Context) error {
		_, err := w.myApp(ctx)
		return err
	})

	sc.Step(`^I send a message$`, w.withSend(nil))
	sc.Step(`^I send a message with the (previous|current) token$`, func(ctx context.Context, which string) error {
		return w.withSend(func(c *sendCall) error {
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
		})(ctx)
	})
	sc.Step(`^I send a message with another app's token$`, func(ctx context.Context) error {
		other, err := w.createApp(ctx, "another app", true)
		if err != nil {
			return err
		}
		return w.withSend(func(c *sendCall) error {
			c.header["Authorization"] = []string{other.token}
			return nil
		})(ctx)
	})
	sc.Step(`^I send a message without the (AppKey|Authorization|Content-Type) header$`, func(ctx context.Context, name string) error {
		return w.withSend(func(c *sendCall) error { delete(c.header, name); return nil })(ctx)
	})
	sc.Step(`^I send a message with an empty (AppKey|Authorization|Content-Type) header$`, func(ctx context.Context, name string) error {
		return w.withSend(func(c *sendCall) error { c.header[name] = []string{""}; return nil })(ctx)
	})
	sc.Step(`^I send a message with the (AppKey|Authorization) header given twice$`, func(ctx context.Context, name string) error {
		return w.withSend(func(c *sendCall) error { c.header[name] = append(c.header[name], c.header[name]...); return nil })(ctx)
	})
	sc.Step(`^I send a message with a wrong (AppKey|Authorization)$`, func(ctx context.Context, name string) error {
		return w.withSend(func(c *sendCall) error {
			if name == "AppKey" {
				c.header[name] = []string{randomString(alnum, 17)}
			} else {
				c.header[name] = []string{randomString(upperAlnum, 56)}
			}
			return nil
		})(ctx)
	})
	sc.Step(`^I send a message with the token prefixed by "Bearer "$`, func(ctx context.Context) error {
		return w.withSend(func(c *sendCall) error {
			c.header["Authorization"] = []string{"Bearer " + c.header["Authorization"][0]}
			return nil
		})(ctx)
	})
	sc.Step(`^I send a message with Content-Type "([^"]*)"$`, func(ctx context.Context, ct string) error {
		return w.withSend(func(c *sendCall) error { c.header["Content-Type"] = []string{ct}; return nil })(ctx)
	})
	sc.Step(`^I send a message to (\d+) recipients$`, func(ctx context.Context, n int) error {
		return w.withSend(func(c *sendCall) error {
			nums := make([]string, n)
			for i := range nums {
				nums[i] = fmt.Sprintf("6285%09d", i)
			}
			c.body["recipientNumber"] = strings.Join(nums, ",")
			return nil
		})(ctx)
	})
	sc.Step(`^I send a message to the number "([^"]*)"$`, func(ctx context.Context, number string) error {
		return w.withSend(func(c *sendCall) error { c.body["recipientNumber"] = number; return nil })(ctx)
	})
	sc.Step(`^I send a message with an extra field "([^"]+)"$`, func(ctx context.Context, field string) error {
		return w.withSend(func(c *sendCall) error { c.body[field] = "x"; return nil })(ctx)
	})
	sc.Step(`^I send a message without the field "([^"]+)"$`, func(ctx context.Context, field string) error {
		return w.withSend(func(c *sendCall) error { delete(c.body, field); return nil })(ctx)
	})
	sc.Step(`^I call (GET|POST|PUT|DELETE|PATCH) "([^"]+)" with my credentials$`, func(ctx context.Context, method, path string) error {
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
	})

	sc.Step(`^the message is accepted$`, w.messageAccepted)
	sc.Step(`^the call is refused$`, func(ctx context.Context) error {
		t := tOf(ctx)
		require.NotNil(t, w.last, "no call was made")
		refused, seen := IsRefused(w.last.Status, w.lastEnv)
		assert.True(t, refused, "the call should be refused (HTTP 401/403, or a code other than \"0\"), but it was answered %s: %s", seen, w.last.Summary())
		return nil
	})
	sc.Step(`^the call is refused with code "([^"]+)"$`, func(ctx context.Context, code string) error {
		t := tOf(ctx)
		require.NotNil(t, w.last, "no call was made")
		refused, seen := IsRefused(w.last.Status, w.lastEnv)
		require.True(t, refused, "the call should be refused with code %q, but it was answered %s: %s", code, seen, w.last.Summary())
		assert.Equal(t, code, w.lastEnv.Code, "the refusal's code: %s", w.last.Summary())
		return nil
	})
	sc.Step(`^the sandbox says why: "([^"]+)"$`, w.sandboxSaysWhy)
	sc.Step(`^the sandbox answers HTTP (\d+)$`, func(ctx context.Context, status int) error {
		return w.sandboxStatus(ctx, status, "")
	})
	sc.Step(`^the sandbox answers HTTP (\d+) with code "([^"]+)"$`, w.sandboxStatus)
	sc.Step(`^the answer says "([^"]+)"$`, func(ctx context.Context, text string) error {
		t := tOf(ctx)
		require.NotNil(t, w.last, "no call was made")
		require.NotNil(t, w.lastEnv, "the answer is not an envelope: %s", w.last.Summary())
		if err := w.needSandboxChoice(ctx, "the answer's wording"); err != nil {
			return err
		}
		assert.Contains(t, w.lastEnv.Message, text, "the answer's message: %s", w.last.Summary())
		return nil
	})
	sc.Step(`^the sandbox warns that the field "([^"]+)" is ignored$`, func(ctx context.Context, field string) error {
		text := fmt.Sprintf("unknown field %q ignored", field)
		t := tOf(ctx)
		require.NotNil(t, w.last, "no call was made")
		if err := w.needSandboxChoice(ctx, "X-Sandbox-Warning"); err != nil {
			return err
		}
		assert.Contains(t, strings.Join(w.last.Header.Values("X-Sandbox-Warning"), " | "), text, "X-Sandbox-Warning: %s", w.last.Summary())
		return nil
	})
}

var messageIDRe = regexp.MustCompile(`^[0-9]{18}$`)

// messageAccepted: InnoPaaS documents HTTP 200 with code "0" and the message
// id in data.
func (w *world) messageAccepted(ctx context.Context) error {
	t := tOf(ctx)
	w.requireAccepted(t, "message")
	id := w.lastEnv.DataString()
	require.Regexp(t, messageIDRe, id, "data should be the 18-digit message id: %s", w.last.Summary())
	w.messageID = id
	return nil
}

// requireAccepted stops the step unless the last call was accepted as
// InnoPaaS documents it: HTTP 200, the envelope, code "0".
func (w *world) requireAccepted(t godog.TestingT, what string) {
	require.NotNil(t, w.last, "no call was made")
	require.Equal(t, http.StatusOK, w.last.Status, "the %s should be accepted: %s", what, w.last.Summary())
	require.NotNil(t, w.lastEnv, "the answer is not an envelope: %s", w.last.Summary())
	require.Equal(t, "0", w.lastEnv.Code, "the %s should be accepted: %s", what, w.last.Summary())
}

// sandboxSaysWhy checks the sandbox's own refusal: HTTP 401 (or the status
// it was started with), code "102", the one message, and the reason header.
// On a real target the status, code and body are compared with that choice
// and any difference is reported as drift; the header is the sandbox's own.
func (w *world) sandboxSaysWhy(ctx context.Context, reason string) error {
	t := tOf(ctx)
	require.NotNil(t, w.last, "no call was made")
	choice := w.s.cfg.AuthChoice
	if w.innosandbox() {
		diffs := CompareAuthRefusal(choice, reason, true, w.last.Status, w.last.Header, w.lastEnv)
		assert.Empty(t, diffs, "the sandbox's refusal (%s): %s", reason, w.last.Summary())
		return nil
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
	t := tOf(ctx)
	require.NotNil(t, w.last, "no call was made")
	gotCode := "(none)"
	if w.lastEnv != nil {
		gotCode = w.lastEnv.Code
	}
	if w.innosandbox() {
		assert.Equal(t, status, w.last.Status, "HTTP status: %s", w.last.Summary())
		if code != "" {
			assert.Equal(t, code, gotCode, "code: %s", w.last.Summary())
		}
		return nil
	}
	if w.last.Status != status || (code != "" && gotCode != code) {
		w.note(ctx, NoteDrift, fmt.Sprintf("answered HTTP %d with code %q where the sandbox answers HTTP %d%s",
			w.last.Status, gotCode, status, map[bool]string{true: " with code " + strconv.Quote(code)}[code != ""]))
	}
	return nil
}

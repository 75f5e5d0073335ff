package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cucumber/godog"

	"github.com/innosandbox/innosandbox/internal/signing"
)

// Steps that replay real clients' requests (features/clients.feature):
// headers and bodies exactly as a client writes them, and what the client
// needs to find in the answer to see success.

// signedOTPMembers are the body members the newer OTP client signs,
// besides appKey, nonce and timestamp.
var signedOTPMembers = []string{"code", "language", "to", "type", "sender"}

// registerClients binds clients.feature's steps.
func (w *world) registerClients(sc *godog.ScenarioContext) {
	sc.Step(`^my app has a secret for signed requests$`, w.myAppHasASecretForSignedRequests)
	sc.Step(`^my WABA's template group "([^"]+)" holds "([^"]+)" in "([^"]+)"$`, w.myWABAsTemplateGroupHolds)
	sc.Step(`^the client's headers are:$`, w.theClientsHeadersAre)
	sc.Step(`^it sends POST "([^"]+)" with:$`, w.itSendsPOSTWith)
	sc.Step(`^the newer OTP client signs and sends:$`, w.theNewerOTPClientSignsAndSends)
	sc.Step(`^the answer's code is "([^"]+)"$`, w.theAnswersCodeIs)
	sc.Step(`^the answer's data is a string$`, w.theAnswersDataIsAString)
	sc.Step(`^the answer's data is an object whose "([^"]+)" is a string$`, w.theAnswersDataIsAnObjectWithAString)
}

func (w *world) myAppHasASecretForSignedRequests(ctx context.Context) error {
	a, err := w.myApp(ctx)
	if err != nil {
		return err
	}
	var out struct {
		Secret string `json:"secret"`
	}
	if _, err := w.control(ctx, http.MethodPost, "/_sandbox/apps/"+url.PathEscape(a.key)+"/secret", nil, &out, http.StatusCreated); err != nil {
		return err
	}
	w.secret = out.Secret
	return nil
}

func (w *world) myWABAsTemplateGroupHolds(ctx context.Context, group, name, lang string) error {
	if err := w.ensureAccount(ctx); err != nil {
		return err
	}
	in := map[string]any{"templates": []map[string]string{{"name": name, "language": lang}}}
	_, err := w.control(ctx, http.MethodPut, "/_sandbox/template-groups/"+url.PathEscape(WabaID)+"/"+url.PathEscape(group), in, nil, http.StatusOK)
	return err
}

func (w *world) theClientsHeadersAre(ctx context.Context, table *godog.Table) error {
	a, err := w.myApp(ctx)
	if err != nil {
		return err
	}
	w.clientHeader = http.Header{}
	for _, row := range table.Rows {
		if len(row.Cells) != 2 {
			return fmt.Errorf("a header row has a name and a value, got %d cells", len(row.Cells))
		}
		v := strings.NewReplacer("<my app>", a.key, "<my token>", a.token).Replace(row.Cells[1].Value)
		// As the client spells it: a receiver of the request sees it
		// canonicalised anyway, but the replay should say what was sent.
		w.clientHeader[row.Cells[0].Value] = append(w.clientHeader[row.Cells[0].Value], v)
	}
	return nil
}

func (w *world) itSendsPOSTWith(ctx context.Context, path string, doc *godog.DocString) error {
	if w.clientHeader == nil {
		return fmt.Errorf("no client headers: a step 'the client's headers are:' comes first")
	}
	return w.clientSend(ctx, path, w.clientHeader, []byte(doc.Content))
}

func (w *world) theNewerOTPClientSignsAndSends(ctx context.Context, doc *godog.DocString) error {
	a, err := w.myApp(ctx)
	if err != nil {
		return err
	}
	if w.secret == "" {
		return fmt.Errorf("my app has no secret: a step 'my app has a secret for signed requests' comes first")
	}
	now, err := w.clockNow(ctx)
	if err != nil {
		return err
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(doc.Content), &body); err != nil {
		return fmt.Errorf("the body is not a JSON object: %w", err)
	}
	members := map[string]string{}
	for _, k := range signedOTPMembers {
		if s, ok := body[k].(string); ok {
			members[k] = s
		}
	}
	// That client sends its timestamp as the nonce too.
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	h := http.Header{"Content-Type": {"application/json"}}
	h["x-appKey"], h["x-nonce"], h["x-timestamp"] = []string{a.key}, []string{ts}, []string{ts}
	h["x-signature"] = []string{signing.Sign(signing.Params(a.key, ts, ts, members), w.secret)}
	return w.clientSend(ctx, OTPPath, h, []byte(doc.Content))
}

// envelope returns the last call's envelope, or an error naming the answer.
func (w *world) envelope() (*Envelope, error) {
	if w.lastEnv == nil {
		return nil, about(errors.New("no envelope in the answer"), w.last)
	}
	return w.lastEnv, nil
}

func (w *world) theAnswersCodeIs(_ context.Context, code string) error {
	env, err := w.envelope()
	if err != nil {
		return err
	}
	return about(expectEqual("code", code, env.Code), w.last)
}

func (w *world) theAnswersDataIsAString(context.Context) error {
	env, err := w.envelope()
	if err != nil {
		return err
	}
	var s string
	if err := json.Unmarshal(env.Data, &s); err != nil {
		return about(fmt.Errorf("data should decode as a string: %w", err), w.last)
	}
	return about(expect(s != "", "data should be a non-empty string, but it is empty"), w.last)
}

func (w *world) theAnswersDataIsAnObjectWithAString(_ context.Context, member string) error {
	env, err := w.envelope()
	if err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(env.Data, &m); err != nil {
		return about(fmt.Errorf("data should decode as an object: %w", err), w.last)
	}
	var s string
	if err := json.Unmarshal(m[member], &s); err != nil {
		return about(fmt.Errorf("data.%s should be a string: %w", member, err), w.last)
	}
	return about(expect(s != "", "data.%s should be a non-empty string, but it is empty", member), w.last)
}

// clientSend makes a public call exactly as a client shaped it; its answer
// is w.last.
func (w *world) clientSend(ctx context.Context, path string, h http.Header, body []byte) error {
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		w.sent = m
	}
	return w.callPublic(ctx, http.MethodPost, path, h, body)
}

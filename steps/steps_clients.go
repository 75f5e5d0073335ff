package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/signing"
)

// Steps that replay real clients' requests (features/clients.feature):
// headers and bodies exactly as a client writes them, and what the client
// needs to find in the answer to see success.

// signedOTPMembers are the body members the newer OTP client signs,
// besides appKey, nonce and timestamp.
var signedOTPMembers = []string{"code", "language", "to", "type", "sender"}

func (w *world) registerClients(sc *godog.ScenarioContext) {
	sc.Step(`^my app has a secret for signed requests$`, func(ctx context.Context) error {
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
	})
	sc.Step(`^my WABA's template group "([^"]+)" holds "([^"]+)" in "([^"]+)"$`, func(ctx context.Context, group, name, lang string) error {
		if err := w.ensureAccount(ctx); err != nil {
			return err
		}
		in := map[string]any{"templates": []map[string]string{{"name": name, "language": lang}}}
		_, err := w.control(ctx, http.MethodPut, "/_sandbox/template-groups/"+url.PathEscape(WabaID)+"/"+url.PathEscape(group), in, nil, http.StatusOK)
		return err
	})
	sc.Step(`^the client's headers are:$`, func(ctx context.Context, table *godog.Table) error {
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
	})
	sc.Step(`^it sends POST "([^"]+)" with:$`, func(ctx context.Context, path string, doc *godog.DocString) error {
		if w.clientHeader == nil {
			return fmt.Errorf("no client headers: a step 'the client's headers are:' comes first")
		}
		return w.clientSend(ctx, path, w.clientHeader, []byte(doc.Content))
	})
	sc.Step(`^the newer OTP client signs and sends:$`, func(ctx context.Context, doc *godog.DocString) error {
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
	})
	sc.Step(`^the answer's code is "([^"]+)"$`, func(ctx context.Context, code string) error {
		t := godog.T(ctx)
		require.NotNil(t, w.lastEnv, "no envelope: %s", w.last.Summary())
		assert.Equal(t, code, w.lastEnv.Code, "code: %s", w.last.Summary())
		return nil
	})
	sc.Step(`^the answer's data is a string$`, func(ctx context.Context) error {
		t := godog.T(ctx)
		require.NotNil(t, w.lastEnv, "no envelope: %s", w.last.Summary())
		var s string
		require.NoError(t, json.Unmarshal(w.lastEnv.Data, &s), "data should decode as a string: %s", w.last.Summary())
		assert.NotEmpty(t, s)
		return nil
	})
	sc.Step(`^the answer's data is an object whose "([^"]+)" is a string$`, func(ctx context.Context, member string) error {
		t := godog.T(ctx)
		require.NotNil(t, w.lastEnv, "no envelope: %s", w.last.Summary())
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(w.lastEnv.Data, &m), "data should decode as an object: %s", w.last.Summary())
		var s string
		require.NoError(t, json.Unmarshal(m[member], &s), "data.%s should be a string: %s", member, w.last.Summary())
		assert.NotEmpty(t, s)
		return nil
	})
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

package steps

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpectEqualSaysWhatWasExpectedAndWhatCame(t *testing.T) {
	s := "x"
	tests := []struct {
		name      string
		want, got any
		msg       string // "" when equal
	}{
		{"equal strings", "0", "0", ""},
		{"strings quoted", "102", "0", `code: expected "102", got "0"`},
		{"numbers", 403, 401, "code: expected 403, got 401"},
		{"lists", []string{"a"}, []string{"a", "b"}, `code: expected ["a"], got ["a", "b"]`},
		{"pointers followed", &s, (*string)(nil), `code: expected "x", got none`},
		{"pointees compared", &s, new(string), `code: expected "x", got ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := expectEqual("code", tt.want, tt.got)
			if tt.msg == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tt.msg)
		})
	}
}

func TestAboutFollowsTheErrorWithTheCall(t *testing.T) {
	ex := &Exchange{Method: http.MethodPost, URL: "http://127.0.0.1:1/x", Status: 401, Body: []byte(`{"code":"102"}`)}
	assert.NoError(t, about(nil, ex))
	assert.EqualError(t, about(expect(false, "refused"), ex), "refused\n(POST http://127.0.0.1:1/x answered HTTP 401: {\"code\":\"102\"})")
}

// A step that judges a call fails with what it expected, what came and the
// call; with no call it says so.
func TestJudgingStepsFailWithTheCall(t *testing.T) {
	w := &world{s: &Suite{cfg: Config{Target: Target{Kind: KindSandbox}}}}
	assert.ErrorIs(t, w.theCallIsRefused(context.Background()), errNoCall)

	body := []byte(`{"code":"0","message":"success","data":"123456789012345678"}`)
	w.last = &Exchange{Method: http.MethodPost, URL: "http://127.0.0.1:1" + SubmitPath, Status: 200, Body: body}
	var err error
	w.lastEnv, err = ParseEnvelope(body)
	require.NoError(t, err)

	err = w.theCallIsRefused(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `the call should be refused`)
	assert.Contains(t, err.Error(), `code "0"`)
	assert.Contains(t, err.Error(), "answered HTTP 200")

	err = w.sandboxStatus(context.Background(), 415, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HTTP status: expected 415, got 200")

	assert.NoError(t, w.messageAccepted(context.Background()))
	assert.Equal(t, "123456789012345678", w.messageID)
	assert.NoError(t, w.theAnswersCodeIs(context.Background(), "0"))
	assert.EqualError(t, w.theAnswersCodeIs(context.Background(), "102"),
		"code: expected \"102\", got \"0\"\n(POST http://127.0.0.1:1"+SubmitPath+" answered HTTP 200: "+string(body)+")")
}

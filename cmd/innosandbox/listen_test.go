package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/syncbuf"
)

var bannerURL = regexp.MustCompile(`receiving webhooks on (http://\S+)`)

// TestListenCommand runs `innosandbox listen` as a user would (flags and
// environment), pushes one webhook at it and stops it as SIGTERM would.
func TestListenCommand(t *testing.T) {
	t.Setenv("INNOSANDBOX_EXPECT_USERNAME", "acme")
	var stdout, stderr syncbuf.Buffer
	root := newRoot()
	root.SetArgs([]string{"listen", "--addr", "127.0.0.1:0", "--path", "/hook", "--format", "json"})
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	var url string
	require.Eventually(t, func() bool {
		m := bannerURL.FindStringSubmatch(stderr.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 10*time.Second, 10*time.Millisecond, "no banner: %s", stderr.String())
	assert.Contains(t, stderr.String(), "checking: payloads against the contract, UserName")

	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"id":"e1","type":"whatsapp_mo_message_received","eventTime":"2026-11-27T18:00:00.000Z","body":{"type":"text","text":{"body":"hi"}}}`))
	require.NoError(t, err)
	req.Header["UserName"] = []string{"acme"}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the expected UserName came from the environment")

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("listen did not stop when its context ended")
	}
	assert.Contains(t, stderr.String(), "innosandbox listen: stopped")

	var rec struct {
		Path        string `json:"path"`
		EventID     string `json:"eventId"`
		Contract    struct{ Result, Detail string }
		Credentials struct{ Result string }
	}
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(stdout.String())), &rec), stdout.String())
	assert.Equal(t, "/hook", rec.Path)
	assert.Equal(t, "e1", rec.EventID)
	assert.Equal(t, "FAIL", rec.Contract.Result, "an MO body without its required fields breaks the contract")
	assert.Contains(t, rec.Contract.Detail, "accountName")
	assert.Equal(t, "PASS", rec.Credentials.Result)
}

func TestListenRefusesABadConfiguration(t *testing.T) {
	for _, args := range [][]string{
		{"listen", "--format", "yaml"},
		{"listen", "--status", "99"},
		{"listen", "--forward", "localhost:3000"},
		{"listen", "--addr", "127.0.0.1:notaport"},
	} {
		_, _, err := runCLI(t, args...)
		assert.Error(t, err, "%v", args)
	}
}

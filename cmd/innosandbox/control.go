package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// controlClient calls a running sandbox's control API for the commands
// that drive one (trigger, replay).
type controlClient struct {
	sandbox    string // base URL
	account    string // X-Sandbox-Account, when set
	adminToken string // X-Sandbox-Admin-Token, when set; never printed
	// accountToken is X-Sandbox-Account-Token, when set; never printed.
	// It confines every call to its account.
	accountToken string
	timeout      time.Duration
}

// controlHTTP is the control client's HTTP client. It follows no redirect:
// a redirect would carry the admin token's call somewhere the user did not
// name (and Go drops custom headers on a redirect to another host only).
// It uses no proxy: HTTP_PROXY is meant for the outside world, and a proxy
// would see the token of a sandbox that is usually on loopback.
var controlHTTP = &http.Client{
	Transport: func() http.RoundTripper {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil
		return t
	}(),
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// do sends one control call and returns the answer's status and body.
// Errors say what to check: the sandbox's address, or its answer time.
func (c controlClient) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	url := strings.TrimSuffix(c.sandbox, "/") + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("--sandbox %q: %w", c.sandbox, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.account != "" {
		req.Header.Set("X-Sandbox-Account", c.account)
	}
	if c.adminToken != "" {
		req.Header.Set("X-Sandbox-Admin-Token", c.adminToken)
	}
	if c.accountToken != "" {
		req.Header.Set("X-Sandbox-Account-Token", c.accountToken)
	}
	resp, err := controlHTTP.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, nil, fmt.Errorf("%s: no answer within %s", url, c.timeout)
		}
		return 0, nil, fmt.Errorf("is the sandbox running at %s? %w", c.sandbox, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return 0, nil, fmt.Errorf("%s answered a redirect (HTTP %d to %q); the control client follows none: give --sandbox the sandbox's own URL",
			url, resp.StatusCode, resp.Header.Get("Location"))
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("%s: reading the answer: %w", url, err)
	}
	return resp.StatusCode, answer, nil
}

// refused prints a refusal's message (the envelope's, else the body) for a
// command and returns exit status 1.
func refused(stderr io.Writer, command string, status int, answer []byte) error {
	var env struct{ Message string }
	if json.Unmarshal(answer, &env) != nil || env.Message == "" {
		env.Message = strings.TrimSpace(string(answer))
	}
	fmt.Fprintf(stderr, "innosandbox %s: the sandbox refused (HTTP %d): %s\n", command, status, env.Message)
	return exitError{code: 1}
}

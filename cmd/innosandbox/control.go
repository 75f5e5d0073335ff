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
	timeout    time.Duration
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, nil, fmt.Errorf("%s: no answer within %s", url, c.timeout)
		}
		return 0, nil, fmt.Errorf("is the sandbox running at %s? %w", c.sandbox, err)
	}
	defer resp.Body.Close()
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

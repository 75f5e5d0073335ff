package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// The container image has no shell and no curl, so its HEALTHCHECK runs the
// binary itself: `innosandbox healthcheck` asks /healthz and exits 0 when it
// answers 200 in time, 1 otherwise (the two codes a container engine reads).
func newHealthcheckCmd() *cobra.Command {
	var (
		target  string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when a sandbox (or listener) answers its health URL with 200; for container health checks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := probeHealth(cmd.Context(), target, timeout); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "unhealthy:", err)
				return exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&target, "url", "http://127.0.0.1:8080/healthz", "health URL to ask")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Second, "how long the whole answer may take")
	return cmd
}

// healthClient goes straight to the URL: a health probe of a local process
// must not pass through a proxy from the environment, nor follow redirects.
var healthClient = &http.Client{
	Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// probeHealth returns nil when url answers 200 within timeout.
func probeHealth(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("--url %q: %w", url, err)
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s: no answer within %s", url, timeout)
		}
		return err
	}
	defer resp.Body.Close()
	excerpt, err := io.ReadAll(io.LimitReader(resp.Body, 512))
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d: %s", url, resp.StatusCode, excerpt)
	}
	return nil
}

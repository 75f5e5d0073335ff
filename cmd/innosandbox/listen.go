package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/innosandbox/innosandbox/internal/listen"
	"github.com/innosandbox/innosandbox/spec"
)

// listenOptions are the flags of `innosandbox listen`.
type listenOptions struct {
	addr                string
	path                string
	status              int
	expectUserName      string
	expectAuthorization string
	forward             string
	forwardTimeout      time.Duration
	format              string
	validate            bool
	specPath            string
	showSecrets         bool
	healthPath          string
	shutdownTimeout     time.Duration
}

func newListenCmd() *cobra.Command {
	o := &listenOptions{}
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Receive webhooks locally: print them, check them against the contract, optionally forward them",
		Long: `Receive the webhooks a sandbox (or InnoPaaS) pushes, and print each one: time,
method, path, headers (Authorization masked), event type and id, and the body.

With --validate (the default) each payload is checked against its event type's
schema in the contract. With --expect-username / --expect-authorization the
credential headers are checked too, and a push that differs is answered 401:
test your own credentials wiring before your app does. With --forward each
push is re-sent to your app and the sender gets your app's answer.

Records go to standard output (one JSON object a line with --format json, for
jq); start-up and shutdown messages go to standard error.

Every flag can also be set from the environment: --forward from
INNOSANDBOX_FORWARD, --expect-authorization from INNOSANDBOX_EXPECT_AUTHORIZATION,
and so on.`,
		Example: `  innosandbox listen --path /hook
  innosandbox listen --expect-username acme --expect-authorization "$TOKEN"
  innosandbox listen --forward http://127.0.0.1:3000/webhooks/innopaas
  innosandbox listen --format json | jq 'select(.contract.result == "FAIL")'`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runListen(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:9000", "address to listen on")
	f.StringVar(&o.path, "path", "/", "path pushes arrive on; one ending in / takes every path below it")
	f.IntVar(&o.status, "status", http.StatusOK, "HTTP status to answer a push with when not forwarding (try 500 to watch retries)")
	f.StringVar(&o.expectUserName, "expect-username", "", "answer 401 unless the UserName header equals this")
	f.StringVar(&o.expectAuthorization, "expect-authorization", "", "answer 401 unless the Authorization header equals this")
	f.StringVar(&o.forward, "forward", "", "re-send every push (same method, body and headers) to this URL and answer with its status")
	f.DurationVar(&o.forwardTimeout, "forward-timeout", 10*time.Second, "how long a forward may take before the push is answered 502")
	f.StringVar(&o.format, "format", listen.FormatPretty, "output: pretty, or json (one object a line)")
	f.BoolVar(&o.validate, "validate", true, "check every payload against its event type's schema (--validate=false to turn off)")
	f.StringVar(&o.specPath, "spec", "", "use this InnoPaaS spec file instead of the embedded one")
	f.BoolVar(&o.showSecrets, "show-secrets", false, "print the Authorization header and an SMS report's pswd in full instead of masked (their last 4 characters at most)")
	f.StringVar(&o.healthPath, "health-path", "/healthz", `answer GET and HEAD here with 200 without printing (for health checks; "" to turn off)`)
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGTERM, how long to finish pushes in flight")
	return cmd
}

func runListen(ctx context.Context, o *listenOptions, stdout, stderr io.Writer) error {
	var sp *spec.Spec
	if o.validate {
		var err error
		if sp, err = spec.Load(ctx, spec.Sources{PublicPath: o.specPath}); err != nil {
			return err
		}
	}
	rc, err := listen.New(listen.Config{
		Path: o.path, Status: o.status, ExpectUserName: o.expectUserName, ExpectAuthorization: o.expectAuthorization,
		Forward: o.forward, ForwardTimeout: o.forwardTimeout, Spec: sp, Format: o.format,
		ShowSecrets: o.showSecrets, HealthPath: o.healthPath, Out: stdout,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", o.addr, err)
	}
	printListenBanner(stderr, ln.Addr(), o)
	err = listen.Serve(ctx, ln, rc, o.shutdownTimeout)
	fmt.Fprintln(stderr, "innosandbox listen: stopped")
	return err
}

// printListenBanner says where to point the callback and what is checked.
// It goes to standard error so that --format json output stays pure.
func printListenBanner(w io.Writer, addr net.Addr, o *listenOptions) {
	path := o.path
	if path == "" {
		path = "/"
	}
	var checks []string
	if o.validate {
		checks = append(checks, "payloads against the contract")
	}
	if o.expectUserName != "" {
		checks = append(checks, "UserName")
	}
	if o.expectAuthorization != "" {
		checks = append(checks, "Authorization")
	}
	if len(checks) == 0 {
		checks = append(checks, "nothing")
	}
	fmt.Fprintf(w, "innosandbox %s listen: receiving webhooks on http://%s%s\n", version, bannerHost(addr), path)
	fmt.Fprintf(w, "  checking: %s\n", strings.Join(checks, ", "))
	if o.forward != "" {
		fmt.Fprintf(w, "  forwarding to: %s (the sender gets its answer)\n", o.forward)
	} else {
		fmt.Fprintf(w, "  answering: %d\n", o.status)
	}
	fmt.Fprintf(w, "  Configure it as the callback URL of a sandbox app, e.g.:\n    curl -s -X POST http://127.0.0.1:8080/_sandbox/apps/APPKEY/webhooks -H 'Content-Type: application/json' \\\n      -d '{\"product\":\"whatsapp\",\"url\":\"http://%s%s\",\"events\":[\"whatsapp_message_status_updated\",\"whatsapp_mo_message_received\"]}'\n\n", bannerHost(addr), path)
}

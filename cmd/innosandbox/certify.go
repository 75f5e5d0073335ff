package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/innosandbox/innosandbox/certify"
	"github.com/innosandbox/innosandbox/spec"
)

// certifyOptions are the flags of `innosandbox certify`.
type certifyOptions struct {
	url, method, username, authorization, product string
	events                                        []string
	timeout                                       time.Duration
	insecure                                      bool
	caFile                                        string
	reportHTML, junit, json                       string
	latencyPushes, burst, rate, concurrency       int
	dryRun                                        bool
}

func newCertifyCmd() *cobra.Command {
	o := &certifyOptions{}
	cmd := &cobra.Command{
		Use:   "certify",
		Short: "Certify a partner's webhook endpoint: push every subscribed InnoPaaS event at it and grade the answers",
		Long: `Run the certification checks (features/certification) against a partner's webhook
endpoint: InnoPaaS events built from the contract's examples are pushed to --url with the
configured method and UserName/Authorization headers, and each check is graded with its
evidence: every subscribed event accepted, pushes without or with wrong credentials
refused, answers within the time limit, duplicates, reports out of order, unknown fields,
a large payload and a burst accepted, no redirects, small answers that never echo the
credentials, HTTPS with a valid certificate.

Pushes go only to --url; their number and rate are bounded and printed before the run;
redirects are never followed; environment proxies are not used.

The exit status is 0 only when every required check passed (or does not apply), 1 when
the endpoint is not certified, 2 when the run could not be made (a bad flag, an unreadable
--ca-file, an unwritable report).

Every flag can also be set from the environment: --authorization from
INNOSANDBOX_AUTHORIZATION (which keeps the secret out of the process list), and so on.`,
		Example: `  innosandbox certify --url https://partner.example/innopaas/webhook --username acme --authorization "$TOKEN"
  innosandbox certify --url http://127.0.0.1:9000/hook --insecure --report-html report.html --junit report.xml --json report.json
  innosandbox certify --url https://partner.example/sms --product sms --events sms_status_report --method PUT`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCertify(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "", "the partner's webhook URL (required); nothing is sent anywhere else")
	f.StringVar(&o.method, "method", "POST", "the method configured for the webhook: POST or PUT")
	f.StringVar(&o.username, "username", "", "the UserName configured for the webhook, sent as the UserName header")
	f.StringVar(&o.authorization, "authorization", "", "the Authorization configured for the webhook, sent as the Authorization header (masked in every output)")
	f.StringVar(&o.product, "product", "whatsapp", "the product whose events are pushed: whatsapp, sms or otp")
	f.StringSliceVar(&o.events, "events", nil, "the event types the webhook subscribes to, comma-separated (default: all of the product's)")
	f.DurationVar(&o.timeout, "timeout", certify.DefaultTimeout, "the time limit an answer must come within (judged on the 95th percentile)")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain HTTP and a certificate that does not verify (CERT-TLS-01 is then reported as allowed)")
	f.StringVar(&o.caFile, "ca-file", "", "verify the endpoint's certificate against the PEM certificates in this file (a private CA) instead of the system's roots")
	f.StringVar(&o.reportHTML, "report-html", "", "write the report for the partner to this HTML file (one self-contained page)")
	f.StringVar(&o.junit, "junit", "", "write the report as JUnit XML to this file")
	f.StringVar(&o.json, "json", "", "write the report as JSON to this file")
	f.IntVar(&o.latencyPushes, "latency-pushes", certify.DefaultLatencyPushes, "pushes timed one after another for the time-limit check")
	f.IntVar(&o.burst, "burst", certify.DefaultBurst, "pushes sent at once for the burst check")
	f.IntVar(&o.rate, "rate", certify.DefaultRate, "at most this many pushes in any one second")
	f.IntVar(&o.concurrency, "concurrency", certify.DefaultConcurrency, "at most this many pushes in flight outside the burst check")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would be sent, and send nothing")
	return cmd
}

func runCertify(ctx context.Context, o *certifyOptions, stdout, stderr io.Writer) error {
	sp, err := spec.Load(ctx, spec.Sources{})
	if err != nil {
		return err
	}
	opts := certify.Options{
		URL: o.url, Method: o.method, UserName: o.username, Authorization: o.authorization,
		Product: o.product, Events: o.events, Timeout: o.timeout, Insecure: o.insecure,
		LatencyPushes: o.latencyPushes, Burst: o.burst, Rate: o.rate, Concurrency: o.concurrency,
		Spec: sp, ToolVersion: version,
	}
	if o.timeout <= 0 {
		return fmt.Errorf("--timeout %s: use a duration above 0, such as 3s", o.timeout)
	}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return fmt.Errorf("--ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--ca-file %s: no PEM certificate in it", o.caFile)
		}
		opts.RootCAs = pool
	}
	reports := []struct {
		flag, path string
		write      func(io.Writer, *certify.Result) error
	}{
		{"--report-html", o.reportHTML, certify.WriteHTML},
		{"--junit", o.junit, certify.WriteJUnit},
		{"--json", o.json, certify.WriteJSON},
	}
	for _, r := range reports {
		if r.path == "" {
			continue
		}
		if fi, err := os.Stat(filepath.Dir(r.path)); err != nil || !fi.IsDir() {
			return fmt.Errorf("%s %s: its folder does not exist", r.flag, r.path)
		}
	}
	if o.dryRun {
		plan, err := certify.Prepare(opts)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "innosandbox certify (dry run, nothing sent): %s\n", plan.Bounds())
		for _, c := range certifyChecks(plan) {
			fmt.Fprintln(stdout, "  "+c)
		}
		return nil
	}
	opts.Progress = certify.NewProgress(stderr, onTerminal(stderr))
	res, err := certify.Run(ctx, opts)
	if err != nil {
		if res != nil && errors.Is(err, context.Canceled) {
			certify.WriteSummary(stdout, res)
		}
		return err
	}
	certify.WriteSummary(stdout, res)
	for _, r := range reports {
		if r.path == "" {
			continue
		}
		if err := writeReport(r.path, res, r.write); err != nil {
			return fmt.Errorf("%s: %w", r.flag, err)
		}
		fmt.Fprintf(stdout, "report: %s\n", r.path)
	}
	if !res.Verdict.Certified {
		return exitError{code: 1}
	}
	return nil
}

// certifyChecks lists, for a dry run, each check's pushes or why it does not apply.
func certifyChecks(plan *certify.Plan) []string {
	list, _, err := certify.LoadChecks(nil)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, c := range list {
		line := fmt.Sprintf("%-14s %-11s %s", c.ID, c.Severity, c.Title)
		switch {
		case plan.NotApplicable[c.ID] != "":
			line += " — does not apply: " + plan.NotApplicable[c.ID]
		case plan.Pushes[c.ID] > 0:
			line += fmt.Sprintf(" — %d push(es)", plan.Pushes[c.ID])
		}
		out = append(out, line)
	}
	return out
}

func writeReport(path string, res *certify.Result, write func(io.Writer, *certify.Result) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f, res); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// onTerminal tells whether w is an interactive terminal, where a status
// line can be redrawn in place.
func onTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd()) && os.Getenv("TERM") != "dumb"
}

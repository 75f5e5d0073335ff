package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/innosandbox/innosandbox/mockserver"
)

// waitOptions are the flags of `innosandbox wait`.
type waitOptions struct {
	sandbox      string
	adminToken   string
	accountToken string
	account      string
	app          string
	eventType    string
	status       string
	messageID    string
	since        string
	timeout      time.Duration
	json         bool
}

func newWaitCmd() *cobra.Command {
	o := &waitOptions{}
	cmd := &cobra.Command{
		Use:   "wait --type EVENT [--app APPKEY] [--message-id ID] [--status STATUS] [--timeout 30s]",
		Short: "Wait for a webhook delivery of a running sandbox and print its payload",
		Long: `Wait until a delivery of a running sandbox matches the filters, then print
its payload (the JSON pushed, or to be pushed, to the receiver) and exit 0.
When none matches within --timeout, exit 1. A delivery that matches already
answers at once; the newest one is printed.

The sandbox answers as soon as a delivery matches (GET /_sandbox/deliveries
with wait=…, a long poll), so a script or a test in any language waits
exactly as long as the push takes.

--status delivered waits until the receiver has acknowledged the push;
without --status, a delivery matches as soon as it is written (pending).
--since keeps deliveries created at or after a time (RFC 3339, or "now":
this command's start, by this machine's clock).

Every flag can also be set from the environment: --sandbox from
INNOSANDBOX_SANDBOX, --admin-token from INNOSANDBOX_ADMIN_TOKEN, --account-token
from INNOSANDBOX_ACCOUNT_TOKEN, and so on.`,
		Example: `  innosandbox wait --type whatsapp_message_status_updated --message-id 100003125154712345 --status delivered
  innosandbox wait --type whatsapp_mo_message_received --app XFbZY1rtTKo3UD4n1 --since now --timeout 5s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWait(cmd.Context(), o, time.Now(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.sandbox, "sandbox", "http://127.0.0.1:8080", "base URL of the running sandbox")
	f.StringVar(&o.adminToken, "admin-token", "", "the sandbox's admin token, when it was started with one")
	f.StringVar(&o.accountToken, "account-token", "", "an account's control token instead: sees that account's deliveries only (set it as INNOSANDBOX_ACCOUNT_TOKEN)")
	f.StringVar(&o.account, "account", "", "the account whose deliveries to watch (X-Sandbox-Account; default: the seed's)")
	f.StringVar(&o.app, "app", "", "only deliveries routed to this app (AppKey)")
	f.StringVar(&o.eventType, "type", "", "only events of this type, e.g. whatsapp_message_status_updated")
	f.StringVar(&o.status, "status", "", "only deliveries in this state: pending, delivered, failed or dropped")
	f.StringVar(&o.messageID, "message-id", "", "only events about this message: the id a send answered with, or a wamid")
	f.StringVar(&o.since, "since", "", `only deliveries created at or after this time (RFC 3339, or "now")`)
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long to wait; exit 1 when nothing matched by then")
	f.BoolVar(&o.json, "json", false, "print the matching deliveries as the control API lists them (status, attempts, payload), not just the payload")
	return cmd
}

// runWait long-polls the deliveries list until one matches or the timeout
// passes. A wait longer than the server's bound (60s) is several polls.
func runWait(ctx context.Context, o *waitOptions, start time.Time, stdout, stderr io.Writer) error {
	if o.timeout <= 0 {
		return fmt.Errorf("--timeout %s: must be positive", o.timeout)
	}
	q := url.Values{}
	for k, v := range map[string]string{"appKey": o.app, "type": o.eventType, "status": o.status, "messageId": o.messageID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	switch o.since {
	case "":
	case "now":
		q.Set("since", start.UTC().Format(time.RFC3339Nano))
	default:
		if _, err := time.Parse(time.RFC3339, o.since); err != nil {
			return fmt.Errorf(`--since %q: not an RFC 3339 time (e.g. 2026-12-06T09:30:00Z) or "now"`, o.since)
		}
		q.Set("since", o.since)
	}
	deadline := start.Add(o.timeout)
	for {
		left := time.Until(deadline).Truncate(time.Millisecond)
		if left <= 0 {
			fmt.Fprintf(stderr, "innosandbox wait: no delivery matched within %s (%s)\n", o.timeout, describeFilters(q))
			return exitError{code: 1}
		}
		left = min(left, mockserver.MaxDeliveryWait)
		q.Set("wait", fmt.Sprintf("%dms", left.Milliseconds()))
		// The answer may take the whole wait; the client allows that and a margin.
		cc := controlClient{sandbox: o.sandbox, account: o.account, adminToken: o.adminToken, accountToken: o.accountToken, timeout: left + 10*time.Second}
		status, answer, err := cc.do(ctx, http.MethodGet, "/_sandbox/deliveries?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return refused(stderr, "wait", status, answer)
		}
		var list []struct {
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(answer, &list); err != nil {
			return fmt.Errorf("the sandbox's answer is not what the control API describes: %w", err)
		}
		if len(list) == 0 {
			continue
		}
		if o.json {
			_, err = fmt.Fprintf(stdout, "%s\n", answer)
		} else {
			_, err = fmt.Fprintf(stdout, "%s\n", list[0].Payload)
		}
		return err
	}
}

// describeFilters names what a wait looked for, for its time-out message.
func describeFilters(q url.Values) string {
	out := ""
	for _, k := range []string{"appKey", "type", "status", "messageId", "since"} {
		if v := q.Get(k); v != "" {
			if out != "" {
				out += ", "
			}
			out += k + "=" + v
		}
	}
	if out == "" {
		return "any delivery"
	}
	return out
}

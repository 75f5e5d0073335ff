package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// triggerOptions are the flags of `innosandbox trigger`.
type triggerOptions struct {
	sandbox      string
	app          string
	account      string
	adminToken   string
	accountToken string
	set          []string
	unset        []string
	payload      string
	json         bool
	timeout      time.Duration
}

func newTriggerCmd() *cobra.Command {
	o := &triggerOptions{}
	cmd := &cobra.Command{
		Use:   "trigger <event-type>",
		Short: "Fire an InnoPaaS event at a running sandbox: any event type, for an app, with overrides",
		Long: `Fire one event of any type the contract describes at a running sandbox (an
unknown type is refused with the list of known ones). The sandbox builds it
from the contract's example of that type, with fresh ids and times and your
account's values, applies --set and --unset, checks the result against the
payload schema, and pushes it at once to the app's webhook (--app), else to the
account's default app.

--set takes a JSON pointer into the payload and a value: /body/status=read.
The value is read as JSON when it is JSON (42, true, null, {"a":1}, "quoted"),
else as a string. Objects on the way are created; /body/errors/- appends.
--unset removes a member. A value or member the schema refuses is refused with
the sandbox's message naming it, and the command exits 1.

Every flag can also be set from the environment: --sandbox from
INNOSANDBOX_SANDBOX, --admin-token from INNOSANDBOX_ADMIN_TOKEN (keep tokens there, not
on the command line), --account-token from INNOSANDBOX_ACCOUNT_TOKEN, and so on.`,
		Example: `  innosandbox trigger whatsapp_template_status_updated --app XFbZY1rtTKo3UD4n1 \
      --set /body/templateStatus=REJECTED --set /body/reason=INVALID_FORMAT
  innosandbox trigger whatsapp_message_status_updated --set /body/status=read --unset /body/conversation
  innosandbox trigger sms_mo_message_received --payload mo.json
  innosandbox trigger otp_status_report --set /status='"1"' --set /code=failed --json | jq .delivery`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrigger(cmd.Context(), o, args[0], cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.sandbox, "sandbox", "http://127.0.0.1:8080", "base URL of the running sandbox")
	f.StringVar(&o.app, "app", "", "AppKey of the app to push to (default: the account's default app)")
	f.StringVar(&o.account, "account", "", "account name (IW and 7 digits); default: the app's, else the sandbox's seed account")
	f.StringVar(&o.adminToken, "admin-token", "", "the sandbox's admin token, when it was started with one")
	f.StringVar(&o.accountToken, "account-token", "", "an account's control token instead: acts on that account only (set it as INNOSANDBOX_ACCOUNT_TOKEN)")
	f.StringArrayVar(&o.set, "set", nil, "set a payload member: /json/pointer=value (repeatable)")
	f.StringArrayVar(&o.unset, "unset", nil, "remove a payload member: /json/pointer (repeatable)")
	f.StringVar(&o.payload, "payload", "", "a file with the whole payload to send instead of the example (- for standard input)")
	f.BoolVar(&o.json, "json", false, "print the sandbox's whole answer as JSON")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "how long the sandbox may take to answer")
	return cmd
}

// triggerRequest is the body of POST /_sandbox/events.
type triggerRequest struct {
	Type    string          `json:"type"`
	AppKey  string          `json:"appKey,omitempty"`
	Set     map[string]any  `json:"set,omitempty"`
	Unset   []string        `json:"unset,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// triggerAnswer is what the sandbox answers: the routing and the delivery.
type triggerAnswer struct {
	Routed   bool    `json:"routed"`
	AppKey   *string `json:"appKey"`
	Route    *string `json:"route"`
	Reason   *string `json:"reason"`
	Delivery struct {
		ID            string  `json:"id"`
		Type          string  `json:"type"`
		Status        string  `json:"status"`
		Reason        *string `json:"reason"`
		DueAt         string  `json:"dueAt"`
		NextAttemptAt *string `json:"nextAttemptAt"`
		Target        *struct {
			URL    string `json:"url"`
			Method string `json:"method"`
		} `json:"target"`
	} `json:"delivery"`
}

// pointerOf makes a --set or --unset path a JSON pointer ("body/status"
// is taken for "/body/status").
func pointerOf(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "/" + p
	}
	return p
}

// parseSets reads --set flags: pointer=value, the value JSON when it parses.
func parseSets(sets []string) (map[string]any, error) {
	if len(sets) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(sets))
	for _, s := range sets {
		path, raw, ok := strings.Cut(s, "=")
		if !ok || path == "" {
			return nil, fmt.Errorf("--set %q: write it as /json/pointer=value, e.g. /body/status=read", s)
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber() // 19-digit ids stay exact
		if err := dec.Decode(&v); err != nil || dec.More() {
			v = raw // not JSON: a string
		}
		out[pointerOf(path)] = v
	}
	return out, nil
}

func buildTriggerRequest(o *triggerOptions, eventType string, stdin io.Reader) (triggerRequest, error) {
	req := triggerRequest{Type: eventType, AppKey: o.app}
	var err error
	if req.Set, err = parseSets(o.set); err != nil {
		return req, err
	}
	for _, u := range o.unset {
		req.Unset = append(req.Unset, pointerOf(u))
	}
	if o.payload != "" {
		var b []byte
		if o.payload == "-" {
			b, err = io.ReadAll(stdin)
		} else {
			b, err = os.ReadFile(o.payload)
		}
		if err != nil {
			return req, fmt.Errorf("--payload: %w", err)
		}
		if !json.Valid(b) || !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
			return req, fmt.Errorf("--payload %s: not a JSON object", o.payload)
		}
		req.Payload = bytes.TrimSpace(b)
	}
	return req, nil
}

func runTrigger(ctx context.Context, o *triggerOptions, eventType string, stdin io.Reader, stdout, stderr io.Writer) error {
	req, err := buildTriggerRequest(o, eventType, stdin)
	if err != nil {
		return err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	cc := controlClient{sandbox: o.sandbox, account: o.account, adminToken: o.adminToken, accountToken: o.accountToken, timeout: o.timeout}
	status, answer, err := cc.do(ctx, http.MethodPost, "/_sandbox/events", body)
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return refused(stderr, "trigger", status, answer)
	}
	if o.json {
		_, err = fmt.Fprintf(stdout, "%s\n", answer)
		return err
	}
	var a triggerAnswer
	if err := json.Unmarshal(answer, &a); err != nil {
		return fmt.Errorf("the sandbox's answer is not what the control API describes: %w", err)
	}
	printTrigger(stdout, a)
	return nil
}

// printTrigger says which event was made and where it goes, or why nowhere.
func printTrigger(w io.Writer, a triggerAnswer) {
	d := a.Delivery
	fmt.Fprintf(w, "event %s (%s)\n", d.ID, d.Type)
	switch {
	case d.Status == "dropped":
		reason := "no reason given"
		if d.Reason != nil {
			reason = *d.Reason
		}
		fmt.Fprintf(w, "  dropped: %s\n", reason)
	case a.AppKey != nil && d.Target != nil:
		route := ""
		if a.Route != nil {
			route = " (" + *a.Route + ")"
		}
		fmt.Fprintf(w, "  routed to app %s%s: %s %s\n", *a.AppKey, route, d.Target.Method, d.Target.URL)
		due := d.DueAt
		if d.NextAttemptAt != nil {
			due = *d.NextAttemptAt
		}
		fmt.Fprintf(w, "  %s, due %s (sandbox clock)\n", d.Status, due)
	default:
		fmt.Fprintf(w, "  %s\n", d.Status)
	}
	fmt.Fprintf(w, "  log: GET /_sandbox/deliveries/%s\n", d.ID)
}

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
)

// replayOptions are the flags of `innosandbox replay`.
type replayOptions struct {
	sandbox      string
	app          string
	adminToken   string
	accountToken string
	json         bool
	timeout      time.Duration
}

func newReplayCmd() *cobra.Command {
	o := &replayOptions{}
	cmd := &cobra.Command{
		Use:   "replay [event-id] | --app APPKEY",
		Short: "Push dead letters again: one delivery by its event id, or every dead letter of an app",
		Long: `Queue webhook deliveries of a running sandbox again, due now, each with its
event id, payload and attempt log kept, so a receiver can recognise a replay.

With an event id, that delivery is replayed (it must be delivered or failed).
With --app, every dead letter of the app (status failed: its attempts ran out,
or the receiver answered 410) is replayed; other deliveries are left alone.
Each replay makes one attempt; one that fails again is a dead letter again.

Every flag can also be set from the environment: --sandbox from
INNOSANDBOX_SANDBOX, --admin-token from INNOSANDBOX_ADMIN_TOKEN (keep tokens there, not
on the command line), --account-token from INNOSANDBOX_ACCOUNT_TOKEN, and so on.`,
		Example: `  innosandbox replay --app XFbZY1rtTKo3UD4n1
  innosandbox replay 01a21e76-d55e-7384-a12d-5c4261c65062 --sandbox http://127.0.0.1:8080`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			return runReplay(cmd.Context(), o, id, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.sandbox, "sandbox", "http://127.0.0.1:8080", "base URL of the running sandbox")
	f.StringVar(&o.app, "app", "", "replay every dead letter of this app (AppKey)")
	f.StringVar(&o.adminToken, "admin-token", "", "the sandbox's admin token, when it was started with one")
	f.StringVar(&o.accountToken, "account-token", "", "an account's control token instead: acts on that account only (set it as INNOSANDBOX_ACCOUNT_TOKEN)")
	f.BoolVar(&o.json, "json", false, "print the sandbox's answer as JSON")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long the sandbox may take to answer")
	return cmd
}

func runReplay(ctx context.Context, o *replayOptions, eventID string, stdout, stderr io.Writer) error {
	switch {
	case eventID == "" && o.app == "":
		return fmt.Errorf("name what to replay: an event id, or --app APPKEY for every dead letter of an app")
	case eventID != "" && o.app != "":
		return fmt.Errorf("give an event id or --app %s, not both", o.app)
	}
	cc := controlClient{sandbox: o.sandbox, adminToken: o.adminToken, accountToken: o.accountToken, timeout: o.timeout}
	path := "/_sandbox/deliveries/" + url.PathEscape(eventID) + "/replay"
	if o.app != "" {
		path = "/_sandbox/apps/" + url.PathEscape(o.app) + "/deliveries/replay"
	}
	status, answer, err := cc.do(ctx, http.MethodPost, path, nil)
	if err != nil {
		return err
	}
	if status != http.StatusAccepted {
		return refused(stderr, "replay", status, answer)
	}
	if o.json {
		_, err = fmt.Fprintf(stdout, "%s\n", answer)
		return err
	}
	if o.app != "" {
		var res struct {
			Replayed int      `json:"replayed"`
			IDs      []string `json:"ids"`
		}
		if err := json.Unmarshal(answer, &res); err != nil {
			return fmt.Errorf("the sandbox's answer is not what the control API describes: %w", err)
		}
		fmt.Fprintf(stdout, "%d dead letters of app %s queued again, due now\n", res.Replayed, o.app)
		for _, id := range res.IDs {
			fmt.Fprintf(stdout, "  %s\n", id)
		}
		return nil
	}
	var d struct {
		ID       string `json:"id"`
		Attempts int    `json:"attempts"`
	}
	if err := json.Unmarshal(answer, &d); err != nil {
		return fmt.Errorf("the sandbox's answer is not what the control API describes: %w", err)
	}
	fmt.Fprintf(stdout, "event %s queued again, due now (%d attempts so far)\n  log: GET /_sandbox/deliveries/%s\n", d.ID, d.Attempts, d.ID)
	return nil
}

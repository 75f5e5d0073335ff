// Command innosandbox is the InnoPaaS sandbox and contract-test harness:
// serve the stateful sandbox, run the Gherkin features against a target,
// certify a partner's webhook endpoint, trigger events, listen for webhooks.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	// No go command at start-up: see package nogoenv.
	_ "github.com/innosandbox/innosandbox/internal/nogoenv/restore"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries a process exit code through cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "innosandbox:", err)
		os.Exit(2)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "innosandbox",
		Short:         "A stateful sandbox and contract-test harness for the InnoPaaS messaging API",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Every command takes its unset flags from the environment.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return envFallback(cmd.Flags()) },
	}
	root.AddCommand(newServeCmd())
	root.AddCommand(newTestCmd())
	root.AddCommand(newListenCmd())
	root.AddCommand(newTriggerCmd())
	root.AddCommand(newReplayCmd())
	root.AddCommand(newWaitCmd())
	root.AddCommand(newHealthcheckCmd())
	root.AddCommand(newCertifyCmd())
	return root
}

// envFallback fills every flag the user did not set from the environment:
// --admin-token from INNOSANDBOX_ADMIN_TOKEN, and so on. Docker and compose
// files configure the sandbox this way.
func envFallback(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		name := "INNOSANDBOX_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("environment %s=%q: %w", name, v, e)
			}
		}
	})
	return err
}

package steps

import (
	"context"
	"errors"

	"github.com/cucumber/godog"
)

// registerRestart binds restart.feature's steps.
func (w *world) registerRestart(sc *godog.ScenarioContext) {
	sc.Step(`^a sandbox of my own that keeps its state in a file$`, w.aSandboxOfMyOwn)
	sc.Step(`^the sandbox restarts$`, w.theSandboxRestarts)
}

func (w *world) aSandboxOfMyOwn(ctx context.Context) error {
	if err := w.need(ctx, CapRestart); err != nil {
		return err
	}
	if w.account != "" || w.private != nil {
		return errors.New("a private sandbox must be the scenario's first step: the scenario has used the shared one already")
	}
	p, err := w.s.cfg.StartPrivate(ctx)
	if err != nil {
		return err
	}
	w.private = p
	w.base = p.URL()
	w.basePath = ""
	return nil
}

func (w *world) theSandboxRestarts(ctx context.Context) error {
	if w.private == nil {
		return errors.New("only a sandbox of the scenario's own can be restarted: start one in an earlier step")
	}
	if err := w.private.Restart(ctx); err != nil {
		return err
	}
	// Kept-alive connections to the stopped server are dead; a client
	// would see that once and reconnect. Start afresh instead.
	w.s.client.CloseIdleConnections()
	return nil
}

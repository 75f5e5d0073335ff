package state

import (
	"context"
	"errors"
	"strings"
)

// CreateApp adds an app to an account; appKey "" draws a fresh one.
func (s *Sandbox) CreateApp(ctx context.Context, account, name, appKey string, makeDefault bool) (App, error) {
	if strings.TrimSpace(name) == "" {
		return App{}, invalid("/name", "must not be empty")
	}
	if err := s.checkQuota(ctx, account, ResourceApps, 1); err != nil {
		return App{}, err
	}
	app := App{Key: appKey, Account: account, Name: name, CreatedAt: s.clock.Now()}
	var err error
	if appKey != "" {
		err = s.store.CreateApp(ctx, app)
	} else {
		for range 10 {
			app.Key = NewAppKey()
			if err = s.store.CreateApp(ctx, app); !errors.Is(err, ErrConflict) {
				break
			}
		}
	}
	if err != nil {
		return App{}, err
	}
	if makeDefault {
		if err := s.store.SetDefaultApp(ctx, account, app.Key); err != nil {
			return App{}, err
		}
	}
	return app, nil
}

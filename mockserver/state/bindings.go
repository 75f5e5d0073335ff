package state

import (
	"context"
	"fmt"
)

// Bind attaches a number or WABA id to an app.
func (s *Sandbox) Bind(ctx context.Context, appKey string, kind BindingKind, value string) (Binding, error) {
	app, err := s.store.GetApp(ctx, appKey)
	if err != nil {
		return Binding{}, err
	}
	if kind != BindNumber && kind != BindWABA {
		return Binding{}, invalid("/kind", "%q is not a binding kind; use number or waba", kind)
	}
	if existing, err := s.store.FindBinding(ctx, app.Account, kind, value); err == nil {
		return Binding{}, fmt.Errorf("%s %s is bound to app %s already: %w", kind, value, existing.AppKey, ErrConflict)
	}
	if err := s.checkQuota(ctx, app.Account, ResourceBindings, 1); err != nil {
		return Binding{}, err
	}
	b := Binding{Account: app.Account, Kind: kind, Value: value, AppKey: appKey, CreatedAt: s.clock.Now()}
	return b, s.store.CreateBinding(ctx, b)
}

// Unbind removes an app's binding of a number or WABA id.
func (s *Sandbox) Unbind(ctx context.Context, appKey string, kind BindingKind, value string) error {
	app, err := s.store.GetApp(ctx, appKey)
	if err != nil {
		return err
	}
	b, err := s.store.FindBinding(ctx, app.Account, kind, value)
	if err != nil {
		return err
	}
	if b.AppKey != appKey {
		return fmt.Errorf("%s %s is bound to another app: %w", kind, value, ErrNotFound)
	}
	return s.store.DeleteBinding(ctx, app.Account, kind, value)
}

package state

import (
	"context"
	"errors"
	"fmt"
)

// CreateAccount creates an account; name "" draws a fresh one.
func (s *Sandbox) CreateAccount(ctx context.Context, name, label string) (Account, error) {
	a := Account{Name: name, Label: label, CreatedAt: s.clock.Now()}
	if name != "" {
		return a, s.store.CreateAccount(ctx, a)
	}
	for range 10 {
		a.Name = NewAccountName()
		err := s.store.CreateAccount(ctx, a)
		if !errors.Is(err, ErrConflict) {
			return a, err
		}
	}
	return Account{}, fmt.Errorf("could not draw an unused account name: %w", ErrConflict)
}

// IssueAccountToken gives the account a new control token and returns it;
// the one it had stops working. Only its hash is kept, so this is the one
// time it can be shown.
func (s *Sandbox) IssueAccountToken(ctx context.Context, account string) (string, error) {
	plain := NewAccountToken()
	return plain, s.store.SetAccountToken(ctx, account, HashToken(plain))
}

// AccountOfToken names the account a control token belongs to; ErrNotFound
// when it belongs to none (never issued, rotated, or its account deleted).
func (s *Sandbox) AccountOfToken(ctx context.Context, plain string) (string, error) {
	return s.store.AccountByTokenHash(ctx, HashToken(plain))
}

// ResolveAccount returns the named account, or the default one for "".
func (s *Sandbox) ResolveAccount(ctx context.Context, name string) (Account, error) {
	if name == "" {
		name = s.opts.DefaultAccount
	}
	return s.store.GetAccount(ctx, name)
}

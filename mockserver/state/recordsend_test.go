package state_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
)

// collidingStore refuses the first submissions as ErrConflict, as the
// database does when another replica drew the same message id.
type collidingStore struct {
	*memstore.Store
	collisions int
	tried      []state.Submission
}

func (s *collidingStore) RecordSubmission(ctx context.Context, sub state.Submission) error {
	s.tried = append(s.tried, sub)
	if len(s.tried) <= s.collisions {
		return state.Conflict("message", sub.Message.ID)
	}
	return s.Store.RecordSubmission(ctx, sub)
}

func TestASendWhoseIDCollidesDrawsAnother(t *testing.T) {
	ctx := context.Background()
	store := &collidingStore{Store: memstore.New(), collisions: 2}
	sb := state.New(store, clock.Real{}, nil, state.Options{}, nil)
	acct, err := sb.CreateAccount(ctx, "IW7000002", "")
	require.NoError(t, err)
	app, err := sb.CreateApp(ctx, acct.Name, "app", "", true)
	require.NoError(t, err)
	p := state.Principal{App: app, Account: acct}
	send := state.OTPSend{To: "6285234567899", Type: "3", Language: "en", Code: "0123"}

	msg, err := sb.SendOTP(ctx, p, send)
	require.NoError(t, err)
	require.Len(t, store.tried, 3, "two collisions, then the send is stored")
	assert.Equal(t, store.tried[2].Message.ID, msg.ID)
	assert.NotEqual(t, store.tried[0].Message.ID, store.tried[1].Message.ID, "each try draws a new id")
	for _, sub := range store.tried {
		require.NotEmpty(t, sub.Events)
		for _, e := range sub.Events {
			assert.True(t, strings.Contains(string(e.Payload), sub.Message.ID), "the events carry their try's id: %s", e.Payload)
		}
	}

	store.collisions, store.tried = 100, nil
	_, err = sb.SendOTP(ctx, p, send)
	assert.ErrorIs(t, err, state.ErrConflict)
	assert.Len(t, store.tried, 4, "a send gives up after four draws")

	// A WhatsApp send keeps its sender's binding and registration on every try.
	wa := state.New(store, clock.Real{}, nil, state.Options{NoSessionWindow: true}, nil)
	store.collisions, store.tried = 1, nil
	msg, err = wa.SubmitWhatsApp(ctx, p, state.WhatsAppSend{WabaID: "110129512080569", MessageType: "text",
		SendNumber: "8618912123456", Recipients: []string{"6285234567899"}})
	require.NoError(t, err)
	require.Len(t, store.tried, 2)
	assert.Equal(t, store.tried[1].Message.ID, msg.ID)
	for _, sub := range store.tried {
		require.NotNil(t, sub.BindSender)
		require.NotNil(t, sub.RegisterNumber)
		assert.Equal(t, "8618912123456", sub.RegisterNumber.Number)
		require.NotEmpty(t, sub.Events)
		assert.Contains(t, string(sub.Events[0].Payload), sub.Message.Wamids[0])
	}
}

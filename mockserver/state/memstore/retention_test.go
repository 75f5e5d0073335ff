package memstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
)

func TestTheLogIsBoundedButPendingEventsStay(t *testing.T) {
	ctx := context.Background()
	s := memstore.NewWithOptions(memstore.Options{MaxEvents: 3, MaxMessages: 2})
	require.NoError(t, s.CreateAccount(ctx, state.Account{Name: "IW0000001"}))
	require.NoError(t, s.CreateApp(ctx, state.App{Key: "AAAAAAAAAAAAAAAAA", Account: "IW0000001"}))
	now := time.Now()
	pending := state.Event{ID: "pending", Account: "IW0000001", Status: state.EventPending, NextAttemptAt: now.Add(time.Hour), Target: &state.Target{URL: "http://x"}}
	require.NoError(t, s.AddEvents(ctx, []state.Event{pending}))
	for i := range 10 {
		require.NoError(t, s.RecordSubmission(ctx, state.Submission{
			Message: state.Message{ID: fmt.Sprint("m", i), Account: "IW0000001", AppKey: "AAAAAAAAAAAAAAAAA"},
			Events:  []state.Event{{ID: fmt.Sprint("e", i), Account: "IW0000001", Status: state.EventDropped}},
		}))
	}
	list, err := s.ListEvents(ctx, state.EventFilter{Account: "IW0000001"})
	require.NoError(t, err)
	var ids []string
	for _, e := range list {
		ids = append(ids, e.ID)
	}
	assert.Equal(t, []string{"e9", "e8", "e7", "pending"}, ids, "the three newest finished events and every pending one")
	_, err = s.GetMessage(ctx, "m7")
	assert.ErrorIs(t, err, state.ErrNotFound)
	_, err = s.GetMessage(ctx, "m9")
	assert.NoError(t, err)
}

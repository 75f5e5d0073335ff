package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// Each lookup a send makes is read once, cached, and then changed by the
// write that can change it: the next read must see the change.
func TestCachedLookupsSeeEveryWrite(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, tempDB(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	now := time.Now()
	require.NoError(t, s.CreateAccount(ctx, state.Account{Name: "IW0000001", CreatedAt: now}))
	require.NoError(t, s.CreateApp(ctx, state.App{Key: "AAAAAAAAAAAAAAAAA", Account: "IW0000001", CreatedAt: now}))

	t.Run("webhook created, changed, deleted", func(t *testing.T) {
		_, err := s.GetWebhook(ctx, "AAAAAAAAAAAAAAAAA", "whatsapp")
		require.ErrorIs(t, err, state.ErrNotFound)
		w := state.Webhook{AppKey: "AAAAAAAAAAAAAAAAA", Product: "whatsapp", URL: "https://a.example/hook", Events: []string{"x"}, Method: "POST", CreatedAt: now, UpdatedAt: now}
		require.NoError(t, s.CreateWebhook(ctx, w))
		got, err := s.GetWebhook(ctx, "AAAAAAAAAAAAAAAAA", "whatsapp")
		require.NoError(t, err)
		assert.Equal(t, "https://a.example/hook", got.URL)
		got.Events[0] = "changed by the caller"
		w.URL = "https://b.example/hook"
		require.NoError(t, s.UpdateWebhook(ctx, w))
		got, err = s.GetWebhook(ctx, "AAAAAAAAAAAAAAAAA", "whatsapp")
		require.NoError(t, err)
		assert.Equal(t, "https://b.example/hook", got.URL)
		assert.Equal(t, []string{"x"}, got.Events)
		got, err = s.GetWebhook(ctx, "AAAAAAAAAAAAAAAAA", "whatsapp") // from the cache
		require.NoError(t, err)
		assert.Equal(t, []string{"x"}, got.Events, "a caller's change does not reach the cache")
		require.NoError(t, s.DeleteWebhook(ctx, "AAAAAAAAAAAAAAAAA", "whatsapp"))
		_, err = s.GetWebhook(ctx, "AAAAAAAAAAAAAAAAA", "whatsapp")
		assert.ErrorIs(t, err, state.ErrNotFound)
	})
	t.Run("a WABA's first number comes with a send, more through AddWabaNumber", func(t *testing.T) {
		nums, err := s.WabaNumbers(ctx, "IW0000001", "W1")
		require.NoError(t, err)
		assert.Empty(t, nums)
		sub := state.Submission{Message: state.Message{ID: "100000000000000001", Account: "IW0000001", AppKey: "AAAAAAAAAAAAAAAAA",
			Product: state.ProductWhatsApp, MessageType: "text", WabaID: "W1", SendNumber: "111", Recipients: []string{"2"}, Wamids: []string{"w"}, CreatedAt: now},
			RegisterNumber: &state.WabaNumber{Account: "IW0000001", WabaID: "W1", Number: "111", CreatedAt: now}}
		require.NoError(t, s.RecordSubmission(ctx, sub))
		nums, err = s.WabaNumbers(ctx, "IW0000001", "W1")
		require.NoError(t, err)
		assert.Equal(t, []string{"111"}, nums)
		require.NoError(t, s.AddWabaNumber(ctx, state.WabaNumber{Account: "IW0000001", WabaID: "W1", Number: "222", CreatedAt: now}))
		nums, err = s.WabaNumbers(ctx, "IW0000001", "W1")
		require.NoError(t, err)
		assert.Equal(t, []string{"111", "222"}, nums)
	})
	t.Run("a user writes again", func(t *testing.T) {
		last, err := s.LastInbound(ctx, "IW0000001", "111", []string{"u1", "u2"})
		require.NoError(t, err)
		assert.Empty(t, last)
		at := now.Add(-time.Hour).Truncate(time.Microsecond).UTC()
		require.NoError(t, s.TouchSession(ctx, "IW0000001", "111", "u1", at))
		last, err = s.LastInbound(ctx, "IW0000001", "111", []string{"u1", "u2"})
		require.NoError(t, err)
		assert.Equal(t, map[string]time.Time{"u1": at}, mapUTC(last))
		require.NoError(t, s.TouchSession(ctx, "IW0000001", "111", "u1", at.Add(time.Minute)))
		last, err = s.LastInbound(ctx, "IW0000001", "111", []string{"u1"})
		require.NoError(t, err)
		assert.Equal(t, map[string]time.Time{"u1": at.Add(time.Minute)}, mapUTC(last))
	})
}

// Readers racing TouchSession never keep an answer older than the last
// committed write.
func TestACachedSessionIsNeverOlderThanTheLastTouch(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, tempDB(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	base := time.Now().Truncate(time.Microsecond)
	require.NoError(t, s.CreateAccount(ctx, state.Account{Name: "IW0000001", CreatedAt: base}))
	stop := readWhile(4, func() {
		_, err := s.LastInbound(ctx, "IW0000001", "111", []string{"u1"})
		assert.NoError(t, err)
	})
	for i := range 200 {
		at := base.Add(time.Duration(i) * time.Second)
		require.NoError(t, s.TouchSession(ctx, "IW0000001", "111", "u1", at))
		last, err := s.LastInbound(ctx, "IW0000001", "111", []string{"u1"})
		require.NoError(t, err)
		require.True(t, last["u1"].Equal(at), fmt.Sprintf("round %d: %v, want %v", i, last["u1"], at))
	}
	stop()
}

func mapUTC(m map[string]time.Time) map[string]time.Time {
	out := make(map[string]time.Time, len(m))
	for k, v := range m {
		out[k] = v.UTC()
	}
	return out
}

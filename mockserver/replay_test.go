package mockserver_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplayEveryDeadLetterOfAnApp(t *testing.T) {
	s := newSandbox(t)
	once := map[string]any{"retry": map[string]any{"maxAttempts": 1}}
	recvA := newReceiver(t, 500, 500, 500) // then 200
	recvB := newReceiver(t, 500)
	acct, appA, _ := s.account(false)
	var b struct{ AppKey string }
	s.control("POST", "/_sandbox/apps", map[string]any{"name": "b"}, acct).must(t, 201).decode(t, &b)
	appB := b.AppKey // the same account
	hookAll(t, s, appA, "whatsapp", recvA, once)
	hookAll(t, s, appB, "whatsapp", recvB, once)

	var dead []string
	for range 3 {
		id := s.fire(appA).Delivery.ID
		s.waitStatus(id, "failed", 1)
		dead = append(dead, id)
	}
	delivered := s.fire(appA).Delivery.ID
	s.waitStatus(delivered, "delivered", 1)
	other := s.fire(appB).Delivery.ID
	s.waitStatus(other, "failed", 1)

	var res struct {
		AppKey   string
		Replayed int
		IDs      []string
	}
	s.control("POST", "/_sandbox/apps/"+appA+"/deliveries/replay", nil, "").must(t, 202).decode(t, &res)
	assert.Equal(t, appA, res.AppKey)
	assert.Equal(t, 3, res.Replayed)
	assert.ElementsMatch(t, dead, res.IDs, "the app's dead letters, and only them")

	for _, id := range dead {
		s.waitStatus(id, "delivered", 2)
	}
	got := recvA.ids(t)
	for _, id := range dead {
		assert.Equal(t, 2, got[id], "%s: pushed again with the same event id", id)
	}
	assert.Equal(t, 1, got[delivered], "a delivered event is not replayed")
	assert.Equal(t, "failed", s.delivery(other).Status, "another app's dead letter is left alone")
	assert.Equal(t, 1, s.delivery(other).Attempts)

	s.control("POST", "/_sandbox/apps/"+appA+"/deliveries/replay", nil, "").must(t, 202).decode(t, &res)
	assert.Zero(t, res.Replayed, "nothing left to replay")
	assert.Empty(t, res.IDs)

	r := s.control("POST", "/_sandbox/apps/NoSuchApp00000000/deliveries/replay", nil, "")
	r.must(t, 404)
	require.Contains(t, r.envelope(t).Message, "NoSuchApp00000000")
}

package replicas_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A long poll on one replica learns of an event another replica wrote: no
// write on A signals it, so A's fallback recheck (the dispatcher's poll
// interval) must find it.
func TestAWaitOnOneReplicaSeesAnotherReplicasEvent(t *testing.T) {
	a, b := pair(t, options{})
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.Get(a.url + "/_sandbox/deliveries?type=whatsapp_template_status_updated&status=dropped&wait=30s")
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- answer{status: resp.StatusCode, body: b, err: err}
	}()
	var fired struct{ Delivery struct{ ID, Status string } }
	// The demo app has no webhook: the event is dropped, written by B alone.
	b.control("POST", "/_sandbox/events", map[string]any{"type": "whatsapp_template_status_updated", "appKey": demoAppKey}).must(t, 201).decode(t, &fired)
	require.Equal(t, "dropped", fired.Delivery.Status)

	r := <-answered
	require.NoError(t, r.err)
	require.Equal(t, 200, r.status, "%s", r.body)
	var list []struct{ ID string }
	require.NoError(t, json.Unmarshal(r.body, &list))
	require.Len(t, list, 1, "the wait ended with B's event, not empty at its deadline")
	assert.Equal(t, fired.Delivery.ID, list[0].ID)
}

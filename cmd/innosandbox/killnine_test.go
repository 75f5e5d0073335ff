package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// burst sends template messages to 'recipients' numbers in sends of 1000:
// two status reports (delivered, read) each.
func burst(t *testing.T, c *child, recipients int) {
	t.Helper()
	for first := 0; first < recipients; first += 1000 {
		numbers := make([]string, 0, 1000)
		for i := first; i < min(first+1000, recipients); i++ {
			numbers = append(numbers, fmt.Sprintf("62852%08d", i))
		}
		body := `{"wabaId":"110129512080569","messageType":"template","sendNumber":"8618912123456","recipientNumber":"` +
			strings.Join(numbers, ",") + `","templateName":"otp_login","language":"en_US","bodyParams":["245098"]}`
		status, _, b := c.call(t, "POST", "/api/whatsapp/v3/msg/submit", body, map[string]string{"AppKey": demoAppKey, "Authorization": demoToken})
		require.Equal(t, 200, status, "%s", b)
		require.Contains(t, string(b), `"code":"0"`)
	}
}

// TestKillNineDuringABurstLosesNoDelivery: a sandbox on SQLite killed with
// SIGKILL in the middle of 10,000 deliveries, then restarted on its file,
// delivers every one of them; the receiver counts the event ids it got
// more than once (an attempt sent but not yet recorded when the process
// died is sent again: at least once, never lost).
func TestKillNineDuringABurstLosesNoDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sandbox processes and pushes 10,000 webhooks")
	}
	const events = 10000
	db := filepath.Join(t.TempDir(), "sandbox.db")
	addr := freeAddr(t)
	recv := newIDReceiver(t, false)
	args := []string{"--store", "sqlite:" + db, "--log-level", "warn"}
	c := startChild(t, addr, args...)
	status, _, b := c.call(t, "POST", "/_sandbox/apps/"+demoAppKey+"/webhooks",
		`{"product":"whatsapp","url":"`+recv.srv.URL+`","events":["whatsapp_message_status_updated"]}`, nil)
	require.Equal(t, 201, status, "%s", b)
	burst(t, c, events/2)

	// Kill it once part of the burst has arrived, with the rest in flight or due.
	require.Eventually(t, func() bool { _, got := recv.counts(); return len(got) >= events/4 }, 60*time.Second, time.Millisecond,
		"deliveries start: %s", c.logs)
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	_ = c.cmd.Wait()
	_, before := recv.counts()
	require.Less(t, len(before), events, "killed before the burst was delivered")

	c = startChild(t, addr, args...)
	require.Eventually(t, func() bool { _, got := recv.counts(); return len(got) == events }, 120*time.Second, 10*time.Millisecond,
		"every event arrives after the restart: %s", c.logs)
	_, got := recv.counts()
	dups := 0
	for _, n := range got {
		if n > 1 {
			dups += n - 1
		}
	}
	t.Logf("killed after %d of %d distinct deliveries; after the restart all %d arrived, %d duplicate pushes", len(before), events, len(got), dups)
	assert.Len(t, got, events)
	// Only attempts in flight when the process died can be sent twice.
	assert.LessOrEqual(t, dups, 1000, "duplicates are bounded by what was in flight")

	// And the log agrees once the last answers are recorded: nothing is left pending.
	assert.Eventually(t, func() bool {
		status, _, b = c.call(t, "GET", "/_sandbox/deliveries?status=pending&limit=10", "", nil)
		return status == 200 && strings.TrimSpace(string(b)) == "[]"
	}, 30*time.Second, 10*time.Millisecond, "nothing left pending: %s", b)
}

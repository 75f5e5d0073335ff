package ui_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readEvent reads one server-sent event's data lines, joined.
func readEvent(t *testing.T, r *bufio.Reader) (string, error) {
	t.Helper()
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return strings.Join(data, "\n"), err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && len(data) > 0:
			return strings.Join(data, "\n"), nil
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
}

// TestTheLiveListFollowsTheDeliveryLog: the stream sends the rows at once,
// again as soon as a delivery is added (no timer: the delivery log's
// watch), and ends when the sandbox ends its waits for a shutdown.
func TestTheLiveListFollowsTheDeliveryLog(t *testing.T) {
	sb := newSandbox(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sb.ui+"deliveries/live?account="+demoAccount+"&type=whatsapp_mo_message_received", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	r := bufio.NewReader(resp.Body)

	first, err := readEvent(t, r)
	require.NoError(t, err)
	assert.Contains(t, first, "No delivery matches")

	b := newBrowser(t)
	token := csrf(t, b.get(sb.ui+"fire").body)
	a := b.post(sb.ui+"inbound?account="+demoAccount, map[string][]string{"csrf": {token}, "to": {"8618912123456"}, "from": {"6285234567899"}, "type": {"text"}})
	require.Equal(t, http.StatusOK, a.status, a.body)

	next, err := readEvent(t, r)
	require.NoError(t, err)
	assert.Contains(t, next, "whatsapp_mo_message_received")
	assert.Contains(t, next, `<tr data-id="`)

	sb.srv.EndWaits()
	_, err = readEvent(t, r)
	assert.Error(t, err, "the stream ends when the sandbox ends its waits")
	assert.NoError(t, ctx.Err(), "it ended at once, not at the test's deadline")
}

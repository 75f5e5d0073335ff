package state

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hand-written payloads must be exactly what encoding/json reads back,
// whatever the strings hold.
func TestPayloadsRoundTripThroughEncodingJSON(t *testing.T) {
	nasty := []string{"", "plain", `quote " and \ backslash`, "new\nline\ttab\rcr", "\x00\x01\x1f ctl",
		"ünïcödé 中文 🙂", "bad \xff utf8", "sep \u2028 \u2029", "<script>&</script>"}
	e := Event{ID: "id-1", Type: EventWAStatus, DueAt: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)}
	for _, v := range nasty {
		marshalStatus(&e, statusReport{MessageID: "1", AccountName: v, WabaID: "w", Status: "failed", Wamid: "x",
			SendPhone: "2", UID: v, ErrorCode: "131014", ErrorMessage: v})
		var got struct {
			ID, Type, EventTime string
			Body                struct {
				AccountName, UID string
				ErrorData        struct{ ErrorMessage string }
			}
		}
		require.NoError(t, json.Unmarshal(e.Payload, &got), "%q -> %s", v, e.Payload)
		want := v
		if v == "bad \xff utf8" {
			want = "bad \ufffd utf8"
		}
		assert.Equal(t, want, got.Body.AccountName)
		assert.Equal(t, want, got.Body.UID)
		assert.Equal(t, want, got.Body.ErrorData.ErrorMessage)
		assert.Equal(t, "2026-01-02T03:04:05.006Z", got.EventTime)

		marshalInbound(&e, inboundBody{ID: "1", Type: "text", Content: textContent(v), CustomerName: v, ContextFrom: "b", ContextID: "c"})
		var mo struct {
			Body struct {
				Text            struct{ Body string }
				CustomerProfile struct{ Name string }
				Context         struct{ From, ID string }
			}
		}
		require.NoError(t, json.Unmarshal(e.Payload, &mo), "%q -> %s", v, e.Payload)
		assert.Equal(t, want, mo.Body.Text.Body)
		assert.Equal(t, want, mo.Body.CustomerProfile.Name)
		assert.Equal(t, "c", mo.Body.Context.ID)
	}
}

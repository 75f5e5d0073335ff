package payload

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFreshValuesKeepTheExamplesShape(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 123e6, time.UTC)
	assert.Regexp(t, `^wamid\.`, IDLike("wamid.HBgNODYx", now))
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, IDLike("e5cb1bc6-ad90-419d-8f83-aa394c0b7cc7", now))
	assert.Regexp(t, `^1[0-9]{17}$`, IDLike("356139161272397824", now))
	assert.Regexp(t, `^[1-9][0-9]{5}$`, IDLike("123456", now))
	assert.Regexp(t, `^[0-9a-f]{24}$`, IDLike("63f5d602367ea403f8175a6c", now))
	assert.Equal(t, "yes-1", IDLike("yes-1", now), "not an id shape: kept")

	assert.Equal(t, "1795773600123", TimeLike("1749545540967", now))
	assert.Equal(t, "2026-11-27 10:00:00", TimeLike("2024-12-12 11:12:12", now))
	assert.Equal(t, "2026-11-27T10:00:00.123Z", TimeLike("2023-02-22T12:00:00.000Z", now))
}

// A refresh renews ids and times at any depth, keeps their shapes, fills
// the caller's members first and leaves everything else as written.
func TestRefreshRenewsIDsAndTimesAndFillsTheCallersMembers(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	example := func() map[string]any {
		return map[string]any{
			"msgid": "356139161272397824", "reportTime": "2024-12-12 11:12:12", "receiver": "example-user", "status": "DELIVRD",
			"body": map[string]any{
				"id": "e5cb1bc6-ad90-419d-8f83-aa394c0b7cc7", "wamid": "wamid.HBgNODYx", "accountName": "IW0000000",
				"conversation": map[string]any{"expireAt": "2024-12-12 11:12:12"},
				"items":        []any{map[string]any{"messageId": "123456", "sendTime": "2023-02-22T12:00:00.000Z"}},
			},
		}
	}
	m := example()
	Refresh{Now: now, Fill: func(member string) (string, bool) {
		if member == "accountName" || member == "receiver" {
			return "filled:" + member, true
		}
		return "", false
	}}.Apply(m)
	body := m["body"].(map[string]any)
	item := body["items"].([]any)[0].(map[string]any)

	assert.Regexp(t, `^1[0-9]{17}$`, m["msgid"])
	assert.NotEqual(t, "356139161272397824", m["msgid"])
	assert.Equal(t, "2026-11-27 10:00:00", m["reportTime"])
	assert.Equal(t, "filled:receiver", m["receiver"])
	assert.Equal(t, "DELIVRD", m["status"], "not an id or a time: as written")
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, body["id"])
	assert.Regexp(t, `^wamid\.[A-Za-z0-9+/]{36}$`, body["wamid"])
	assert.Equal(t, "filled:accountName", body["accountName"])
	assert.Equal(t, "2026-11-28 10:00:00", body["conversation"].(map[string]any)["expireAt"], "a day after now")
	assert.Regexp(t, `^[1-9][0-9]{5}$`, item["messageId"])
	assert.Equal(t, "2026-11-27T10:00:00.000Z", item["sendTime"])

	m = example()
	Refresh{Now: now}.Apply(m)
	assert.Equal(t, "example-user", m["receiver"], "without Fill, the caller's members stay as written")
}

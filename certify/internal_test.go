package certify

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/clock"
	"github.com/innosandbox/innosandbox/spec"
)

var sp = spec.MustLoadEmbedded()

func newBuilder() *builder {
	return &builder{contract: sp, clock: clock.NewFake(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)), user: "acme", pass: "s3cret-pass"}
}

// TestEveryPayloadIsValid sweeps every event type the contract describes
// through every kind of payload the checks build: each must pass the
// contract (encode refuses one that does not).
func TestEveryPayloadIsValid(t *testing.T) {
	b := newBuilder()
	for _, product := range products {
		for _, ev := range sp.EventTypes(product) {
			t.Run(ev, func(t *testing.T) {
				p1, err := b.valid(ev)
				require.NoError(t, err)
				p2, err := b.valid(ev)
				require.NoError(t, err)
				assert.NotEqual(t, p1.ID, p2.ID, "each push has a fresh id")
				assert.NotEmpty(t, p1.ID)
				_, err = b.withUnknownFields(ev)
				require.NoError(t, err)
			})
		}
		if s := statusEvents[product]; s != "" {
			later, earlier, err := b.outOfOrder(s)
			require.NoError(t, err, product)
			assert.Equal(t, later.Message, earlier.Message, "%s: both reports are about one message", product)
			assert.NotEqual(t, later.Body, earlier.Body)
		}
		for _, ev := range textEvents[product] {
			p, err := b.withLongText(ev, textLimits[product])
			require.NoError(t, err, ev)
			assert.Contains(t, string(p.Body), longText(textLimits[product]), ev)
		}
	}
}

func TestPayloadsAreFresh(t *testing.T) {
	b := newBuilder()
	p, err := b.valid("whatsapp_message_status_updated")
	require.NoError(t, err)
	var m struct {
		ID        string `json:"id"`
		EventTime string `json:"eventTime"`
		Body      struct {
			ID    string `json:"id"`
			Wamid string `json:"wamid"`
		} `json:"body"`
	}
	require.NoError(t, json.Unmarshal(p.Body, &m))
	assert.Equal(t, "2025-03-01T12:00:00.000Z", m.EventTime, "the time of the push, from the clock")
	assert.NotEqual(t, "e5cb1bc6-ad90-419d-8f83-aa394c0b7cc7", m.ID, "not the example's id")
	assert.Len(t, m.Body.ID, 18, "an 18-digit message id, like the example's")
	assert.True(t, strings.HasPrefix(m.Body.Wamid, "wamid."))

	sms, err := b.valid("sms_status_report")
	require.NoError(t, err)
	assert.Contains(t, string(sms.Body), `"receiver":"acme"`)
	assert.Contains(t, string(sms.Body), `"pswd":"s3cret-pass"`, "SMS payloads carry the configured credentials in the body")
	none, err := b.withCreds("", "").valid("sms_status_report")
	require.NoError(t, err)
	assert.Contains(t, string(none.Body), `"pswd":""`)
}

func TestLongText(t *testing.T) {
	for _, n := range []int{1, 79, 2000, 4096} {
		s := longText(n)
		assert.Equal(t, n, utf8.RuneCountInString(s))
		if n >= 2000 {
			assert.Greater(t, len(s), 2*n, "mostly multi-byte characters")
		}
	}
}

func TestWindow(t *testing.T) {
	var now time.Duration
	var sent []time.Duration
	w := newWindow(3, func() time.Duration { return now }, func(_ context.Context, d time.Duration) error {
		now += d
		return nil
	})
	for range 10 {
		require.NoError(t, w.wait(context.Background()))
		sent = append(sent, now)
		now += 10 * time.Millisecond
	}
	assert.Equal(t, []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond}, sent[:3], "a burst of 3 goes out at once")
	for i := 3; i < len(sent); i++ {
		assert.GreaterOrEqual(t, sent[i]-sent[i-3], time.Second, "never 4 in one second (push %d)", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.Error(t, w.wait(ctx))
}

func TestMask(t *testing.T) {
	assert.Equal(t, "****", mask("short"))
	assert.Equal(t, "****", mask("12345678"))
	assert.Equal(t, "****6789", mask("123456789"))
	m := newMasker("Bearer abcdef123456")
	assert.True(t, m.contains(`{"auth":"abcdef123456"}`), "the credentials without the scheme")
	assert.False(t, m.contains("Bearer"))
	assert.Equal(t, `got ****3456 and ****3456`, m.apply("got Bearer abcdef123456 and abcdef123456"))
	s, cut := m.excerpt([]byte("Bearer abcdef123456 and then ünïcödé"), 24)
	assert.True(t, cut)
	assert.True(t, utf8.ValidString(s))
	assert.NotContains(t, s, "abcdef")
}

func TestPercentile(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	twenty := ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 5000)
	assert.Equal(t, 19*time.Millisecond, percentile(twenty, 0.95), "one outlier in 20 is tolerated")
	assert.Equal(t, 10*time.Millisecond, percentile(twenty, 0.50))
	assert.Equal(t, 5*time.Millisecond, percentile(ms(5), 0.95))
}

func TestWrongValue(t *testing.T) {
	for _, v := range []string{"Bearer abc.def.ghi", "Basic czNjcmV0", "plain-token-value", "x"} {
		w := wrongValue(v)
		assert.NotEqual(t, v, w)
		if scheme, _, ok := strings.Cut(v, " "); ok {
			assert.True(t, strings.HasPrefix(w, scheme+" "), "keeps the scheme of %q", v)
		}
	}
}

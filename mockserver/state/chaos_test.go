package state

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestChaosDrawsRepeatPerSeedAndRestartWithTheConfiguration(t *testing.T) {
	v1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tag := &chaosTag{key: "app\x00whatsapp", version: v1, cfg: Chaos{Seed: 9, Delay: time.Minute, Duplicate: 0.5, Reorder: 0.5, Drop: 0.5}}
	seq := func(b *chaosBook, tag *chaosTag, n int) []chaosDraw {
		out := make([]chaosDraw, n)
		for i := range out {
			out[i] = b.draw(tag)
		}
		return out
	}
	a, b := &chaosBook{}, &chaosBook{}
	first := seq(a, tag, 20)
	assert.Equal(t, first, seq(b, tag, 20), "the same seed, the same draws")
	assert.NotEqual(t, first, seq(a, tag, 20), "the generator advances")
	replaced := *tag
	replaced.version = v1.Add(time.Second)
	assert.Equal(t, first, seq(a, &replaced, 20), "a replaced configuration starts again")
	other := replaced
	other.cfg.Seed = 10
	assert.NotEqual(t, first, seq(a, &other, 20))
	for _, d := range first {
		assert.LessOrEqual(t, d.delay, time.Minute)
		assert.GreaterOrEqual(t, d.delay, time.Duration(0))
	}
}

func TestChaosReorderHandsAReportsTimesOutInReverse(t *testing.T) {
	tag := &chaosTag{key: "k", cfg: Chaos{Reorder: 1}}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	report := func(wamid string, at time.Duration) Event {
		return Event{Type: EventWAStatus, Status: EventPending, NextAttemptAt: t0.Add(at), chaos: tag,
			Payload: []byte(`{"body":{"wamid":"` + wamid + `"}}`)}
	}
	events := []Event{report("w1", time.Second), report("w1", 3*time.Second), report("w2", time.Second), report("w2", 3*time.Second)}
	dropped := report("w3", time.Second)
	dropped.Status = EventDropped
	events = append(events, dropped)
	(&chaosBook{}).apply(events)
	assert.Equal(t, t0.Add(3*time.Second), events[0].NextAttemptAt, "delivered takes read's time")
	assert.Equal(t, t0.Add(time.Second), events[1].NextAttemptAt)
	assert.Equal(t, t0.Add(3*time.Second), events[2].NextAttemptAt, "per recipient")
	assert.Equal(t, t0.Add(time.Second), events[3].NextAttemptAt)
	assert.Equal(t, t0.Add(time.Second), events[4].NextAttemptAt, "a dropped event is not pushed, so no chaos")
	for _, e := range events {
		assert.Nil(t, e.chaos, "the tag is used up before the store sees the event")
		assert.Nil(t, e.Chaos)
	}
}

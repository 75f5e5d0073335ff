package clock_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/innosandbox/innosandbox/internal/clock"
)

func TestFakeMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := clock.NewFake(start)
	assert.Equal(t, start, f.Now())
	f.Advance(90 * time.Second)
	assert.Equal(t, start.Add(90*time.Second), f.Now())
	f.Set(start)
	assert.Equal(t, start, f.Now())
	assert.Equal(t, start.Add(time.Hour), clock.Offset(f, time.Hour))
}

func TestRealIsUTC(t *testing.T) {
	assert.Equal(t, time.UTC, clock.Real{}.Now().Location())
}

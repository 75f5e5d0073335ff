package broadcast_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/innosandbox/innosandbox/internal/broadcast"
)

func TestSignalClosesTheChannelsTakenBeforeItOnly(t *testing.T) {
	b := broadcast.New()
	a1, a2 := b.Next(), b.Next()
	assert.Equal(t, a1, a2, "one channel until the next signal")
	b.Signal()
	for _, ch := range []<-chan struct{}{a1, a2} {
		select {
		case <-ch:
		default:
			t.Fatal("a waiter taken before the signal was not woken")
		}
	}
	select {
	case <-b.Next():
		t.Fatal("a channel taken after the signal is closed already")
	default:
	}
}

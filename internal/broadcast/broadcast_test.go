package broadcast_test

import (
	"fmt"
	"sync"
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

// BenchmarkSignal is the cost a write to the delivery log pays to wake the
// waiters: with nobody waiting (the common case, paid per recorded
// attempt) and with 100 long polls waiting.
func BenchmarkSignal(b *testing.B) {
	for _, waiters := range []int{0, 100} {
		b.Run(fmt.Sprintf("waiters=%d", waiters), func(b *testing.B) {
			bc := broadcast.New()
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range waiters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-bc.Next():
						case <-stop:
							return
						}
					}
				}()
			}
			b.ReportAllocs()
			for b.Loop() {
				bc.Signal()
			}
			close(stop)
			wg.Wait()
		})
	}
}

package proc

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadCPUCountsWork(t *testing.T) {
	before, err := ReadCPU(os.Getpid())
	require.NoError(t, err)
	// Busy until the reading has grown by 50 ms of CPU (a shared machine
	// may give this process a small share of the wall clock).
	var used time.Duration
	for began := time.Now(); used < 50*time.Millisecond && time.Since(began) < 30*time.Second; {
		for i := 0; i < 1e6; i++ {
			_ = i * i
		}
		now, err := ReadCPU(os.Getpid())
		require.NoError(t, err)
		require.GreaterOrEqual(t, now, before+used, "CPU time never goes back")
		used = now - before
	}
	assert.GreaterOrEqual(t, used, 50*time.Millisecond, "the CPU time did not grow with work")

	_, err = ReadCPU(-1)
	assert.Error(t, err)
}

func TestReadMemoryOfThisProcess(t *testing.T) {
	m, err := ReadMemory(os.Getpid())
	require.NoError(t, err)
	assert.Greater(t, m.Now, 1.0, "MiB resident")
	assert.GreaterOrEqual(t, m.Peak, m.Now)
	assert.InDelta(t, m.Now, m.File+m.Anon, 1.0, "resident = file + anonymous (+ shared memory)")
	n, err := ReadThreads(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, n)
}

func TestMember(t *testing.T) {
	push := []byte(`{"id":"e-1","type":"whatsapp_message_status_updated","eventTime":"2026-12-06T09:00:00.000Z","body":{"id":"m-2"}}`)
	assert.Equal(t, "e-1", Member(push, []byte(`"id":"`)), "the first one: the envelope's")
	assert.Equal(t, "2026-12-06T09:00:00.000Z", Member(push, []byte(`"eventTime":"`)))
	assert.Equal(t, "", Member(push, []byte(`"missing":"`)))
	assert.Equal(t, "", Member([]byte(`{"id":"unterminated`), []byte(`"id":"`)))
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 51*time.Millisecond, Percentile(ds, 0.5))
	assert.Equal(t, 100*time.Millisecond, Percentile(ds, 0.99))
	assert.Equal(t, 100*time.Millisecond, Percentile(ds, 1))
	assert.Zero(t, Percentile(nil, 0.5))
}

package mockserver_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/syncbuf"
	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
)

// faultyStore is a memory store whose ListApps panics or fails on demand:
// a sandbox bug, or a store error no mapping knows, under a handler.
type faultyStore struct {
	*memstore.Store
	panics atomic.Bool
	fails  atomic.Bool
}

func (f *faultyStore) ListApps(ctx context.Context, account string) ([]state.App, error) {
	if f.panics.Load() {
		panic("listing apps went wrong")
	}
	if f.fails.Load() {
		return nil, errors.New("the disk is on fire")
	}
	return f.Store.ListApps(ctx, account)
}

// faultySandbox is a sandbox on a faultyStore (not failing yet), with its
// log.
func faultySandbox(t *testing.T) (*sandbox, *faultyStore, *syncbuf.Buffer) {
	logs := &syncbuf.Buffer{}
	store := &faultyStore{Store: memstore.New()}
	return newSandboxOn(t, store, logTo(logs, slog.LevelInfo)), store, logs
}

func TestAHandlerPanicAnswers500AndIsLoggedWithItsStack(t *testing.T) {
	s, store, logs := faultySandbox(t)
	store.panics.Store(true)
	e := s.control("GET", "/_sandbox/apps", nil, demoAccount).must(t, 500).envelope(t)
	assert.Equal(t, "500", e.Code)
	assert.Equal(t, mockserver.MsgInternal, e.Message)
	out := logs.String()
	assert.Contains(t, out, "a handler panicked")
	assert.Contains(t, out, "listing apps went wrong")
	assert.Contains(t, out, "faults_test.go", "the stack shows where")

	store.panics.Store(false)
	s.control("GET", "/_sandbox/apps", nil, demoAccount).must(t, 200) // the process goes on serving
}

func TestEvery5xxIsLoggedWithItsCause(t *testing.T) {
	s, store, logs := faultySandbox(t)
	store.fails.Store(true)
	e := s.control("GET", "/_sandbox/apps", nil, demoAccount).must(t, 500).envelope(t)
	assert.Equal(t, mockserver.MsgInternal, e.Message, "the answer says only that the log has the details")
	assert.NotContains(t, string(e.Message), "fire")
	var line string
	for l := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(l, `"answered 500"`) {
			line = l
		}
	}
	require.NotEmpty(t, line, "the 500 is logged: %s", logs.String())
	assert.Contains(t, line, "the disk is on fire")
	assert.Contains(t, line, `"op":"listApps"`)
	assert.Contains(t, line, `"level":"ERROR"`)
}

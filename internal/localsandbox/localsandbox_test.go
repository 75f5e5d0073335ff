package localsandbox_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/internal/localsandbox"
	"github.com/innosandbox/innosandbox/mockserver"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/spec"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRestartKeepsTheURLAndReopensTheState(t *testing.T) {
	sp := spec.MustLoadEmbedded()
	store := memstore.New() // stands for a state file: the same store at every start
	starts := 0
	sb, err := localsandbox.Start(context.Background(), "127.0.0.1:0", func(ctx context.Context) (*mockserver.Server, io.Closer, error) {
		starts++
		srv, err := mockserver.New(ctx, mockserver.Config{Spec: sp, Store: store, Strict: true})
		return srv, io.NopCloser(nil), err
	})
	require.NoError(t, err)
	url := sb.URL()
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)

	resp, err := http.Post(url+"/_sandbox/accounts", "application/json", strings.NewReader(`{"name":"IW7654321"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	require.NoError(t, sb.Restart(context.Background()))
	assert.Equal(t, url, sb.URL(), "the same address after a restart")
	assert.Equal(t, 2, starts)
	http.DefaultClient.CloseIdleConnections()
	status, body := get(t, url+"/_sandbox/accounts/IW7654321")
	assert.Equal(t, http.StatusOK, status, body)

	assert.Zero(t, sb.SchemaViolations())
	require.NoError(t, sb.Close())
	require.NoError(t, sb.Close(), "closing twice is harmless")
	assert.Error(t, sb.Restart(context.Background()), "a closed sandbox stays closed")
	_, err = http.Get(url + "/healthz")
	assert.Error(t, err, "nothing listens after Close")
}

func TestPrivateRemovesItsDirectory(t *testing.T) {
	dir := t.TempDir() + "/state"
	require.NoError(t, os.Mkdir(dir, 0o700))
	sp := spec.MustLoadEmbedded()
	sb, err := localsandbox.Start(context.Background(), "127.0.0.1:0", func(ctx context.Context) (*mockserver.Server, io.Closer, error) {
		st := memstore.New()
		srv, err := mockserver.New(ctx, mockserver.Config{Spec: sp, Store: st})
		return srv, st, err
	})
	require.NoError(t, err)
	p := &localsandbox.Private{Sandbox: sb, Dir: dir}
	require.NoError(t, p.Close())
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "the state directory is removed")
}

func TestStartPrivateGivesAStateFileOfItsOwn(t *testing.T) {
	sp := spec.MustLoadEmbedded()
	var files []string
	build := func(stateFile string) localsandbox.BuildFunc {
		files = append(files, stateFile)
		return func(ctx context.Context) (*mockserver.Server, io.Closer, error) {
			// The store stands for one kept in stateFile: the file is
			// created where the sandbox's state would live.
			if err := os.WriteFile(stateFile, []byte("state"), 0o600); err != nil {
				return nil, nil, err
			}
			st := memstore.New()
			srv, err := mockserver.New(ctx, mockserver.Config{Spec: sp, Store: st})
			return srv, st, err
		}
	}
	a, err := localsandbox.StartPrivate(context.Background(), build)
	require.NoError(t, err)
	b, err := localsandbox.StartPrivate(context.Background(), build)
	require.NoError(t, err)
	require.Len(t, files, 2)
	assert.NotEqual(t, files[0], files[1], "each private sandbox has a state file of its own")
	assert.True(t, strings.HasPrefix(a.URL(), "http://127.0.0.1:"), a.URL())
	assert.NotEqual(t, a.URL(), b.URL())
	status, _ := get(t, a.URL()+"/healthz")
	assert.Equal(t, http.StatusOK, status)

	require.NoError(t, a.Close())
	_, err = os.Stat(files[0])
	assert.True(t, os.IsNotExist(err), "Close removes the state file")
	_, err = os.Stat(files[1])
	assert.NoError(t, err, "the other sandbox's state is untouched")
	require.NoError(t, b.Close())
}

func TestStartPrivateThatFailsLeavesNoDirectory(t *testing.T) {
	var dir string
	_, err := localsandbox.StartPrivate(context.Background(), func(stateFile string) localsandbox.BuildFunc {
		dir = filepath.Dir(stateFile)
		return func(context.Context) (*mockserver.Server, io.Closer, error) {
			return nil, nil, errors.New("no store")
		}
	})
	require.EqualError(t, err, "no store")
	require.NotEmpty(t, dir)
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "the directory of a sandbox that did not start is removed")
}

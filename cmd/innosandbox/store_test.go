package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/mockserver/state/postgres/pgtest"
)

func TestOpenStorePostgres(t *testing.T) {
	dsn := pgtest.Schema(t, 2)
	for _, scheme := range []string{"postgres://", "postgresql://"} {
		st, kind, err := openStore(context.Background(), scheme+strings.TrimPrefix(dsn, "postgres://"), memstore.Options{})
		require.NoError(t, err, scheme)
		assert.Equal(t, "postgres", kind)
		require.NoError(t, st.Ping(context.Background()))
		require.NoError(t, st.Close())
	}
}

func TestOpenStorePostgresUnreachableKeepsThePasswordOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	_, _, err = openStore(context.Background(), "postgres://sandbox:s3cret@"+addr+"/db?connect_timeout=2", memstore.Options{})
	require.ErrorIs(t, err, state.ErrUnavailable)
	assert.NotContains(t, err.Error(), "s3cret")
	assert.Contains(t, err.Error(), "postgres://sandbox@"+addr+"/db")
}

func TestStoreForLog(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://sandbox:s3cret@db.example:5432/sandbox?sslmode=require": "postgres://sandbox@db.example:5432/sandbox?sslmode=require",
		"postgresql://db.example/sandbox?password=s3cret&user=u":            "postgresql://db.example/sandbox?user=u",
		"mysql://u:s3cret@db.example/x":                                     "mysql://u:xxxxx@db.example/x",
		"sqlite:innosandbox.db":                                             "sqlite:innosandbox.db",
		"memory":                                                            "memory",
	} {
		assert.Equal(t, want, storeForLog(in), in)
	}
}

func TestDispatchOwnerDiffersPerReplica(t *testing.T) {
	a, b := dispatchOwner(), dispatchOwner()
	assert.NotEqual(t, a, b)
	host, _ := os.Hostname()
	assert.True(t, strings.HasPrefix(a, host+"/"), a)
}

// TestServeReplicasShareOnePostgres starts two `innosandbox serve`
// processes on one PostgreSQL schema at once: both come up (one migrates
// and seeds, the other finds that done or under way), a token issued on
// one works on the other, and the token it superseded fails on both.
func TestServeReplicasShareOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sandbox processes")
	}
	dsn := pgtest.WithParams(t, pgtest.Schema(t, 4), map[string]string{"password": "s3cret"}) // trust auth ignores it
	cs := []*child{spawnChild(t, freeAddr(t), "--store", dsn), spawnChild(t, freeAddr(t), "--store", dsn)}
	for _, c := range cs {
		waitReady(t, c)
	}
	a, b := cs[0], cs[1]
	status, _, body := a.call(t, "POST", "/_sandbox/apps/"+demoAppKey+"/tokens", "", nil)
	require.Equal(t, 201, status, "%s", body)
	var tok struct{ Token string }
	require.NoError(t, json.Unmarshal(body, &tok))
	send := func(c *child, token string) (int, string) {
		status, h, _ := c.call(t, "POST", "/api/whatsapp/v3/msg/submit", sendBody, map[string]string{"AppKey": demoAppKey, "Authorization": token})
		return status, h.Get("X-Sandbox-Auth-Reason")
	}
	st, _ := send(b, tok.Token)
	assert.Equal(t, 200, st, "issued on A, works on B")
	for i, c := range cs {
		st, reason := send(c, demoToken)
		assert.Equal(t, 401, st, "replica %d", i)
		assert.Equal(t, "token-superseded", reason, "replica %d", i)
	}
	for _, c := range cs {
		_ = c.cmd.Process.Signal(os.Interrupt)
		_ = c.cmd.Wait()
		assert.NotContains(t, c.logs.String(), "s3cret", "the password stays out of the logs")
		assert.Contains(t, c.logs.String(), `store="postgres://postgres@`, "the DSN is logged without it")
	}
}

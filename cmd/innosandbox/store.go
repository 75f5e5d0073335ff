package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/innosandbox/innosandbox/mockserver/state"
	"github.com/innosandbox/innosandbox/mockserver/state/memstore"
	"github.com/innosandbox/innosandbox/mockserver/state/postgres"
	"github.com/innosandbox/innosandbox/mockserver/state/sqlite"
)

// errStoreUnsupported names a --store value that is not understood.
var errStoreUnsupported = errors.New("unsupported --store")

// openStore opens the store a --store value names and says its kind:
// "memory" (throw-away), "sqlite:FILE" (the embedded default; a file path
// alone also works when it ends in .db), ":memory:" through sqlite, or a
// postgres:// (postgresql://) URL: a database that several replicas share.
func openStore(ctx context.Context, v string, mem memstore.Options) (state.Store, string, error) {
	switch {
	case v == "memory":
		return memstore.NewWithOptions(mem), "memory", nil
	case strings.HasPrefix(v, "sqlite:"):
		path := strings.TrimPrefix(v, "sqlite:")
		if path == "" {
			return nil, "", fmt.Errorf("--store %q: name the database file, e.g. sqlite:innosandbox.db", v)
		}
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, "", fmt.Errorf("--store %s: %w", v, err)
		}
		return s, "sqlite", nil
	case isPostgres(v):
		s, err := postgres.Open(ctx, v)
		if err != nil {
			// Never echo the value: it may carry a password.
			return nil, "", fmt.Errorf("--store %s: %w", postgres.Redact(v), err)
		}
		return s, "postgres", nil
	case strings.HasSuffix(v, ".db") && !strings.Contains(v, "://"):
		return openStore(ctx, "sqlite:"+v, mem)
	}
	return nil, "", fmt.Errorf("%w %q: use memory, sqlite:FILE or postgres://USER@HOST/DATABASE", errStoreUnsupported, storeForLog(v))
}

// isPostgres tells whether a --store value names a PostgreSQL database.
func isPostgres(v string) bool {
	return strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://")
}

// storeForLog names a --store value in logs, errors and the banner: a URL
// without its password (a PostgreSQL URL also without a password
// parameter), a file as it is.
func storeForLog(v string) string {
	switch {
	case isPostgres(v):
		return postgres.Redact(v)
	case strings.Contains(v, "://"):
		if u, err := url.Parse(v); err == nil {
			return u.Redacted()
		}
		return v[:strings.Index(v, "://")]
	}
	return v
}

// singleProcessOwner is the lease owner of a dispatcher on a store only one
// process can open (a SQLite file is locked; memory is private): always the
// same, so that a process restarted after a crash takes back, at once, the
// claims its predecessor died holding (dispatch.Dispatcher.Run releases its
// own owner's leases when it starts).
const singleProcessOwner = "innosandbox"

// leaseOwner names this process's dispatcher for a store kind: replicas of
// a shared store each need a name of their own (dispatchOwner).
func leaseOwner(kind string) string {
	if kind == "postgres" {
		return dispatchOwner()
	}
	return singleProcessOwner
}

// dispatchOwner names this process's dispatcher in the leases it takes on
// events. Replicas sharing a database must use different names, or one
// could record an attempt on an event another holds; host name and pid
// alone can repeat (containers often run as pid 1 on equal host names), so
// a random part is added.
func dispatchOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "innosandbox"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

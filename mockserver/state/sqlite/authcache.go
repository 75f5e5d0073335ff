package sqlite

import (
	"sync"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// authCache keeps what AuthContext and TokenByHash read, because every
// public request asks, and a read from the WAL costs locking system calls
// each time. It is correct only because one process owns the file (see
// lockFile): every write goes through this Store, and every write that can
// change an answer (anything but the outbox's own writes) calls invalidate
// after its commit and before it returns.
//
// A read that raced a write must not store what it read before the commit:
// readers note the generation before reading and store only if it has not
// moved since.
type authCache struct {
	mu     sync.Mutex
	gen    uint64
	auth   map[string]authEntry
	hashes map[[32]byte]hashEntry
}

// maxCached bounds each map: token hashes come from callers, so a stream of
// random tokens must not grow memory; when full, the map starts over.
const maxCached = 4096

type authEntry struct {
	app     state.App
	account state.Account
	current state.Token
	ok      bool
	missing bool // no such app
}

type hashEntry struct {
	tok     state.Token
	missing bool
}

func newAuthCache() *authCache {
	return &authCache{auth: map[string]authEntry{}, hashes: map[[32]byte]hashEntry{}}
}

func (c *authCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *authCache) getAuth(appKey string) (authEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.auth[appKey]
	return e, ok
}

func (c *authCache) putAuth(gen uint64, appKey string, e authEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.auth) >= maxCached {
		c.auth = map[string]authEntry{}
	}
	c.auth[appKey] = e
}

func (c *authCache) getHash(h [32]byte) (hashEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.hashes[h]
	return e, ok
}

func (c *authCache) putHash(gen uint64, h [32]byte, e hashEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.hashes) >= maxCached {
		c.hashes = map[[32]byte]hashEntry{}
	}
	c.hashes[h] = e
}

// invalidate forgets everything; called after every committed write that
// may change an app, an account or a token.
func (c *authCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.auth)
	clear(c.hashes)
}

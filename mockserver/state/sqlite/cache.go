package sqlite

import (
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// The Store caches the reads every request or send makes, because a read
// from the WAL costs locking system calls each time. A cache is correct only
// because one process owns the file (see lockFile): every write goes through
// this Store, and every write that can change a cached answer invalidates
// the cache after its commit and before it returns.
//
// A read that raced a write must not store what it read before the commit:
// readers note the generation before reading and put stores only if it has
// not moved since.

// maxCached bounds each map: keys (token hashes, app keys, numbers) come
// from callers, so a stream of new ones must not grow memory; when full, the
// map starts over.
const maxCached = 4096

// cache is one generation counter and the maps it guards; invalidate
// empties them all at once.
type cache struct {
	mu   sync.Mutex
	gen  uint64
	maps []interface{ clear() } // called with mu held
}

func (c *cache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// invalidate forgets everything.
func (c *cache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, m := range c.maps {
		m.clear()
	}
}

// cacheMap is one bounded map of a cache, under the cache's lock.
type cacheMap[K comparable, V any] struct {
	c *cache
	m map[K]V
}

func newCacheMap[K comparable, V any](c *cache) *cacheMap[K, V] {
	m := &cacheMap[K, V]{c: c, m: map[K]V{}}
	c.maps = append(c.maps, m)
	return m
}

func (m *cacheMap[K, V]) get(k K) (V, bool) {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	v, ok := m.m[k]
	return v, ok
}

// put stores one entry read at generation gen, unless a write has been
// committed since; a full map starts over.
func (m *cacheMap[K, V]) put(gen uint64, k K, v V) {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	if gen != m.c.gen {
		return
	}
	if len(m.m) >= maxCached {
		m.m = map[K]V{}
	}
	m.m[k] = v
}

func (m *cacheMap[K, V]) clear() { clear(m.m) }

// authCache keeps what AuthContext and TokenByHash read, because every
// public request asks. Every write but the outbox's own (see writeOutbox)
// invalidates it.
type authCache struct {
	cache
	apps   *cacheMap[string, authEntry]   // app key
	hashes *cacheMap[[32]byte, hashEntry] // token hash
}

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
	c := &authCache{}
	c.apps = newCacheMap[string, authEntry](&c.cache)
	c.hashes = newCacheMap[[32]byte, hashEntry](&c.cache)
	return c
}

// lookupCache keeps the answers of the reads every send makes besides
// authentication: the sending app's webhook (GetWebhook), the WABA's numbers
// (WabaNumbers) and each recipient's last inbound message (LastInbound).
// Writes that can change an answer invalidate it: every write made through
// write, a submission that registers a WABA's first number, and
// TouchSession. The outbox's own writes (events, attempts, claims) change
// none of these.
type lookupCache struct {
	cache
	webhooks *cacheMap[[2]string, webhookEntry] // app key, product
	numbers  *cacheMap[[2]string, []string]     // account, WABA
	sessions *cacheMap[[3]string, sessionEntry] // account, business, user
}

type webhookEntry struct {
	w       state.Webhook
	missing bool
}

type sessionEntry struct {
	at      time.Time
	missing bool
}

func newLookupCache() *lookupCache {
	c := &lookupCache{}
	c.webhooks = newCacheMap[[2]string, webhookEntry](&c.cache)
	c.numbers = newCacheMap[[2]string, []string](&c.cache)
	c.sessions = newCacheMap[[3]string, sessionEntry](&c.cache)
	return c
}

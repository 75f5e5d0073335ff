package sqlite

import (
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/mockserver/state"
)

// lookupCache keeps the answers of the reads every send makes besides
// authentication: the sending app's webhook (GetWebhook), the WABA's numbers
// (WabaNumbers) and each recipient's last inbound message (LastInbound). It
// is correct for the same reason as authCache: one process owns the file,
// so every write goes through this Store. Writes that can change an answer
// invalidate after their commit and before they return: every write made
// through write, a submission that registers a WABA's first number, and
// TouchSession. The outbox's own writes (events, attempts, claims) change
// none of these.
//
// Readers note the generation before reading and store what they read only
// if it has not moved since, so a read that raced a write stores nothing.
type lookupCache struct {
	mu       sync.Mutex
	gen      uint64
	webhooks map[[2]string]webhookEntry // app key, product
	numbers  map[[2]string][]string     // account, WABA
	sessions map[[3]string]sessionEntry // account, business, user
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
	c.reset()
	return c
}

func (c *lookupCache) reset() {
	c.webhooks = map[[2]string]webhookEntry{}
	c.numbers = map[[2]string][]string{}
	c.sessions = map[[3]string]sessionEntry{}
}

func (c *lookupCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// invalidate forgets everything.
func (c *lookupCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.reset()
}

// get reads one entry under the lock.
func get[K comparable, V any](c *lookupCache, m *map[K]V, k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := (*m)[k]
	return v, ok
}

// put stores one entry read at generation gen, unless a write has been
// committed since; a full map starts over (keys come from callers, so a
// stream of new ones must not grow memory).
func put[K comparable, V any](c *lookupCache, m *map[K]V, gen uint64, k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(*m) >= maxCached {
		*m = map[K]V{}
	}
	(*m)[k] = v
}

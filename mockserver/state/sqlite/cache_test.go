package sqlite

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cache mechanism both caches use: what put stores and what it refuses.
func TestCacheMap(t *testing.T) {
	t.Run("a read that raced a write stores nothing", func(t *testing.T) {
		c := newLookupCache()
		gen := c.generation() // a reader starts
		c.invalidate()        // a write commits meanwhile
		c.webhooks.put(gen, [2]string{"app", "sms"}, webhookEntry{missing: true})
		_, ok := c.webhooks.get([2]string{"app", "sms"})
		assert.False(t, ok, "the stale read was not kept")
		c.webhooks.put(c.generation(), [2]string{"app", "sms"}, webhookEntry{missing: true})
		_, ok = c.webhooks.get([2]string{"app", "sms"})
		assert.True(t, ok, "a read of the current generation is kept")
	})
	t.Run("invalidate empties every map of its cache, and only those", func(t *testing.T) {
		looks, auth := newLookupCache(), newAuthCache()
		looks.numbers.put(looks.generation(), [2]string{"IW1", "W1"}, []string{"1"})
		looks.sessions.put(looks.generation(), [3]string{"IW1", "1", "2"}, sessionEntry{missing: true})
		auth.apps.put(auth.generation(), "app", authEntry{missing: true})
		looks.invalidate()
		_, ok := looks.numbers.get([2]string{"IW1", "W1"})
		assert.False(t, ok, "numbers")
		_, ok = looks.sessions.get([3]string{"IW1", "1", "2"})
		assert.False(t, ok, "sessions")
		_, ok = auth.apps.get("app")
		assert.True(t, ok, "the other cache keeps its entries")
	})
	t.Run("a map is bounded", func(t *testing.T) {
		c := newAuthCache()
		gen := c.generation()
		key := func(i int) (h [32]byte) {
			binary.BigEndian.PutUint32(h[:], uint32(i))
			return h
		}
		const puts = 3 * maxCached
		for i := range puts {
			c.hashes.put(gen, key(i), hashEntry{missing: true})
			require.LessOrEqual(t, len(c.hashes.m), maxCached, "after %d puts", i+1)
		}
		_, ok := c.hashes.get(key(puts - 1))
		assert.True(t, ok, "the newest entry is kept")
	})
}

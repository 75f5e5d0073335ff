package dispatch

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/innosandbox/innosandbox/internal/clock"
)

// destKeys names receivers by the address their URL resolves to, so that
// http://localhost:9000, http://127.0.0.1:9000 and http://2130706433:9000
// share one destination's slots: spelling one receiver several ways gains
// no more attempts in flight. Resolutions are cached for a short while.
type destKeys struct {
	mu       sync.Mutex
	cache    map[string]cachedAddr // by lower-case host name
	resolver *net.Resolver
	now      func() time.Time
}

type cachedAddr struct {
	addr  netip.Addr // invalid: the name did not resolve
	until time.Time
}

const (
	keyTTL         = 30 * time.Second
	keyLookup      = time.Second // a slow name server holds up the claim loop no longer
	maxCachedNames = 10000
)

func newDestKeys() *destKeys {
	return &destKeys{cache: map[string]cachedAddr{}, resolver: net.DefaultResolver, now: clock.Real{}.Now}
}

// keyAll returns the destination key of each URL: "address:port" of the
// host (an address literal as it is, a name by its first address in
// order), or fallback[i] when a name does not resolve. Names not cached are
// resolved together, each within keyLookup.
func (k *destKeys) keyAll(ctx context.Context, urls, fallback []string) []string {
	type target struct {
		host, port string
		addr       netip.Addr
	}
	targets := make([]target, len(urls))
	missing := map[string]bool{}
	now := k.now()
	k.mu.Lock()
	for i, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			continue
		}
		t := target{host: strings.ToLower(u.Hostname()), port: strconv.Itoa(int(defaultPort(u)))}
		if a, ok := ParseHost(t.host); ok {
			t.addr = a.Unmap().WithZone("")
		} else if c, ok := k.cache[t.host]; ok && now.Before(c.until) {
			t.addr = c.addr
		} else {
			missing[t.host] = true
		}
		targets[i] = t
	}
	k.mu.Unlock()
	if len(missing) > 0 {
		k.resolve(ctx, missing, now)
		k.mu.Lock()
		for i := range targets {
			if missing[targets[i].host] {
				targets[i].addr = k.cache[targets[i].host].addr
			}
		}
		k.mu.Unlock()
	}
	out := make([]string, len(urls))
	for i, t := range targets {
		if t.addr.IsValid() {
			out[i] = net.JoinHostPort(t.addr.String(), t.port)
		} else {
			out[i] = fallback[i]
		}
	}
	return out
}

// resolve looks names up at once and caches what they resolve to.
func (k *destKeys) resolve(ctx context.Context, names map[string]bool, now time.Time) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	found := make(map[string]netip.Addr, len(names))
	for name := range names {
		wg.Go(func() {
			lctx, cancel := context.WithTimeout(ctx, keyLookup)
			defer cancel()
			addrs, err := k.resolver.LookupNetIP(lctx, "ip", name)
			var a netip.Addr
			if err == nil && len(addrs) > 0 {
				a = slices.MinFunc(addrs, netip.Addr.Compare).Unmap()
			}
			mu.Lock()
			found[name] = a
			mu.Unlock()
		})
	}
	wg.Wait()
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.cache)+len(found) > maxCachedNames {
		clear(k.cache)
	}
	for name, a := range found {
		k.cache[name] = cachedAddr{addr: a, until: now.Add(keyTTL)}
	}
}

package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

// Cache keeps the last good block of a provider per key (base URL plus a
// digest of the credentials, see CacheKey) for a time to live, for
// products whose figures change slowly or whose API is rate-limited.
// The zero value is ready; a zero TTL disables it.
type Cache struct {
	TTL time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]cacheEntry
}

type cacheEntry struct {
	at time.Time
	v  any
}

// CacheKey builds a key from parts without keeping them readable.
func CacheKey(parts ...string) string {
	d := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(d[:])
}

// Get returns the block stored under key when it is younger than TTL.
func (c *Cache) Get(key string) (any, bool) {
	if c.TTL <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || c.clock().Sub(e.at) >= c.TTL {
		return nil, false
	}
	return e.v, true
}

// Put stores v under key (only successful blocks should be stored).
func (c *Cache) Put(key string, v any) {
	if c.TTL <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cacheEntry{}
	}
	now := c.clock()
	for k, e := range c.m { // drop stale entries (old credentials)
		if now.Sub(e.at) >= c.TTL {
			delete(c.m, k)
		}
	}
	c.m[key] = cacheEntry{at: now, v: v}
}

func (c *Cache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

package bounded

import (
	"strconv"
	"sync/atomic"
	"testing"

	lru "github.com/hashicorp/golang-lru/v2"
)

// cache is what the verified-token and token-user caches need.
type cache interface {
	Get(string) (int, bool)
	Put(string, int)
}

type lruCache struct{ c *lru.Cache[string, int] }

func (l lruCache) Get(k string) (int, bool) { return l.c.Get(k) }
func (l lruCache) Put(k string, v int)      { l.c.Add(k, v) }

// The caches' bound (oidc's defaultVerifiedTokens); keys are token-sized.
const benchLimit = 8192

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "eyJhbGciOiJFUzI1NiJ9.payload-" + strconv.Itoa(i) + ".signature-signature-signature"
	}
	return keys
}

func eachCache(b *testing.B, fn func(b *testing.B, c cache)) {
	b.Run("bounded", func(b *testing.B) {
		fn(b, New[string, int](benchLimit, func(v int) bool { return v < 0 }))
	})
	b.Run("lru", func(b *testing.B) {
		c, err := lru.New[string, int](benchLimit)
		if err != nil {
			b.Fatal(err)
		}
		fn(b, lruCache{c})
	})
}

// BenchmarkCacheHit is the hot path: a warm cache read from every core
// (introspection, userinfo, refresh of a known user).
func BenchmarkCacheHit(b *testing.B) {
	keys := benchKeys(benchLimit / 2)
	eachCache(b, func(b *testing.B, c cache) {
		for i, k := range keys {
			c.Put(k, i)
		}
		var next atomic.Uint64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := next.Add(7919)
			for pb.Next() {
				i++
				if _, ok := c.Get(keys[i%uint64(len(keys))]); !ok {
					b.Error("miss")
					return
				}
			}
		})
	})
}

// BenchmarkCacheMixed is nine reads of known keys to one new key, in a full
// cache: steady traffic with a stream of newly issued tokens.
func BenchmarkCacheMixed(b *testing.B) {
	keys := benchKeys(4 * benchLimit)
	eachCache(b, func(b *testing.B, c cache) {
		for i, k := range keys[:benchLimit] {
			c.Put(k, i)
		}
		var next atomic.Uint64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1)
				k := keys[i%uint64(len(keys))]
				if i%10 == 0 {
					c.Put(k, int(i))
				} else {
					c.Get(k)
				}
			}
		})
	})
}

// BenchmarkCacheScan is a stream of distinct keys, each stored once: the
// full cache must make room on every put.
func BenchmarkCacheScan(b *testing.B) {
	keys := benchKeys(4 * benchLimit)
	eachCache(b, func(b *testing.B, c cache) {
		for i, k := range keys[:benchLimit] {
			c.Put(k, i)
		}
		b.ResetTimer()
		for i := range b.N {
			c.Put(keys[i%len(keys)], i)
		}
	})
}

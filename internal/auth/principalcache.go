package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/middletier/middletier/internal/cache"
)

// DefaultCacheBytes bounds the principal cache when Options.CacheBytes is
// unset: about 10,000 signed-in users at principalCost each.
const DefaultCacheBytes = 4 << 20

// principalCache keeps the principals of verified tokens, so that a
// connector calling many times with one token pays the signature check,
// the claims parsing and the employee read once per TTL instead of on every
// request. It is keyed by the SHA-256 of the token: the token itself, a
// credential, is never kept, and two different tokens never share an entry.
type principalCache struct {
	c *cache.Cache[verifiedPrincipal]
	// now is the Authenticator's clock, so that exp is judged as Verify judges it.
	now func() time.Time
}

// verifiedPrincipal is a cache entry: the principal and its token's exp.
type verifiedPrincipal struct {
	p   Principal
	exp time.Time
}

// principalCost estimates an entry's bytes: the key, the entry's fixed
// fields and its strings.
func principalCost(key string, v verifiedPrincipal) int64 {
	n := len(key) + 256 + len(v.p.EmployeeID) + len(v.p.Login) + len(v.p.Role) + len(v.p.StoreID) + len(v.p.OID) + len(v.p.TenantID)
	for _, s := range v.p.Scopes {
		n += 16 + len(s)
	}
	return int64(n)
}

func newPrincipalCache(ttl time.Duration, maxBytes int64, now func() time.Time) (*principalCache, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	c, err := cache.New(cache.Options[verifiedPrincipal]{MaxCost: maxBytes, TTL: ttl, Cost: principalCost, Now: now})
	if err != nil {
		return nil, fmt.Errorf("auth: principal cache: %w", err)
	}
	return &principalCache{c: c, now: now}, nil
}

// tokenKey is the cache key of a raw token.
func tokenKey(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return string(sum[:])
}

// get returns the principal cached under key while its token is unexpired
// (with the same skew Verify allows). An expired token is a miss, so it is
// verified again and refused with the usual reason.
func (pc *principalCache) get(key string, skew time.Duration) (Principal, bool) {
	v, ok := pc.c.Get(context.Background(), key)
	if !ok {
		return Principal{}, false
	}
	if pc.now().Add(-skew).After(v.exp) {
		pc.c.Delete(key)
		return Principal{}, false
	}
	return v.p, true
}

// add caches p for the token under key, which expires at exp. The cache's
// TTL bounds how long it is reused; exp is checked on every get.
func (pc *principalCache) add(key string, p Principal, exp time.Time) {
	pc.c.Add(context.Background(), key, verifiedPrincipal{p: p, exp: exp})
}

func (pc *principalCache) close() { pc.c.Close() }

package auth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/auth/authtest"
	"github.com/middletier/middletier/internal/store"
)

// directory is an employee directory that counts its reads and can change.
type directory struct {
	mu    sync.Mutex
	byOID map[string]store.Employee
	reads int
}

func (d *directory) EmployeeByOID(_ context.Context, oid string) (store.Employee, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reads++
	e, ok := d.byOID[oid]
	if !ok {
		return store.Employee{}, store.ErrNotFound
	}
	return e, nil
}

func (d *directory) put(e store.Employee) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.byOID[e.OID] = e
}

func (d *directory) readCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reads
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cacheEnv is an Authenticator with the principal cache on, trusting a fake
// identity provider that signs RS256 tokens as Entra ID does.
type cacheEnv struct {
	authn *auth.Authenticator
	dir   *directory
	now   *testClock
	key   authtest.Key
	iss   string
}

const testAudience = "api://middletier-test"

func newCacheEnv(t *testing.T, ttl time.Duration, maxBytes int64) *cacheEnv {
	t.Helper()
	key := authtest.NewKey(t, "k1")
	p := authtest.NewProvider(t, key)
	e := &cacheEnv{
		dir: &directory{byOID: map[string]store.Employee{
			"oid-avery": {ID: "E1", OID: "oid-avery", Login: "avery", Role: store.RoleStoreAssociate, StoreID: ptr("S001")},
			"oid-blake": {ID: "E2", OID: "oid-blake", Login: "blake", Role: store.RoleStoreManager, StoreID: ptr("S001")},
		}},
		now: &testClock{t: time.Now()},
		key: key,
		iss: p.URL + "/tenant/v2.0",
	}
	authn, err := auth.New(auth.Options{
		Issuers: []string{e.iss}, Audiences: []string{testAudience},
		ReadScopes: []string{"Data.Read", "Data.ReadWrite"}, WriteScopes: []string{"Data.ReadWrite"},
		ClockSkew: time.Minute, Employees: e.dir, Now: e.now.Now,
		CacheTTL: ttl, CacheBytes: maxBytes,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(authn.Close)
	e.authn = authn
	return e
}

func ptr[T any](v T) *T { return &v }

// token signs a token for oid with scope, valid for life from now; extra
// claims make otherwise equal tokens differ.
func (e *cacheEnv) token(t *testing.T, oid, scope string, life time.Duration, extra map[string]any) string {
	t.Helper()
	n := e.now.Now()
	return authtest.Sign(t, e.key, authtest.Claims{Issuer: e.iss, Audience: testAudience, OID: oid, Scope: scope,
		IssuedAt: n.Add(-time.Minute), NotBefore: n.Add(-time.Minute), Expiry: n.Add(life), Extra: extra}.Map())
}

// TestPrincipalCacheKeyedByToken: each token gets its own principal, from
// the cache on its second use, and a token differing in one byte from a
// cached one is verified (and refused) rather than served.
func TestPrincipalCacheKeyedByToken(t *testing.T) {
	e := newCacheEnv(t, time.Minute, 1<<20)
	tokens := []struct {
		name, token, wantEmployee string
		wantWrite                 bool
	}{
		{"avery read-write", e.token(t, "oid-avery", "Data.ReadWrite", time.Hour, nil), "E1", true},
		{"avery read-only", e.token(t, "oid-avery", "Data.Read", time.Hour, nil), "E1", false},
		{"blake read-write", e.token(t, "oid-blake", "Data.ReadWrite", time.Hour, nil), "E2", true},
	}
	for round := range 2 {
		for _, tt := range tokens {
			p, err := e.authn.Authenticate(context.Background(), tt.token)
			if err != nil {
				t.Fatalf("round %d, %s: %v", round, tt.name, err)
			}
			if p.EmployeeID != tt.wantEmployee || p.CanWrite != tt.wantWrite {
				t.Errorf("round %d, %s: got employee %s, CanWrite %v; want %s, %v", round, tt.name, p.EmployeeID, p.CanWrite, tt.wantEmployee, tt.wantWrite)
			}
		}
		e.authn.WaitCache()
	}
	if got, want := e.dir.readCount(), len(tokens); got != want {
		t.Errorf("employee reads = %d, want %d (one per token, the second round from the cache)", got, want)
	}

	// The cached token with one signature character changed (not the
	// last, whose low bits base64 ignores): a different token, so it is
	// verified, and its signature fails.
	good := tokens[0].token
	i := len(good) - 10
	swap := byte('A')
	if good[i] == 'A' {
		swap = 'B'
	}
	forged := good[:i] + string(swap) + good[i+1:]
	if _, err := e.authn.Authenticate(context.Background(), forged); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("forged signature: err = %v, want ErrUnauthenticated", err)
	}
}

// TestPrincipalCacheExpiry: a cached token stops working at its exp (plus
// the clock skew Verify allows), however long the cache would keep it.
func TestPrincipalCacheExpiry(t *testing.T) {
	e := newCacheEnv(t, 15*time.Minute, 1<<20)
	tok := e.token(t, "oid-avery", "Data.ReadWrite", 2*time.Minute, nil)
	for range 2 {
		if _, err := e.authn.Authenticate(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		e.authn.WaitCache()
	}
	if got := e.dir.readCount(); got != 1 {
		t.Fatalf("employee reads = %d, want 1 (the second use from the cache)", got)
	}
	e.now.Add(2*time.Minute + time.Minute + time.Second) // past exp and the skew
	_, err := e.authn.Authenticate(context.Background(), tok)
	if !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired cached token: err = %v, want an expiry refusal", err)
	}
}

// TestPrincipalCacheTTL: the cache TTL bounds how long a role change takes
// to reach a user whose token is still valid.
func TestPrincipalCacheTTL(t *testing.T) {
	e := newCacheEnv(t, time.Minute, 1<<20)
	tok := e.token(t, "oid-avery", "Data.ReadWrite", time.Hour, nil)
	role := func() store.Role {
		t.Helper()
		p, err := e.authn.Authenticate(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		e.authn.WaitCache()
		return p.Role
	}
	if got := role(); got != store.RoleStoreAssociate {
		t.Fatalf("role = %s", got)
	}
	e.dir.put(store.Employee{ID: "E1", OID: "oid-avery", Login: "avery", Role: store.RoleStoreManager, StoreID: ptr("S001")})
	e.now.Add(30 * time.Second)
	if got := role(); got != store.RoleStoreAssociate {
		t.Errorf("within the TTL: role = %s, want the cached %s", got, store.RoleStoreAssociate)
	}
	e.now.Add(31 * time.Second)
	if got := role(); got != store.RoleStoreManager {
		t.Errorf("after the TTL: role = %s, want the new %s", got, store.RoleStoreManager)
	}
}

// TestPrincipalCacheKeepsNoRefusal: a refused token is asked about again
// next time, so that provisioning the user lets the same token in.
func TestPrincipalCacheKeepsNoRefusal(t *testing.T) {
	e := newCacheEnv(t, time.Minute, 1<<20)
	tok := e.token(t, "oid-casey", "Data.ReadWrite", time.Hour, nil)
	for i := range 2 {
		if _, err := e.authn.Authenticate(context.Background(), tok); !errors.Is(err, auth.ErrForbidden) {
			t.Fatalf("attempt %d of an unprovisioned user: err = %v, want ErrForbidden", i, err)
		}
		e.authn.WaitCache()
	}
	if got := e.dir.readCount(); got != 2 {
		t.Errorf("employee reads = %d, want 2 (a refusal is not cached)", got)
	}
	e.dir.put(store.Employee{ID: "E3", OID: "oid-casey", Login: "casey", Role: store.RoleStoreAssociate, StoreID: ptr("S002")})
	p, err := e.authn.Authenticate(context.Background(), tok)
	if err != nil || p.EmployeeID != "E3" {
		t.Fatalf("after provisioning: %+v, %v", p, err)
	}
}

// TestPrincipalCacheBounded: many tokens do not grow the cache past its
// bytes; each entry costs at least its 32-byte key plus 256 bytes, so at
// most maxBytes/288 of the tokens can be held.
func TestPrincipalCacheBounded(t *testing.T) {
	const maxBytes, n = 4096, 60
	e := newCacheEnv(t, time.Minute, maxBytes)
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = e.token(t, "oid-avery", "Data.ReadWrite", time.Hour, map[string]any{"jti": fmt.Sprint(i)})
		if _, err := e.authn.Authenticate(context.Background(), tokens[i]); err != nil {
			t.Fatal(err)
		}
		e.authn.WaitCache()
	}
	held := e.authn.Cached(tokens)
	if most := maxBytes / 288; held > most {
		t.Errorf("%d of %d tokens held in a %d-byte cache; at most %d fit", held, n, maxBytes, most)
	}
	if held == 0 {
		t.Errorf("no token held at all: the first ones fit")
	}
}

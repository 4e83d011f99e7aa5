package server_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/middletier/middletier/graph/graphtest"
	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/auth/authtest"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/server"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
)

const (
	tenant      = "7d2f3c1e-0000-4000-8000-000000000001"
	apiAudience = "api://middletier-test"
	apiClientID = "0b9e6c44-0000-4000-8000-000000000002"
)

// clock is a settable clock: the key set's refresh interval is crossed by
// moving it, never by sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// entraServer is the real handler trusting a fake Entra ID tenant's v1 and
// v2 issuers, over an empty database and a one-employee directory.
func entraServer(t *testing.T, p *authtest.Provider, now *clock) string {
	t.Helper()
	cfg := config.Defaults()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := storetest.SQLite(t)
	authn, err := auth.New(auth.Options{
		Issuers:     []string{p.URL + "/" + tenant + "/v2.0", p.URL + "/" + tenant + "/"},
		Audiences:   []string{apiAudience, apiClientID},
		TenantID:    tenant,
		ReadScopes:  []string{config.ScopeRead, config.ScopeReadWrite},
		WriteScopes: []string{config.ScopeReadWrite},
		ClockSkew:   time.Minute,
		MinRefresh:  time.Minute,
		Employees:   fakeEmployees{"oid-avery": {ID: "E1", OID: "oid-avery", Login: "avery", Role: store.RoleStoreAssociate, StoreID: ptr("S001")}},
		Now:         now.Now,
		CacheTTL:    cfg.Auth.CacheTTL,
		CacheBytes:  cfg.Auth.CacheBytes,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(authn.Close)
	h, _ := graphtest.Handler(t, cfg, db, nil, server.Deps{Log: log, Ready: db, Authenticate: authn.Middleware(server.WriteError)})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

func ptr[T any](v T) *T { return &v }

type authAnswer struct {
	status    int
	challenge string
	code      string
	message   string
	gql       gqlResponse
}

// call posts query to /graphql with the Authorization header auth ("" = none).
func call(t *testing.T, base, authz, query string) authAnswer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := authAnswer{status: res.StatusCode, challenge: res.Header.Get("WWW-Authenticate")}
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &a.gql); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		return a
	}
	var e struct {
		Error struct{ Code, Message, RequestID string }
	}
	if err := json.Unmarshal(raw, &e); err != nil || e.Error.RequestID == "" {
		t.Fatalf("error body %s is not the service's error shape (%v)", raw, err)
	}
	a.code, a.message = e.Error.Code, e.Error.Message
	return a
}

// TestTokens sends real signed tokens, good and bad, through the real handler.
func TestTokens(t *testing.T) {
	k1 := authtest.NewKey(t, "k1")
	p := authtest.NewProvider(t, k1)
	now := &clock{t: time.Now()}
	base := entraServer(t, p, now)
	v2, v1 := p.URL+"/"+tenant+"/v2.0", p.URL+"/"+tenant+"/"

	good := func() authtest.Claims {
		n := now.Now()
		return authtest.Claims{Issuer: v2, Audience: apiClientID, TenantID: tenant, OID: "oid-avery", Scope: "Data.ReadWrite",
			IssuedAt: n.Add(-time.Minute), NotBefore: n.Add(-time.Minute), Expiry: n.Add(time.Hour)}
	}
	with := func(f func(*authtest.Claims)) map[string]any {
		c := good()
		f(&c)
		return c.Map()
	}
	signed := func(claims map[string]any) string { return "Bearer " + authtest.Sign(t, k1, claims) }
	pubPEM := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(k1.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	b64 := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}

	const query = `{ __typename }`
	tests := []struct {
		name       string
		authz      string
		wantStatus int
		wantError  string // the error= of WWW-Authenticate; "" = none expected
		wantText   string // in the error message
	}{
		{"v2 token", signed(good().Map()), 200, "", ""},
		{"v1 token with the application ID URI", signed(with(func(c *authtest.Claims) { c.Issuer, c.Audience = v1, apiAudience })), 200, "", ""},
		{"app role instead of a scope", signed(with(func(c *authtest.Claims) { c.Scope, c.Roles = "", []string{"Data.Read"} })), 200, "", ""},
		{"expired within the clock skew", signed(with(func(c *authtest.Claims) { c.Expiry = now.Now().Add(-30 * time.Second) })), 200, "", ""},
		{"valid within the clock skew", signed(with(func(c *authtest.Claims) { c.NotBefore = now.Now().Add(30 * time.Second) })), 200, "", ""},
		{"no header", "", 401, "", "Authorization: Bearer"},
		{"basic auth", "Basic YXZlcnk6cGFzc3dvcmQ=", 401, "", "Authorization: Bearer"},
		{"not a JWT", "Bearer abc.def", 401, "invalid_token", "malformed"},
		{"expired", signed(with(func(c *authtest.Claims) { c.Expiry = now.Now().Add(-2 * time.Minute) })), 401, "invalid_token", "expired"},
		{"no expiry", signed(with(func(c *authtest.Claims) { c.Extra = map[string]any{"exp": nil} })), 401, "invalid_token", "no expiry"},
		{"not yet valid", signed(with(func(c *authtest.Claims) { c.NotBefore = now.Now().Add(10 * time.Minute) })), 401, "invalid_token", "not valid yet"},
		{"wrong audience", signed(with(func(c *authtest.Claims) { c.Audience = "api://someone-else" })), 401, "invalid_token", "audience"},
		{"wrong issuer", signed(with(func(c *authtest.Claims) { c.Issuer = p.URL + "/other-tenant/v2.0" })), 401, "invalid_token", "issuer"},
		{"wrong tenant", signed(with(func(c *authtest.Claims) { c.TenantID = "00000000-0000-0000-0000-000000000bad" })), 401, "invalid_token", "tenant"},
		{"no oid", signed(with(func(c *authtest.Claims) { c.Extra = map[string]any{"oid": nil} })), 401, "invalid_token", "oid"},
		{"alg none", "Bearer " + b64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(good().Map()) + ".", 401, "invalid_token", "algorithm"},
		{"HS256 signed with the public key", "Bearer " + authtest.SignWith(t, jose.HS256, pubPEM(), good().Map()), 401, "invalid_token", "algorithm"},
		{"unknown kid", "Bearer " + authtest.Sign(t, authtest.NewKey(t, "k-unknown"), good().Map()), 401, "invalid_token", "signature"},
		{"another key with the same kid", "Bearer " + authtest.Sign(t, authtest.NewKey(t, "k1"), good().Map()), 401, "invalid_token", "signature"},
		{"tampered payload", func() string {
			parts := strings.Split(authtest.Sign(t, k1, good().Map()), ".")
			parts[1] = b64(with(func(c *authtest.Claims) { c.OID = "oid-someone-else" }))
			return "Bearer " + strings.Join(parts, ".")
		}(), 401, "invalid_token", "signature"},
		{"no scope for this API", signed(with(func(c *authtest.Claims) { c.Scope = "User.Read" })), 403, "insufficient_scope", "scopes"},
		{"user not provisioned", signed(with(func(c *authtest.Claims) { c.OID = "oid-stranger" })), 403, "", "not provisioned in middletier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call(t, base, tt.authz, query)
			if got.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s: %s; %s)", got.status, tt.wantStatus, got.code, got.message, got.challenge)
			}
			switch tt.wantStatus {
			case 200:
				if len(got.gql.Errors) > 0 {
					t.Fatalf("errors: %+v", got.gql.Errors)
				}
				return
			case 401:
				if got.code != "UNAUTHENTICATED" || !strings.HasPrefix(got.challenge, `Bearer realm="middletier"`) {
					t.Errorf("code %q, WWW-Authenticate %q", got.code, got.challenge)
				}
			case 403:
				if got.code != "FORBIDDEN" {
					t.Errorf("code = %q, want FORBIDDEN", got.code)
				}
			}
			if tt.wantError != "" && !strings.Contains(got.challenge, `error="`+tt.wantError+`"`) {
				t.Errorf("WWW-Authenticate %q lacks error=%q", got.challenge, tt.wantError)
			}
			if tt.wantError == "invalid_token" && !strings.Contains(got.challenge, `error_description="`) {
				t.Errorf("WWW-Authenticate %q has no error_description", got.challenge)
			}
			if tt.wantError == "" && strings.Contains(got.challenge, "error=") {
				t.Errorf("WWW-Authenticate %q: no error code expected", got.challenge)
			}
			if !strings.Contains(got.message, tt.wantText) {
				t.Errorf("message %q does not mention %q", got.message, tt.wantText)
			}
		})
	}
	// Forged and unknown kids asked for fresh keys, but within the refresh
	// interval the identity provider was asked exactly once.
	if n := p.JWKSFetches.Load(); n != 1 {
		t.Errorf("key set downloaded %d times, want 1 (refreshes are rate-limited)", n)
	}

	t.Run("read-only token", func(t *testing.T) {
		ro := signed(with(func(c *authtest.Claims) { c.Scope = "Data.Read" }))
		if got := call(t, base, ro, query); got.status != 200 || len(got.gql.Errors) > 0 {
			t.Fatalf("query: %d %+v", got.status, got.gql.Errors)
		}
		got := call(t, base, ro, `mutation { rsvpEvent(input: {eventId: "EV001", response: GOING}) { rsvp { response } } }`)
		if got.status != 200 || got.gql.Code(0) != "FORBIDDEN" || !strings.Contains(got.gql.Errors[0].Message, "read-only") {
			t.Fatalf("mutation: %d %+v", got.status, got.gql.Errors)
		}
	})

	t.Run("key rotation", func(t *testing.T) {
		k2 := authtest.NewKey(t, "k2")
		p.Publish(k2)
		tok := "Bearer " + authtest.Sign(t, k2, good().Map())
		before := p.JWKSFetches.Load()
		// Within the interval the new kid is refused without asking again.
		if got := call(t, base, tok, query); got.status != 401 {
			t.Fatalf("new key within the refresh interval: status %d, want 401", got.status)
		}
		if n := p.JWKSFetches.Load(); n != before {
			t.Fatalf("key set downloaded again within the interval (%d -> %d)", before, n)
		}
		now.Add(time.Minute + time.Second)
		tok = "Bearer " + authtest.Sign(t, k2, good().Map())
		if got := call(t, base, tok, query); got.status != 200 {
			t.Fatalf("rotated key after the interval: status %d (%s)", got.status, got.message)
		}
		if n := p.JWKSFetches.Load(); n != before+1 {
			t.Fatalf("rotation: %d downloads, want exactly one more than %d", n, before)
		}
		// The retired key is gone from the refreshed set.
		if got := call(t, base, signed(good().Map()), query); got.status != 401 {
			t.Fatalf("retired key: status %d, want 401", got.status)
		}
	})
}

// Package authtest is a fake OpenID Connect identity provider for tests: an
// httptest server publishing discovery documents and a key set that tests
// can rotate, and helpers that sign real tokens with its keys. Nothing in it
// touches the network beyond loopback.
package authtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Key is a signing key with its key id.
type Key struct {
	KID     string
	Private *rsa.PrivateKey
}

// NewKey makes a 2048-bit RSA key, the size Entra ID uses.
func NewKey(t testing.TB, kid string) Key {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return Key{KID: kid, Private: k}
}

// Provider serves discovery for any issuer path under its URL, like Entra ID
// does per tenant: GET {URL}{path}/.well-known/openid-configuration names
// issuer {URL}{path} when path ends in /v2.0 and {URL}{path}/ otherwise (the
// v1 shape), and the one key set at {URL}/keys.
type Provider struct {
	URL string

	mu   sync.Mutex
	keys []Key
	// JWKSFetches counts key set downloads.
	JWKSFetches atomic.Int64
}

// NewProvider starts a provider publishing keys; it stops when the test ends.
func NewProvider(t testing.TB, keys ...Key) *Provider {
	t.Helper()
	p := &Provider{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		p.JWKSFetches.Add(1)
		p.mu.Lock()
		set := jose.JSONWebKeySet{}
		for _, k := range p.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.Private.PublicKey, KeyID: k.KID, Algorithm: string(jose.RS256), Use: "sig"})
		}
		p.mu.Unlock()
		writeJSON(w, set)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		issuerPath, ok := strings.CutSuffix(r.URL.Path, "/.well-known/openid-configuration")
		if !ok {
			http.NotFound(w, r)
			return
		}
		issuer := p.URL + issuerPath
		if !strings.HasSuffix(issuerPath, "/v2.0") {
			// Entra ID's v1 issuer ends in a slash: https://sts.windows.net/{tenant}/
			issuer += "/"
		}
		writeJSON(w, map[string]any{
			"issuer":                                issuer,
			"jwks_uri":                              p.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"pairwise"},
		})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Publish replaces the published key set (a key rotation).
func (p *Provider) Publish(keys ...Key) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = keys
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Claims are an Entra ID access token's claims; Extra adds or overrides any.
type Claims struct {
	Issuer    string
	Audience  string
	TenantID  string
	OID       string
	Scope     string
	Roles     []string
	IssuedAt  time.Time
	NotBefore time.Time
	Expiry    time.Time
	Extra     map[string]any
}

// Map is the claims as the JSON object a token carries.
func (c Claims) Map() map[string]any {
	m := map[string]any{
		"iss": c.Issuer,
		"aud": c.Audience,
		"tid": c.TenantID,
		"oid": c.OID,
		"sub": c.OID,
		"iat": c.IssuedAt.Unix(),
		"nbf": c.NotBefore.Unix(),
		"exp": c.Expiry.Unix(),
	}
	if c.Scope != "" {
		m["scp"] = c.Scope
	}
	if len(c.Roles) > 0 {
		m["roles"] = c.Roles
	}
	for k, v := range c.Extra {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

// Sign signs claims with key as RS256, with key.KID in the header.
func Sign(t testing.TB, key Key, claims map[string]any) string {
	t.Helper()
	return SignWith(t, jose.RS256, jose.JSONWebKey{Key: key.Private, KeyID: key.KID}, claims)
}

// SignWith signs claims with any algorithm and key go-jose accepts, for
// tokens a real issuer would never make (HS256 with a public key as secret).
func SignWith(t testing.TB, alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// PublicKey is the key's public half (for algorithm-confusion tests).
func (k Key) PublicKey() crypto.PublicKey { return &k.Private.PublicKey }

package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/middletier/middletier/internal/publicurl"
)

// Dev issuer constants.
const (
	// DevIssuerPath is where the service serves the dev issuer.
	DevIssuerPath = "/dev-issuer"
	// DevAudience is the audience of dev tokens when --auth-audiences is empty.
	DevAudience = "api://middletier-dev"
	// DevKeyFile is the dev issuer's signing key, in the data directory.
	DevKeyFile = "dev-issuer-key.pem"
)

// DevIssuer is a tiny OpenID Connect issuer for development: an ECDSA P-256
// key kept in the data directory, published as a discovery document and a
// JWKS, and a Mint method for tokens shaped like Entra ID access tokens. The
// service verifies its tokens with the same Authenticator as Entra ID's.
type DevIssuer struct {
	issuer string
	key    *ecdsa.PrivateKey
	kid    string
	signer jose.Signer
}

// DevIssuerDefaultBase is the dev issuer identifier's base when no public
// URL is configured: the address of the no-flags run, and what the issuer
// was named before the public URL could follow the request, so tokens
// minted then still verify. It is publicurl.Default, so the issuer and an
// exported connector definition never name different default hosts.
const DevIssuerDefaultBase = publicurl.Default

// LoadDevIssuer reads the signing key from dataDir, creating it (mode 0600)
// on first use, for an issuer at publicURL + DevIssuerPath (publicURL empty:
// DevIssuerDefaultBase).
func LoadDevIssuer(dataDir, publicURL string) (*DevIssuer, error) {
	key, err := loadOrCreateKey(filepath.Join(dataDir, DevKeyFile))
	if err != nil {
		return nil, err
	}
	if publicURL == "" {
		publicURL = DevIssuerDefaultBase
	}
	return NewDevIssuer(key, strings.TrimSuffix(publicURL, "/")+DevIssuerPath)
}

// NewDevIssuer is a dev issuer at issuerURL signing with key.
func NewDevIssuer(key *ecdsa.PrivateKey, issuerURL string) (*DevIssuer, error) {
	pub := jose.JSONWebKey{Key: &key.PublicKey}
	// The RFC 7638 thumbprint names the key: a new key always gets a new kid.
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("dev issuer key id: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("dev issuer signer: %w", err)
	}
	return &DevIssuer{issuer: issuerURL, key: key, kid: kid, signer: signer}, nil
}

// Issuer is the issuer URL (the iss claim of its tokens).
func (d *DevIssuer) Issuer() string { return d.issuer }

// Handler serves the discovery document and the key set under
// DevIssuerPath, with every URL under the issuer identifier.
func (d *DevIssuer) Handler() http.Handler { return d.HandlerAt(nil) }

// HandlerAt is Handler with the discovery document's URLs (jwks_uri) under
// the origin each request reached the service at, so that a tool reading it
// from 127.0.0.1:PORT or through a proxy is sent somewhere it can reach;
// origin nil keeps them under the issuer. The "issuer" member stays the
// fixed identifier whatever the origin: it must equal the iss of the tokens
// (OpenID Connect Discovery §4.3, and go-oidc checks it), and tokens are
// minted without a request (`middletier token`, the playground at start),
// so they could not name the address a later caller will use.
func (d *DevIssuer) HandlerAt(origin func(*http.Request) string) http.Handler {
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &d.key.PublicKey, KeyID: d.kid, Algorithm: string(jose.ES256), Use: "sig"}}}
	serve := func(doc func(r *http.Request) any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, err := json.Marshal(doc(r))
			if err != nil {
				http.Error(w, "cannot encode document", http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-cache")
			_, _ = w.Write(b)
		}
	}
	discovery := func(r *http.Request) any {
		base := d.issuer
		if origin != nil {
			base = strings.TrimSuffix(origin(r), "/") + DevIssuerPath
		}
		return map[string]any{
			"issuer":                                d.issuer,
			"jwks_uri":                              base + "/jwks",
			"id_token_signing_alg_values_supported": []string{string(jose.ES256)},
			"response_types_supported":              []string{"token"},
			"subject_types_supported":               []string{"public"},
			// No authorization endpoint: dev tokens come from `middletier token`.
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+DevIssuerPath+"/.well-known/openid-configuration", serve(discovery))
	mux.Handle("GET "+DevIssuerPath+"/jwks", serve(func(*http.Request) any { return jwks }))
	return mux
}

// Client fetches the issuer's documents from Handler in process.
func (d *DevIssuer) Client() *http.Client {
	return &http.Client{Transport: handlerTransport{prefix: d.issuer, path: DevIssuerPath, h: d.Handler()}}
}

// DevToken describes a token to mint for a seeded employee.
type DevToken struct {
	OID      string
	Login    string
	Name     string
	Audience string
	Scopes   []string
	TTL      time.Duration
}

// Mint signs an access token shaped like an Entra ID v2 token: oid, scp
// (space-separated), iss, aud, iat, nbf, exp.
func (d *DevIssuer) Mint(t DevToken) (string, error) {
	if t.OID == "" || t.Audience == "" || t.TTL <= 0 {
		return "", errors.New("dev token needs an oid, an audience and a positive ttl")
	}
	now := time.Now()
	claims := struct {
		jwt.Claims
		OID               string `json:"oid"`
		Scope             string `json:"scp,omitempty"`
		Name              string `json:"name,omitempty"`
		PreferredUsername string `json:"preferred_username,omitempty"`
		Version           string `json:"ver"`
	}{
		Claims: jwt.Claims{
			Issuer:    d.issuer,
			Subject:   t.OID,
			Audience:  jwt.Audience{t.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			Expiry:    jwt.NewNumericDate(now.Add(t.TTL)),
		},
		OID:               t.OID,
		Scope:             strings.Join(t.Scopes, " "),
		Name:              t.Name,
		PreferredUsername: t.Login,
		Version:           "2.0",
	}
	tok, err := jwt.Signed(d.signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign dev token: %w", err)
	}
	return tok, nil
}

func loadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read dev issuer key: %w", err)
	}
	return parseKey(path, b)
}

func parseKey(path string, b []byte) (*ecdsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("dev issuer key %s is not PEM; delete it to make a new one", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("dev issuer key %s: %w", path, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("dev issuer key %s is a %T, want an ECDSA key; delete it to make a new one", path, k)
	}
	return ec, nil
}

// createKey writes a new key to a temporary file and links it into place,
// so that two processes starting at once (serve and token) agree on one key
// and nobody reads a half-written file.
func createKey(path string) (*ecdsa.PrivateKey, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate dev issuer key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode dev issuer key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dev-issuer-key-*")
	if err != nil {
		return nil, fmt.Errorf("write dev issuer key: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; say so explicitly, it is a secret.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write dev issuer key: %w", err)
	}
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write dev issuer key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write dev issuer key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return loadOrCreateKey(path) // another process won the race: use its key
	} else if err != nil {
		return nil, fmt.Errorf("write dev issuer key: %w", err)
	}
	return key, nil
}

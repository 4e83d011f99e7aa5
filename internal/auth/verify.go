package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/middletier/middletier/internal/store"
)

// AllowedAlgorithms are the signature algorithms accepted: RSA PKCS#1 v1.5
// (what Entra ID signs with) and ECDSA (what the dev issuer signs with).
// "none" and every HMAC algorithm are refused before any key is looked at,
// so a token "signed" with the public key as an HMAC secret never verifies.
var AllowedAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512}

// Employees finds the employee a token belongs to.
type Employees interface {
	EmployeeByOID(ctx context.Context, oid string) (store.Employee, error)
}

// Options configure an Authenticator.
type Options struct {
	Issuers     []string // accepted iss values; each is discovered with OpenID Connect discovery
	Audiences   []string // accepted aud values
	TenantID    string   // when set, tid must equal it
	ReadScopes  []string // a token needs one of them (scp or roles)
	WriteScopes []string // ... and one of these for mutations
	ClockSkew   time.Duration
	// MinRefresh is the shortest time between two downloads of a key set.
	MinRefresh time.Duration
	// Client fetches discovery documents and key sets (nil: http.DefaultClient).
	// The dev issuer passes a client that serves them in process.
	Client    *http.Client
	Employees Employees
	Log       *slog.Logger
	// Now is the clock (nil: time.Now); tests move it.
	Now func() time.Time
	// CacheTTL is how long a verified principal (token and employee record)
	// is reused for the same token, never past the token's exp: a role or
	// store change reaches a signed-in user within it. 0 turns the cache off.
	CacheTTL time.Duration
	// CacheBytes bounds the principal cache's memory (default
	// DefaultCacheBytes when CacheTTL is set).
	CacheBytes int64
}

// Authenticator verifies bearer tokens and maps them to employees.
type Authenticator struct {
	opts    Options
	client  *http.Client
	issuers map[string]*issuer
	// verified holds principals by token hash; nil when CacheTTL is 0.
	verified *principalCache
}

// issuer is one accepted issuer, discovered on first use: a start-up while
// the identity provider is briefly unreachable must not stop the service.
type issuer struct {
	url      string
	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
}

// New builds an Authenticator; nothing is fetched until the first token.
func New(opts Options) (*Authenticator, error) {
	if len(opts.Issuers) == 0 || len(opts.Audiences) == 0 {
		return nil, errors.New("auth: at least one issuer and one audience are needed")
	}
	if opts.Employees == nil {
		return nil, errors.New("auth: an employee directory is needed")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.MinRefresh <= 0 {
		opts.MinRefresh = time.Minute
	}
	base := http.DefaultTransport
	timeout := 10 * time.Second
	if opts.Client != nil {
		if opts.Client.Transport != nil {
			base = opts.Client.Transport
		}
		if opts.Client.Timeout > 0 {
			timeout = opts.Client.Timeout
		}
	}
	a := &Authenticator{
		opts:    opts,
		client:  &http.Client{Timeout: timeout, Transport: &refreshLimiter{base: base, min: opts.MinRefresh, now: opts.Now, last: map[string]cachedAnswer{}}},
		issuers: make(map[string]*issuer, len(opts.Issuers)),
	}
	for _, iss := range opts.Issuers {
		a.issuers[iss] = &issuer{url: iss}
	}
	if opts.CacheTTL > 0 {
		pc, err := newPrincipalCache(opts.CacheTTL, opts.CacheBytes, opts.Now)
		if err != nil {
			return nil, err
		}
		a.verified = pc
	}
	return a, nil
}

// Close stops the principal cache's goroutines.
func (a *Authenticator) Close() {
	if a.verified != nil {
		a.verified.close()
	}
}

// tokenError is a verification failure: its description is safe to send in
// WWW-Authenticate; the cause is only logged.
type tokenError struct {
	description string
	cause       error
}

func (e *tokenError) Error() string { return e.description + ": " + ErrUnauthenticated.Error() }
func (e *tokenError) Unwrap() error { return ErrUnauthenticated }

func invalid(desc string, cause error) error { return &tokenError{description: desc, cause: cause} }

// claims are the Entra ID access token claims middletier reads.
type claims struct {
	Issuer    string           `json:"iss"`
	OID       string           `json:"oid"`
	TenantID  string           `json:"tid"`
	Scope     string           `json:"scp"`
	Roles     []string         `json:"roles"`
	NotBefore *jwt.NumericDate `json:"nbf"`
}

// Verify checks a raw token: algorithm, signature, issuer, audience, expiry
// and not-before (with the clock skew) and tenant. It returns the principal
// without the employee fields.
func (a *Authenticator) Verify(ctx context.Context, raw string) (Principal, error) {
	p, _, err := a.verify(ctx, raw)
	return p, err
}

// verify is Verify that also returns the token's expiry.
func (a *Authenticator) verify(ctx context.Context, raw string) (Principal, time.Time, error) {
	// Read iss before the signature is checked only to pick the issuer's
	// verifier; go-oidc then checks everything, iss included, on the verified token.
	unverified, err := jwt.ParseSigned(raw, AllowedAlgorithms)
	if err != nil {
		return Principal{}, time.Time{}, invalid("the token is malformed or not signed with an allowed algorithm ("+algNames()+")", err)
	}
	var c claims
	if err := unverified.UnsafeClaimsWithoutVerification(&c); err != nil {
		return Principal{}, time.Time{}, invalid("the token's claims are malformed", err)
	}
	iss, ok := a.issuers[c.Issuer]
	if !ok {
		return Principal{}, time.Time{}, invalid("the token's issuer is not accepted", fmt.Errorf("issuer %q", c.Issuer))
	}
	v, err := a.verifier(ctx, iss)
	if err != nil {
		return Principal{}, time.Time{}, err
	}
	tok, err := v.Verify(ctx, raw)
	switch {
	case ctx.Err() != nil:
		return Principal{}, time.Time{}, ctx.Err()
	case err != nil:
		// Also a key set that cannot be fetched: a token we cannot check is
		// refused like a forged one, and the cause is logged.
		return Principal{}, time.Time{}, invalid("the token's signature or claims are not valid", err)
	}
	if err := tok.Claims(&c); err != nil {
		return Principal{}, time.Time{}, invalid("the token's claims are malformed", err)
	}
	// Times are checked here, not by go-oidc, which has no leeway for exp and
	// a fixed five minutes for nbf: one skew setting rules both.
	now := a.opts.Now()
	if tok.Expiry.IsZero() {
		return Principal{}, time.Time{}, invalid("the token has no expiry (exp)", nil)
	}
	if now.Add(-a.opts.ClockSkew).After(tok.Expiry) {
		return Principal{}, time.Time{}, invalid("the token expired at "+tok.Expiry.UTC().Format(time.RFC3339), nil)
	}
	if c.NotBefore != nil && now.Add(a.opts.ClockSkew).Before(c.NotBefore.Time()) {
		return Principal{}, time.Time{}, invalid("the token is not valid yet", nil)
	}
	// go-oidc compares with one client id; v1 tokens carry the application ID
	// URI and v2 tokens the client id, so we accept a list.
	if !slices.ContainsFunc(tok.Audience, func(aud string) bool { return slices.Contains(a.opts.Audiences, aud) }) {
		return Principal{}, time.Time{}, invalid("the token is for another audience", fmt.Errorf("aud %q", tok.Audience))
	}
	if a.opts.TenantID != "" && !strings.EqualFold(c.TenantID, a.opts.TenantID) {
		return Principal{}, time.Time{}, invalid("the token is from another tenant", fmt.Errorf("tid %q", c.TenantID))
	}
	if c.OID == "" {
		return Principal{}, time.Time{}, invalid("the token has no oid claim (user object id)", nil)
	}
	scopes := append(strings.Fields(c.Scope), c.Roles...)
	return Principal{
		OID:      c.OID,
		TenantID: c.TenantID,
		Scopes:   scopes,
		CanWrite: slices.ContainsFunc(a.opts.WriteScopes, func(s string) bool { return slices.Contains(scopes, s) }),
	}, tok.Expiry, nil
}

// Authenticate verifies raw and completes the principal from the employee
// record. A valid token of someone who is not an employee is ErrForbidden.
// A token seen before within the cache TTL and before its exp skips both
// the signature check and the employee read; only successes are cached.
func (a *Authenticator) Authenticate(ctx context.Context, raw string) (Principal, error) {
	var key string
	if a.verified != nil {
		key = tokenKey(raw)
		if p, ok := a.verified.get(key, a.opts.ClockSkew); ok {
			return p, nil
		}
	}
	p, exp, err := a.verify(ctx, raw)
	if err != nil {
		return Principal{}, err
	}
	if !slices.ContainsFunc(a.opts.ReadScopes, p.HasScope) {
		return Principal{}, &scopeError{need: a.opts.ReadScopes}
	}
	e, err := a.opts.Employees.EmployeeByOID(ctx, p.OID)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, fmt.Errorf("user %s is signed in but not provisioned in middletier; ask an administrator to add them as an employee: %w", p.OID, ErrForbidden)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up employee: %w", err)
	}
	p.EmployeeID, p.Login, p.Role = e.ID, e.Login, e.Role
	if e.StoreID != nil {
		p.StoreID = *e.StoreID
	}
	if a.verified != nil {
		a.verified.add(key, p, exp)
	}
	return p, nil
}

// scopeError is a valid token without any scope that grants the API.
type scopeError struct{ need []string }

func (e *scopeError) Error() string {
	return "the token grants none of the scopes this API needs (" + strings.Join(e.need, " or ") + "): " + ErrForbidden.Error()
}
func (e *scopeError) Unwrap() error { return ErrForbidden }

// verifier returns the issuer's go-oidc verifier, discovering it on first use.
func (a *Authenticator) verifier(ctx context.Context, iss *issuer) (*oidc.IDTokenVerifier, error) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if iss.verifier != nil {
		return iss.verifier, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, a.client), iss.url)
	if err != nil {
		a.opts.Log.WarnContext(ctx, "identity provider discovery failed", "issuer", iss.url, "err", err)
		return nil, fmt.Errorf("the identity provider %s cannot be reached; try again shortly: %w", iss.url, ErrUnavailable)
	}
	algs := make([]string, len(AllowedAlgorithms))
	for i, alg := range AllowedAlgorithms {
		algs[i] = string(alg)
	}
	// The key set keeps this context for its downloads (go-oidc ignores its
	// cancellation): it carries the rate-limited client.
	iss.verifier = p.VerifierContext(oidc.ClientContext(context.Background(), a.client), &oidc.Config{
		SupportedSigningAlgs: algs,
		SkipClientIDCheck:    true, // audiences are checked against the list in Verify
		SkipExpiryCheck:      true, // exp and nbf are checked with our skew in Verify
	})
	return iss.verifier, nil
}

func algNames() string {
	names := make([]string, len(AllowedAlgorithms))
	for i, alg := range AllowedAlgorithms {
		names[i] = string(alg)
	}
	return strings.Join(names, ", ")
}

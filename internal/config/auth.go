package config

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Auth configures token verification: Microsoft Entra ID (or any OpenID
// Connect issuer) in production, the built-in dev issuer when no issuer and
// no tenant are configured.
type Auth struct {
	// Issuers are the accepted token issuers (the iss claim). Empty with a
	// TenantID means Entra ID's v1 and v2 issuers for that tenant; empty
	// without a TenantID means dev mode.
	Issuers []string
	// Audiences are the accepted aud values: the API's application ID URI
	// (v1 tokens) and its client id (v2 tokens).
	Audiences []string
	// TenantID is the Entra ID directory (tenant) id the tid claim must equal.
	TenantID string
	// ReadScopes grant the API at all: the token needs one of them, as a
	// delegated scope (scp) or an app role (roles).
	ReadScopes []string
	// WriteScopes grant mutations: the token needs one of them too.
	WriteScopes []string
	// ClockSkew is the leeway for exp and nbf between our clock and the issuer's.
	ClockSkew time.Duration
	// JWKSMinRefresh is the shortest time between two key set downloads: a
	// token with an unknown key id refreshes the keys at most this often, so
	// forged key ids cannot make the service hammer the identity provider.
	JWKSMinRefresh time.Duration
	// CacheTTL is how long a verified token's principal (claims and
	// employee record) is reused, never past the token's exp: the bound on
	// how late a role or store change reaches a signed-in user. 0 verifies
	// every request.
	CacheTTL time.Duration
	// CacheBytes bounds the memory of those cached principals.
	CacheBytes int64
}

// Scope names granted by default; README explains how to expose them in Entra ID.
const (
	ScopeRead      = "Data.Read"
	ScopeReadWrite = "Data.ReadWrite"
)

func defaultAuth() Auth {
	return Auth{
		ReadScopes:     []string{ScopeRead, ScopeReadWrite},
		WriteScopes:    []string{ScopeReadWrite},
		ClockSkew:      time.Minute,
		JWKSMinRefresh: time.Minute,
		CacheTTL:       time.Minute,
		CacheBytes:     4 << 20,
	}
}

func (a *Auth) flags(fs *flag.FlagSet) {
	listFlag(fs, &a.Issuers, "auth-issuers", "comma-separated accepted token issuers, e.g. https://login.microsoftonline.com/TENANT/v2.0,https://sts.windows.net/TENANT/ (empty with --auth-tenant-id: both Entra ID issuers of the tenant; empty without: the built-in dev issuer)")
	listFlag(fs, &a.Audiences, "auth-audiences", "comma-separated accepted token audiences: the API's application ID URI (api://...) and its client id (empty in dev mode: the dev audience)")
	fs.StringVar(&a.TenantID, "auth-tenant-id", a.TenantID, "Entra ID tenant (directory) id; tokens whose tid differs are refused")
	listFlag(fs, &a.ReadScopes, "auth-read-scopes", "comma-separated scopes or app roles of which a token needs one to call the API")
	listFlag(fs, &a.WriteScopes, "auth-write-scopes", "comma-separated scopes or app roles of which a token needs one to run mutations")
	fs.DurationVar(&a.ClockSkew, "auth-clock-skew", a.ClockSkew, "allowed clock difference with the token issuer for exp and nbf")
	fs.DurationVar(&a.JWKSMinRefresh, "auth-jwks-min-refresh", a.JWKSMinRefresh, "shortest time between two downloads of the issuer's signing keys (an unknown key id triggers one)")
	fs.DurationVar(&a.CacheTTL, "auth-cache-ttl", a.CacheTTL, "how long a verified token's principal (signature, claims and employee record) is reused, never past the token's exp; a role change reaches signed-in users within it (0 = verify every request, at most 15m)")
	fs.Int64Var(&a.CacheBytes, "auth-cache-bytes", a.CacheBytes, "memory for verified principals (about 400 bytes each)")
}

// listFlag registers a comma-separated list flag whose default is *dst.
func listFlag(fs *flag.FlagSet, dst *[]string, name, usage string) {
	fs.Func(name, usage+defaultList(*dst), func(s string) error {
		*dst = splitList(s)
		return nil
	})
}

func defaultList(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return " (default " + strings.Join(v, ",") + ")"
}

// DevMode reports whether the service trusts only its own dev issuer.
func (a Auth) DevMode() bool { return len(a.Issuers) == 0 && a.TenantID == "" }

// AcceptedIssuers are the issuers tokens may come from outside dev mode.
func (a Auth) AcceptedIssuers() []string {
	if len(a.Issuers) > 0 || a.TenantID == "" {
		return a.Issuers
	}
	// Custom connectors often get v1 tokens, web apps v2: accept both.
	return []string{
		"https://login.microsoftonline.com/" + a.TenantID + "/v2.0",
		"https://sts.windows.net/" + a.TenantID + "/",
	}
}

func (a Auth) validate() []error {
	var errs []error
	if !a.DevMode() && len(a.Audiences) == 0 {
		errs = append(errs, errors.New("auth-audiences must name the API (its application ID URI and/or client id) when an issuer or tenant is configured"))
	}
	for _, iss := range a.Issuers {
		if u, err := url.Parse(iss); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			errs = append(errs, fmt.Errorf("auth-issuers: %q is not an http(s) URL", iss))
		}
	}
	if len(a.ReadScopes) == 0 || len(a.WriteScopes) == 0 {
		errs = append(errs, errors.New("auth-read-scopes and auth-write-scopes must not be empty"))
	}
	if a.ClockSkew < 0 || a.ClockSkew > 5*time.Minute {
		errs = append(errs, fmt.Errorf("auth-clock-skew must be between 0 and 5m, got %s", a.ClockSkew))
	}
	if a.CacheTTL < 0 || a.CacheTTL > 15*time.Minute {
		errs = append(errs, fmt.Errorf("auth-cache-ttl must be between 0 and 15m (a role change must reach signed-in users), got %s", a.CacheTTL))
	}
	if a.CacheBytes < 64<<10 {
		errs = append(errs, fmt.Errorf("auth-cache-bytes must be at least 65536, got %d", a.CacheBytes))
	}
	if a.JWKSMinRefresh < time.Second {
		errs = append(errs, fmt.Errorf("auth-jwks-min-refresh must be at least 1s, got %s", a.JWKSMinRefresh))
	}
	return errs
}

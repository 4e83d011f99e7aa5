package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/store"
)

// identity is how the service knows its callers: the Authenticator always,
// and in dev mode the dev issuer it trusts.
type identity struct {
	authn *auth.Authenticator
	dev   *auth.DevIssuer // nil in production
}

// newIdentity builds token verification from the settings. Dev mode trusts
// only the dev issuer, whose documents are served in process; production
// trusts the configured issuers over the network. Both verify through the
// same Authenticator.
func newIdentity(cfg config.Config, employees auth.Employees, log *slog.Logger) (identity, error) {
	opts := auth.Options{
		Issuers:     cfg.Auth.AcceptedIssuers(),
		Audiences:   cfg.Auth.Audiences,
		TenantID:    cfg.Auth.TenantID,
		ReadScopes:  cfg.Auth.ReadScopes,
		WriteScopes: cfg.Auth.WriteScopes,
		ClockSkew:   cfg.Auth.ClockSkew,
		MinRefresh:  cfg.Auth.JWKSMinRefresh,
		CacheTTL:    cfg.Auth.CacheTTL,
		CacheBytes:  cfg.Auth.CacheBytes,
		Employees:   employees,
		Log:         log,
	}
	var id identity
	if cfg.Auth.DevMode() {
		dev, err := devIssuer(cfg)
		if err != nil {
			return id, err
		}
		id.dev = dev
		opts.Issuers = []string{dev.Issuer()}
		opts.Audiences = []string{devAudience(cfg)}
		opts.Client = dev.Client()
	}
	authn, err := auth.New(opts)
	if err != nil {
		return id, err
	}
	id.authn = authn
	return id, nil
}

// devIssuer loads the dev issuer. Its identifier (the iss of its tokens) is
// fixed: the configured public URL, else auth.DevIssuerDefaultBase, never the
// address of a request. `middletier token` and the playground mint tokens
// with no request to follow, and a token must verify whichever address
// (127.0.0.1, localhost, a proxy's host) it is later presented at. The
// service checks dev tokens against this identifier in process, so it need
// not be reachable; only the discovery document's URLs follow the request.
func devIssuer(cfg config.Config) (*auth.DevIssuer, error) {
	dev, err := auth.LoadDevIssuer(cfg.Database.DataDir, cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("dev issuer: %w", err)
	}
	return dev, nil
}

// devAudience is the audience dev tokens are minted for and accepted with.
func devAudience(cfg config.Config) string {
	if len(cfg.Auth.Audiences) > 0 {
		return cfg.Auth.Audiences[0]
	}
	return auth.DevAudience
}

// mintDevToken signs a dev token for the employee with login.
func mintDevToken(ctx context.Context, cfg config.Config, dev *auth.DevIssuer, db *store.DB, login string, scopes []string, ttl time.Duration) (string, error) {
	e, err := db.EmployeeByLogin(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("no employee with login %q in this database (the demo personas are avery, blake, casey and devon; the service seeds them on first start)", login)
	}
	if err != nil {
		return "", err
	}
	return dev.Mint(auth.DevToken{OID: e.OID, Login: e.Login, Name: e.Name, Audience: devAudience(cfg), Scopes: scopes, TTL: ttl})
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/middletier/middletier/internal/config"
)

// tokenCmd prints a dev bearer token for a seeded employee. It exists only
// in dev mode: with an issuer or tenant configured, tokens come from Entra ID.
func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var login string
	ttl := time.Hour
	var scopes []string
	cfg, err := parseConfig("token", "middletier token --user LOGIN [--ttl D] [--scope S]: print a dev bearer token for a demo employee", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&login, "user", "", "login of the employee: avery, blake, casey or devon in the demo data")
		fs.DurationVar(&ttl, "ttl", ttl, "how long the token is valid")
		fs.Func("scope", fmt.Sprintf("scope to grant; repeat or separate with spaces (default %s; %s makes a read-only token)", config.ScopeReadWrite, config.ScopeRead), func(s string) error {
			scopes = append(scopes, strings.Fields(s)...)
			return nil
		})
	})
	if err != nil {
		return err
	}
	if !cfg.Auth.DevMode() {
		return errors.New("token: the dev issuer is off because an issuer or tenant is configured (production mode); get a token from Entra ID instead")
	}
	if login == "" {
		return errors.New("token: --user is required, e.g. --user avery")
	}
	if ttl <= 0 {
		return fmt.Errorf("token: --ttl must be positive, got %s", ttl)
	}
	if len(scopes) == 0 {
		scopes = []string{config.ScopeReadWrite}
	}
	dev, err := devIssuer(cfg)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, newLogger(io.Discard, cfg.Log.Level, cfg.Log.Format))
	if err != nil {
		return err
	}
	defer db.Close()
	tok, err := mintDevToken(ctx, cfg, dev, db, login, scopes, ttl)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

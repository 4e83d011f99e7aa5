package config

import "flag"

// Auth configures token verification (Entra ID in production, the dev issuer by default).
type Auth struct{}

func (a *Auth) flags(fs *flag.FlagSet) {}

// Package auth knows who is calling: the verified principal of a request and
// the typed context accessors that carry it.
package auth

import (
	"context"
	"errors"
	"slices"
)

// Sentinel errors mapped to UNAUTHENTICATED and FORBIDDEN.
var (
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrForbidden       = errors.New("forbidden")
)

// Principal is the signed-in employee behind a request.
type Principal struct {
	EmployeeID string
	Login      string
	Role       string
	StoreID    string // "" for head office
	Scopes     []string
}

// HasScope reports whether the token granted scope.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the request's principal, if one was verified.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Package auth knows who is calling and what they may do: it verifies bearer
// tokens (Microsoft Entra ID or the built-in dev issuer, through the same
// go-oidc code), maps them to the employee record, carries the principal in
// the request context behind typed accessors, and holds the access rules
// (policy.go) that every resolver and the REST facade go through.
package auth

import (
	"context"
	"errors"
	"slices"

	"github.com/middletier/middletier/internal/store"
)

// Sentinel errors mapped to UNAUTHENTICATED and FORBIDDEN.
var (
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrForbidden       = errors.New("forbidden")
	// ErrUnavailable means the identity provider could not be asked (its
	// discovery document or keys are unreachable); the request may be retried.
	ErrUnavailable = errors.New("identity provider unavailable")
)

// Principal is the signed-in employee behind a request.
type Principal struct {
	EmployeeID string
	Login      string
	Role       store.Role
	StoreID    string // "" for head office
	// Scopes are the token's delegated scopes (scp) and app roles (roles):
	// Entra ID puts user-assigned app roles in roles, and either may carry a
	// permission, so both count.
	Scopes []string
	// OID is the Entra ID object id (oid), the user's stable id.
	OID string
	// TenantID is the token's tid claim ("" for dev tokens).
	TenantID string
	// CanWrite says whether the token carries one of the configured write
	// scopes; mutations need it.
	CanWrite bool
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

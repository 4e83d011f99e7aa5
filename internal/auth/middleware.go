package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrorWriter writes the service's JSON error body for err with status; the
// server package supplies it so that every error body has one shape.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, status int, err error)

// Realm names the protected resource in WWW-Authenticate.
const Realm = "middletier"

// Middleware requires a valid bearer token on every request except CORS-less
// OPTIONS (which reveal nothing), and puts the principal in the context.
// Failures follow RFC 6750: 401 with WWW-Authenticate for a missing or
// invalid token, 403 for a valid token that may not use the API.
func (a *Authenticator) Middleware(writeErr ErrorWriter) func(http.Handler) http.Handler {
	return a.MiddlewareWith(writeErr, nil)
}

// MiddlewareWith is Middleware whose WWW-Authenticate challenges also carry
// the auth-params extra gives for the request, when not nil: RFC 9728's
// resource_metadata, which MCP clients follow to the authorization server.
func (a *Authenticator) MiddlewareWith(writeErr ErrorWriter, extra func(*http.Request) string) func(http.Handler) http.Handler {
	challenge := func(r *http.Request, params string) string {
		c := `Bearer realm="` + Realm + `"`
		if extra != nil {
			if e := extra(r); e != "" {
				c += ", " + e
			}
		}
		if params != "" {
			c += ", " + params
		}
		return c
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodOptions {
				next.ServeHTTP(w, r)
				return
			}
			raw, ok := bearer(r)
			if !ok {
				// RFC 6750 section 3.1: a request without credentials gets
				// the challenge but no error code.
				w.Header().Set("WWW-Authenticate", challenge(r, ""))
				writeErr(w, r, http.StatusUnauthorized, errMissing)
				return
			}
			p, err := a.Authenticate(r.Context(), raw)
			var te *tokenError
			var se *scopeError
			switch {
			case err == nil:
				next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
			case errors.As(err, &te):
				a.opts.Log.InfoContext(r.Context(), "token refused", "reason", te.description, "cause", te.cause)
				w.Header().Set("WWW-Authenticate", challenge(r, `error="invalid_token", error_description="`+quote(te.description)+`"`))
				writeErr(w, r, http.StatusUnauthorized, err)
			case errors.As(err, &se):
				w.Header().Set("WWW-Authenticate", challenge(r, `error="insufficient_scope", scope="`+quote(strings.Join(se.need, " "))+`"`))
				writeErr(w, r, http.StatusForbidden, err)
			case errors.Is(err, ErrForbidden):
				writeErr(w, r, http.StatusForbidden, err)
			case errors.Is(err, ErrUnavailable):
				w.Header().Set("Retry-After", "5")
				writeErr(w, r, http.StatusServiceUnavailable, err)
			default:
				// Context cancelled, database down: not the caller's fault.
				a.opts.Log.ErrorContext(r.Context(), "authenticate", "err", err)
				writeErr(w, r, http.StatusInternalServerError, err)
			}
		})
	}
}

var errMissing = fmt.Errorf("sign in: send an Authorization: Bearer <token> header: %w", ErrUnauthenticated)

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

// quote makes s safe inside a quoted-string of a header.
func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `'`).Replace(s)
}

// Package gqlerr is the one place where errors become client-facing codes:
// the GraphQL error presenter uses it, and the REST facade maps the same
// codes to HTTP statuses.
package gqlerr

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/hr"
	"github.com/middletier/middletier/internal/upstream/news"
	"github.com/middletier/middletier/internal/upstream/supply"
)

// Codes carried in extensions.code.
const (
	NotFound            = "NOT_FOUND"
	BadUserInput        = "BAD_USER_INPUT"
	Unauthenticated     = "UNAUTHENTICATED"
	Forbidden           = "FORBIDDEN"
	Conflict            = "CONFLICT"
	UpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
	Internal            = "INTERNAL_SERVER_ERROR"
)

// sentinels maps each package's sentinel errors to a code, in match order.
var sentinels = []struct {
	err  error
	code string
	// message, when set, replaces the error text: an upstream's error names
	// its internal host and paths, which are not the client's business.
	message string
}{
	{store.ErrNotFound, NotFound, ""},
	{store.ErrInvalidInput, BadUserInput, ""},
	{store.ErrConflict, Conflict, ""},
	{auth.ErrUnauthenticated, Unauthenticated, ""},
	{auth.ErrForbidden, Forbidden, ""},
	{auth.ErrUnavailable, UpstreamUnavailable, ""},
	// Upstream services (HR, news, supply): each client's sentinels wrap
	// these classes, so one entry covers all three.
	{hr.ErrUnavailable, UpstreamUnavailable, "the HR system is not answering; try again shortly"},
	{news.ErrUnavailable, UpstreamUnavailable, "the news service is not answering; try again shortly"},
	{supply.ErrUnavailable, UpstreamUnavailable, "the supply system is not answering; try again shortly"},
	{upstream.ErrUnavailable, UpstreamUnavailable, "a backend service is not answering; try again shortly"},
	{upstream.ErrNotFound, NotFound, "not found in a backend service"},
}

// Classify returns the code for err and the message a client may see, or
// ok=false when the error is internal and must be masked.
func Classify(err error) (code, message string, ok bool) {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			if s.message != "" {
				return s.code, s.message, true
			}
			msg := err.Error()
			// Sentinels are wrapped with context ("quantity must be ...: invalid
			// input"); the context is the useful part for a maker.
			msg = strings.TrimSuffix(msg, ": "+s.err.Error())
			msg = strings.TrimPrefix(msg, s.err.Error()+": ")
			if s.code == NotFound {
				// "store S999: not found" reads best as "store S999 not found".
				msg += " not found"
			}
			return s.code, msg, true
		}
	}
	return "", "", false
}

// Presenter turns resolver errors into GraphQL errors: known sentinels get
// their code and message, gqlgen's own coded errors (validation, parsing,
// persisted queries) pass through, and everything else is logged and masked.
func Presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var src *gqlerror.Error
		if errors.As(err, &src) && src.Err == nil {
			// Built by gqlgen or gqlparser themselves: already client-facing,
			// except that gqlgen echoes an undecodable body back; drop the echo.
			if i := strings.Index(gerr.Message, " body:"); i > 0 && strings.HasPrefix(gerr.Message, "json request body could not be decoded") {
				gerr.Message = gerr.Message[:i]
			}
			return gerr
		}
		cause := err
		if src != nil && src.Err != nil {
			// gqlgen wraps some resolver errors with their location and path
			// ("input:9:5: product.availability ..."); a client sees the
			// resolver's own message, the path is in the error already.
			cause = src.Err
		}
		if code, msg, ok := Classify(cause); ok {
			// Messages name what the client sent; a 5,000-character id must
			// not come back whole (the REST facade shows this message to app
			// users, /graphql clients log it).
			gerr.Message = SafeMessage(msg)
			if gerr.Extensions == nil {
				gerr.Extensions = map[string]any{}
			}
			gerr.Extensions["code"] = code
			return gerr
		}
		log.ErrorContext(ctx, "internal error", "path", gerr.Path.String(), "err", err)
		return &gqlerror.Error{
			Message:    "internal server error",
			Path:       gerr.Path,
			Extensions: map[string]any{"code": Internal},
		}
	}
}

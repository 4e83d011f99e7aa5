// Package gqlerr is the one place where errors become client-facing codes:
// the GraphQL error presenter uses it, and the REST facade maps the same
// codes to HTTP statuses.
package gqlerr

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/upstream"
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

// ErrInvalidCursor is a page cursor the client gave (after) that its source
// refused. Resolvers wrap an upstream's refusal with it only when they passed
// the client's cursor on; see resolvers/upstream.go.
var ErrInvalidCursor = errors.New("the page cursor is not valid")

// invalidCursor is the message for every refused cursor, whichever source
// refused it: the client can only start again from the first page.
const invalidCursor = "the page cursor is not valid; use the one the previous page returned, or leave it empty for the first page"

// sentinels maps each package's sentinel errors to a code, in match order.
var sentinels = []struct {
	err  error
	code string
	// message, when set, replaces the error text: an upstream's error names
	// its internal host and paths, which are not the client's business.
	message string
	// argument names the field argument the error is about ("after"), so
	// that the REST facade can name its own parameter (pageToken).
	argument string
}{
	{store.ErrInvalidCursor, BadUserInput, invalidCursor, "after"},
	{ErrInvalidCursor, BadUserInput, invalidCursor, "after"},
	{store.ErrNotFound, NotFound, "", ""},
	{store.ErrInvalidInput, BadUserInput, "", ""},
	{store.ErrConflict, Conflict, "", ""},
	{auth.ErrUnauthenticated, Unauthenticated, "", ""},
	{auth.ErrForbidden, Forbidden, "", ""},
	{auth.ErrUnavailable, UpstreamUnavailable, "", ""},
}

// upstreamCodes maps an upstream error's kind to a code. BadRequest is
// missing on purpose: an upstream refusing a request we built is our bug
// (logged, masked); resolvers that passed the client's own value through
// wrap the refusal with ErrInvalidCursor instead.
var upstreamCodes = map[upstream.Kind]string{
	upstream.Unavailable: UpstreamUnavailable,
	upstream.NotFound:    NotFound,
}

// Classify returns the code for err and the message a client may see, or
// ok=false when the error is internal and must be masked.
func Classify(err error) (code, message string, ok bool) {
	code, message, _, ok = classify(err)
	return code, message, ok
}

func classify(err error) (code, message, argument string, ok bool) {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			if s.message != "" {
				return s.code, s.message, s.argument, true
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
			return s.code, msg, s.argument, true
		}
	}
	// Every upstream source carries its own public message on its typed
	// error: one rule covers them all, whichever source failed.
	var ue *upstream.Error
	if errors.As(err, &ue) && ue.Message != "" {
		if code, ok := upstreamCodes[ue.Kind]; ok {
			return code, ue.Message, "", true
		}
	}
	return "", "", "", false
}

// Presenter turns resolver errors into GraphQL errors: known sentinels get
// their code and message, gqlgen's own coded errors (validation, parsing,
// persisted queries) pass through, and everything else is logged and masked.
// Every error carries the request's id (extensions.requestId) and, when
// tracing is on, its trace id (extensions.traceId), as error bodies do.
func Presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	present := presenter(log)
	return func(ctx context.Context, err error) *gqlerror.Error {
		return withRef(present(ctx, err), RefFrom(ctx))
	}
}

// withRef returns a copy of gerr whose extensions name ref: gqlgen hands
// the presenter its own error values, which must not be written to.
func withRef(gerr *gqlerror.Error, ref Ref) *gqlerror.Error {
	if ref == (Ref{}) {
		return gerr
	}
	out := *gerr
	out.Extensions = make(map[string]any, len(gerr.Extensions)+2)
	maps.Copy(out.Extensions, gerr.Extensions)
	if ref.RequestID != "" {
		out.Extensions["requestId"] = ref.RequestID
	}
	if ref.TraceID != "" {
		out.Extensions["traceId"] = ref.TraceID
	}
	return &out
}

func presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var src *gqlerror.Error
		if errors.As(err, &src) && src.Err == nil {
			// Built by gqlgen or gqlparser themselves: already client-facing,
			// except that gqlgen echoes an undecodable body back; drop the echo.
			if strings.HasPrefix(gerr.Message, "json request body could not be decoded") {
				if i := strings.Index(gerr.Message, " body:"); i > 0 {
					gerr.Message = gerr.Message[:i]
				}
				if gerr.Extensions == nil {
					gerr.Extensions = map[string]any{}
				}
				if _, ok := gerr.Extensions["code"]; !ok {
					gerr.Extensions["code"] = BadUserInput
				}
			}
			// Validation messages quote the client's values ("Value "..."
			// does not exist in ... enum"): never a megabyte of them.
			gerr.Message = SafeMessage(gerr.Message)
			return gerr
		}
		cause := err
		if src != nil && src.Err != nil {
			// gqlgen wraps some resolver errors with their location and path
			// ("input:9:5: product.availability ..."); a client sees the
			// resolver's own message, the path is in the error already.
			cause = src.Err
		}
		if code, msg, arg, ok := classify(cause); ok {
			// Messages name what the client sent; a 5,000-character id must
			// not come back whole (the REST facade shows this message to app
			// users, /graphql clients log it).
			gerr.Message = SafeMessage(msg)
			if gerr.Extensions == nil {
				gerr.Extensions = map[string]any{}
			}
			gerr.Extensions["code"] = code
			if arg != "" {
				gerr.Extensions["argument"] = arg
			}
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

package facade

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/middletier/middletier/internal/gqlerr"
)

// Codes the facade itself answers with, beside gqlerr's.
const (
	CodeIdempotencyMismatch = "IDEMPOTENCY_KEY_REUSED"
	CodeInProgress          = "REQUEST_IN_PROGRESS"
	CodeRateLimited         = "RATE_LIMITED"
	CodeUnsupportedMedia    = "UNSUPPORTED_MEDIA_TYPE"
	CodeTimeout             = "TIMEOUT"
	// CodeUnavailable: the write could not be recorded now (the database
	// was busy or unreachable); nothing was written and a retry may succeed.
	CodeUnavailable = "SERVICE_UNAVAILABLE"
	codeComplexity  = "COMPLEXITY_LIMIT_EXCEEDED" // gqlgen's extension.FixedComplexityLimit
)

// StatusFor is the one table from error code to HTTP status; unknown codes
// are 500. Client mistakes are 4xx so that Power Automate does not retry
// them for half an hour; only what a retry may fix is 5xx (or 409/429 with
// Retry-After).
func StatusFor(code string) int {
	switch code {
	case gqlerr.BadUserInput, errcode.ValidationFailed, errcode.ParseFailed, codeComplexity:
		return http.StatusBadRequest
	case gqlerr.Unauthenticated:
		return http.StatusUnauthorized
	case gqlerr.Forbidden:
		return http.StatusForbidden
	case gqlerr.NotFound:
		return http.StatusNotFound
	case gqlerr.Conflict, CodeInProgress:
		return http.StatusConflict
	case CodeIdempotencyMismatch:
		return http.StatusUnprocessableEntity
	case CodeUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case CodeRateLimited:
		return http.StatusTooManyRequests
	case gqlerr.UpstreamUnavailable, CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// retryAfter is the Retry-After (seconds) sent with the statuses a later
// retry may fix, 0 for the others.
func retryAfter(status int) int {
	switch status {
	case http.StatusConflict:
		return 5
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusBadGateway:
		return 10
	}
	return 0
}

// answer is a response ready to write (and to store for idempotent replay).
type answer struct {
	status int
	body   []byte
	// partial: a 200 that carries warnings (a source was down), which the
	// response cache must not keep.
	partial bool
}

// errorAnswer builds the one error body of the service (gqlerr.Body:
// message first, at most 200 characters, no long echo of client input,
// under 1 KB) so that every /api/v1 answer follows one contract.
func errorAnswer(status int, code, message string, ref gqlerr.Ref, details []map[string]string) answer {
	return answer{status: status, body: gqlerr.EncodeBody(code, message, ref, details)}
}

// graphQLErrorAnswer answers with the first error's code; the rest become
// details. Messages come from the error presenter, so internals are masked.
// An error about an argument that a REST parameter feeds (a refused cursor)
// names that parameter, as a binding error does.
func (op *Operation) graphQLErrorAnswer(errs gqlerror.List, ref gqlerr.Ref) answer {
	first := errs[0]
	code := codeOf(first)
	message := first.Message
	var details []map[string]string
	if p, ok := op.paramFor(first); ok {
		details = append(details, map[string]string{"parameter": p.Name, "in": p.In, "reason": first.Message})
		message = p.Name + ": " + first.Message
	}
	for _, e := range errs[1:min(len(errs), 4)] {
		d := map[string]string{"code": codeOf(e), "message": e.Message}
		if len(e.Path) > 0 {
			d["path"] = e.Path.String()
		}
		details = append(details, d)
	}
	return errorAnswer(StatusFor(code), code, message, ref, details)
}

// paramFor finds the REST parameter behind an error the presenter tagged
// with the field argument it is about (extensions.argument): the argument
// of the field at e's path, when a variable bound to a parameter feeds it.
func (op *Operation) paramFor(e *gqlerror.Error) (Param, bool) {
	arg, _ := e.Extensions["argument"].(string)
	if arg == "" || op.Op == nil {
		return Param{}, false
	}
	var field *ast.Field
	set := op.Op.SelectionSet
	for _, step := range e.Path {
		name, ok := step.(ast.PathName)
		if !ok {
			continue // list indices do not change the selection
		}
		if field = fieldAt(set, string(name)); field == nil {
			return Param{}, false
		}
		set = field.SelectionSet
	}
	if field == nil {
		return Param{}, false
	}
	a := field.Arguments.ForName(arg)
	if a == nil || a.Value == nil || a.Value.Kind != ast.Variable {
		return Param{}, false
	}
	for _, p := range op.Params {
		if p.Variable == a.Value.Raw && p.Field == "" {
			return p, true
		}
	}
	return Param{}, false
}

// fieldAt is the field answered under key (its alias or name) in set,
// looking through fragments.
func fieldAt(set ast.SelectionSet, key string) *ast.Field {
	for _, s := range set {
		var inner ast.SelectionSet
		switch s := s.(type) {
		case *ast.Field:
			if s.Alias == key || (s.Alias == "" && s.Name == key) {
				return s
			}
			continue
		case *ast.InlineFragment:
			inner = s.SelectionSet
		case *ast.FragmentSpread:
			if s.Definition != nil {
				inner = s.Definition.SelectionSet
			}
		}
		if f := fieldAt(inner, key); f != nil {
			return f
		}
	}
	return nil
}

func codeOf(e *gqlerror.Error) string {
	if c, ok := e.Extensions["code"].(string); ok && c != "" {
		return c
	}
	return gqlerr.Internal
}

func bindErrorAnswer(e *bindError, ref gqlerr.Ref) answer {
	status, code := http.StatusBadRequest, gqlerr.BadUserInput
	if e.Status == http.StatusUnsupportedMediaType {
		status, code = e.Status, CodeUnsupportedMedia
	}
	var details []map[string]string
	if e.Param != "" {
		details = []map[string]string{{"parameter": e.Param, "in": e.In, "reason": e.Reason}}
	}
	return errorAnswer(status, code, e.Error(), ref, details)
}

// encode writes v as JSON without HTML escaping (bodies are read by apps,
// not embedded in pages) and without a trailing newline, so that the ETag
// is the hash of exactly what is sent.
func encode(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value here came from JSON or from this package.
		return gqlerr.EncodeBody(gqlerr.Internal, "internal server error", gqlerr.Ref{}, nil)
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

func writeAnswer(w http.ResponseWriter, a answer) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	if s := retryAfter(a.status); s > 0 && h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.Itoa(s))
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

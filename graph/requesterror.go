package graph

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// A request error (a document that does not parse or validate, variables
// that fail coercion, a body that is not a GraphQL request) means execution
// never began, and GraphQL over HTTP says its answer has no "data" entry at
// all. gqlgen's Response always encodes "data" (null when unset), so the
// HTTP transports run through requestErrors, which notes the error answers
// the executor dispatches, and the writer encodes those without "data". The
// facade reads Response values in process and never sees this.

// requestErrors is the executor as the transports see it: DispatchError,
// which they call only for request errors, is remembered for the writer.
type requestErrors struct {
	*executor.Executor
	w *requestErrorWriter
}

func (e requestErrors) DispatchError(ctx context.Context, list gqlerror.List) *graphql.Response {
	resp := e.Executor.DispatchError(ctx, list)
	e.w.failed = resp
	return resp
}

// requestErrorWriter writes the answer to a request error as
// {"errors": [...], "extensions": {...}}: the transport encodes the whole
// response in one Write, which is replaced.
type requestErrorWriter struct {
	http.ResponseWriter
	failed *graphql.Response
}

func (w *requestErrorWriter) Write(p []byte) (int, error) {
	if w.failed == nil {
		return w.ResponseWriter.Write(p)
	}
	b, err := json.Marshal(struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{w.failed.Errors, w.failed.Extensions})
	w.failed = nil
	if err != nil {
		return w.ResponseWriter.Write(p)
	}
	if _, err := w.ResponseWriter.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *requestErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

package facade

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/middletier/middletier/internal/gqlerr"
	"github.com/middletier/middletier/internal/publicurl"
)

// shape turns resp into the REST answer: the value at op.Result without any
// wrapper, lists as {value, nextLink, nextCursor}, nulls left out.
func (op *Operation) shape(resp *graphql.Response, r *http.Request, origin string, ref gqlerr.Ref) answer {
	var data any
	if len(resp.Data) > 0 {
		dec := json.NewDecoder(bytes.NewReader(resp.Data))
		dec.UseNumber() // numbers pass through exactly as the executor wrote them
		if err := dec.Decode(&data); err != nil {
			return errorAnswer(http.StatusInternalServerError, gqlerr.Internal, "internal server error", ref, nil)
		}
	}
	value, missing := data, ""
	if op.Result != "" {
		for _, k := range strings.Split(op.Result, ".") {
			m, _ := value.(map[string]any)
			value = m[k]
			if value == nil {
				missing = k
				break
			}
		}
	}
	// With the result there, a partial operation keeps every error as a
	// warning, and any operation keeps an upstream outage below its result
	// as one (degrade.go); every other error fails the call.
	var errs, fatal gqlerror.List
	for _, e := range resp.Errors {
		if value != nil && (op.Partial || op.degrades(e)) {
			errs = append(errs, e)
		} else {
			fatal = append(fatal, e)
		}
	}
	switch {
	case len(fatal) > 0:
		return op.graphQLErrorAnswer(fatal, ref)
	case value == nil:
		// A nullable lookup (product(sku:)) found nothing.
		if missing == "" {
			missing = "result"
		}
		return errorAnswer(http.StatusNotFound, gqlerr.NotFound, fmt.Sprintf("%s not found", missing), ref, nil)
	}

	value = dropNulls(value)
	if op.Paged {
		conn, _ := value.(map[string]any)
		body := map[string]any{"value": conn["nodes"]}
		if body["value"] == nil {
			body["value"] = []any{}
		}
		pi, _ := conn["pageInfo"].(map[string]any)
		if more, _ := pi["hasNextPage"].(bool); more {
			if cursor, _ := pi["endCursor"].(string); cursor != "" {
				body["nextCursor"] = cursor
				body[NextLinkProperty] = op.nextLink(r, origin, cursor)
			}
		}
		value = body
	}
	if len(errs) > 0 {
		if m, ok := value.(map[string]any); ok {
			m["warnings"] = op.warnings(errs)
		}
	}
	// The same status the definition declares (201 for a create), so flows
	// that branch on it see what the connector promised.
	return answer{status: SuccessStatus(op), body: encode(value)}
}

// NextLinkProperty is the body property that holds a list's next page URL,
// named by the definition's x-ms-pageable and its updatenextlink policy alike.
const NextLinkProperty = "nextLink"

// SuccessStatus is the status of a successful call: 201 for a POST to a
// collection (a path without variables, e.g. POST /backorders creates one),
// 200 for everything else. The handler and the definition must agree.
func SuccessStatus(op *Operation) int {
	if op.Method == "POST" && !strings.Contains(op.Path, "{") {
		return 201
	}
	return 200
}

// nextLink is the absolute URL of the next page: the public origin the
// caller used, the same path, the same query with the page token replaced.
// Flows follow it as is (through the connector only when its updatenextlink
// policy is in place), so every paging state lives in the query.
func (op *Operation) nextLink(r *http.Request, origin, cursor string) string {
	q := r.URL.Query()
	for _, p := range op.Params {
		if p.Variable == op.Cursor && p.Field == "" {
			q.Set(p.Name, cursor)
		}
	}
	return strings.TrimSuffix(origin, "/") + r.URL.EscapedPath() + "?" + q.Encode()
}

// origin is the public origin of r (see Options.Origin).
func (o Options) origin(r *http.Request) string {
	if o.Origin == nil {
		var follow publicurl.Resolver
		return follow.Origin(r)
	}
	return o.Origin(r)
}

// dropNulls removes null members and list items at every depth: canvas apps
// and flows mishandle null in typed columns, and Swagger 2.0 cannot declare it.
func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
				continue
			}
			v[k] = dropNulls(e)
		}
		return v
	case []any:
		out := v[:0]
		for _, e := range v {
			if e != nil {
				out = append(out, dropNulls(e))
			}
		}
		return out
	}
	return v
}

package facade

import (
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
// wrapper, lists as {value, nextLink, nextCursor}, nulls left out. It reads
// the executor's bytes once with a streaming decoder and writes the body
// straight from them (rawjson.go), never building maps: the result is most
// of a page's bytes, and decoding it into maps and encoding it again cost a
// sixth of a facade call.
func (op *Operation) shape(resp *graphql.Response, r *http.Request, origin string, ref gqlerr.Ref) answer {
	internal := func() answer {
		return errorAnswer(http.StatusInternalServerError, gqlerr.Internal, "internal server error", ref, nil)
	}
	dec := newRawDecoder(resp.Data)
	found, missing, err := descend(dec, len(resp.Data) > 0, op.Result)
	if err != nil {
		return internal()
	}
	// With the result there, a partial operation keeps every error as a
	// warning, and any operation keeps an upstream outage below its result
	// as one (degrade.go); every other error fails the call.
	var errs, fatal gqlerror.List
	for _, e := range resp.Errors {
		if found && (op.Partial || op.degrades(e)) {
			errs = append(errs, e)
		} else {
			fatal = append(fatal, e)
		}
	}
	switch {
	case len(fatal) > 0:
		return op.graphQLErrorAnswer(fatal, ref)
	case !found:
		// A nullable lookup (product(sku:)) found nothing.
		if missing == "" {
			missing = "result"
		}
		return errorAnswer(http.StatusNotFound, gqlerr.NotFound, fmt.Sprintf("%s not found", missing), ref, nil)
	}

	var warnings []byte
	if len(errs) > 0 {
		warnings = encode(op.warnings(errs))
	}
	body := make([]byte, 0, len(resp.Data)+len(warnings)+64)
	w := rawWriter{dec: dec}
	if op.Paged {
		body, err = op.page(&w, body, r, origin, warnings)
	} else {
		body, err = w.value(body, member{name: "warnings", value: warnings})
	}
	if err != nil {
		return internal()
	}
	// The same status the definition declares (201 for a create), so flows
	// that branch on it see what the connector promised.
	return answer{status: SuccessStatus(op), body: body}
}

// page writes a connection, the value dec is at, as the paged body
// {nextCursor, nextLink, value, warnings} (in that order, as every body's
// members are): nodes without nulls, the cursor and link only when there is
// a next page.
func (op *Operation) page(w *rawWriter, body []byte, r *http.Request, origin string, warnings []byte) ([]byte, error) {
	var nodes []byte
	var pi struct {
		HasNextPage bool   `json:"hasNextPage"`
		EndCursor   string `json:"endCursor"`
	}
	err := w.members(func(name []byte) error {
		switch string(name) {
		case `"nodes"`:
			var err error
			nodes, err = w.value(make([]byte, 0, cap(body)), member{})
			return err
		case `"pageInfo"`:
			v, err := w.dec.ReadValue()
			if err != nil {
				return err
			}
			return json.Unmarshal(v, &pi)
		}
		return w.dec.SkipValue()
	})
	if err != nil {
		return nil, err
	}
	body = append(body, '{')
	if pi.HasNextPage && pi.EndCursor != "" {
		body = append(body, `"nextCursor":`...)
		body = append(body, encode(pi.EndCursor)...)
		body = append(body, `,"`+NextLinkProperty+`":`...)
		body = append(body, encode(op.nextLink(r, origin, pi.EndCursor))...)
		body = append(body, ',')
	}
	body = append(body, `"value":`...)
	if nodes == nil {
		nodes = []byte("[]")
	}
	body = append(body, nodes...)
	if warnings != nil {
		body = append(body, `,"warnings":`...)
		body = append(body, warnings...)
	}
	return append(body, '}'), nil
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

package facade

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/middletier/middletier/internal/gqlerr"
)

// Call is one call of an operation that does not come through its REST
// route (an MCP tool's arguments): what the REST request would carry.
type Call struct {
	// Params are the path, query and header parameter values by REST name,
	// as text: the binder coerces them exactly as it coerces a URL's.
	Params map[string]string
	// Body is the JSON body of a write (with its clientRequestId, if any).
	Body []byte
	// Origin is the public origin the caller reached the service at; a
	// paged answer's nextLink points there.
	Origin string
}

// Answer is an operation's answer: the status and body its REST route
// would send (the shaped result, or the service's error body).
type Answer struct {
	Status int
	Body   []byte
	// Replayed: a write's first answer, returned again for its idempotency key.
	Replayed bool
}

// Call runs the operation opID for the caller in ctx (its principal,
// loaders and request id, put there by the same middleware as for REST)
// through the same path as its REST route: binding and coercion, the input
// contract, idempotent writes and the cache invalidation they cause, the
// response cache, the shared executor, shaping and the error table. Only an unknown opID is an error; everything else is an Answer.
func (f *Facade) Call(ctx context.Context, opID string, c Call) (Answer, error) {
	op := f.operation(opID)
	if op == nil {
		return Answer{}, fmt.Errorf("no operation %s", opID)
	}
	r, berr := op.request(ctx, c)
	if berr != nil {
		a := bindErrorAnswer(berr, gqlerr.RefFrom(ctx))
		return Answer{Status: a.status, Body: a.body}, nil
	}
	origin := c.Origin
	if origin == "" {
		origin = f.opts.origin(r)
	}
	o := f.handle(r, op, origin)
	return Answer{Status: o.status, Body: o.body, Replayed: o.replayed}, nil
}

func (f *Facade) operation(id string) *Operation {
	for i := range f.ops {
		if f.ops[i].ID == id {
			return &f.ops[i]
		}
	}
	return nil
}

// request is the REST request c stands for, as the router would hand it to
// the operation: the path values in chi's route context, escaped once in
// the path as the connector runtime sends them, so that the binder decodes
// them exactly once, as it does for a routed request.
func (op *Operation) request(ctx context.Context, c Call) (*http.Request, *bindError) {
	rctx := chi.NewRouteContext()
	query := url.Values{}
	header := http.Header{}
	path, raw := op.Path, op.Path
	known := map[string]bool{}
	for _, p := range op.Params {
		known[p.Name] = true
		v, ok := c.Params[p.Name]
		if !ok {
			continue
		}
		switch p.In {
		case "path":
			esc := url.PathEscape(v)
			rctx.URLParams.Add(p.Name, esc)
			path = strings.ReplaceAll(path, "{"+p.Name+"}", v)
			raw = strings.ReplaceAll(raw, "{"+p.Name+"}", esc)
		case "query":
			query.Set(p.Name, v)
		case "header":
			header.Set(p.Name, v)
		}
	}
	for name := range c.Params {
		if !known[name] {
			return nil, &bindError{Param: name, Reason: "is not a parameter of " + op.ID}
		}
	}
	var body *bytes.Reader
	if op.Body != nil {
		body = bytes.NewReader(c.Body)
		header.Set("Content-Type", "application/json")
	} else {
		body = bytes.NewReader(nil)
	}
	r, err := http.NewRequestWithContext(context.WithValue(ctx, chi.RouteCtxKey, rctx), op.Method, BasePath, body)
	if err != nil {
		return nil, &bindError{Reason: "the call could not be made into a request: " + err.Error()}
	}
	r.URL = &url.URL{Path: BasePath + path, RawPath: BasePath + raw, RawQuery: query.Encode()}
	r.Header = header
	return r, nil
}

// Package mcp offers the connector's operations as Model Context Protocol
// tools, on the official Go SDK: one tool per operation file (unless its
// header opts out), named by its operationId, described by its summary and
// description, taking its parameters and body as one self-contained JSON
// Schema that the connector publisher derives (connector.Inputs), and
// answering with the same shaped JSON as the REST route. Every call goes
// through facade.Facade.Call, the one entry point the REST route uses too,
// so binding, access rules, idempotent writes, partial results and the
// error table are the facade's own; the HTTP stack in front (token,
// limits, loaders, metrics) is the one /api/v1 has.
//
// Handler serves the tools over streamable HTTP, stateless (any replica
// answers any request); the stdio transport (middletier mcp) serves the
// same Server.
package mcp

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/facade"
)

// Facade runs operations (*facade.Facade).
type Facade interface {
	Operations() []facade.Operation
	Schema() *ast.Schema
	Call(ctx context.Context, opID string, c facade.Call) (facade.Answer, error)
}

// Options describe the server.
type Options struct {
	// Name and Version identify the server to clients (serverInfo).
	Name, Version string
	// Origin is the public origin a caller reached when it is not an HTTP
	// request that Handler saw (stdio): a paged answer's nextLink points
	// there. Empty follows the request, as the facade does.
	Origin string
	Log    *slog.Logger
}

// instructions tell an agent how the tools behave as a set.
const instructions = "Tools over a retailer's store data and employee home view. Lists are paged: pass a result's nextCursor as pageToken for the next page. Writes take a clientRequestId: send the same one when you retry a write, and it is done once. A failed call returns the service's error body with a stable code and a message naming the argument at fault."

// NewServer builds the MCP server with one tool per operation of f that
// does not opt out. A tool whose input schema cannot be derived is an
// error: the service must not start with it.
func NewServer(f Facade, opts Options) (*sdk.Server, error) {
	if opts.Name == "" {
		opts.Name = "middletier"
	}
	if opts.Version == "" {
		opts.Version = "1.0.0"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	srv := sdk.NewServer(&sdk.Implementation{Name: opts.Name, Version: opts.Version}, &sdk.ServerOptions{
		Instructions: instructions,
		Logger:       opts.Log,
	})
	for _, op := range f.Operations() {
		if op.Tool.Off {
			continue
		}
		t, err := newTool(op, f.Schema())
		if err != nil {
			return nil, fmt.Errorf("mcp tool %s: %w", op.ID, err)
		}
		srv.AddTool(t.def, func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return t.call(ctx, f, req, opts.Origin)
		})
	}
	return srv, nil
}

// HandlerOptions tune the streamable HTTP transport.
type HandlerOptions struct {
	// Origin is the public origin a request reached the service at
	// (publicurl.Resolver's Origin); nil follows the request.
	Origin func(*http.Request) string
	// MaxBodyBytes bounds a request body (the server's --max-body-bytes);
	// the HTTP stack enforces it first, so this only keeps the SDK's own
	// default from refusing less.
	MaxBodyBytes int64
	Log          *slog.Logger
}

// Handler serves srv over streamable HTTP. It is stateless: no session is
// kept between requests, so any replica answers any request and nothing
// is lost when one goes away. Answers are JSON, not event streams: every
// tool answers at once, and proxies and gateways pass JSON unchanged.
func Handler(srv *sdk.Server, opts HandlerOptions) http.Handler {
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv }, &sdk.StreamableHTTPOptions{
		Stateless:    true,
		JSONResponse: true,
		Logger:       opts.Log,
		// The SDK refuses a non-localhost Host arriving on a loopback
		// address, against DNS rebinding of local servers without
		// credentials. Every request here needs a bearer token, and behind
		// a sidecar proxy every request arrives on loopback with the public
		// Host, so the check would refuse them all and protect nothing.
		DisableLocalhostProtection: true,
		MaxRequestBodyBytes:        opts.MaxBodyBytes,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := ""
		if opts.Origin != nil {
			origin = opts.Origin(r)
		}
		h.ServeHTTP(w, r.WithContext(withOrigin(r.Context(), origin)))
	})
}

type originKey struct{}

// withOrigin carries the public origin of the HTTP request a tool call
// came in, for its nextLink.
func withOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, originKey{}, origin)
}

func originFrom(ctx context.Context) string {
	o, _ := ctx.Value(originKey{}).(string)
	return o
}

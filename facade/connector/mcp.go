package connector

import (
	"fmt"

	"github.com/go-openapi/spec"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/facade"
)

// The MCP operation: the same operations as agent tools, at POST /mcp of
// the service (Copilot Studio's "custom MCP connector": an operation marked
// x-ms-agentic-protocol, streamable HTTP transport). The definition's paths
// sit under facade.BasePath, so the operation's path is MCPPath there and the
// service answers MCP at both /mcp and facade.BasePath+MCPPath.
const (
	// MCPPath is the MCP operation's path in the definition.
	MCPPath = "/mcp"
	// MCPOperationID names the MCP operation; no operation file may take it.
	MCPOperationID = "InvokeMCP"
	// agenticProtocol is the x-ms-agentic-protocol value of an MCP server
	// on the streamable HTTP transport.
	agenticProtocol = "mcp-streamable-1.0"
)

// mcpOperation is POST /mcp: a JSON-RPC endpoint that Copilot Studio drives
// itself (initialize, tools/list, tools/call), so it declares no body or
// result schema, as Microsoft's template does. It is advanced: a canvas app
// or a flow calls the typed operations instead.
func (g *generator) mcpOperation() *spec.Operation {
	o := spec.NewOperation(MCPOperationID)
	o.Summary = "Agent tools"
	o.Description = "Offers the operations of this connector as Model Context Protocol tools for agents. Agents list and call the tools themselves; apps and flows use the operations instead."
	o.AddExtension("x-ms-agentic-protocol", agenticProtocol)
	o.AddExtension("x-ms-visibility", "advanced")
	o.SecuredWith(securityName, g.opts.Scopes...)
	o.Responses = &spec.Responses{ResponsesProps: spec.ResponsesProps{
		StatusCodeResponses: map[int]spec.Response{
			200: *response("The MCP answer (JSON-RPC), written by the server for the agent."),
			401: *response("The connection's sign-in is missing, expired or not valid."),
		},
	}}
	return o
}

// Inputs are what a caller sends op, as the definition declares them: its
// path, query and header parameters in definition order, and its body's
// schema (nil without a body; its clientRequestId property carries the
// idempotency key, so the Idempotency-Key header the definition adds to
// writes is not among the parameters). The MCP tools (facade/mcp) derive
// their input schemas from these, so a tool and its REST operation take the
// same values with the same limits and descriptions.
func Inputs(op *facade.Operation, schema *ast.Schema) ([]spec.Parameter, *spec.Schema, error) {
	g := &generator{schema: schema, opts: DefaultOptions()}
	var params []spec.Parameter
	for _, p := range op.Params {
		sp, err := g.param(op, p)
		if err != nil {
			return nil, nil, fmt.Errorf("operation %s: parameter %s: %w", op.ID, p.Name, err)
		}
		params = append(params, *sp)
	}
	var body *spec.Schema
	if op.Body != nil {
		body = g.bodyParam(op).Schema
	}
	return params, body, nil
}

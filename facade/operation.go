// Package facade is the REST connector facade: every file in operations/ is
// one named GraphQL operation plus its REST binding. At start-up the files
// are parsed and validated against the schema; each becomes a route under
// /api/v1 that binds REST parameters to the operation's variables, runs the
// stored document in process through the same executor as /graphql, shapes
// the result for canvas apps, and maps errors to HTTP statuses. Package
// facade/connector publishes the same operations as the Swagger 2.0
// definition and the connector package, reading their selections through
// this package's walker (selection.go).
package facade

import "github.com/vektah/gqlparser/v2/ast"

// Operation is one loaded, validated operation file.
type Operation struct {
	ID          string // operationId: the GraphQL operation's name, PascalCase
	File        string // file name, for error messages
	Method      string // GET or POST
	Path        string // chi pattern under /api/v1, e.g. /stores/{storeId}/backorders
	Summary     string // sentence case, <= 80 chars, no trailing punctuation
	Description string // full sentence(s), ends with punctuation
	Visibility  string // important | advanced | internal (x-ms-visibility)
	// Result is the dot path inside data to the value returned as the body
	// ("stores", "recordBackorder.backorder", "" for the whole data object).
	Result string
	// Paged: Result is a connection ({nodes, pageInfo}); the body becomes
	// {"value": nodes, "nextLink": ..., "nextCursor": ...}.
	Paged bool
	// PageSize and Cursor name the variables that page (Paged only).
	PageSize, Cursor string
	// Write marks a mutation: Idempotency-Key / clientRequestId apply.
	Write bool
	// Partial: the operation gathers several sources; when some fail and
	// the result is still there, the answer is 200 with what it has plus a
	// "warnings" array ([{code, message, path}]). Otherwise any error fails
	// the call.
	Partial bool
	// Params bind REST parameters to variables, in definition order.
	Params []Param
	// Body, when not nil, binds the JSON body (POST only).
	Body *Body
	// Cache, when not nil, caches a GET's answers (cachepolicy.go).
	Cache *CachePolicy
	// Invalidates are the tags a write makes wrong once it commits.
	Invalidates []Tag
	// Tool says how the operation is offered as an MCP tool (facade/mcp).
	Tool Tool

	Source string                   // the GraphQL document text, run as is
	Doc    *ast.QueryDocument       // parsed and validated at start-up
	Op     *ast.OperationDefinition // the one operation in Doc

	lines map[string]int // binding key -> file line, for cross-file errors
	// nodes is the selection of one list item and nodesOn its type (Paged only).
	nodes   ast.SelectionSet
	nodesOn *ast.Definition
	// defaults is canonVars of no variables at all (every default), set by
	// New: a cached read without parameters (GET /stores) keys on it
	// without encoding the same defaults again on every request.
	defaults   string
	defaultsOK bool
}

// Tool is the operation's MCP tool binding (the header's tool key): every
// operation is a tool unless it opts out.
type Tool struct {
	// Off: the operation is not offered as a tool (tool: {expose: false}).
	Off bool
	// Destructive: a write that may overwrite or end what exists, rather
	// than only add (tool: {destructive: true}): MCP's destructiveHint.
	Destructive bool
}

// Param binds one path, query or header parameter to one variable.
type Param struct {
	Name     string // REST name (path template name, query key, header name)
	In       string // path | query | header
	Variable string // GraphQL variable name (without $)
	// Field, when set, names a field of the body variable (an input object)
	// that this parameter fills: "backorderId" of $input for
	// POST /backorders/{backorderId}/status. The body schema leaves it out
	// (Body.Omit). Type, Default and Description are then the field's.
	Field       string
	Summary     string // x-ms-summary, Title Case
	Description string // from the binding, else the schema argument's description
	Required    bool   // path params always; else the variable is non-null without default
	Visibility  string // optional x-ms-visibility for the parameter
	Default     any    // the variable's default value, if any (sent by the runtime!)
	Type        *ast.Type
	// Picker fills x-ms-dynamic-values from another operation's list.
	Picker *Picker
}

// key is the binding key of p: "storeId" or "input.backorderId".
func (p Param) key() string {
	if p.Field != "" {
		return p.Variable + "." + p.Field
	}
	return p.Variable
}

// Body binds the JSON request body.
type Body struct {
	// Variable receives the whole body (an input object), e.g. "input".
	Variable string
	Type     *ast.Type
	// ClientRequestID names the body property that carries an idempotency key
	// for makers who cannot set headers ("clientRequestId"); it is removed
	// before the body is bound to Variable.
	ClientRequestID string
	// Omit lists the fields of Variable's input type that parameters fill
	// (Param.Field); they are not part of the body schema, and a body that
	// sends them anyway is overridden by the parameter.
	Omit []string
}

// Picker is x-ms-dynamic-values: a dropdown fed by another operation.
type Picker struct {
	OperationID     string            // e.g. ListStores
	ValueCollection string            // "value"
	ValuePath       string            // property of each item, e.g. "id"
	ValueTitle      string            // property shown, e.g. "name"
	Parameters      map[string]string // fixed parameters passed to the picker operation
}

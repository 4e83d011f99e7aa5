// Package connectortest emulates the Power Platform connector runtime in
// tests: it reads a connector definition (Swagger 2.0) and apiProperties.json,
// builds every call only from them, sends it the way a flow or a canvas app
// does, retries it and follows nextLink the way the runtime does, and judges
// the answer against the definition (CONNECTOR.md §10). Test code only.
package connectortest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/go-openapi/spec"
)

// Definition is a connector package as the runtime sees it: the definition
// and the policies of apiProperties.json.
type Definition struct {
	Swagger *spec.Swagger
	// Policies are properties.policyTemplateInstances of apiProperties.json.
	Policies []Policy
	ops      map[string]*Operation
}

// Policy is one policyTemplateInstances entry.
type Policy struct {
	TemplateID string         `json:"templateId"`
	Title      string         `json:"title"`
	Parameters map[string]any `json:"parameters"`
}

// Operation is one operation of the definition with its route.
type Operation struct {
	ID, Method, Path string
	*spec.Operation
}

// Load parses a definition and, when props is not empty, apiProperties.json.
func Load(definition, props []byte) (*Definition, error) {
	var sw spec.Swagger
	if err := json.Unmarshal(definition, &sw); err != nil {
		return nil, fmt.Errorf("definition: %w", err)
	}
	if sw.Paths == nil || sw.Host == "" || len(sw.Schemes) == 0 {
		return nil, fmt.Errorf("definition has no paths, host or schemes")
	}
	d := &Definition{Swagger: &sw, ops: map[string]*Operation{}}
	for path, item := range sw.Paths.Paths {
		for method, op := range map[string]*spec.Operation{http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put, http.MethodPatch: item.Patch, http.MethodDelete: item.Delete} {
			if op != nil {
				d.ops[op.ID] = &Operation{ID: op.ID, Method: method, Path: path, Operation: op}
			}
		}
	}
	if len(props) > 0 {
		var f struct {
			Properties struct {
				Policies []Policy `json:"policyTemplateInstances"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(props, &f); err != nil {
			return nil, fmt.Errorf("apiProperties: %w", err)
		}
		d.Policies = f.Properties.Policies
	}
	return d, nil
}

// Operation returns the operation with operationId id.
func (d *Definition) Operation(id string) (*Operation, bool) {
	op, ok := d.ops[id]
	return op, ok
}

// OperationIDs lists every operationId, sorted.
func (d *Definition) OperationIDs() []string {
	var ids []string
	for id := range d.ops {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// BaseURL is where the connector sends calls: the first scheme, the host and
// the basePath of the definition.
func (d *Definition) BaseURL() string {
	return d.Swagger.Schemes[0] + "://" + d.Swagger.Host + d.Swagger.BasePath
}

// Agentic reports an MCP server operation (x-ms-agentic-protocol): the
// runtime hands it to an agent's MCP client, which speaks JSON-RPC to it;
// flows and apps do not call it as an action.
func (op *Operation) Agentic() bool {
	_, ok := op.Extensions["x-ms-agentic-protocol"]
	return ok
}

// NextLinkName is the x-ms-pageable nextLinkName of op, "" when op does not page.
func (op *Operation) NextLinkName() string {
	p, ok := op.Extensions["x-ms-pageable"].(map[string]any)
	if !ok {
		return ""
	}
	name, _ := p["nextLinkName"].(string)
	return name
}

// SuccessSchema is the status and schema of op's declared 2xx response.
func (op *Operation) SuccessSchema() (int, *spec.Schema, bool) {
	if op.Responses == nil {
		return 0, nil, false
	}
	for code, r := range op.Responses.StatusCodeResponses {
		if code >= 200 && code < 300 {
			return code, r.Schema, true
		}
	}
	return 0, nil, false
}

// UpdatesNextLink reports whether an updatenextlink policy covers op for its
// nextLinkName (CONNECTOR.md §3): then the runtime routes the next page
// through the connector, with the connection's token.
func (d *Definition) UpdatesNextLink(op *Operation) bool {
	for _, p := range d.Policies {
		if p.TemplateID != "updatenextlink" {
			continue
		}
		if name, _ := p.Parameters["x-ms-apimTemplateParameter.nextLinkPropertyName"].(string); name != op.NextLinkName() {
			continue
		}
		ops, limited := p.Parameters["x-ms-apimTemplate-operationName"].([]any)
		if !limited || slices.Contains(ops, any(op.ID)) {
			return true
		}
	}
	return false
}

// param finds op's parameter name in where ("path", "query", "header", "body").
func (op *Operation) param(where, name string) (spec.Parameter, bool) {
	for _, p := range op.Parameters {
		if p.In == where && (where == "body" || strings.EqualFold(p.Name, name)) {
			return p, true
		}
	}
	return spec.Parameter{}, false
}

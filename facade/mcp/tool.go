package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/facade/connector"
	"github.com/middletier/middletier/internal/gqlerr"
)

// tool is one operation offered as an MCP tool. Its arguments are the
// operation's REST parameters and, for a write, its body's properties, side
// by side in one object: an agent fills one form, as a maker does.
type tool struct {
	op  facade.Operation
	def *sdk.Tool
	// params are the REST parameters by name; every other argument is a
	// body property (body is nil for an operation without one).
	params map[string]facade.Param
	body   map[string]bool
}

func newTool(op facade.Operation, schema *ast.Schema) (*tool, error) {
	params, body, err := connector.Inputs(&op, schema)
	if err != nil {
		return nil, err
	}
	t := &tool{op: op, params: map[string]facade.Param{}}
	for _, p := range op.Params {
		t.params[p.Name] = p
	}
	props := map[string]any{}
	var required []string
	for _, p := range params {
		s, err := parameterSchema(p)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		props[p.Name] = s
		if p.Required {
			required = append(required, p.Name)
		}
	}
	if body != nil {
		s, err := jsonSchema(body)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		t.body = map[string]bool{}
		bodyProps, _ := s["properties"].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(bodyProps)) {
			if _, clash := props[name]; clash {
				return nil, fmt.Errorf("body property %s has the name of a parameter; a tool takes both as one argument", name)
			}
			props[name] = bodyProps[name]
			t.body[name] = true
		}
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				required = append(required, r.(string))
			}
		}
	}
	input := map[string]any{
		"type":                 "object",
		"properties":           props,
		"additionalProperties": false,
	}
	if len(required) > 0 {
		slices.Sort(required)
		input["required"] = required
	}

	readOnly := !op.Write
	destructive := op.Tool.Destructive
	t.def = &sdk.Tool{
		Name:        op.ID,
		Title:       op.Summary,
		Description: description(op),
		InputSchema: input,
		Annotations: &sdk.ToolAnnotations{
			Title:        op.Summary,
			ReadOnlyHint: readOnly,
			// A write is idempotent when a retry can name the first try:
			// the clientRequestId argument.
			IdempotentHint:  readOnly || (op.Body != nil && op.Body.ClientRequestID != ""),
			DestructiveHint: &destructive,
		},
	}
	return t, nil
}

// description is the summary and the description, as the definition has
// them (the parts left out while a source is down included).
func description(op facade.Operation) string {
	d := strings.TrimSpace(op.Summary + ". " + op.Description)
	if more := op.DegradeDescription(); more != "" {
		d += " " + more
	}
	return d
}

// parameterSchema is the JSON Schema of one REST parameter: the
// definition's type, format, enum, limits, default and description.
func parameterSchema(p any) (map[string]any, error) {
	m, err := jsonSchema(p)
	if err != nil {
		return nil, err
	}
	// A Swagger parameter's required is a boolean of the parameter, not
	// the list of an object schema.
	delete(m, "required")
	return m, nil
}

// keywords are the JSON Schema keywords a tool schema keeps: the ones that
// say what a value may be. Swagger's own keys (name, in) and the x-ms-*
// extensions go; x-ms-summary becomes the title. The connector's schemas
// are inline (no $ref) with one type each and no anyOf, which is what
// Copilot Studio accepts, and this keeps them so.
var keywords = []string{"type", "format", "title", "description", "enum", "default", "maxLength", "minLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern", "items", "properties", "required"}

// jsonSchema turns a Swagger schema or parameter into a self-contained JSON
// Schema object.
func jsonSchema(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return clean(m)
}

func clean(m map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range m {
		switch {
		case k == "$ref" || k == "allOf" || k == "anyOf" || k == "oneOf":
			return nil, fmt.Errorf("%s is not self-contained", k)
		case k == "x-ms-summary":
			if _, ok := m["title"]; !ok {
				out["title"] = v
			}
		case k == "type":
			if _, single := v.(string); !single {
				return nil, fmt.Errorf("type %v is not a single type", v)
			}
			out[k] = v
		case k == "items":
			s, err := clean(v.(map[string]any))
			if err != nil {
				return nil, fmt.Errorf("items: %w", err)
			}
			out[k] = s
		case k == "properties":
			props := map[string]any{}
			for name, p := range v.(map[string]any) {
				s, err := clean(p.(map[string]any))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				props[name] = s
			}
			out[k] = props
		case slices.Contains(keywords, k):
			out[k] = v
		}
	}
	return out, nil
}

// call runs the tool: its arguments become the REST call they stand for,
// which the facade answers as the route would. A failed call is a tool
// error (isError) whose text is the facade's error body, code and message
// first; only a broken server is a protocol error.
func (t *tool) call(ctx context.Context, f Facade, req *sdk.CallToolRequest, origin string) (*sdk.CallToolResult, error) {
	c, bad := t.rest(req.Params.Arguments)
	if bad != nil {
		return errorResult(gqlerr.EncodeBody(gqlerr.BadUserInput, bad.message(), gqlerr.RefFrom(ctx), bad.details())), nil
	}
	c.Origin = originFrom(ctx)
	if c.Origin == "" {
		c.Origin = origin
	}
	a, err := f.Call(ctx, t.op.ID, c)
	if err != nil {
		return nil, err
	}
	if a.Status >= 300 {
		return errorResult(a.Body), nil
	}
	res := &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(a.Body)}}}
	if bytes.HasPrefix(a.Body, []byte("{")) {
		// The same JSON as structured content, for clients that read it;
		// a list answer (an unpaged array) has only the text.
		res.StructuredContent = json.RawMessage(a.Body)
	}
	return res, nil
}

func errorResult(body []byte) *sdk.CallToolResult {
	return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: string(body)}}}
}

// badArgument is an argument the tool cannot turn into its REST call.
type badArgument struct {
	name, reason string
}

func (b *badArgument) message() string {
	if b.name == "" {
		return b.reason
	}
	return b.name + ": " + b.reason
}

func (b *badArgument) details() []map[string]string {
	if b.name == "" {
		return nil
	}
	return []map[string]string{{"parameter": b.name, "in": "arguments", "reason": b.reason}}
}

// rest splits the arguments into the REST parameters (as the text a URL
// would carry; the binder coerces it exactly as it coerces a URL's) and the
// JSON body, refusing any argument the tool does not take.
func (t *tool) rest(raw json.RawMessage) (facade.Call, *badArgument) {
	args := map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // 1.0 and large numbers reach the binder as written
		var v any
		if err := dec.Decode(&v); err != nil {
			return facade.Call{}, &badArgument{reason: "the arguments are not valid JSON: " + err.Error()}
		}
		m, ok := v.(map[string]any)
		if !ok {
			return facade.Call{}, &badArgument{reason: "the arguments must be a JSON object"}
		}
		args = m
	}
	c := facade.Call{Params: map[string]string{}}
	body := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(args)) {
		v := args[name]
		if _, ok := t.params[name]; ok {
			s, ok, bad := scalarText(v)
			if bad != "" {
				return facade.Call{}, &badArgument{name: name, reason: bad}
			}
			if ok {
				c.Params[name] = s
			}
			continue
		}
		if !t.body[name] {
			return facade.Call{}, &badArgument{name: name, reason: fmt.Sprintf("is not an argument of %s; it takes %s", t.op.ID, strings.Join(t.argumentNames(), ", "))}
		}
		body[name] = v
	}
	if t.body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return facade.Call{}, &badArgument{reason: "the arguments could not be encoded: " + err.Error()}
		}
		c.Body = b
	}
	return c, nil
}

func (t *tool) argumentNames() []string {
	names := slices.Collect(maps.Keys(t.params))
	names = append(names, slices.Collect(maps.Keys(t.body))...)
	slices.Sort(names)
	return names
}

// scalarText is a parameter argument as the text a URL carries; ok=false
// for null (not given). Objects and lists are refused: parameters are
// scalars or enums.
func scalarText(v any) (s string, ok bool, bad string) {
	switch v := v.(type) {
	case nil:
		return "", false, ""
	case string:
		return v, true, ""
	case json.Number:
		return v.String(), true, ""
	case bool:
		return strconv.FormatBool(v), true, ""
	}
	return "", false, "expected one text, number or true/false value, not an object or a list"
}

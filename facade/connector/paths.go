package connector

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"github.com/go-openapi/spec"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/internal/input"
)

// operation is op's path item entry. The loader checked op's binding: each
// parameter bound once, every path variable bound, parameter types scalars
// or enums, a body only on POST; what is left to decide here is what the
// definition says.
func (g *generator) operation(op *facade.Operation) (*spec.Operation, error) {
	o := spec.NewOperation(op.ID)
	o.Summary = op.Summary
	o.Description = op.Description
	degrades := op.DegradeDescription()
	if degrades != "" {
		o.Description = strings.TrimSpace(o.Description + " " + degrades)
	}
	vis := op.Visibility
	if vis == "" {
		vis = "important"
	}
	o.AddExtension("x-ms-visibility", vis)
	o.SecuredWith(securityName, g.opts.Scopes...)
	if op.Paged {
		// The facade answers every page with an absolute nextLink; Power
		// Automate's "Pagination" setting follows it (CONNECTOR.md §2).
		o.AddExtension("x-ms-pageable", map[string]string{"nextLinkName": facade.NextLinkProperty})
	}

	keyBound := false
	for _, p := range op.Params {
		sp, err := g.param(op, p)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		keyBound = keyBound || (sp.In == "header" && strings.EqualFold(sp.Name, "Idempotency-Key"))
		o.Parameters = append(o.Parameters, *sp)
	}
	if op.Write && !keyBound {
		o.Parameters = append(o.Parameters, idempotencyKeyParam())
	}
	if op.Body != nil {
		o.Parameters = append(o.Parameters, *g.bodyParam(op))
	}

	out, desc, err := g.resultSchema(op)
	if err != nil {
		return nil, fmt.Errorf("result %q: %w", op.Result, err)
	}
	if desc == "" {
		desc = "The result."
	}
	if op.Partial || degrades != "" {
		if _, clash := out.Properties["warnings"]; clash || !out.Type.Contains("object") {
			return nil, errors.New("a partial operation's result must be an object without a warnings field")
		}
		out.Properties["warnings"] = *warnings()
	}
	o.Responses = &spec.Responses{ResponsesProps: spec.ResponsesProps{
		StatusCodeResponses: map[int]spec.Response{},
		// The default response documents the error body in words only: a
		// designer reads the one schema on 2xx, and `default` with a schema
		// is a validator warning (DefaultResponseHasSchema).
		Default: response("An error. The body is {\"error\": {\"message\", \"code\", \"requestId\", \"details\"}}: message (first, at most 200 characters) is safe to show the user, code is stable for flows to branch on, requestId is what to quote to support, details name the parameter or list further errors. 429 and 503 carry Retry-After; only 408, 429 and 5xx are worth retrying."),
	}}
	o.Responses.StatusCodeResponses[facade.SuccessStatus(op)] = spec.Response{ResponseProps: spec.ResponseProps{Description: desc, Schema: out}}
	for code, text := range errorResponses(op) {
		o.Responses.StatusCodeResponses[code] = *response(text)
	}
	return o, nil
}

// warnings is the "warnings" list of a partial answer: the sources that
// failed while the rest of the result is there.
func warnings() *spec.Schema {
	prop := func(summary, desc string) spec.Schema {
		p := spec.StringProperty()
		p.Description = desc
		p.AddExtension("x-ms-summary", summary)
		return *p
	}
	item := &spec.Schema{}
	item.Typed("object", "")
	item.Properties = spec.SchemaProperties{
		"code":    prop("Code", "A stable code for what failed, for example UPSTREAM_UNAVAILABLE."),
		"message": prop("Message", "What failed, in words to show the user."),
		"path":    prop("Path", "The part of the result that is missing because of the failure."),
	}
	item.Required = []string{"code", "message"}
	w := spec.ArrayProperty(item)
	w.Description = "Parts of the result that could not be gathered because a source failed; absent when everything worked."
	w.AddExtension("x-ms-summary", "Warnings")
	return w
}

// errorResponses are the statuses the facade's error table produces for op,
// with descriptions only: the coding standard lists known 4xx/5xx without
// schemas so that the one schema stays on the 2xx (CONNECTOR.md §1).
func errorResponses(op *facade.Operation) map[int]string {
	r := map[int]string{
		400: "A parameter or the body is missing or not valid; the message names it.",
		401: "The connection's sign-in is missing, expired or not valid.",
		403: "The signed-in employee may not do this.",
		429: "Too many calls; wait for the number of seconds in the Retry-After header.",
		500: "An unexpected error; quote the requestId from the error body.",
		502: "A backend system answered with an error.",
		503: "A backend system is unavailable; wait for the Retry-After header and try again.",
	}
	if strings.Contains(op.Path, "{") {
		r[404] = "Nothing was found at the given identifier."
	}
	if op.Write {
		r[409] = "A call with the same idempotency key is still running, or the change conflicts with the current state."
		r[422] = "The idempotency key was already used with a different body, or the change breaks a business rule."
	}
	return r
}

func response(desc string) *spec.Response {
	return &spec.Response{ResponseProps: spec.ResponseProps{Description: desc}}
}

func idempotencyKeyParam() spec.Parameter {
	p := spec.HeaderParam("Idempotency-Key").Typed("string", "").AsOptional().WithMaxLength(facade.MaxKeyLen)
	p.Description = "A unique value per action, such as GUID() set when the screen opens or the flow's run name, that makes retries safe: a retry with the same key returns the first result instead of writing twice."
	p.AddExtension("x-ms-summary", "Idempotency Key")
	// Shown with the required inputs, not under advanced: flows retry every
	// POST on a 5xx or a timeout, and only a key makes that retry harmless.
	p.AddExtension("x-ms-visibility", "important")
	return *p
}

// varType is the GraphQL type p feeds: its variable's type or, for a field
// of the body variable, that field's type and definition. p.Type, which the
// loader sets, wins.
func (g *generator) varType(op *facade.Operation, p facade.Param) (*ast.Type, *ast.FieldDefinition) {
	t := op.Op.VariableDefinitions.ForName(p.Variable).Type
	var field *ast.FieldDefinition
	if p.Field != "" {
		field = g.schema.Types[t.Name()].Fields.ForName(p.Field)
		t = field.Type
	}
	if p.Type != nil {
		t = p.Type
	}
	return t, field
}

func (g *generator) param(op *facade.Operation, p facade.Param) (*spec.Parameter, error) {
	t, field := g.varType(op, p)
	def := g.schema.Types[t.Name()]
	sp := &spec.Parameter{ParamProps: spec.ParamProps{Name: p.Name, In: p.In, Required: p.Required || p.In == "path"}}
	switch def.Kind {
	case ast.Scalar:
		sp.Type, sp.Format = scalarType(def.Name)
		var lim input.Limits
		if field != nil {
			lim = limits(field.Directives)
		} else {
			var ds []ast.DirectiveList
			for _, ad := range argsFed(op, g.schema, p.Variable) {
				ds = append(ds, ad.Directives)
			}
			lim = limits(ds...)
		}
		applyLimits(&sp.CommonValidations, sp.Type, lim)
	case ast.Enum:
		sp.Type = "string"
		values, named := enumValues(def)
		sp.Enum = values
		sp.AddExtension("x-ms-enum-values", named)
	}
	if p.In == "path" {
		sp.AddExtension("x-ms-url-encoding", "single")
	}
	sp.Description = p.Description
	if sp.Description == "" && field != nil {
		sp.Description = field.Description
	}
	if sp.Description == "" {
		sp.Description = argDescription(op, g.schema, p.Variable)
	}
	sp.Description = sentence(sp.Description)
	if sp.Description == "" {
		return nil, errors.New("no description: give one in the binding or in the schema")
	}
	summary := p.Summary
	if summary == "" {
		summary = TitleCase(p.Name)
	}
	sp.AddExtension("x-ms-summary", summary)
	if p.Visibility != "" {
		sp.AddExtension("x-ms-visibility", p.Visibility)
	}
	if d := defaultValue(p.Default); d != nil {
		sp.Default = d
	} else if field != nil && field.DefaultValue != nil {
		sp.Default = defaultValue(field.DefaultValue)
	} else if vd := op.Op.VariableDefinitions.ForName(p.Variable); p.Field == "" && vd.DefaultValue != nil {
		sp.Default = defaultValue(vd.DefaultValue)
	}
	if p.Picker != nil {
		// The loader checked that the picker names a paged list that selects
		// its value and title.
		dv := map[string]any{
			"operationId":      p.Picker.OperationID,
			"value-collection": cmp.Or(p.Picker.ValueCollection, "value"),
			"value-path":       p.Picker.ValuePath,
			"value-title":      cmp.Or(p.Picker.ValueTitle, p.Picker.ValuePath),
		}
		if len(p.Picker.Parameters) > 0 {
			// Static values: x-ms-dynamic-values takes literals (or
			// {"parameter": name} for references), openapi-extensions.md.
			params := map[string]string{}
			for k, v := range p.Picker.Parameters {
				params[k] = v
			}
			dv["parameters"] = params
		}
		sp.AddExtension("x-ms-dynamic-values", dv)
	}
	return sp, nil
}

// defaultValue turns a GraphQL default (an *ast.Value or a plain Go value)
// into a JSON value; nil means none.
func defaultValue(v any) any {
	switch d := v.(type) {
	case nil:
		return nil
	case *ast.Value:
		if d == nil || d.Kind == ast.NullValue || d.Kind == ast.Variable {
			return nil
		}
		val, err := d.Value(nil)
		if err != nil {
			return nil
		}
		return val
	default:
		return d
	}
}

// argDescription is the description of the first schema argument that
// variable feeds in op's selection set.
func argDescription(op *facade.Operation, schema *ast.Schema, variable string) string {
	for _, ad := range argsFed(op, schema, variable) {
		if ad.Description != "" {
			return ad.Description
		}
	}
	return ""
}

// argsFed lists the schema arguments that variable feeds in op's selection
// set, in document order.
func argsFed(op *facade.Operation, schema *ast.Schema, variable string) []*ast.ArgumentDefinition {
	var found []*ast.ArgumentDefinition
	facade.WalkFields(schema, facade.RootType(schema, op.Op), op.Op.SelectionSet, func(f *ast.Field, fd *ast.FieldDefinition) {
		for _, a := range f.Arguments {
			if a.Value != nil && a.Value.Kind == ast.Variable && a.Value.Raw == variable {
				if ad := fd.Arguments.ForName(a.Name); ad != nil {
					found = append(found, ad)
				}
			}
		}
	})
	return found
}

// limits are the input contract's limits on a value that feeds every one
// of defs (each a schema argument or input field's directives): the
// tightest of each, as the contract enforces all of them.
func limits(defs ...ast.DirectiveList) input.Limits {
	var out input.Limits
	for _, ds := range defs {
		// The schema's limits were checked when the executor was built;
		// a bad directive here reads as no limit.
		l, _ := input.LimitsOf(ds)
		if l.MaxLength > 0 && (out.MaxLength == 0 || l.MaxLength < out.MaxLength) {
			out.MaxLength = l.MaxLength
		}
		if l.HasRange {
			if !out.HasRange {
				out.HasRange, out.Min, out.Max = true, l.Min, l.Max
			} else {
				out.Min, out.Max = max(out.Min, l.Min), min(out.Max, l.Max)
			}
		}
	}
	return out
}

// bodyParam is the body parameter: the body variable's input object less the
// fields that parameters fill, plus the clientRequestId property. The loader
// checked that the variable is an input object whose fields do not include
// clientRequestId.
func (g *generator) bodyParam(op *facade.Operation) *spec.Parameter {
	t := op.Op.VariableDefinitions.ForName(op.Body.Variable).Type
	if op.Body.Type != nil {
		t = op.Body.Type
	}
	def := g.schema.Types[t.Name()]
	// Fields of the input bound from the path or a header are not in the
	// body: the handler fills them from the parameter.
	exclude := map[string]bool{}
	for _, f := range op.Body.Omit {
		exclude[f] = true
	}
	for _, p := range op.Params {
		if p.Field != "" && p.Variable == op.Body.Variable {
			exclude[p.Field] = true
		}
	}
	s := g.inputSchema(def, exclude, 0)
	if k := op.Body.ClientRequestID; k != "" {
		p := spec.StringProperty().WithMaxLength(facade.MaxKeyLen)
		p.Description = "A unique value, such as a GUID made when the screen opens, that makes retries of this call safe; use it when you cannot set the Idempotency-Key header."
		p.AddExtension("x-ms-summary", "Client Request ID")
		s.Properties[k] = *p
	}
	bp := spec.BodyParam("body", s)
	bp.Required = t.NonNull
	bp.Description = sentence(def.Description)
	if bp.Description == "" {
		bp.Description = sentence(argDescription(op, g.schema, op.Body.Variable))
	}
	bp.AddExtension("x-ms-summary", "Request")
	return bp
}

package facade

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/go-openapi/spec"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/internal/input"
)

// DefinitionHandler serves a generated definition: GET /api/v1/swagger.json.
// The bytes are made once at start; a strong ETag lets tools revalidate.
func DefinitionHandler(def []byte) http.Handler {
	d := newDefinition(def)
	return http.HandlerFunc(d.serve)
}

// maxDefinitionOrigins bounds how many origins' definitions are kept: a
// service is reached at a handful of addresses, and Host headers are chosen
// by callers, so made-up ones are built on demand but never pile up.
const maxDefinitionOrigins = 16

// DefinitionsByOrigin serves, at GET /api/v1/swagger.json, the definition
// written for the public origin each request reached the service at (see
// publicurl): host, schemes and basePath name the address the caller used.
// build makes the definition for one origin; each distinct body keeps its own
// ETag.
func DefinitionsByOrigin(origin func(*http.Request) string, build func(origin string) ([]byte, error)) http.Handler {
	var (
		mu   sync.Mutex
		defs = map[string]definition{}
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := origin(r)
		mu.Lock()
		d, ok := defs[o]
		mu.Unlock()
		if !ok {
			def, err := build(o)
			if err != nil {
				http.Error(w, "cannot build the connector definition", http.StatusInternalServerError)
				return
			}
			d = newDefinition(def)
			mu.Lock()
			if len(defs) < maxDefinitionOrigins {
				defs[o] = d
			}
			mu.Unlock()
		}
		// The body depends on the address the caller used.
		w.Header().Add("Vary", "Host, Forwarded, X-Forwarded-Proto, X-Forwarded-Host, X-Forwarded-Prefix")
		d.serve(w, r)
	})
}

// definition is one definition's bytes and their strong ETag.
type definition struct {
	body []byte
	etag string
}

func newDefinition(def []byte) definition {
	sum := sha256.Sum256(def)
	return definition{body: def, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

func (d definition) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", d.etag)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, DefinitionFile, time.Time{}, bytes.NewReader(d.body))
}

// BasePath is where the facade is mounted, below the public URL's own path.
const BasePath = "/api/v1"

// swSecurityName names the one security definition; Office365Groups and most
// Entra ID connectors in microsoft/PowerPlatformConnectors use this name.
const swSecurityName = "oauth2_auth"

// Entra ID endpoints of the v1 authorization-code flow that the connector's
// "aad" identity provider runs (CONNECTOR.md §3). The tenant segment is
// "common" because the connection's real tenant comes from apiProperties.
const (
	swAuthorizationURL = "https://login.microsoftonline.com/common/oauth2/authorize"
	swTokenURL         = "https://login.microsoftonline.com/common/oauth2/token"
)

// DefinitionOptions are the publishing settings of the connector: what the
// definition says about the service and how a connection signs in. Zero
// values take the defaults of DefaultDefinitionOptions.
type DefinitionOptions struct {
	// PublicURL is the address makers' connections reach, e.g.
	// https://middletier.contoso.com; host, schemes and the basePath prefix
	// come from it.
	PublicURL string
	// Title is the connector's display name (<= 30 characters, no "API" or
	// "Connector"); Description is 30-500 characters.
	Title, Description, Version string
	// Contact and certification metadata (info.contact, x-ms-connector-metadata).
	ContactName, ContactURL, ContactEmail string
	Website, PrivacyPolicy                string
	Categories                            []string
	// Scopes are the delegated scopes a connection asks for.
	Scopes []string

	// The rest only goes into apiProperties.json.

	// ClientID is the application (client) id of the connector's Entra app
	// registration; empty writes a clearly marked placeholder.
	ClientID string
	// ResourceURI is the Application ID URI (or client id) of the app
	// registration that protects middletier: the token audience.
	ResourceURI string
	// TenantID is the Entra tenant that signs users in; "common" lets any.
	TenantID string
	// BrandColor is the icon background, "#RRGGBB".
	BrandColor string
	// Publisher and StackOwner are certification metadata.
	Publisher, StackOwner string
	// Environment is the Power Platform environment (a GUID or
	// Default-<GUID>) that settings.json names for paconn; empty leaves it
	// to the command line.
	Environment string
}

// Placeholders written when a setting is not given: braces make them
// impossible to mistake for real values (the Office365Groups sample in
// microsoft/PowerPlatformConnectors marks its client id the same way).
const (
	PlaceholderClientID    = "{connector_client_id}"
	PlaceholderResourceURI = "api://{middletier_api_client_id}"
)

// DefaultDefinitionOptions are the settings used where opts leaves a zero value.
func DefaultDefinitionOptions() DefinitionOptions {
	return DefinitionOptions{
		PublicURL:     "http://localhost:8080",
		Title:         "Middletier",
		Description:   "Find products and their stock across stores, record and follow up customer backorders, and open the employee home view with profile, news and events in one call.",
		Version:       "1.0.0",
		ContactName:   "Middletier team",
		ContactURL:    "https://github.com/middletier/middletier",
		ContactEmail:  "middletier@example.com",
		Website:       "https://github.com/middletier/middletier",
		PrivacyPolicy: "https://github.com/middletier/middletier/blob/main/docs/connector.md",
		Categories:    []string{"Commerce", "Productivity"},
		Scopes:        []string{"access_as_user"},
		TenantID:      "common",
		BrandColor:    "#1f6f8b",
		Publisher:     "Middletier",
		StackOwner:    "Middletier",
	}
}

func (o DefinitionOptions) withDefaults() DefinitionOptions {
	d := DefaultDefinitionOptions()
	set := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	set(&o.PublicURL, d.PublicURL)
	set(&o.Title, d.Title)
	set(&o.Description, d.Description)
	set(&o.Version, d.Version)
	set(&o.ContactName, d.ContactName)
	set(&o.ContactURL, d.ContactURL)
	set(&o.ContactEmail, d.ContactEmail)
	set(&o.Website, d.Website)
	set(&o.PrivacyPolicy, d.PrivacyPolicy)
	set(&o.TenantID, d.TenantID)
	set(&o.BrandColor, d.BrandColor)
	set(&o.Publisher, d.Publisher)
	set(&o.StackOwner, d.StackOwner)
	set(&o.ClientID, PlaceholderClientID)
	set(&o.ResourceURI, PlaceholderResourceURI)
	if len(o.Categories) == 0 {
		o.Categories = d.Categories
	}
	if len(o.Scopes) == 0 {
		o.Scopes = d.Scopes
	}
	return o
}

// Swagger builds the connector's Swagger 2.0 definition from the operations
// and the schema their documents were validated against. The output is
// indented JSON whose bytes depend only on the inputs (maps are written in
// key order), so it can be a golden file.
func Swagger(ops []Operation, schema *ast.Schema, opts DefinitionOptions) ([]byte, error) {
	doc, err := swBuild(ops, schema, opts.withDefaults())
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode definition: %w", err)
	}
	return append(b, '\n'), nil
}

func swBuild(ops []Operation, schema *ast.Schema, o DefinitionOptions) (*spec.Swagger, error) {
	if schema == nil {
		return nil, errors.New("swagger: no schema")
	}
	pu, err := url.Parse(o.PublicURL)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return nil, fmt.Errorf("swagger: public URL %q must be an absolute http(s) URL", o.PublicURL)
	}
	if pu.RawQuery != "" || pu.Fragment != "" {
		return nil, fmt.Errorf("swagger: public URL %q must not have a query or fragment", o.PublicURL)
	}

	scopes := map[string]string{}
	for _, s := range o.Scopes {
		scopes[s] = "Act for the signed-in employee."
	}
	sw := &spec.Swagger{SwaggerProps: spec.SwaggerProps{
		Swagger: "2.0",
		Info: &spec.Info{InfoProps: spec.InfoProps{
			Title:       o.Title,
			Description: o.Description,
			Version:     o.Version,
			Contact: &spec.ContactInfo{ContactInfoProps: spec.ContactInfoProps{
				Name: o.ContactName, URL: o.ContactURL, Email: o.ContactEmail,
			}},
		}},
		Host:     pu.Host,
		BasePath: strings.TrimSuffix(pu.Path, "/") + BasePath,
		Schemes:  []string{pu.Scheme},
		Consumes: []string{"application/json"},
		Produces: []string{"application/json"},
		Paths:    &spec.Paths{Paths: map[string]spec.PathItem{}},
		SecurityDefinitions: spec.SecurityDefinitions{swSecurityName: &spec.SecurityScheme{SecuritySchemeProps: spec.SecuritySchemeProps{
			Type:             "oauth2",
			Flow:             "accessCode",
			AuthorizationURL: swAuthorizationURL,
			TokenURL:         swTokenURL,
			Scopes:           scopes,
			Description:      "Microsoft Entra ID sign-in of the employee using the app.",
		}}},
		Security: []map[string][]string{{swSecurityName: o.Scopes}},
	}}
	sw.AddExtension("x-ms-connector-metadata", []map[string]string{
		{"propertyName": "Website", "propertyValue": o.Website},
		{"propertyName": "Privacy policy", "propertyValue": o.PrivacyPolicy},
		{"propertyName": "Categories", "propertyValue": strings.Join(o.Categories, ";")},
	})

	g := &swGenerator{schema: schema, opts: o}
	byID := map[string]*Operation{}
	for i := range ops {
		op := &ops[i]
		if prev, dup := byID[op.ID]; dup {
			return nil, fmt.Errorf("swagger: operation %s defined twice (%s and %s)", op.ID, prev.File, op.File)
		}
		byID[op.ID] = op
	}
	var errs []error
	for i := range ops {
		op := &ops[i]
		sop, err := g.operation(op, byID)
		if err != nil {
			errs = append(errs, fmt.Errorf("swagger: operation %s (%s): %w", op.ID, op.File, err))
			continue
		}
		item := sw.Paths.Paths[op.Path]
		switch op.Method {
		case "GET":
			if item.Get != nil {
				errs = append(errs, fmt.Errorf("swagger: GET %s is bound twice (%s and %s)", op.Path, item.Get.ID, op.ID))
			}
			item.Get = sop
		case "POST":
			if item.Post != nil {
				errs = append(errs, fmt.Errorf("swagger: POST %s is bound twice (%s and %s)", op.Path, item.Post.ID, op.ID))
			}
			item.Post = sop
		default:
			errs = append(errs, fmt.Errorf("swagger: operation %s: method %q is not GET or POST", op.ID, op.Method))
		}
		sw.Paths.Paths[op.Path] = item
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return sw, nil
}

type swGenerator struct {
	schema *ast.Schema
	opts   DefinitionOptions
}

var swPathVar = regexp.MustCompile(`\{([^{}/]+)\}`)

func (g *swGenerator) operation(op *Operation, byID map[string]*Operation) (*spec.Operation, error) {
	if op.Op == nil {
		return nil, errors.New("no parsed operation")
	}
	o := spec.NewOperation(op.ID)
	o.Summary = op.Summary
	o.Description = op.Description
	parts := op.upstreamParts()
	if d := degradeDescription(parts); d != "" {
		o.Description = strings.TrimSpace(o.Description + " " + d)
	}
	vis := op.Visibility
	if vis == "" {
		vis = "important"
	}
	o.AddExtension("x-ms-visibility", vis)
	o.SecuredWith(swSecurityName, g.opts.Scopes...)
	if op.Paged {
		// The facade answers every page with an absolute nextLink; Power
		// Automate's "Pagination" setting follows it (CONNECTOR.md §2).
		o.AddExtension("x-ms-pageable", map[string]string{"nextLinkName": NextLinkProperty})
	}

	seen := map[string]bool{}
	for _, p := range op.Params {
		sp, err := g.param(op, p, byID)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		key := sp.In + " " + strings.ToLower(sp.Name)
		if seen[key] {
			return nil, fmt.Errorf("parameter %s in %s is bound twice", sp.Name, sp.In)
		}
		seen[key] = true
		o.Parameters = append(o.Parameters, *sp)
	}
	for _, m := range swPathVar.FindAllStringSubmatch(op.Path, -1) {
		if !seen["path "+strings.ToLower(m[1])] {
			return nil, fmt.Errorf("path variable {%s} has no parameter", m[1])
		}
	}
	if op.Write && !seen["header idempotency-key"] {
		o.Parameters = append(o.Parameters, swIdempotencyKeyParam())
	}
	if op.Body != nil {
		if op.Method != "POST" {
			return nil, fmt.Errorf("a body needs POST, not %s", op.Method)
		}
		bp, err := g.bodyParam(op)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		o.Parameters = append(o.Parameters, *bp)
	}

	out, desc, err := g.resultSchema(op)
	if err != nil {
		return nil, fmt.Errorf("result %q: %w", op.Result, err)
	}
	if desc == "" {
		desc = "The result."
	}
	if op.Partial || len(parts) > 0 {
		if _, clash := out.Properties["warnings"]; clash || !out.Type.Contains("object") {
			return nil, errors.New("a partial operation's result must be an object without a warnings field")
		}
		out.Properties["warnings"] = *swWarnings()
	}
	o.Responses = &spec.Responses{ResponsesProps: spec.ResponsesProps{
		StatusCodeResponses: map[int]spec.Response{},
		// The default response documents the error body in words only: a
		// designer reads the one schema on 2xx, and `default` with a schema
		// is a validator warning (DefaultResponseHasSchema).
		Default: swResponse("An error. The body is {\"error\": {\"message\", \"code\", \"requestId\", \"details\"}}: message (first, at most 200 characters) is safe to show the user, code is stable for flows to branch on, requestId is what to quote to support, details name the parameter or list further errors. 429 and 503 carry Retry-After; only 408, 429 and 5xx are worth retrying."),
	}}
	o.Responses.StatusCodeResponses[SuccessStatus(op)] = spec.Response{ResponseProps: spec.ResponseProps{Description: desc, Schema: out}}
	for code, text := range swErrorResponses(op) {
		o.Responses.StatusCodeResponses[code] = *swResponse(text)
	}
	return o, nil
}

// swWarnings is the "warnings" list of a partial answer: the sources that
// failed while the rest of the result is there.
func swWarnings() *spec.Schema {
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

// SuccessStatus is the status of a successful call: 201 for a POST to a
// collection (a path without variables, e.g. POST /backorders creates one),
// 200 for everything else. The handler and the definition must agree.
func SuccessStatus(op *Operation) int {
	if op.Method == "POST" && !strings.Contains(op.Path, "{") {
		return 201
	}
	return 200
}

// errorResponses are the statuses the facade's error table produces for op,
// with descriptions only: the coding standard lists known 4xx/5xx without
// schemas so that the one schema stays on the 2xx (CONNECTOR.md §1).
func swErrorResponses(op *Operation) map[int]string {
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

func swResponse(desc string) *spec.Response {
	return &spec.Response{ResponseProps: spec.ResponseProps{Description: desc}}
}

func swIdempotencyKeyParam() spec.Parameter {
	p := spec.HeaderParam("Idempotency-Key").Typed("string", "").AsOptional().WithMaxLength(maxKeyLen)
	p.Description = "A unique value per action, such as GUID() set when the screen opens or the flow's run name, that makes retries safe: a retry with the same key returns the first result instead of writing twice."
	p.AddExtension("x-ms-summary", "Idempotency Key")
	// Shown with the required inputs, not under advanced: flows retry every
	// POST on a 5xx or a timeout, and only a key makes that retry harmless.
	p.AddExtension("x-ms-visibility", "important")
	return *p
}

// varType finds the GraphQL type a parameter feeds: its variable's type, or
// for "input.field" the field of the variable's input object.
func (g *swGenerator) varType(op *Operation, variable string) (*ast.Type, *ast.FieldDefinition, error) {
	name, rest, _ := strings.Cut(variable, ".")
	vd := op.Op.VariableDefinitions.ForName(name)
	if vd == nil {
		return nil, nil, fmt.Errorf("the operation has no variable $%s", name)
	}
	t := vd.Type
	var field *ast.FieldDefinition
	for rest != "" {
		var seg string
		seg, rest, _ = strings.Cut(rest, ".")
		def := g.schema.Types[t.Name()]
		if def == nil || def.Kind != ast.InputObject || t.Elem != nil {
			return nil, nil, fmt.Errorf("$%s: %s has no field %s", variable, t.String(), seg)
		}
		field = def.Fields.ForName(seg)
		if field == nil {
			return nil, nil, fmt.Errorf("$%s: %s has no field %s", variable, def.Name, seg)
		}
		t = field.Type
	}
	return t, field, nil
}

func (g *swGenerator) param(op *Operation, p Param, byID map[string]*Operation) (*spec.Parameter, error) {
	variable := p.Variable
	if p.Field != "" {
		variable += "." + p.Field
	}
	t, field, err := g.varType(op, variable)
	if err != nil {
		return nil, err
	}
	if p.Type != nil {
		t = p.Type
	}
	if t.Elem != nil {
		// Power Apps cannot convert array-typed query parameters (CONNECTOR.md §1).
		return nil, fmt.Errorf("list type %s cannot be a %s parameter", t, p.In)
	}
	def := g.schema.Types[t.Name()]
	if def == nil {
		return nil, fmt.Errorf("unknown type %s", t.Name())
	}
	sp := &spec.Parameter{ParamProps: spec.ParamProps{Name: p.Name, In: p.In, Required: p.Required || p.In == "path"}}
	switch def.Kind {
	case ast.Scalar:
		sp.Type, sp.Format = swScalarType(def.Name)
		var limits input.Limits
		if field != nil {
			limits = swLimits(field.Directives)
		} else {
			var ds []ast.DirectiveList
			for _, ad := range swArgsFed(op, g.schema, p.Variable) {
				ds = append(ds, ad.Directives)
			}
			limits = swLimits(ds...)
		}
		swApplyLimits(&sp.CommonValidations, sp.Type, limits)
	case ast.Enum:
		sp.Type = "string"
		values, named := swEnumValues(def)
		sp.Enum = values
		sp.AddExtension("x-ms-enum-values", named)
	default:
		return nil, fmt.Errorf("%s parameters take scalars and enums, not %s", p.In, def.Name)
	}
	switch p.In {
	case "path":
		sp.AddExtension("x-ms-url-encoding", "single")
	case "query", "header":
	default:
		return nil, fmt.Errorf("in %q is not path, query or header", p.In)
	}
	sp.Description = p.Description
	if sp.Description == "" && field != nil {
		sp.Description = field.Description
	}
	if sp.Description == "" {
		sp.Description = swArgDescription(op, g.schema, strings.SplitN(p.Variable, ".", 2)[0])
	}
	sp.Description = swSentence(sp.Description)
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
	if d := swDefault(p.Default); d != nil {
		sp.Default = d
	} else if field != nil && field.DefaultValue != nil {
		sp.Default = swDefault(field.DefaultValue)
	} else if vd := op.Op.VariableDefinitions.ForName(variable); vd != nil && vd.DefaultValue != nil {
		sp.Default = swDefault(vd.DefaultValue)
	}
	if p.Picker != nil {
		target := byID[p.Picker.OperationID]
		if target == nil {
			return nil, fmt.Errorf("picker operation %s does not exist", p.Picker.OperationID)
		}
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
func swDefault(v any) any {
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
func swArgDescription(op *Operation, schema *ast.Schema, variable string) string {
	for _, ad := range swArgsFed(op, schema, variable) {
		if ad.Description != "" {
			return ad.Description
		}
	}
	return ""
}

// swArgsFed lists the schema arguments that variable feeds in op's
// selection set, in document order.
func swArgsFed(op *Operation, schema *ast.Schema, variable string) []*ast.ArgumentDefinition {
	var found []*ast.ArgumentDefinition
	var walk func(parent *ast.Definition, set ast.SelectionSet)
	walk = func(parent *ast.Definition, set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				var fd *ast.FieldDefinition
				if parent != nil {
					fd = parent.Fields.ForName(s.Name)
				}
				if fd == nil {
					continue
				}
				for _, a := range s.Arguments {
					if a.Value != nil && a.Value.Kind == ast.Variable && a.Value.Raw == variable {
						if ad := fd.Arguments.ForName(a.Name); ad != nil {
							found = append(found, ad)
						}
					}
				}
				walk(schema.Types[fd.Type.Name()], s.SelectionSet)
			case *ast.InlineFragment:
				p := parent
				if s.TypeCondition != "" {
					p = schema.Types[s.TypeCondition]
				}
				walk(p, s.SelectionSet)
			case *ast.FragmentSpread:
				fd := s.Definition
				if fd == nil && op.Doc != nil {
					fd = op.Doc.Fragments.ForName(s.Name)
				}
				if fd != nil {
					walk(schema.Types[fd.TypeCondition], fd.SelectionSet)
				}
			}
		}
	}
	walk(swRootType(schema, op.Op), op.Op.SelectionSet)
	return found
}

// swLimits are the input contract's limits on a value that feeds every one
// of defs (each a schema argument or input field's directives): the
// tightest of each, as the contract enforces all of them.
func swLimits(defs ...ast.DirectiveList) input.Limits {
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

func swRootType(schema *ast.Schema, op *ast.OperationDefinition) *ast.Definition {
	switch op.Operation {
	case ast.Mutation:
		return schema.Mutation
	case ast.Subscription:
		return schema.Subscription
	default:
		return schema.Query
	}
}

// scalarType maps a GraphQL scalar onto a Swagger type and format that Power
// Fx understands (CONNECTOR.md §8.5). 64-bit numbers never occur: GraphQL's
// Int is 32-bit. Unknown custom scalars travel as strings.
func swScalarType(name string) (typ, format string) {
	switch name {
	case "Int":
		return "integer", "int32"
	case "Float":
		return "number", "double"
	case "Boolean":
		return "boolean", ""
	case "DateTime", "Time":
		return "string", "date-time"
	case "Date":
		return "string", "date"
	default: // ID, String and custom scalars
		return "string", ""
	}
}

// enumValues lists an enum's values and their x-ms-enum-values entries; the
// display name is the value in Title Case (the schema's value descriptions
// are sentences, too long for a dropdown).
func swEnumValues(def *ast.Definition) ([]any, []map[string]string) {
	var values []any
	var named []map[string]string
	for _, v := range def.EnumValues {
		values = append(values, v.Name)
		named = append(named, map[string]string{"value": v.Name, "displayName": TitleCase(v.Name)})
	}
	return values, named
}

func (g *swGenerator) bodyParam(op *Operation) (*spec.Parameter, error) {
	vd := op.Op.VariableDefinitions.ForName(op.Body.Variable)
	if vd == nil {
		return nil, fmt.Errorf("the operation has no variable $%s", op.Body.Variable)
	}
	t := vd.Type
	if op.Body.Type != nil {
		t = op.Body.Type
	}
	def := g.schema.Types[t.Name()]
	if def == nil || def.Kind != ast.InputObject || t.Elem != nil {
		return nil, fmt.Errorf("$%s must be an input object, not %s", op.Body.Variable, t)
	}
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
		if _, clash := s.Properties[k]; clash {
			return nil, fmt.Errorf("%s is also a field of %s", k, def.Name)
		}
		p := spec.StringProperty().WithMaxLength(maxKeyLen)
		p.Description = "A unique value, such as a GUID made when the screen opens, that makes retries of this call safe; use it when you cannot set the Idempotency-Key header."
		p.AddExtension("x-ms-summary", "Client Request ID")
		s.Properties[k] = *p
	}
	bp := spec.BodyParam("body", s)
	bp.Required = t.NonNull
	bp.Description = swSentence(def.Description)
	if bp.Description == "" {
		bp.Description = swSentence(swArgDescription(op, g.schema, op.Body.Variable))
	}
	bp.AddExtension("x-ms-summary", "Request")
	return bp, nil
}

// swMaxInputDepth stops a self-referencing input type from recursing forever.
const swMaxInputDepth = 8

func (g *swGenerator) inputSchema(def *ast.Definition, exclude map[string]bool, depth int) *spec.Schema {
	s := &spec.Schema{}
	s.Typed("object", "")
	s.Properties = spec.SchemaProperties{}
	for _, f := range def.Fields {
		if exclude[f.Name] {
			continue
		}
		ps := g.inputType(f.Type, depth)
		if ps == nil {
			continue
		}
		if ps.Type.Contains("string") || ps.Type.Contains("integer") {
			var cv spec.CommonValidations
			swApplyLimits(&cv, ps.Type[0], swLimits(f.Directives))
			ps.MaxLength, ps.Minimum, ps.Maximum = cv.MaxLength, cv.Minimum, cv.Maximum
		}
		ps.Description = swSentence(f.Description)
		ps.AddExtension("x-ms-summary", TitleCase(f.Name))
		if d := swDefault(f.DefaultValue); d != nil {
			ps.Default = d
		}
		if f.Type.NonNull && f.DefaultValue == nil {
			s.Required = append(s.Required, f.Name)
		}
		s.Properties[f.Name] = *ps
	}
	return s
}

func (g *swGenerator) inputType(t *ast.Type, depth int) *spec.Schema {
	if t.Elem != nil {
		items := g.inputType(t.Elem, depth)
		if items == nil {
			return nil
		}
		return spec.ArrayProperty(items)
	}
	def := g.schema.Types[t.NamedType]
	switch def.Kind {
	case ast.Scalar:
		return swScalarSchema(def.Name)
	case ast.Enum:
		return swEnumSchema(def)
	case ast.InputObject:
		if depth >= swMaxInputDepth {
			return nil
		}
		return g.inputSchema(def, nil, depth+1)
	}
	return nil
}

// swApplyLimits declares the input contract's limits: maxLength on text
// (in characters, as the contract counts), minimum and maximum on ranged
// whole numbers, so that a maker sees them in the designer.
func swApplyLimits(cv *spec.CommonValidations, typ string, l input.Limits) {
	switch typ {
	case "string":
		if l.MaxLength > 0 {
			n := int64(l.MaxLength)
			cv.MaxLength = &n
		}
	case "integer":
		if l.HasRange {
			lo, hi := float64(l.Min), float64(l.Max)
			cv.Minimum, cv.Maximum = &lo, &hi
		}
	}
}

func swScalarSchema(name string) *spec.Schema {
	typ, format := swScalarType(name)
	return new(spec.Schema).Typed(typ, format)
}

func swEnumSchema(def *ast.Definition) *spec.Schema {
	s := spec.StringProperty()
	values, named := swEnumValues(def)
	s.Enum = values
	s.AddExtension("x-ms-enum-values", named)
	return s
}

// resultSchema derives the 2xx schema from the operation's selection set at
// its result path, and returns the description of the result field.
func (g *swGenerator) resultSchema(op *Operation) (*spec.Schema, string, error) {
	parent := swRootType(g.schema, op.Op)
	if parent == nil {
		return nil, "", fmt.Errorf("the schema has no %s type", op.Op.Operation)
	}
	t := &ast.Type{NamedType: parent.Name, NonNull: true}
	set := op.Op.SelectionSet
	desc := ""
	if op.Result != "" {
		for _, seg := range strings.Split(op.Result, ".") {
			if t.Elem != nil {
				return nil, "", fmt.Errorf("%s is a list; the result path cannot go into it", seg)
			}
			fields, err := g.collect(op, g.schema.Types[t.Name()], set)
			if err != nil {
				return nil, "", err
			}
			i := slices.IndexFunc(fields, func(f swField) bool { return f.key == seg })
			if i < 0 {
				return nil, "", fmt.Errorf("the selection has no field %s", seg)
			}
			t, set, desc = fields[i].def.Type, fields[i].selections(), fields[i].def.Description
		}
	}
	if op.Paged {
		s, err := g.pagedSchema(op, t, set, desc)
		return s, swSentence(desc), err
	}
	s, err := g.outputType(op, t, set)
	if err != nil {
		return nil, "", err
	}
	// An unpaged list is sent as the JSON array itself (the handler shapes
	// only paged results); Power Fx reads an array of records as a table.
	s.Description = swSentence(desc)
	return s, swSentence(desc), nil
}

func (g *swGenerator) pagedSchema(op *Operation, t *ast.Type, set ast.SelectionSet, desc string) (*spec.Schema, error) {
	def := g.schema.Types[t.Name()]
	if def == nil || t.Elem != nil || (def.Kind != ast.Object && def.Kind != ast.Interface) {
		return nil, fmt.Errorf("a paged result must be a connection object, not %s", t)
	}
	fields, err := g.collect(op, def, set)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(fields, func(f swField) bool { return f.key == "nodes" })
	if i < 0 {
		return nil, fmt.Errorf("a paged result must select nodes from %s", def.Name)
	}
	nodes := fields[i]
	if nodes.def.Type.Elem == nil {
		return nil, fmt.Errorf("%s.nodes is not a list", def.Name)
	}
	value, err := g.outputType(op, nodes.def.Type, nodes.selections())
	if err != nil {
		return nil, err
	}
	value.Description = swSentence(cmp.Or(nodes.def.Description, desc))
	value.AddExtension("x-ms-summary", "Value")
	next := spec.StringProperty()
	next.Description = "The address of the next page, for callers that follow links; absent on the last page."
	next.AddExtension("x-ms-summary", "Next Link")
	next.AddExtension("x-ms-visibility", "advanced")
	cursor := spec.StringProperty()
	cursor.Description = "Pass this as the page token to get the next page; absent on the last page."
	cursor.AddExtension("x-ms-summary", "Next Page Token")
	s := &spec.Schema{}
	s.Typed("object", "")
	s.Description = swSentence(desc)
	s.Properties = spec.SchemaProperties{"value": *value, "nextLink": *next, "nextCursor": *cursor}
	s.Required = []string{"value"}
	return s, nil
}

// swField is one response key of a selection set with every field that
// contributes to it (the same key may be selected several times, directly
// and through fragments).
type swField struct {
	key         string
	def         *ast.FieldDefinition
	fields      []*ast.Field
	conditional bool // under a type condition or @skip/@include: may be absent
}

func (c swField) selections() ast.SelectionSet {
	var set ast.SelectionSet
	for _, f := range c.fields {
		set = append(set, f.SelectionSet...)
	}
	return set
}

var swTypename = &ast.FieldDefinition{
	Name:        "__typename",
	Description: "The name of the object's type.",
	Type:        ast.NonNullNamedType("String", nil),
}

// collect merges set's fields by response key, in first-seen order,
// following inline fragments and fragment spreads.
func (g *swGenerator) collect(op *Operation, parent *ast.Definition, set ast.SelectionSet) ([]swField, error) {
	if parent == nil {
		return nil, errors.New("selection on an unknown type")
	}
	var out []swField
	idx := map[string]int{}
	var walk func(on *ast.Definition, set ast.SelectionSet, conditional bool, depth int) error
	walk = func(on *ast.Definition, set ast.SelectionSet, conditional bool, depth int) error {
		if depth > 32 {
			return errors.New("fragments nest too deeply (a cycle?)")
		}
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				var fd *ast.FieldDefinition
				if s.Name == "__typename" {
					fd = swTypename
				} else if fd = on.Fields.ForName(s.Name); fd == nil {
					return fmt.Errorf("%s has no field %s", on.Name, s.Name)
				}
				key := cmp.Or(s.Alias, s.Name)
				cond := conditional || swConditional(s.Directives)
				if i, ok := idx[key]; ok {
					out[i].fields = append(out[i].fields, s)
					out[i].conditional = out[i].conditional && cond
					continue
				}
				idx[key] = len(out)
				out = append(out, swField{key: key, def: fd, fields: []*ast.Field{s}, conditional: cond})
			case *ast.InlineFragment:
				on2, cond := g.narrow(parent, on, s.TypeCondition)
				if on2 == nil {
					return fmt.Errorf("unknown type %s in a fragment", s.TypeCondition)
				}
				if err := walk(on2, s.SelectionSet, conditional || cond || swConditional(s.Directives), depth+1); err != nil {
					return err
				}
			case *ast.FragmentSpread:
				fd := s.Definition
				if fd == nil && op.Doc != nil {
					fd = op.Doc.Fragments.ForName(s.Name)
				}
				if fd == nil {
					return fmt.Errorf("fragment %s is not defined", s.Name)
				}
				on2, cond := g.narrow(parent, on, fd.TypeCondition)
				if on2 == nil {
					return fmt.Errorf("unknown type %s in fragment %s", fd.TypeCondition, s.Name)
				}
				if err := walk(on2, fd.SelectionSet, conditional || cond || swConditional(s.Directives), depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(parent, set, false, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// narrow resolves a fragment's type condition: the type whose fields it
// selects, and whether it may not apply to every object of parent's type
// (then its fields are optional in the flattened schema).
func (g *swGenerator) narrow(parent, on *ast.Definition, cond string) (*ast.Definition, bool) {
	if cond == "" || cond == on.Name {
		return on, false
	}
	t := g.schema.Types[cond]
	if t == nil {
		return nil, false
	}
	if parent.Kind == ast.Object {
		// A fragment on an interface or union that parent belongs to always applies.
		return t, !slices.ContainsFunc(g.schema.GetPossibleTypes(t), func(d *ast.Definition) bool { return d.Name == parent.Name })
	}
	return t, true
}

func swConditional(ds ast.DirectiveList) bool {
	return ds.ForName("skip") != nil || ds.ForName("include") != nil
}

// outputType is the schema of a value of type t with selection set.
// Descriptions and x-ms-summary go on properties, by the caller.
func (g *swGenerator) outputType(op *Operation, t *ast.Type, set ast.SelectionSet) (*spec.Schema, error) {
	if t.Elem != nil {
		items, err := g.outputType(op, t.Elem, set)
		if err != nil {
			return nil, err
		}
		return spec.ArrayProperty(items), nil
	}
	def := g.schema.Types[t.NamedType]
	if def == nil {
		return nil, fmt.Errorf("unknown type %s", t.NamedType)
	}
	switch def.Kind {
	case ast.Scalar:
		return swScalarSchema(def.Name), nil
	case ast.Enum:
		return swEnumSchema(def), nil
	case ast.Object, ast.Interface, ast.Union:
	default:
		return nil, fmt.Errorf("%s cannot be a result", def.Name)
	}
	fields, err := g.collect(op, def, set)
	if err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("nothing selected on %s", def.Name)
	}
	s := &spec.Schema{}
	s.Typed("object", "")
	s.Properties = spec.SchemaProperties{}
	for _, f := range fields {
		ps, err := g.outputType(op, f.def.Type, f.selections())
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", def.Name, f.key, err)
		}
		ps.Description = swSentence(f.def.Description)
		if ps.Description == "" {
			ps.Description = TitleCase(f.key) + "."
		}
		ps.AddExtension("x-ms-summary", TitleCase(f.key))
		// Required only when the facade always sends it: a non-null field
		// not behind a fragment condition. Flows fail a run when a required
		// property is missing (CONNECTOR.md §6).
		if f.def.Type.NonNull && !f.conditional {
			s.Required = append(s.Required, f.key)
		}
		s.Properties[f.key] = *ps
	}
	return s, nil
}

// sentence collapses a schema description onto one line and ends it with a
// full stop, as connector descriptions are sentences.
func swSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	if r := s[len(s)-1]; r != '.' && r != '!' && r != '?' {
		s += "."
	}
	return s
}

// swAcronyms stay upper case in Title Case labels.
var swAcronyms = map[string]string{"id": "ID", "sku": "SKU", "url": "URL", "rsvp": "RSVP", "sms": "SMS", "api": "API", "uri": "URI"}

// TitleCase turns an identifier (camelCase, snake_case, SCREAMING_CASE,
// kebab-case) into a Title Case label: storeId -> Store ID,
// STORE_ASSOCIATE -> Store Associate, __typename -> Type Name.
func TitleCase(name string) string {
	if name == "__typename" {
		return "Type Name"
	}
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == ' ' || r == '.':
			flush()
		case unicode.IsUpper(r) && len(cur) > 0 && (unicode.IsLower(cur[len(cur)-1]) || unicode.IsDigit(cur[len(cur)-1]) ||
			(i+1 < len(rs) && unicode.IsLower(rs[i+1]))):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	// In a mixed-case name an upper-case word is an acronym (HTTPStatus);
	// in SCREAMING_CASE every word is upper case and none is.
	screaming := strings.ToUpper(name) == name
	for i, w := range words {
		if !screaming && len(w) > 1 && strings.ToUpper(w) == w {
			continue
		}
		lw := strings.ToLower(w)
		if a, ok := swAcronyms[lw]; ok {
			words[i] = a
			continue
		}
		r := []rune(lw)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}

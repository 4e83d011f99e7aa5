package connector

// The checklist of ../shared/CONNECTOR.md §9, checked mechanically on the
// exported connector package: every E (import/validator error) and W
// (validator warning, certification requirement, documented canvas
// problem) rule is one named subtest. The rules are encoded here rather than
// read from ../shared, which CI does not promise to have. The checker walks
// plain JSON, not our generator's types, so that it judges the files Power
// Platform would read and can be fed deliberately broken documents.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/mail"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/graph"
)

type obj = map[string]any

func asObj(v any) obj          { m, _ := v.(map[string]any); return m }
func asArr(v any) []any        { a, _ := v.([]any); return a }
func asStr(v any) string       { s, _ := v.(string); return s }
func has(m obj, k string) bool { _, ok := m[k]; return ok }

// connectorPackage is an exported package as the checker sees it.
type connectorPackage struct {
	files    map[string][]byte
	def      obj // apiDefinition.swagger.json
	props    obj // apiProperties.json
	settings obj // settings.json (nil when absent)
	// placeholders: the package is a sample, so the client id must be a
	// placeholder rather than a real one (S1 README).
	sample bool
}

func parsePackage(files map[string][]byte) (*connectorPackage, error) {
	p := &connectorPackage{files: files}
	for name, dst := range map[string]*obj{DefinitionFile: &p.def, PropertiesFile: &p.props, SettingsFile: &p.settings} {
		b, ok := files[name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), dst); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if p.def == nil {
		p.def = obj{}
	}
	if p.props == nil {
		p.props = obj{}
	}
	return p, nil
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch"}

type opRef struct {
	path, method string
	item, op     obj
}

func (o opRef) String() string { return strings.ToUpper(o.method) + " " + o.path }

// agentic reports an MCP server operation (x-ms-agentic-protocol): the
// agent speaks JSON-RPC to it and reads the answers itself, so the rules
// about a REST result's schema do not apply (Copilot Studio's template
// declares none).
func (o opRef) agentic() bool { return has(o.op, "x-ms-agentic-protocol") }

func (p *connectorPackage) operations() []opRef {
	var out []opRef
	paths := asObj(p.def["paths"])
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		item := asObj(paths[path])
		for _, m := range httpMethods {
			if op := asObj(item[m]); op != nil {
				out = append(out, opRef{path, m, item, op})
			}
		}
	}
	return out
}

// params are an operation's parameters with path-level ones, $refs resolved.
func (p *connectorPackage) params(o opRef) []obj {
	var out []obj
	for _, src := range [][]any{asArr(o.item["parameters"]), asArr(o.op["parameters"])} {
		for _, v := range src {
			prm := asObj(v)
			if ref := asStr(prm["$ref"]); ref != "" {
				prm = asObj(asObj(p.def["parameters"])[strings.TrimPrefix(ref, "#/parameters/")])
			}
			if prm != nil {
				out = append(out, prm)
			}
		}
	}
	return out
}

// schemaVisit is one schema reached by walking the document.
type schemaVisit struct {
	s          obj
	where      string
	root       bool // the root schema of a body parameter, response or definition
	property   bool // a property of an object schema
	response   bool // inside a response schema
	body       bool // inside a body parameter schema
	op         string
	depth      int
	respStatus string
}

func (p *connectorPackage) eachSchema(fn func(v schemaVisit)) {
	var walk func(v schemaVisit)
	walk = func(v schemaVisit) {
		if v.s == nil || v.depth > 64 {
			return
		}
		fn(v)
		child := v
		child.root, child.property = false, false
		child.depth++
		for _, name := range slices.Sorted(maps.Keys(asObj(v.s["properties"]))) {
			c := child
			c.s, c.where, c.property = asObj(asObj(v.s["properties"])[name]), v.where+"."+name, true
			walk(c)
		}
		if it := asObj(v.s["items"]); it != nil {
			c := child
			c.s, c.where = it, v.where+"[]"
			walk(c)
		}
		for i, a := range asArr(v.s["allOf"]) {
			c := child
			c.s, c.where = asObj(a), fmt.Sprintf("%s.allOf[%d]", v.where, i)
			walk(c)
		}
		if ap := asObj(v.s["additionalProperties"]); ap != nil {
			c := child
			c.s, c.where = ap, v.where+".additionalProperties"
			walk(c)
		}
	}
	defs := asObj(p.def["definitions"])
	for _, name := range slices.Sorted(maps.Keys(defs)) {
		walk(schemaVisit{s: asObj(defs[name]), where: "#/definitions/" + name, root: true})
	}
	for _, o := range p.operations() {
		for _, prm := range p.params(o) {
			if prm["in"] == "body" {
				walk(schemaVisit{s: asObj(prm["schema"]), where: o.String() + " body", root: true, body: true, op: o.String()})
			}
		}
		resps := asObj(o.op["responses"])
		for _, code := range slices.Sorted(maps.Keys(resps)) {
			walk(schemaVisit{s: asObj(asObj(resps[code])["schema"]), where: o.String() + " " + code, root: true, response: true, op: o.String(), respStatus: code})
		}
	}
}

// walkAll visits every JSON value of doc with its JSON pointer-ish path.
func walkAll(v any, path string, fn func(path string, v any)) {
	fn(path, v)
	switch t := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			walkAll(t[k], path+"/"+k, fn)
		}
	case []any:
		for i, e := range t {
			walkAll(e, fmt.Sprintf("%s/%d", path, i), fn)
		}
	}
}

type rule struct {
	id    string // subtest name: level and a short name
	text  string // the checklist line and its source
	check func(p *connectorPackage) []string
}

var (
	productNamesRE = regexp.MustCompile(`(?i)power ?apps|power ?automate|microsoft flow|power ?bi\b|power ?platform|power virtual agents|copilot studio|dataverse|logic apps`)
	apiWordRE      = regexp.MustCompile(`(?i)\bapis?\b`)
	hostRE         = regexp.MustCompile(`^[^{}/ :\\]+(?::\d+)?$`)
	pascalRE       = regexp.MustCompile(`^[A-Z][a-zA-Z0-9]*$`)
	summaryCharsRE = regexp.MustCompile(`^[A-Za-z0-9() ]+$`)
	threeDigitRE   = regexp.MustCompile(`^[1-5][0-9][0-9]$`)
	colorRE        = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	guidRE         = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	connParamRE    = regexp.MustCompile(`^[0-9a-zA-Z_]+(:[0-9a-zA-Z_]+)?$`)
	templateVarRE  = regexp.MustCompile(`\{([^{}]*)\}`)
)

var (
	swaggerRootKeys = []string{"swagger", "info", "host", "basePath", "schemes", "consumes", "produces", "paths", "definitions", "parameters", "responses", "securityDefinitions", "security", "tags", "externalDocs"}
	rootXMs         = []string{"x-ms-capabilities", "x-ms-connector-metadata", "x-ms-docs"}
	// x-ms-agentic-protocol is newer than S1's list: Copilot Studio's
	// "Extend your agent with Model Context Protocol" names it as the mark
	// of an MCP server operation (value mcp-streamable-1.0).
	opXMs          = []string{"x-ms-agentic-protocol", "x-ms-api-annotation", "x-ms-capabilities", "x-ms-no-generic-test", "x-ms-operation-context", "x-ms-pageable", "x-ms-safe-operation", "x-ms-summary", "x-ms-trigger", "x-ms-trigger-hint", "x-ms-trigger-metadata", "x-ms-notification", "x-ms-visibility"}
	mimeTypes      = []string{"application/json", "text/plain", "multipart/form-data", "application/x-www-form-urlencoded"}
	categories     = []string{"AI", "Business Management", "Business Intelligence", "Collaboration", "Commerce", "Communication", "Content and Files", "Finance", "Data", "Human Resources", "Internet of Things", "IT Operations", "Lifestyle and Entertainment", "Marketing", "Productivity", "Sales and CRM", "Security", "Social Media", "Website"}
	schemaFormats  = []string{"int32", "int64", "float", "double", "byte", "binary", "date", "date-time", "password", "date-no-tz", "email", "html", "uri", "uuid"}
	schemaTypes    = []string{"object", "array", "string", "integer", "number", "boolean", "file", "null"}
	settingsKeys   = []string{"connectorId", "environment", "apiProperties", "apiDefinition", "icon", "script", "powerAppsUrl", "powerAppsApiVersion", "flowUrl", "flowApiVersion", "clientId", "tenant", "authorityUrl", "resource"}
	propertiesKeys = []string{"iconBrandColor", "capabilities", "connectionParameters", "connectionParameterSets", "policyTemplateInstances", "publisher", "stackOwner", "scriptOperations"}
	connParamTypes = []string{"string", "securestring", "int", "bool", "gatewaySetting", "oauthSetting"}
	identityProvs  = []string{"aad", "oauth2", "oauth2generic", "aadcertificate", "facebook", "google", "microsoftaccount", "dropbox", "instagram", "github", "slack", "twitter", "yammer"}
	// Policy templates of the S1 schema and the parameters each requires.
	policyTemplates = map[string][]string{
		"convertarraytoobject": nil, "convertobjecttoarray": nil,
		"dynamichosturl":      {"x-ms-apimTemplateParameter.urlTemplate"},
		"encodepropertyvalue": nil, "pollingtrigger": nil,
		"routerequesttoendpoint": {"x-ms-apimTemplateParameter.newPath"},
		"setheader":              {"x-ms-apimTemplateParameter.name", "x-ms-apimTemplateParameter.value"},
		"setproperty":            nil, "setqueryparameter": nil, "setvaluefromurl": nil, "stringreplace": nil, "stringtoarray": nil,
		"updatenextlink": {"x-ms-apimTemplateParameter.nextLinkPropertyName"},
	}
	// Parameters the S1 schema allows on an updatenextlink instance
	// (additionalProperties: false).
	updateNextLinkParams = []string{"x-ms-apimTemplate-operationName", "x-ms-apimTemplateParameter.nextLinkPropertyName", "x-ms-apimTemplateParameter.nextLinkParentPropertyPath"}
)

func endsAlnum(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// minorWords may stay lower case inside a Title Case label.
var minorWords = map[string]bool{"a": true, "an": true, "the": true, "and": true, "or": true, "of": true, "for": true, "to": true, "in": true, "on": true, "by": true, "with": true, "at": true, "per": true}

func isTitleCase(s string) bool {
	for i, w := range strings.Fields(s) {
		r, _ := utf8.DecodeRuneInString(w)
		if unicode.IsLower(r) && (i == 0 || !minorWords[w]) {
			return false
		}
	}
	return s != ""
}

// checklist is CONNECTOR.md §9, E and W rules, in its order.
var checklist = []rule{
	// Package
	{"E/package-files", "package has apiDefinition.swagger.json and apiProperties.json, both valid UTF-8 JSON (BOM tolerated) — S1 paconn README, upsert.py", func(p *connectorPackage) (v []string) {
		for _, f := range []string{DefinitionFile, PropertiesFile} {
			b, ok := p.files[f]
			switch {
			case !ok:
				v = append(v, f+" is missing")
			case !utf8.Valid(b) || !json.Valid(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))):
				v = append(v, f+" is not valid UTF-8 JSON")
			}
		}
		return v
	}},
	{"W/settings-keys", "settings.json keys ⊆ paconn's; powerAppsApiVersion = 2016-11-01 — S1 paconn-settings.schema.json, settingsserializer.py", func(p *connectorPackage) (v []string) {
		for k, val := range p.settings {
			if !slices.Contains(settingsKeys, k) {
				v = append(v, "settings.json: unknown key "+k)
			}
			if k == "powerAppsApiVersion" && val != "2016-11-01" {
				v = append(v, fmt.Sprintf("settings.json: powerAppsApiVersion %v", val))
			}
		}
		return v
	}},
	{"W/settings-environment", "settings.json environment is a GUID or Default-<GUID> — S1 schema, S9", func(p *connectorPackage) (v []string) {
		if e, ok := p.settings["environment"]; ok && !guidRE.MatchString(strings.TrimPrefix(asStr(e), "Default-")) {
			v = append(v, fmt.Sprintf("settings.json: environment %v", e))
		}
		return v
	}},
	{"E/definition-size", "swagger file < 1 MB — S2 faq.md, define-openapi-definition.md", func(p *connectorPackage) (v []string) {
		if n := len(p.files[DefinitionFile]); n >= 1<<20 {
			v = append(v, fmt.Sprintf("%s is %d bytes", DefinitionFile, n))
		}
		return v
	}},
	{"W/script", "script.csx ≤ 1 MB and only if scriptOperations/script wanted — S2 write-code.md", func(p *connectorPackage) (v []string) {
		if b, ok := p.files["script.csx"]; ok && (len(b) > 1<<20 || !has(asObj(p.props["properties"]), "scriptOperations")) {
			v = append(v, "script.csx without scriptOperations, or over 1 MB")
		}
		return v
	}},

	// Swagger root
	{"E/swagger-version", `swagger == "2.0" — S2 SpecificationVersionIncorrect`, func(p *connectorPackage) (v []string) {
		if p.def["swagger"] != "2.0" {
			v = append(v, fmt.Sprintf("swagger is %v", p.def["swagger"]))
		}
		return v
	}},
	{"E/info-title-version", "info.title, info.version present — S1 swagger schema", func(p *connectorPackage) (v []string) {
		info := asObj(p.def["info"])
		for _, k := range []string{"title", "version"} {
			if asStr(info[k]) == "" {
				v = append(v, "info."+k+" is missing")
			}
		}
		return v
	}},
	{"E/info-description", "info.description present (paconn KeyError otherwise) — S1 upsert.py", func(p *connectorPackage) (v []string) {
		if asStr(asObj(p.def["info"])["description"]) == "" {
			v = append(v, "info.description is missing")
		}
		return v
	}},
	{"W/info-title-text", `info.title ≤ 30 chars, no "API"/"Connector"/Power Platform product names, ends alphanumeric — S2 certification-submission.md, connector-string-guidance.md`, func(p *connectorPackage) (v []string) {
		t := asStr(asObj(p.def["info"])["title"])
		if len([]rune(t)) > 30 || apiWordRE.MatchString(t) || regexp.MustCompile(`(?i)connector`).MatchString(t) || productNamesRE.MatchString(t) || !endsAlnum(t) {
			v = append(v, fmt.Sprintf("info.title %q", t))
		}
		return v
	}},
	{"W/info-description-text", `info.description 30–500 chars, no "API", no product names — S2 certification-submission.md, FieldLengthNotInRange`, func(p *connectorPackage) (v []string) {
		d := asStr(asObj(p.def["info"])["description"])
		if n := len([]rune(d)); n < 30 || n > 500 || apiWordRE.MatchString(d) || productNamesRE.MatchString(d) {
			v = append(v, fmt.Sprintf("info.description (%d chars) %q", len([]rune(d)), d))
		}
		return v
	}},
	{"E/host", "host present, hostname[:port] only, no scheme/path/braces — S1 schema pattern, S2 HostNameNotValid, S1 upsert.py", func(p *connectorPackage) (v []string) {
		if h := asStr(p.def["host"]); !hostRE.MatchString(h) {
			v = append(v, fmt.Sprintf("host %q", h))
		}
		return v
	}},
	{"E/basePath", `basePath starts with "/" — S2 BasePathNotValid`, func(p *connectorPackage) (v []string) {
		if b, ok := p.def["basePath"]; ok && !strings.HasPrefix(asStr(b), "/") {
			v = append(v, fmt.Sprintf("basePath %q", b))
		}
		return v
	}},
	{"E/schemes", "schemes non-empty, values ⊆ {http, https} — S2 SchemesArrayEmpty, SchemeNotValid, SchemeNotSupported", func(p *connectorPackage) (v []string) {
		s := asArr(p.def["schemes"])
		if len(s) == 0 {
			v = append(v, "schemes is empty")
		}
		for _, x := range s {
			if x != "http" && x != "https" {
				v = append(v, fmt.Sprintf("scheme %v", x))
			}
		}
		return v
	}},
	{"E/root-keys", "top-level keys ⊆ Swagger 2.0 keys + x-*; x-ms-* at root ⊆ {x-ms-capabilities, x-ms-connector-metadata, x-ms-docs} — S1 schema, S9", func(p *connectorPackage) (v []string) {
		for k := range p.def {
			switch {
			case strings.HasPrefix(k, "x-ms-"):
				if !slices.Contains(rootXMs, k) {
					v = append(v, "root key "+k)
				}
			case strings.HasPrefix(k, "x-"), slices.Contains(swaggerRootKeys, k):
			default:
				v = append(v, "root key "+k)
			}
		}
		return v
	}},
	{"W/mime-types", "MIME types ⊆ {application/json, text/plain, multipart/form-data, application/x-www-form-urlencoded} — S2 MimeTypeNotValid; and operations that take a body have consumes — S2 ConsumesMissing", func(p *connectorPackage) (v []string) {
		check := func(where string, list any) {
			for _, m := range asArr(list) {
				if !slices.Contains(mimeTypes, asStr(m)) {
					v = append(v, fmt.Sprintf("%s: MIME type %v", where, m))
				}
			}
		}
		check("root consumes", p.def["consumes"])
		check("root produces", p.def["produces"])
		for _, o := range p.operations() {
			check(o.String()+" consumes", o.op["consumes"])
			check(o.String()+" produces", o.op["produces"])
			hasBody := slices.ContainsFunc(p.params(o), func(prm obj) bool { return prm["in"] == "body" || prm["in"] == "formData" })
			if hasBody && len(asArr(o.op["consumes"])) == 0 && len(asArr(p.def["consumes"])) == 0 {
				v = append(v, o.String()+": takes a body but no consumes")
			}
		}
		return v
	}},
	{"W/contact-metadata", "info.contact {name,url,email valid} and x-ms-connector-metadata with Website, Privacy policy, Categories (≤ 2 from list) — S2 certification-submission.md, ConnectorMetadataPropertiesMissing, TooManyConnectorCategories, InvalidConnectorCategory, ContactEmailNotValid", func(p *connectorPackage) (v []string) {
		c := asObj(asObj(p.def["info"])["contact"])
		if asStr(c["name"]) == "" {
			v = append(v, "info.contact.name is missing")
		}
		if u, err := url.Parse(asStr(c["url"])); err != nil || u.Scheme == "" || u.Host == "" {
			v = append(v, fmt.Sprintf("info.contact.url %q", c["url"]))
		}
		if a, err := mail.ParseAddress(asStr(c["email"])); err != nil || a.Address != c["email"] {
			v = append(v, fmt.Sprintf("info.contact.email %q", c["email"]))
		}
		meta := map[string]string{}
		for _, e := range asArr(p.def["x-ms-connector-metadata"]) {
			meta[asStr(asObj(e)["propertyName"])] = asStr(asObj(e)["propertyValue"])
		}
		for _, k := range []string{"Website", "Privacy policy", "Categories"} {
			if meta[k] == "" {
				v = append(v, "x-ms-connector-metadata: no "+k)
			}
		}
		cats := strings.Split(meta["Categories"], ";")
		if len(cats) > 2 {
			v = append(v, "x-ms-connector-metadata: more than 2 categories")
		}
		for _, c := range cats {
			if c != "" && !slices.Contains(categories, c) {
				v = append(v, "x-ms-connector-metadata: unknown category "+c)
			}
		}
		return v
	}},
	{"W/api-annotation-status", "info.x-ms-api-annotation.status ∈ {Preview, Production} — S1 schema", func(p *connectorPackage) (v []string) {
		if a := asObj(asObj(p.def["info"])["x-ms-api-annotation"]); a != nil && has(a, "status") && a["status"] != "Preview" && a["status"] != "Production" {
			v = append(v, fmt.Sprintf("info.x-ms-api-annotation.status %v", a["status"]))
		}
		return v
	}},
	{"E/security-defined", "every security name defined in securityDefinitions; value [] unless OAuth scopes — S2 SecurityRequirementMustBeDefined, SecurityRequirementMustHaveValue, SecurityRequirementMustHaveEmptyValue", func(p *connectorPackage) (v []string) {
		defs := asObj(p.def["securityDefinitions"])
		check := func(where string, reqs any) {
			for _, r := range asArr(reqs) {
				for name, val := range asObj(r) {
					def := asObj(defs[name])
					arr, isArr := val.([]any)
					switch {
					case def == nil:
						v = append(v, fmt.Sprintf("%s: security %q is not defined", where, name))
					case !isArr:
						v = append(v, fmt.Sprintf("%s: security %q value is not an array", where, name))
					case def["type"] != "oauth2" && len(arr) > 0:
						v = append(v, fmt.Sprintf("%s: security %q must have an empty value", where, name))
					case def["type"] == "oauth2":
						for _, s := range arr {
							if !has(asObj(def["scopes"]), asStr(s)) {
								v = append(v, fmt.Sprintf("%s: scope %v is not in securityDefinitions.%s.scopes", where, s, name))
							}
						}
					}
				}
			}
		}
		check("root", p.def["security"])
		for _, o := range p.operations() {
			check(o.String(), o.op["security"])
		}
		return v
	}},
	{"E/security-matches-properties", "securityDefinitions consistent with apiProperties (apiKey↔api_key securestring; oauth2 accessCode↔token oauthSetting) — S2 connection-parameters.md, S9", func(p *connectorPackage) (v []string) {
		params := asObj(asObj(p.props["properties"])["connectionParameters"])
		for name, d := range asObj(p.def["securityDefinitions"]) {
			switch asObj(d)["type"] {
			case "oauth2":
				if asObj(d)["flow"] != "accessCode" {
					v = append(v, fmt.Sprintf("securityDefinitions.%s: flow %v (custom connectors support accessCode only)", name, asObj(d)["flow"]))
				}
				if asObj(params["token"])["type"] != "oauthSetting" {
					v = append(v, "oauth2 security needs connectionParameters.token of type oauthSetting")
				}
			case "apiKey":
				if asObj(params["api_key"])["type"] != "securestring" {
					v = append(v, "apiKey security needs connectionParameters.api_key of type securestring")
				}
			}
		}
		if asObj(params["token"])["type"] == "oauthSetting" && !slices.ContainsFunc(slices.Collect(maps.Values(asObj(p.def["securityDefinitions"]))), func(d any) bool { return asObj(d)["type"] == "oauth2" }) {
			v = append(v, "apiProperties has an OAuth token parameter but the definition has no oauth2 security definition")
		}
		return v
	}},
	{"E/operation-count", "≤ 256 operations — S2 faq.md, TotalOperationsCountExceedsMaxAllowed", func(p *connectorPackage) (v []string) {
		if n := len(p.operations()); n > 256 || n == 0 {
			v = append(v, fmt.Sprintf("%d operations", n))
		}
		return v
	}},

	// Paths & operations
	{"E/path-keys", `path keys start with "/", no ?/#/*, template vars within one segment, no case-only duplicates or indistinguishable templates — S2 OperationPathMustStartWithSlash, OperationPathMayNotContainQueryOrFragment, OperationPathContainsUnsupportedCharacters, OperationPathTemplateNotValid, PathRedefined, DuplicateOperationPath`, func(p *connectorPackage) (v []string) {
		seen := map[string]string{}
		for path := range asObj(p.def["paths"]) {
			if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#*") {
				v = append(v, "path "+path)
			}
			for _, seg := range strings.Split(path, "/") {
				if strings.Count(seg, "{") != strings.Count(seg, "}") {
					v = append(v, "path "+path+": template variable spans segments")
				}
			}
			shape := strings.ToLower(templateVarRE.ReplaceAllString(path, "{}"))
			if other, dup := seen[shape]; dup {
				v = append(v, "paths "+path+" and "+other+" are indistinguishable")
			}
			seen[shape] = path
		}
		return v
	}},
	{"E/path-item-ref", "no $ref on path items — S2 PathItemRefNotSuppored", func(p *connectorPackage) (v []string) {
		for path, item := range asObj(p.def["paths"]) {
			if has(asObj(item), "$ref") {
				v = append(v, "path "+path+" has $ref")
			}
		}
		return v
	}},
	{"E/operationId", "every operation has operationId, unique — S2 OperationIdRequired, OperationIdNotUnique", func(p *connectorPackage) (v []string) {
		seen := map[string]bool{}
		for _, o := range p.operations() {
			id := asStr(o.op["operationId"])
			if id == "" {
				v = append(v, o.String()+": no operationId")
			} else if seen[strings.ToLower(id)] {
				v = append(v, o.String()+": operationId "+id+" is not unique")
			}
			seen[strings.ToLower(id)] = true
		}
		return v
	}},
	{"W/operationId-pascal", "operationId alphanumeric only (equals sanitized value), PascalCase — S2 OperationIdSanitized, coding-standards.md", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			if id := asStr(o.op["operationId"]); !pascalRE.MatchString(id) {
				v = append(v, o.String()+": operationId "+id)
			}
		}
		return v
	}},
	{"W/summary-description-present", "every operation has summary and description, different from each other — S2 certification-submission.md checklist, coding-standards.md", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			s, d := asStr(o.op["summary"]), asStr(o.op["description"])
			if s == "" || d == "" || strings.EqualFold(strings.TrimRight(s, "."), strings.TrimRight(d, ".")) {
				v = append(v, fmt.Sprintf("%s: summary %q, description %q", o, s, d))
			}
		}
		return v
	}},
	{"W/summary-text", `summary ≤ 80 chars, no "/", ends alphanumeric, only alphanumerics/parentheses/spaces; sentence case — S2 connector-string-guidance.md, certification-submission.md, OperationSummaryTooLong, RestrictedCharactersInSummary`, func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			s := asStr(o.op["summary"])
			r, _ := utf8.DecodeRuneInString(s)
			if len([]rune(s)) > 80 || !summaryCharsRE.MatchString(s) || !endsAlnum(s) || !unicode.IsUpper(r) {
				v = append(v, fmt.Sprintf("%s: summary %q", o, s))
			}
		}
		return v
	}},
	{"W/description-punctuation", "description ends with punctuation — S2 coding-standards.md, certification-submission.md", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			if d := strings.TrimSpace(asStr(o.op["description"])); d == "" || !strings.ContainsAny(d[len(d)-1:], ".!?") {
				v = append(v, fmt.Sprintf("%s: description %q", o, d))
			}
		}
		return v
	}},
	{"W/operation-visibility", "every operation has x-ms-visibility ∈ {important, advanced, internal} — S2 certification-submission.md checklist, S1 schema enum", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			if vis := o.op["x-ms-visibility"]; vis != "important" && vis != "advanced" && vis != "internal" {
				v = append(v, fmt.Sprintf("%s: x-ms-visibility %v", o, vis))
			}
		}
		return v
	}},
	{"E/operation-extensions", "operation-level x-ms-* keys ⊆ S1 list (§2) — S1 schema, S9", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			for k := range o.op {
				if strings.HasPrefix(k, "x-ms-") && !slices.Contains(opXMs, k) {
					v = append(v, o.String()+": "+k)
				}
			}
		}
		return v
	}},
	{"E/pageable-nextLinkName", `x-ms-pageable.nextLinkName ∈ {"nextLink", "@odata.nextLink"} — S2 InvalidNextLinkNameValue`, func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			if pg, ok := o.op["x-ms-pageable"]; ok {
				if n := asObj(pg)["nextLinkName"]; n != "nextLink" && n != "@odata.nextLink" {
					v = append(v, fmt.Sprintf("%s: nextLinkName %v", o, n))
				}
			}
		}
		return v
	}},
	{"W/api-annotation-replacement", "x-ms-api-annotation.replacement only on deprecated: true operations, with api and operationId — S2 ApiAnnotationExtensionReplacementInfo…", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			r := asObj(asObj(o.op["x-ms-api-annotation"])["replacement"])
			if r != nil && (o.op["deprecated"] != true || asStr(r["api"]) == "" || asStr(r["operationId"]) == "") {
				v = append(v, o.String()+": bad x-ms-api-annotation.replacement")
			}
		}
		return v
	}},

	// Parameters
	{"E/one-body", "at most one in: body parameter per operation (incl. path-level params) — S2 OperationParametersContainMultipleBodyParameters, PathParametersContainMultipleBodyParameters", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			n := 0
			for _, prm := range p.params(o) {
				if prm["in"] == "body" {
					n++
				}
			}
			if n > 1 {
				v = append(v, fmt.Sprintf("%s: %d body parameters", o, n))
			}
		}
		return v
	}},
	{"E/body-and-formData", "not both body and formData — S2 ParameterListContainsFormDataAndBody", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			ps := p.params(o)
			if slices.ContainsFunc(ps, func(x obj) bool { return x["in"] == "body" }) && slices.ContainsFunc(ps, func(x obj) bool { return x["in"] == "formData" }) {
				v = append(v, o.String()+": body and formData")
			}
		}
		return v
	}},
	{"E/no-body-on-get", "GET/HEAD operations have no body/formData — S2 BodyOrFormDataParameterInFetchOperationNotAllowed", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			if o.method != "get" && o.method != "head" {
				continue
			}
			for _, prm := range p.params(o) {
				if prm["in"] == "body" || prm["in"] == "formData" {
					v = append(v, fmt.Sprintf("%s: %v parameter %v", o, prm["in"], prm["name"]))
				}
			}
		}
		return v
	}},
	{"E/parameter-schema", "body parameter has schema; non-body parameters have no schema and have a type — S2 BodyParameterSchemaRequired, NonBodyParameterSchemaNotValid, S1 schema", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			for _, prm := range p.params(o) {
				if prm["in"] == "body" != has(prm, "schema") || (prm["in"] != "body" && asStr(prm["type"]) == "") {
					v = append(v, fmt.Sprintf("%s: parameter %v", o, prm["name"]))
				}
			}
		}
		return v
	}},
	{"E/path-parameters", "path parameters required: true and present in the path template; every template variable has a parameter — S2 PathParameterMustBeRequired, PathParameterNotDefinedInTemplate, OperationMissingPathParameter", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			vars := map[string]bool{}
			for _, m := range templateVarRE.FindAllStringSubmatch(o.path, -1) {
				vars[m[1]] = false
			}
			for _, prm := range p.params(o) {
				if prm["in"] != "path" {
					continue
				}
				name := asStr(prm["name"])
				if prm["required"] != true {
					v = append(v, o.String()+": path parameter "+name+" is not required")
				}
				if _, ok := vars[name]; !ok {
					v = append(v, o.String()+": path parameter "+name+" is not in the template")
				}
				vars[name] = true
			}
			for name, bound := range vars {
				if !bound {
					v = append(v, o.String()+": template variable {"+name+"} has no parameter")
				}
			}
		}
		return v
	}},
	{"W/url-encoding", "path parameters carry x-ms-url-encoding (single|double); query parameters don't — S2 PathParameterMissingEncoding, QueryParameterEncodingNotSupported", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			for _, prm := range p.params(o) {
				enc, ok := prm["x-ms-url-encoding"]
				switch {
				case prm["in"] == "path" && enc != "single" && enc != "double":
					v = append(v, fmt.Sprintf("%s: path parameter %v: x-ms-url-encoding %v", o, prm["name"], enc))
				case prm["in"] != "path" && ok:
					v = append(v, fmt.Sprintf("%s: %v parameter %v has x-ms-url-encoding", o, prm["in"], prm["name"]))
				}
			}
		}
		return v
	}},
	{"E/duplicate-parameters", "no duplicate (name, in) parameters — S2 OperationParametersContainDuplicateParameter, PathParametersContainDuplicateParameter", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			seen := map[string]bool{}
			for _, prm := range p.params(o) {
				k := asStr(prm["in"]) + " " + strings.ToLower(asStr(prm["name"]))
				if seen[k] {
					v = append(v, o.String()+": duplicate parameter "+k)
				}
				seen[k] = true
			}
		}
		return v
	}},
	{"E/connectionId", "no parameter named connectionId — S2 ConnectionIdParameterNotAllowed", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			for _, prm := range p.params(o) {
				if strings.EqualFold(asStr(prm["name"]), "connectionId") {
					v = append(v, o.String()+": parameter connectionId")
				}
			}
		}
		return v
	}},
	{"E/file-in-formData", "type: file only in formData — S2 FileParameterMustBeInFormData", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			for _, prm := range p.params(o) {
				if prm["type"] == "file" && prm["in"] != "formData" {
					v = append(v, fmt.Sprintf("%s: file parameter %v in %v", o, prm["name"], prm["in"]))
				}
			}
		}
		return v
	}},
	{"W/no-array-query", "no array-typed query parameters (Power Apps WADL conversion fails) — S6 #344", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			for _, prm := range p.params(o) {
				if prm["in"] == "query" && prm["type"] == "array" {
					v = append(v, fmt.Sprintf("%s: array query parameter %v", o, prm["name"]))
				}
			}
		}
		return v
	}},
	{"W/parameter-texts", "every non-body parameter has x-ms-summary (Title Case, ≤ 80) and description — S2 connector-string-guidance.md, certification-submission.md", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			for _, prm := range p.params(o) {
				if prm["in"] == "body" {
					continue
				}
				s, d := asStr(prm["x-ms-summary"]), asStr(prm["description"])
				if !isTitleCase(s) || len([]rune(s)) > 80 || d == "" {
					v = append(v, fmt.Sprintf("%s: parameter %v: x-ms-summary %q, description %q", o, prm["name"], s, d))
				}
			}
		}
		return v
	}},
	{"E/internal-required-default", "internal + required parameters/properties have default; W: internal + default should be required — S2 openapi-extensions.md, InternalPropertyWithDefaultOptional, PropertyMustBeRequired", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			for _, prm := range p.params(o) {
				if prm["x-ms-visibility"] != "internal" {
					continue
				}
				if prm["required"] == true && !has(prm, "default") || has(prm, "default") && prm["required"] != true {
					v = append(v, fmt.Sprintf("%s: internal parameter %v", o, prm["name"]))
				}
			}
		}
		p.eachSchema(func(s schemaVisit) {
			for name, ps := range asObj(s.s["properties"]) {
				if asObj(ps)["x-ms-visibility"] != "internal" {
					continue
				}
				req := slices.Contains(asArr(s.s["required"]), any(name))
				if req != has(asObj(ps), "default") {
					v = append(v, s.where+"."+name+": internal property needs required and default together")
				}
			}
		})
		return v
	}},
	{"E/parameter-refs", "$ref parameters point to #/parameters/… and resolve; no ref-to-ref — S2 ParameterReferenceNotFound, ParameterReferenceNotValid, ParameterRefLoopNotAllowed", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			for _, src := range [][]any{asArr(o.item["parameters"]), asArr(o.op["parameters"])} {
				for _, x := range src {
					ref := asStr(asObj(x)["$ref"])
					if ref == "" {
						continue
					}
					target := asObj(asObj(p.def["parameters"])[strings.TrimPrefix(ref, "#/parameters/")])
					if !strings.HasPrefix(ref, "#/parameters/") || target == nil || has(target, "$ref") {
						v = append(v, o.String()+": parameter $ref "+ref)
					}
				}
			}
		}
		return v
	}},
	{"W/allowEmptyValue", "allowEmptyValue only on query/formData — S2 AllowEmptyValueOnlyValidForQueryFormData", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			for _, prm := range p.params(o) {
				if has(prm, "allowEmptyValue") && prm["in"] != "query" && prm["in"] != "formData" {
					v = append(v, fmt.Sprintf("%s: parameter %v", o, prm["name"]))
				}
			}
		}
		return v
	}},

	// Responses & schemas
	{"E/responses", "each operation has ≥ 1 response and ≥ 1 2xx response; keys are 3-digit codes or default — S2 OperationMustHaveResponse, OperationShouldHaveSuccessfulResponse, ResponseMustBeDefaultOrHttpStatusCode", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			rs := asObj(o.op["responses"])
			ok2xx := false
			for code := range rs {
				if code != "default" && !threeDigitRE.MatchString(code) {
					v = append(v, o.String()+": response key "+code)
				}
				ok2xx = ok2xx || strings.HasPrefix(code, "2")
			}
			if len(rs) == 0 || !ok2xx {
				v = append(v, o.String()+": no 2xx response")
			}
		}
		return v
	}},
	{"W/schema-on-200-201", "the output schema is on 200 or 201 — S2 SchemaDefinitionSetIncorrectly", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			rs := asObj(o.op["responses"])
			if o.agentic() {
				continue
			}
			if !has(asObj(rs["200"]), "schema") && !has(asObj(rs["201"]), "schema") {
				v = append(v, o.String()+": no schema on 200 or 201")
			}
		}
		return v
	}},
	{"W/one-response-schema", "exactly one response per operation has a schema — S2 OperationHasManyResponsesWithSchema", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			if o.agentic() {
				continue
			}
			n := 0
			for _, r := range asObj(o.op["responses"]) {
				if has(asObj(r), "schema") {
					n++
				}
			}
			if n != 1 {
				v = append(v, fmt.Sprintf("%s: %d responses with a schema", o, n))
			}
		}
		return v
	}},
	{"W/default-no-schema", "default response has no schema — S2 DefaultResponseHasSchema", func(p *connectorPackage) (v []string) {
		for _, o := range p.operations() {
			if has(asObj(asObj(o.op["responses"])["default"]), "schema") {
				v = append(v, o.String()+": default response has a schema")
			}
		}
		return v
	}},
	{"W/no-empty-schema", "no empty response schema ({}, or object with no properties) — S2 certification-submission.md, S6 #1316/#1360/#1337", func(p *connectorPackage) (v []string) {
		p.eachSchema(func(s schemaVisit) {
			if !s.response {
				return
			}
			if len(s.s) == 0 || (s.s["type"] == "object" && len(asObj(s.s["properties"])) == 0 && !has(s.s, "allOf")) {
				v = append(v, s.where+": empty schema")
			}
		})
		return v
	}},
	{"W/response-property-texts", "every response property has type, description and x-ms-summary (Title Case) — S2 connector-string-guidance.md, coding-standards.md", func(p *connectorPackage) (v []string) {
		p.eachSchema(func(s schemaVisit) {
			if !s.response || !s.property {
				return
			}
			if asStr(s.s["type"]) == "" || asStr(s.s["description"]) == "" || !isTitleCase(asStr(s.s["x-ms-summary"])) || len([]rune(asStr(s.s["x-ms-summary"]))) > 80 {
				v = append(v, fmt.Sprintf("%s: type %v, description %q, x-ms-summary %q", s.where, s.s["type"], s.s["description"], s.s["x-ms-summary"]))
			}
		})
		return v
	}},
	{"E/schema-refs", "$ref only to #/definitions/, #/parameters/, #/responses/; resolves; nothing adjacent to $ref; no definition that is only a $ref — S2 SchemaReferenceNotFound, SchemaReferenceNotValid, AdditionalPropertyNotAllowedAdjacentToRef, SchemaRefLoopNotAllowed, S1 schema", func(p *connectorPackage) (v []string) {
		walkAll(p.def, "#", func(path string, x any) {
			m := asObj(x)
			ref, ok := m["$ref"].(string)
			if !ok {
				return
			}
			kind, name, _ := strings.Cut(strings.TrimPrefix(ref, "#/"), "/")
			if !strings.HasPrefix(ref, "#/") || (kind != "definitions" && kind != "parameters" && kind != "responses") || !has(asObj(p.def[kind]), name) {
				v = append(v, path+": $ref "+ref)
			}
			if len(m) > 1 {
				v = append(v, path+": keys beside $ref")
			}
			if strings.HasPrefix(path, "#/definitions/") && strings.Count(path, "/") == 2 {
				v = append(v, path+": a definition that is only a $ref")
			}
		})
		return v
	}},
	{"E/no-oneOf-anyOf", "no oneOf/anyOf (and, ours, no discriminator or additionalProperties dictionaries: untyped in Power Fx) — S1 schema, S5, S8", func(p *connectorPackage) (v []string) {
		p.eachSchema(func(s schemaVisit) {
			for _, k := range []string{"oneOf", "anyOf", "not", "discriminator"} {
				if has(s.s, k) {
					v = append(v, s.where+": "+k)
				}
			}
			if ap := asObj(s.s["additionalProperties"]); ap != nil {
				v = append(v, s.where+": additionalProperties dictionary")
			}
		})
		return v
	}},
	{"E/schema-structure", "arrays have items; enum non-empty; required only on objects, non-empty, names defined; no required loops — S2 ArrayHasNoItems, EnumMustContainAtLeastOneElement, RequiredPropertyNotOnObject, RequiredPropertyArrayEmpty, RequiredPropertyDefinitionMissing, RequiredLoopInSchemaNotAllowed", func(p *connectorPackage) (v []string) {
		p.eachSchema(func(s schemaVisit) {
			if s.s["type"] == "array" && asObj(s.s["items"]) == nil {
				v = append(v, s.where+": array without items")
			}
			if e, ok := s.s["enum"]; ok && len(asArr(e)) == 0 {
				v = append(v, s.where+": empty enum")
			}
			if req, ok := s.s["required"]; ok {
				if s.s["type"] != "object" && !has(s.s, "properties") || len(asArr(req)) == 0 {
					v = append(v, s.where+": required on a non-object or empty")
				}
				for _, r := range asArr(req) {
					if !has(asObj(s.s["properties"]), asStr(r)) {
						v = append(v, fmt.Sprintf("%s: required %v is not a property", s.where, r))
					}
				}
			}
		})
		// A required loop can only run through $ref: follow required
		// properties from each definition.
		defs := asObj(p.def["definitions"])
		var reaches func(from string, seen map[string]bool) bool
		reaches = func(from string, seen map[string]bool) bool {
			d := asObj(defs[from])
			for _, r := range asArr(d["required"]) {
				ref := strings.TrimPrefix(asStr(asObj(asObj(d["properties"])[asStr(r)])["$ref"]), "#/definitions/")
				if ref == "" {
					continue
				}
				if seen[ref] {
					return true
				}
				seen[ref] = true
				if reaches(ref, seen) {
					return true
				}
			}
			return false
		}
		for name := range defs {
			if reaches(name, map[string]bool{name: true}) {
				v = append(v, "#/definitions/"+name+": required loop")
			}
		}
		return v
	}},
	{"E/formats", "format ∈ {int32, int64, float, double, byte, binary, date, date-time, password, date-no-tz, email, html, uri, uuid}; integers only int32/int64; numbers only float/double — S1 schema format, S2 UnrecognizedTypeFormat, S5", func(p *connectorPackage) (v []string) {
		check := func(where string, m obj) {
			f, ok := m["format"]
			if !ok {
				return
			}
			fs := asStr(f)
			switch {
			case !slices.Contains(schemaFormats, fs):
				v = append(v, fmt.Sprintf("%s: format %v", where, f))
			case m["type"] == "integer" && fs != "int32" && fs != "int64":
				v = append(v, fmt.Sprintf("%s: integer format %v", where, f))
			case m["type"] == "number" && fs != "float" && fs != "double":
				v = append(v, fmt.Sprintf("%s: number format %v", where, f))
			}
		}
		p.eachSchema(func(s schemaVisit) { check(s.where, s.s) })
		for _, o := range p.operations() {
			for _, prm := range p.params(o) {
				check(fmt.Sprintf("%s: parameter %v", o, prm["name"]), prm)
			}
		}
		return v
	}},
	{"E/types", "type ∈ JSON-schema types; file only at response root — S2 SchemaTypeFileNotValid, S1 schema", func(p *connectorPackage) (v []string) {
		p.eachSchema(func(s schemaVisit) {
			t, ok := s.s["type"]
			if !ok {
				return
			}
			if !slices.Contains(schemaTypes, asStr(t)) {
				v = append(v, fmt.Sprintf("%s: type %v", s.where, t))
			}
			if t == "file" && !(s.root && s.response) {
				v = append(v, s.where+": type file below a response root")
			}
		})
		return v
	}},
	{"W/enum-values", "x-ms-enum-values values ⊆ enum, each has displayName, no duplicates — S2 InvalidEnumValuesExtensionValue, MissingEnumValuesDisplayName, DuplicateEnumValuesInExtension", func(p *connectorPackage) (v []string) {
		check := func(where string, m obj) {
			ev, ok := m["x-ms-enum-values"]
			if !ok {
				return
			}
			seen := map[any]bool{}
			for _, e := range asArr(ev) {
				val := asObj(e)["value"]
				if !slices.Contains(asArr(m["enum"]), val) || asStr(asObj(e)["displayName"]) == "" || seen[val] {
					v = append(v, fmt.Sprintf("%s: x-ms-enum-values entry %v", where, e))
				}
				seen[val] = true
			}
		}
		p.eachSchema(func(s schemaVisit) { check(s.where, s.s) })
		for _, o := range p.operations() {
			for _, prm := range p.params(o) {
				check(fmt.Sprintf("%s: parameter %v", o, prm["name"]), prm)
			}
		}
		return v
	}},
	{"E/default-types", "default values match the declared type — S2 DefaultValueMustMatchType", func(p *connectorPackage) (v []string) {
		check := func(where string, m obj) {
			d, ok := m["default"]
			if !ok {
				return
			}
			good := false
			switch m["type"] {
			case "string":
				_, good = d.(string)
			case "boolean":
				_, good = d.(bool)
			case "integer":
				f, isNum := d.(float64)
				good = isNum && f == float64(int64(f))
			case "number":
				_, good = d.(float64)
			case "array":
				_, good = d.([]any)
			case "object":
				_, good = d.(map[string]any)
			}
			if good && has(m, "enum") {
				good = slices.Contains(asArr(m["enum"]), d)
			}
			if !good {
				v = append(v, fmt.Sprintf("%s: default %v for type %v", where, d, m["type"]))
			}
		}
		p.eachSchema(func(s schemaVisit) { check(s.where, s.s) })
		for _, o := range p.operations() {
			for _, prm := range p.params(o) {
				check(fmt.Sprintf("%s: parameter %v", o, prm["name"]), prm)
			}
		}
		return v
	}},
	{"E/validation-keywords", "min/max pairs consistent; pattern valid regex; multipleOf > 0; exclusiveMax/Min need max/min — S2 \"Metadata\"", func(p *connectorPackage) (v []string) {
		check := func(where string, m obj) {
			for _, pair := range [][2]string{{"minimum", "maximum"}, {"minLength", "maxLength"}, {"minItems", "maxItems"}, {"minProperties", "maxProperties"}} {
				lo, okLo := m[pair[0]].(float64)
				hi, okHi := m[pair[1]].(float64)
				if okLo && okHi && lo > hi {
					v = append(v, fmt.Sprintf("%s: %s > %s", where, pair[0], pair[1]))
				}
			}
			if pat, ok := m["pattern"].(string); ok {
				if _, err := regexp.Compile(pat); err != nil {
					v = append(v, fmt.Sprintf("%s: pattern %q: %v", where, pat, err))
				}
			}
			if mo, ok := m["multipleOf"].(float64); ok && mo <= 0 {
				v = append(v, where+": multipleOf <= 0")
			}
			if m["exclusiveMaximum"] == true && !has(m, "maximum") || m["exclusiveMinimum"] == true && !has(m, "minimum") {
				v = append(v, where+": exclusive bound without the bound")
			}
		}
		p.eachSchema(func(s schemaVisit) { check(s.where, s.s) })
		for _, o := range p.operations() {
			for _, prm := range p.params(o) {
				check(fmt.Sprintf("%s: parameter %v", o, prm["name"]), prm)
			}
		}
		return v
	}},
	{"W/string-maxLength", "[ours] every free-text request parameter and body property declares maxLength, so makers see the limit the service enforces (issue 12)", func(p *connectorPackage) (v []string) {
		free := func(m obj) bool { return m["type"] == "string" && !has(m, "enum") && !has(m, "maxLength") }
		p.eachSchema(func(s schemaVisit) {
			if s.body && free(s.s) {
				v = append(v, s.where+": string without maxLength")
			}
		})
		for _, o := range p.operations() {
			for _, prm := range p.params(o) {
				if prm["in"] != "body" && free(prm) {
					v = append(v, fmt.Sprintf("%s: parameter %v: string without maxLength", o, prm["name"]))
				}
			}
		}
		return v
	}},
	{"W/schema-counts", "schemas per body ≤ 512, per operation ≤ 16,384 — S2 faq.md", func(p *connectorPackage) (v []string) {
		perOp, perBody := map[string]int{}, map[string]int{}
		p.eachSchema(func(s schemaVisit) {
			if s.op != "" {
				perOp[s.op]++
			}
			if s.body {
				perBody[s.op]++
			}
		})
		for op, n := range perOp {
			if n > 16384 {
				v = append(v, fmt.Sprintf("%s: %d schemas", op, n))
			}
		}
		for op, n := range perBody {
			if n > 512 {
				v = append(v, fmt.Sprintf("%s: %d body schemas", op, n))
			}
		}
		return v
	}},

	// apiProperties.json
	{"E/properties-root", `apiProperties root is {"properties": {...}} only — S1 paconn-apiProperties.schema.json`, func(p *connectorPackage) (v []string) {
		for k := range p.props {
			if k != "properties" && k != "$schema" {
				v = append(v, "apiProperties root key "+k)
			}
		}
		if asObj(p.props["properties"]) == nil {
			v = append(v, "apiProperties has no properties object")
		}
		return v
	}},
	{"E/iconBrandColor", "properties.iconBrandColor present, #RRGGBB; W: not #007ee5/#ffffff (certified), #da3b01 (independent publisher) — S1 schema, README, PR template", func(p *connectorPackage) (v []string) {
		c := asStr(asObj(p.props["properties"])["iconBrandColor"])
		if !colorRE.MatchString(c) || slices.Contains([]string{"#007ee5", "#ffffff", "#da3b01"}, strings.ToLower(c)) {
			v = append(v, "iconBrandColor "+c)
		}
		return v
	}},
	{"E/properties-keys", "properties keys ⊆ {iconBrandColor, capabilities, connectionParameters, connectionParameterSets, policyTemplateInstances, publisher, stackOwner, scriptOperations} — S1 schema, paconn download.py, S9", func(p *connectorPackage) (v []string) {
		for k := range asObj(p.props["properties"]) {
			if !slices.Contains(propertiesKeys, k) {
				v = append(v, "properties key "+k)
			}
		}
		return v
	}},
	{"E/connection-parameters", "connection parameter names match ^[0-9a-zA-Z_]+$ or name:Sub; types ∈ {string, securestring, int, bool, gatewaySetting, oauthSetting} — S1 schema", func(p *connectorPackage) (v []string) {
		for name, cp := range asObj(asObj(p.props["properties"])["connectionParameters"]) {
			if !connParamRE.MatchString(name) || !slices.Contains(connParamTypes, asStr(asObj(cp)["type"])) {
				v = append(v, fmt.Sprintf("connection parameter %s of type %v", name, asObj(cp)["type"]))
			}
		}
		return v
	}},
	{"W/uiDefinition-constraints", `uiDefinition.constraints.required/hidden are strings ("true"/"false"); clearText boolean — S1 schema`, func(p *connectorPackage) (v []string) {
		for name, cp := range asObj(asObj(p.props["properties"])["connectionParameters"]) {
			c := asObj(asObj(asObj(cp)["uiDefinition"])["constraints"])
			for _, k := range []string{"required", "hidden"} {
				if x, ok := c[k]; ok && x != "true" && x != "false" {
					v = append(v, fmt.Sprintf("%s: constraints.%s %v is not a string", name, k, x))
				}
			}
			if x, ok := c["clearText"]; ok {
				if _, isBool := x.(bool); !isBool {
					v = append(v, name+": constraints.clearText is not a boolean")
				}
			}
		}
		return v
	}},
	{"E/oauth-parameter-token", "the OAuth parameter is named token (paconn injects --secret only there) — S1 upsert.py", func(p *connectorPackage) (v []string) {
		for name, cp := range asObj(asObj(p.props["properties"])["connectionParameters"]) {
			if asObj(cp)["type"] == "oauthSetting" && name != "token" {
				v = append(v, "OAuth connection parameter "+name)
			}
		}
		return v
	}},
	{"E/identity-provider", "oAuthSettings.identityProvider ∈ known providers; aad has customParameters.resourceUri.value — S1 schema", func(p *connectorPackage) (v []string) {
		for name, cp := range asObj(asObj(p.props["properties"])["connectionParameters"]) {
			s := asObj(asObj(cp)["oAuthSettings"])
			if s == nil {
				continue
			}
			ip := asStr(s["identityProvider"])
			if !slices.Contains(identityProvs, ip) {
				v = append(v, name+": identityProvider "+ip)
			}
			if ip == "aad" && asStr(asObj(asObj(s["customParameters"])["resourceUri"])["value"]) == "" {
				v = append(v, name+": aad without customParameters.resourceUri.value")
			}
		}
		return v
	}},
	{"W/aad-parameters", `aad also has loginUri (https://login.microsoftonline.com or https://login.windows.net), tenantId, properties.IsFirstParty = "False" — S1 schema, S9`, func(p *connectorPackage) (v []string) {
		for name, cp := range asObj(asObj(p.props["properties"])["connectionParameters"]) {
			s := asObj(asObj(cp)["oAuthSettings"])
			if s["identityProvider"] != "aad" {
				continue
			}
			cust := asObj(s["customParameters"])
			if l := asObj(cust["loginUri"])["value"]; l != "https://login.microsoftonline.com" && l != "https://login.windows.net" {
				v = append(v, fmt.Sprintf("%s: loginUri %v", name, l))
			}
			if asStr(asObj(cust["tenantId"])["value"]) == "" {
				v = append(v, name+": no tenantId")
			}
			if asObj(s["properties"])["IsFirstParty"] != "False" {
				v = append(v, name+`: properties.IsFirstParty is not "False"`)
			}
		}
		return v
	}},
	{"W/redirect", "redirectMode ∈ {Global, GlobalPerConnector, Direct}; redirectUrl starts with https://global.consent.azure-apim.net/redirect — S1 schema, S9, S6 #3709", func(p *connectorPackage) (v []string) {
		for name, cp := range asObj(asObj(p.props["properties"])["connectionParameters"]) {
			s := asObj(asObj(cp)["oAuthSettings"])
			if s == nil {
				continue
			}
			if m := s["redirectMode"]; m != "Global" && m != "GlobalPerConnector" && m != "Direct" {
				v = append(v, fmt.Sprintf("%s: redirectMode %v", name, m))
			}
			if u := asStr(s["redirectUrl"]); !strings.HasPrefix(u, "https://global.consent.azure-apim.net/redirect") {
				v = append(v, name+": redirectUrl "+u)
			}
		}
		return v
	}},
	{"E/no-secrets", "no client secret in the file; no real client IDs in published samples — S1 README, upsert.py", func(p *connectorPackage) (v []string) {
		walkAll(p.props, "apiProperties", func(path string, x any) {
			for k := range asObj(x) {
				if strings.Contains(strings.ToLower(k), "secret") {
					v = append(v, path+"/"+k)
				}
			}
		})
		if p.sample {
			for name, cp := range asObj(asObj(p.props["properties"])["connectionParameters"]) {
				if id := asStr(asObj(asObj(cp)["oAuthSettings"])["clientId"]); guidRE.MatchString(id) {
					v = append(v, name+": a real-looking client id in a sample package: "+id)
				}
			}
		}
		return v
	}},
	{"W/token-TenantId", `if token:TenantId present: {"type":"string","metadata":{"sourceType":"AzureActiveDirectoryTenant"},"uiDefinition":{"constraints":{"required":"false","hidden":"true"}}} — S1 schema, S9`, func(p *connectorPackage) (v []string) {
		cp, ok := asObj(asObj(p.props["properties"])["connectionParameters"])["token:TenantId"]
		if !ok {
			return nil
		}
		c := asObj(cp)
		cons := asObj(asObj(c["uiDefinition"])["constraints"])
		if c["type"] != "string" || asObj(c["metadata"])["sourceType"] != "AzureActiveDirectoryTenant" || cons["required"] != "false" || cons["hidden"] != "true" {
			v = append(v, fmt.Sprintf("token:TenantId %v", c))
		}
		return v
	}},
	{"E/policy-templates", "policyTemplateInstances[].templateId ∈ schema list with its required parameters; x-ms-apimTemplate-operationName entries are existing operationIds — S1 schema", func(p *connectorPackage) (v []string) {
		ids := map[string]bool{}
		for _, o := range p.operations() {
			ids[asStr(o.op["operationId"])] = true
		}
		for i, pt := range asArr(asObj(p.props["properties"])["policyTemplateInstances"]) {
			t := asObj(pt)
			req, known := policyTemplates[asStr(t["templateId"])]
			if !known {
				v = append(v, fmt.Sprintf("policy %d: templateId %v", i, t["templateId"]))
			}
			params := asObj(t["parameters"])
			for _, r := range req {
				if !has(params, r) {
					v = append(v, fmt.Sprintf("policy %d: no %s", i, r))
				}
			}
			for _, op := range asArr(params["x-ms-apimTemplate-operationName"]) {
				if !ids[asStr(op)] {
					v = append(v, fmt.Sprintf("policy %d: operation %v does not exist", i, op))
				}
			}
		}
		return v
	}},
	{"E/policy-instance-shape", "policyTemplateInstances[] has only templateId, title, type, parameters; title and parameters are of the schema's types; updatenextlink takes only its own parameters — S1 schema (additionalProperties: false)", func(p *connectorPackage) (v []string) {
		for i, pt := range asArr(asObj(p.props["properties"])["policyTemplateInstances"]) {
			t := asObj(pt)
			for k := range t {
				if !slices.Contains([]string{"templateId", "title", "type", "parameters"}, k) {
					v = append(v, fmt.Sprintf("policy %d: key %s", i, k))
				}
			}
			if _, ok := t["title"].(string); has(t, "title") && !ok {
				v = append(v, fmt.Sprintf("policy %d: title is not a string", i))
			}
			params := asObj(t["parameters"])
			if has(t, "parameters") && params == nil {
				v = append(v, fmt.Sprintf("policy %d: parameters is not an object", i))
			}
			if ops, ok := params["x-ms-apimTemplate-operationName"]; ok {
				for _, op := range asArr(ops) {
					if _, ok := op.(string); !ok {
						v = append(v, fmt.Sprintf("policy %d: operation name %v is not a string", i, op))
					}
				}
				if asArr(ops) == nil {
					v = append(v, fmt.Sprintf("policy %d: x-ms-apimTemplate-operationName is not an array", i))
				}
			}
			if asStr(t["templateId"]) == "updatenextlink" {
				for k, x := range params {
					if !slices.Contains(updateNextLinkParams, k) {
						v = append(v, fmt.Sprintf("policy %d: updatenextlink parameter %s", i, k))
					}
					if _, ok := x.(string); strings.HasPrefix(k, "x-ms-apimTemplateParameter.") && !ok {
						v = append(v, fmt.Sprintf("policy %d: %s is not a string", i, k))
					}
				}
			}
		}
		return v
	}},
	{"E/pageable-updatenextlink", "every x-ms-pageable operation is covered by one updatenextlink policy over its nextLinkName, and the policy names exactly the pageable operations: without it flows fetch nextLink without the connection's token (401) — S1 schema note, S6 #2959, §10 Paging", func(p *connectorPackage) (v []string) {
		pageable := map[string]string{} // operationId -> nextLinkName
		for _, o := range p.operations() {
			if pg, ok := o.op["x-ms-pageable"]; ok {
				pageable[asStr(o.op["operationId"])] = asStr(asObj(pg)["nextLinkName"])
			}
		}
		covered := map[string]int{}
		for i, pt := range asArr(asObj(p.props["properties"])["policyTemplateInstances"]) {
			t := asObj(pt)
			if asStr(t["templateId"]) != "updatenextlink" {
				continue
			}
			params := asObj(t["parameters"])
			names, scoped := params["x-ms-apimTemplate-operationName"]
			if !scoped {
				// Unscoped, the policy would rewrite every operation's answer.
				v = append(v, fmt.Sprintf("policy %d: updatenextlink names no operations", i))
				continue
			}
			prop := asStr(params["x-ms-apimTemplateParameter.nextLinkPropertyName"])
			for _, n := range asArr(names) {
				id := asStr(n)
				link, ok := pageable[id]
				switch {
				case !ok:
					v = append(v, fmt.Sprintf("policy %d: %s is not pageable", i, id))
				case link != prop:
					v = append(v, fmt.Sprintf("policy %d: %s pages by %q, the policy rewrites %q", i, id, link, prop))
				}
				covered[id]++
			}
		}
		for id := range pageable {
			switch covered[id] {
			case 0:
				v = append(v, id+": pageable but no updatenextlink policy names it")
			case 1:
			default:
				v = append(v, id+": named by more than one updatenextlink policy")
			}
		}
		return v
	}},
	{"W/policy-environment-variables", "@environmentVariables(...) not used inside policies — S2 environment-variables.md", func(p *connectorPackage) (v []string) {
		walkAll(asObj(p.props["properties"])["policyTemplateInstances"], "policyTemplateInstances", func(path string, x any) {
			if strings.Contains(asStr(x), "@environmentVariables(") {
				v = append(v, path)
			}
		})
		return v
	}},
	{"W/publisher-stackOwner", "certification: publisher and stackOwner present — S2 certification-submission.md, S1 paconn README", func(p *connectorPackage) (v []string) {
		for _, k := range []string{"publisher", "stackOwner"} {
			if asStr(asObj(p.props["properties"])[k]) == "" {
				v = append(v, "properties."+k+" is missing")
			}
		}
		return v
	}},
}

// nextLinkPolicyParams is the parameters object of apiProperties' first
// updatenextlink policy.
func nextLinkPolicyParams(t *testing.T, props obj) obj {
	t.Helper()
	for _, pt := range asArr(asObj(props["properties"])["policyTemplateInstances"]) {
		if asStr(asObj(pt)["templateId"]) == "updatenextlink" {
			return asObj(asObj(pt)["parameters"])
		}
	}
	t.Fatal("no updatenextlink policy")
	return nil
}

// runChecklist returns the violations of every rule, by rule id.
func runChecklist(p *connectorPackage) map[string][]string {
	out := map[string][]string{}
	for _, r := range checklist {
		if v := r.check(p); len(v) > 0 {
			slices.Sort(v)
			out[r.id] = v
		}
	}
	return out
}

// exportForTest exports the real operations with sample settings (no real
// client id) into a temp dir and reads the files back.
func exportForTest(t *testing.T) map[string][]byte {
	t.Helper()
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	ops, err := facade.LoadEmbedded(schema)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := ExportPackage(dir, ops, schema, goldenOptions); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range []string{DefinitionFile, PropertiesFile, SettingsFile, IconFile} {
		b, err := readFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = b
	}
	return files
}

func TestChecklist(t *testing.T) {
	p, err := parsePackage(exportForTest(t))
	if err != nil {
		t.Fatal(err)
	}
	p.sample = true
	for _, r := range checklist {
		t.Run(r.id, func(t *testing.T) {
			if v := r.check(p); len(v) > 0 {
				t.Errorf("CONNECTOR.md §9 %s\nviolations:\n  %s", r.text, strings.Join(v, "\n  "))
			}
		})
	}
}

// TestChecklistCatchesViolations proves the checker can fail: each case
// breaks a good package in one way and names the rule that must fire.
func TestChecklistCatchesViolations(t *testing.T) {
	good := exportForTest(t)
	firstOp := func(def obj, method string) obj {
		paths := asObj(def["paths"])
		for _, k := range slices.Sorted(maps.Keys(paths)) {
			if op := asObj(asObj(paths[k])[method]); op != nil {
				return op
			}
		}
		t.Fatalf("no %s operation", method)
		return nil
	}
	successSchema := func(op obj) obj {
		rs := asObj(op["responses"])
		for _, c := range []string{"200", "201"} {
			if s := asObj(asObj(rs[c])["schema"]); s != nil {
				return s
			}
		}
		t.Fatal("no success schema")
		return nil
	}
	tests := []struct {
		name  string
		rule  string
		def   func(def obj)
		props func(props obj)
	}{
		{"GET with a body parameter", "E/no-body-on-get", func(d obj) {
			op := firstOp(d, "get")
			op["parameters"] = append(asArr(op["parameters"]), obj{"name": "body", "in": "body", "schema": obj{"type": "object", "properties": obj{"a": obj{"type": "string"}}}})
		}, nil},
		{"summary ending in a full stop", "W/summary-text", func(d obj) { firstOp(d, "get")["summary"] = "List stores." }, nil},
		{"summary with a slash", "W/summary-text", func(d obj) { firstOp(d, "get")["summary"] = "Get stores/products" }, nil},
		{"two responses with a schema", "W/one-response-schema", func(d obj) {
			op := firstOp(d, "get")
			asObj(op["responses"])["404"] = obj{"description": "Not found.", "schema": obj{"type": "object", "properties": obj{"message": obj{"type": "string"}}}}
		}, nil},
		{"default response with a schema", "W/default-no-schema", func(d obj) {
			asObj(asObj(firstOp(d, "post")["responses"])["default"])["schema"] = obj{"type": "object", "properties": obj{"error": obj{"type": "string"}}}
		}, nil},
		{"oneOf in a response", "E/no-oneOf-anyOf", func(d obj) {
			successSchema(firstOp(d, "get"))["oneOf"] = []any{obj{"type": "string"}}
		}, nil},
		{"unsupported format", "E/formats", func(d obj) {
			successSchema(firstOp(d, "get"))["properties"].(map[string]any)["nextCursor"].(map[string]any)["format"] = "guid"
		}, nil},
		{"path parameter without encoding", "W/url-encoding", func(d obj) {
			for _, item := range asObj(d["paths"]) {
				for _, m := range httpMethods {
					for _, prm := range asArr(asObj(asObj(item)[m])["parameters"]) {
						if asObj(prm)["in"] == "path" {
							delete(asObj(prm), "x-ms-url-encoding")
						}
					}
				}
			}
		}, nil},
		{"parameter named connectionId", "E/connectionId", func(d obj) {
			op := firstOp(d, "get")
			op["parameters"] = append(asArr(op["parameters"]), obj{"name": "connectionId", "in": "query", "type": "string", "x-ms-summary": "Connection", "description": "No."})
		}, nil},
		{"array query parameter", "W/no-array-query", func(d obj) {
			op := firstOp(d, "get")
			op["parameters"] = append(asArr(op["parameters"]), obj{"name": "ids", "in": "query", "type": "array", "items": obj{"type": "string"}, "x-ms-summary": "IDs", "description": "Ids."})
		}, nil},
		{"response property without x-ms-summary", "W/response-property-texts", func(d obj) {
			delete(asObj(asObj(successSchema(firstOp(d, "get"))["properties"])["nextCursor"]), "x-ms-summary")
		}, nil},
		{"x-ms-enum-values value not in enum", "W/enum-values", func(d obj) {
			walkAll(d, "#", func(_ string, x any) {
				if m := asObj(x); has(m, "x-ms-enum-values") {
					m["x-ms-enum-values"] = append(asArr(m["x-ms-enum-values"]), obj{"value": "NOPE", "displayName": "Nope"})
				}
			})
		}, nil},
		{"title with Connector", "W/info-title-text", func(d obj) { asObj(d["info"])["title"] = "Middletier Connector" }, nil},
		{"short description", "W/info-description-text", func(d obj) { asObj(d["info"])["description"] = "Too short." }, nil},
		{"host with scheme", "E/host", func(d obj) { d["host"] = "https://example.com" }, nil},
		{"duplicate operationId", "E/operationId", func(d obj) { firstOp(d, "post")["operationId"] = firstOp(d, "get")["operationId"] }, nil},
		{"bad nextLinkName", "E/pageable-nextLinkName", func(d obj) { firstOp(d, "get")["x-ms-pageable"] = obj{"nextLinkName": "next"} }, nil},
		{"required names a missing property", "E/schema-structure", func(d obj) {
			s := successSchema(firstOp(d, "get"))
			s["required"] = append(asArr(s["required"]), "ghost")
		}, nil},
		{"default of the wrong type", "E/default-types", func(d obj) {
			for _, prm := range asArr(firstOp(d, "get")["parameters"]) {
				if asObj(prm)["type"] == "integer" {
					asObj(prm)["default"] = "twenty"
				}
			}
		}, nil},
		{"query parameter without maxLength", "W/string-maxLength", func(d obj) {
			for _, prm := range asArr(firstOp(d, "get")["parameters"]) {
				delete(asObj(prm), "maxLength")
			}
			op := firstOp(d, "get")
			op["parameters"] = append(asArr(op["parameters"]), obj{"name": "q", "in": "query", "type": "string", "x-ms-summary": "Q", "description": "Text."})
		}, nil},
		{"body property without maxLength", "W/string-maxLength", func(d obj) {
			for _, prm := range asArr(firstOp(d, "post")["parameters"]) {
				if asObj(prm)["in"] == "body" {
					asObj(asObj(prm)["schema"])["properties"].(map[string]any)["extra"] = obj{"type": "string", "description": "Extra.", "x-ms-summary": "Extra"}
				}
			}
		}, nil},
		{"reserved brand color", "E/iconBrandColor", nil, func(p obj) { asObj(p["properties"])["iconBrandColor"] = "#da3b01" }},
		{"client secret in apiProperties", "E/no-secrets", nil, func(p obj) {
			asObj(asObj(asObj(asObj(p["properties"])["connectionParameters"])["token"])["oAuthSettings"])["clientSecret"] = "s3cret"
		}},
		{"OAuth parameter not named token", "E/oauth-parameter-token", nil, func(p obj) {
			cps := asObj(asObj(p["properties"])["connectionParameters"])
			cps["oauth"] = cps["token"]
			delete(cps, "token")
		}},
		{"unknown properties key", "E/properties-keys", nil, func(p obj) { asObj(p["properties"])["displayName"] = "x" }},
		{"no updatenextlink policy", "E/pageable-updatenextlink", nil, func(p obj) { delete(asObj(p["properties"]), "policyTemplateInstances") }},
		{"policy misses a pageable operation", "E/pageable-updatenextlink", nil, func(p obj) {
			prm := nextLinkPolicyParams(t, p)
			prm["x-ms-apimTemplate-operationName"] = asArr(prm["x-ms-apimTemplate-operationName"])[1:]
		}},
		{"policy names an operation that does not page", "E/pageable-updatenextlink", nil, func(p obj) {
			prm := nextLinkPolicyParams(t, p)
			prm["x-ms-apimTemplate-operationName"] = append(asArr(prm["x-ms-apimTemplate-operationName"]), "GetMyHome")
		}},
		{"policy names an unknown operation", "E/policy-templates", nil, func(p obj) {
			prm := nextLinkPolicyParams(t, p)
			prm["x-ms-apimTemplate-operationName"] = append(asArr(prm["x-ms-apimTemplate-operationName"]), "NoSuchOperation")
		}},
		{"policy rewrites another property", "E/pageable-updatenextlink", nil, func(p obj) {
			nextLinkPolicyParams(t, p)["x-ms-apimTemplateParameter.nextLinkPropertyName"] = "@odata.nextLink"
		}},
		{"policy without nextLinkPropertyName", "E/policy-templates", nil, func(p obj) {
			delete(nextLinkPolicyParams(t, p), "x-ms-apimTemplateParameter.nextLinkPropertyName")
		}},
		{"unknown policy template", "E/policy-templates", nil, func(p obj) {
			asObj(asArr(asObj(p["properties"])["policyTemplateInstances"])[0])["templateId"] = "updatenextlinks"
		}},
		{"parameter updatenextlink does not take", "E/policy-instance-shape", nil, func(p obj) {
			nextLinkPolicyParams(t, p)["x-ms-apimTemplateParameter.urlTemplate"] = "https://x"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := maps.Clone(good)
			for name, mut := range map[string]func(obj){DefinitionFile: tt.def, PropertiesFile: tt.props} {
				if mut == nil {
					continue
				}
				var doc obj
				if err := json.Unmarshal(files[name], &doc); err != nil {
					t.Fatal(err)
				}
				mut(doc)
				b, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				files[name] = b
			}
			p, err := parsePackage(files)
			if err != nil {
				t.Fatal(err)
			}
			got := runChecklist(p)
			if len(got[tt.rule]) == 0 {
				t.Errorf("rule %s did not fire; violations found: %v", tt.rule, got)
			}
		})
	}
}

package facade

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/token"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	// Registers gqlparser's standard validation rules.
	_ "github.com/vektah/gqlparser/v2/validator/rules"
)

//go:embed operations/*.graphql
var embedded embed.FS

// Files returns the operation files built into the binary.
func Files() fs.FS {
	sub, err := fs.Sub(embedded, "operations")
	if err != nil {
		// fs.Sub fails only on an invalid path, and "operations" is valid.
		panic(err)
	}
	return sub
}

// LoadEmbedded loads the operation files built into the binary.
func LoadEmbedded(schema *ast.Schema) ([]Operation, error) { return Load(Files(), schema) }

// LoadError is one problem in one operation file.
type LoadError struct {
	File   string
	Line   int
	Reason string
}

func (e *LoadError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// header is the YAML binding in an operation file's leading comment lines.
type header struct {
	Method      string               `yaml:"method"`
	Path        string               `yaml:"path"`
	Summary     string               `yaml:"summary"`
	Description string               `yaml:"description"`
	Visibility  string               `yaml:"visibility"`
	Result      *string              `yaml:"result"`
	Paged       *pagedHeader         `yaml:"paged"`
	Partial     bool                 `yaml:"partial"`
	Params      map[string]paramHead `yaml:"params"`
	Body        *bodyHeader          `yaml:"body"`
	Cache       *cacheHeader         `yaml:"cache"`
	Invalidates []string             `yaml:"invalidates"`
	Tool        *toolHeader          `yaml:"tool"`
}

type toolHeader struct {
	Expose      *bool `yaml:"expose"`
	Destructive bool  `yaml:"destructive"`
}

type pagedHeader struct {
	PageSize string `yaml:"pageSize"`
	Cursor   string `yaml:"cursor"`
}

type paramHead struct {
	In          string      `yaml:"in"`
	Name        string      `yaml:"name"`
	Summary     string      `yaml:"summary"`
	Description string      `yaml:"description"`
	Visibility  string      `yaml:"visibility"`
	Picker      *pickerHead `yaml:"picker"`
}

type pickerHead struct {
	Operation  string            `yaml:"operation"`
	Value      string            `yaml:"value"`
	Title      string            `yaml:"title"`
	Parameters map[string]string `yaml:"parameters"`
}

type bodyHeader struct {
	Variable        string `yaml:"variable"`
	ClientRequestID string `yaml:"clientRequestId"`
}

// DefaultClientRequestID is the body property that carries an idempotency
// key when a write's binding names none.
const DefaultClientRequestID = "clientRequestId"

var (
	pathParamRE = regexp.MustCompile(`\{([^{}/]*)\}`)
	restNameRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
	opNameRE    = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
)

// Load parses and validates every *.graphql file in fsys against schema.
// It returns every problem it finds, each as a *LoadError with file and
// line, joined; the service refuses to start on any of them.
func Load(fsys fs.FS, schema *ast.Schema) ([]Operation, error) {
	names, err := fs.Glob(fsys, "*.graphql")
	if err != nil {
		return nil, fmt.Errorf("list operation files: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("no operation files (*.graphql)")
	}
	sort.Strings(names)
	var (
		ops  []Operation
		errs []error
	)
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", name, err))
			continue
		}
		op, ferrs := loadFile(name, src, schema)
		if len(ferrs) > 0 {
			errs = append(errs, ferrs...)
			continue
		}
		ops = append(ops, op)
	}
	errs = append(errs, checkAcross(ops, schema)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ops, nil
}

// checkAcross checks what one file cannot: unique routes and pickers that
// name a real list operation.
func checkAcross(ops []Operation, schema *ast.Schema) []error {
	var errs []error
	byID := map[string]*Operation{}
	routes := map[string]string{}
	for i := range ops {
		op := &ops[i]
		byID[op.ID] = op
		route := op.Method + " " + strings.ToLower(pathParamRE.ReplaceAllString(op.Path, "{}"))
		if other, ok := routes[route]; ok {
			errs = append(errs, &LoadError{File: op.File, Line: op.lines["path"], Reason: fmt.Sprintf("%s %s is also the route of %s", op.Method, op.Path, other)})
		}
		routes[route] = op.ID
	}
	for i := range ops {
		op := &ops[i]
		for _, p := range op.Params {
			if p.Picker == nil {
				continue
			}
			target := byID[p.Picker.OperationID]
			line := op.lines["params."+p.key()]
			switch {
			case target == nil:
				errs = append(errs, &LoadError{File: op.File, Line: line, Reason: fmt.Sprintf("parameter %s: picker operation %s does not exist", p.Name, p.Picker.OperationID)})
			case target.Method != "GET" || !target.Paged:
				errs = append(errs, &LoadError{File: op.File, Line: line, Reason: fmt.Sprintf("parameter %s: picker operation %s must be a paged GET list", p.Name, p.Picker.OperationID)})
			default:
				for _, prop := range []string{p.Picker.ValuePath, p.Picker.ValueTitle} {
					if !hasPath(schema, target.nodesOn, target.nodes, strings.Split(prop, ".")) {
						errs = append(errs, &LoadError{File: op.File, Line: line, Reason: fmt.Sprintf("parameter %s: picker property %q is not selected by %s", p.Name, prop, target.ID)})
					}
				}
				for name := range p.Picker.Parameters {
					if !slices.ContainsFunc(target.Params, func(tp Param) bool { return tp.Name == name }) {
						errs = append(errs, &LoadError{File: op.File, Line: line, Reason: fmt.Sprintf("parameter %s: picker passes %s, which %s does not take", p.Name, name, target.ID)})
					}
				}
			}
		}
	}
	return errs
}

// splitHeader returns the YAML in the leading comment lines and the line
// count it spans. Blank lines before the first comment are not allowed, so
// that YAML line n is file line n.
func splitHeader(src []byte) (yamlText []byte, n int) {
	var b bytes.Buffer
	for line := range bytes.Lines(src) {
		t := bytes.TrimRight(line, "\r\n")
		if !bytes.HasPrefix(t, []byte("#")) {
			break
		}
		t = bytes.TrimPrefix(t, []byte("#"))
		t = bytes.TrimPrefix(t, []byte(" "))
		b.Write(t)
		b.WriteByte('\n')
		n++
	}
	return b.Bytes(), n
}

// loadFile parses and checks one operation file.
func loadFile(name string, src []byte, schema *ast.Schema) (Operation, []error) {
	fail := func(line int, format string, args ...any) []error {
		return []error{&LoadError{File: name, Line: line, Reason: fmt.Sprintf(format, args...)}}
	}
	yamlText, headerLines := splitHeader(src)
	if headerLines == 0 {
		return Operation{}, fail(1, "no binding: the file must start with YAML in # comment lines (method, path, summary, ...)")
	}
	var h header
	if err := yaml.UnmarshalWithOptions(yamlText, &h, yaml.Strict()); err != nil {
		line := 1
		msg := err.Error()
		var yerr interface {
			GetMessage() string
			GetToken() *token.Token
		}
		if errors.As(err, &yerr) {
			msg = yerr.GetMessage()
			if tk := yerr.GetToken(); tk != nil && tk.Position != nil {
				line = tk.Position.Line
			}
		}
		return Operation{}, fail(line, "binding: %s", msg)
	}
	lines := keyLines(yamlText)

	// The whole file is the GraphQL source, so that gqlparser's line numbers
	// are the file's: the binding lines are GraphQL comments.
	doc, perr := parser.ParseQuery(&ast.Source{Name: name, Input: string(src)})
	if perr != nil {
		return Operation{}, gqlErrors(name, perr)
	}
	if verrs := validator.Validate(schema, doc); len(verrs) > 0 {
		return Operation{}, gqlErrors(name, verrs)
	}
	if len(doc.Operations) != 1 {
		line := headerLines + 1
		if len(doc.Operations) > 1 {
			line = doc.Operations[1].Position.Line
		}
		return Operation{}, fail(line, "want exactly one operation, found %d", len(doc.Operations))
	}
	def := doc.Operations[0]
	opLine := def.Position.Line
	if def.Name == "" {
		return Operation{}, fail(opLine, "the operation needs a name: it is the operationId")
	}
	if !opNameRE.MatchString(def.Name) {
		return Operation{}, fail(opLine, "operation name %s must be PascalCase letters and digits (it is the operationId)", def.Name)
	}
	if base := strings.TrimSuffix(path.Base(name), ".graphql"); base != def.Name {
		return Operation{}, fail(opLine, "operation %s must be in a file named %s.graphql", def.Name, def.Name)
	}

	op := Operation{
		ID:          def.Name,
		File:        name,
		Method:      strings.ToUpper(h.Method),
		Path:        h.Path,
		Summary:     strings.TrimSpace(h.Summary),
		Description: strings.TrimSpace(h.Description),
		Visibility:  h.Visibility,
		Partial:     h.Partial,
		Write:       def.Operation == ast.Mutation,
		Tool:        toolOf(h.Tool),
		Source:      strings.TrimSpace(string(src[headerLen(src, headerLines):])) + "\n",
		Doc:         doc,
		Op:          def,
		lines:       lines,
	}
	var errs []error
	add := func(key, format string, args ...any) {
		line, ok := lines[key]
		if !ok {
			// A flow mapping ({...}) puts nested keys on their parent's line.
			parent, _, _ := strings.Cut(key, ".")
			line = max(lines[parent], 1)
		}
		errs = append(errs, &LoadError{File: name, Line: line, Reason: fmt.Sprintf(format, args...)})
	}

	switch {
	case def.Operation == ast.Subscription:
		add("method", "subscriptions cannot be connector operations")
	case op.Method == "GET" && def.Operation != ast.Query:
		add("method", "GET runs queries only; a mutation needs POST")
	case op.Method == "POST" && def.Operation != ast.Mutation:
		add("method", "POST is for mutations; a query needs GET")
	case op.Method != "GET" && op.Method != "POST":
		add("method", "method must be GET or POST, got %q", h.Method)
	}
	if !strings.HasPrefix(op.Path, "/") || strings.ContainsAny(op.Path, "?#*") || strings.HasSuffix(op.Path, "/") {
		add("path", "path must start with / and have no ?, #, * or trailing /, got %q", op.Path)
	}
	if op.Summary == "" || len(op.Summary) > 80 {
		add("summary", "summary is required, at most 80 characters")
	}
	if op.Description == "" {
		add("description", "description is required")
	}
	if op.Tool.Destructive && !op.Write {
		add("tool", "destructive applies to writes only; %s is a query", op.ID)
	}
	switch op.Visibility {
	case "", "important", "advanced", "internal":
	default:
		add("visibility", "visibility must be important, advanced or internal, got %q", op.Visibility)
	}

	// Result: a path of response keys through the selection.
	if h.Result == nil {
		add("result", "result is required: the dot path in data returned as the body (\"\" for all of data)")
	} else {
		op.Result = *h.Result
		var keys []string
		if op.Result != "" {
			keys = strings.Split(op.Result, ".")
		}
		on, sel, ok := selectionAt(schema, RootType(schema, def), def.SelectionSet, keys)
		switch {
		case !ok:
			add("result", "result %q is not a path of fields selected by %s", op.Result, op.ID)
		case h.Paged != nil:
			op.Paged = true
			op.PageSize, op.Cursor = h.Paged.PageSize, h.Paged.Cursor
			nodesOn, nodes, hasNodes := selectionAt(schema, on, sel, []string{"nodes"})
			if !hasNodes || !hasPath(schema, on, sel, []string{"pageInfo", "hasNextPage"}) || !hasPath(schema, on, sel, []string{"pageInfo", "endCursor"}) {
				add("paged", "a paged result must be a connection selecting nodes and pageInfo { hasNextPage endCursor }")
			}
			op.nodesOn, op.nodes = nodesOn, nodes
			for _, v := range []string{op.PageSize, op.Cursor} {
				if def.VariableDefinitions.ForName(v) == nil {
					add("paged", "paged names $%s, which %s does not declare", v, op.ID)
				}
			}
		}
	}

	addLine := func(line int, format string, args ...any) {
		errs = append(errs, &LoadError{File: name, Line: line, Reason: fmt.Sprintf(format, args...)})
	}
	bindParams(&op, h, schema, add, addLine)
	bindCache(&op, h, schema, add)
	if len(errs) > 0 {
		return Operation{}, errs
	}
	return op, nil
}

// toolOf reads the tool key: offered unless expose is false.
func toolOf(h *toolHeader) Tool {
	if h == nil {
		return Tool{}
	}
	return Tool{Off: h.Expose != nil && !*h.Expose, Destructive: h.Destructive}
}

// headerLen is the byte length of the first n lines of src.
func headerLen(src []byte, n int) int {
	off := 0
	for line := range bytes.Lines(src) {
		if n == 0 {
			break
		}
		off += len(line)
		n--
	}
	return off
}

// bindParams fills op.Params and op.Body and checks that every variable is
// bound exactly once (or has a default) and that the path matches.
func bindParams(op *Operation, h header, schema *ast.Schema, add func(key, format string, args ...any), addLine func(line int, format string, args ...any)) {
	def := op.Op
	bound := map[string]string{} // variable -> what binds it
	if b := h.Body; b != nil {
		v := def.VariableDefinitions.ForName(b.Variable)
		switch {
		case op.Method != "POST":
			add("body", "only POST operations take a body")
		case v == nil:
			add("body", "body variable $%s is not declared by %s", b.Variable, op.ID)
		case v.Type.Elem != nil || schema.Types[v.Type.NamedType] == nil || schema.Types[v.Type.NamedType].Kind != ast.InputObject:
			add("body", "body variable $%s must be an input object, not %s", b.Variable, v.Type.String())
		default:
			op.Body = &Body{Variable: b.Variable, Type: v.Type, ClientRequestID: b.ClientRequestID}
			if op.Body.ClientRequestID == "" && op.Write {
				op.Body.ClientRequestID = DefaultClientRequestID
			}
			if f := schema.Types[v.Type.NamedType].Fields.ForName(op.Body.ClientRequestID); f != nil {
				add("body", "clientRequestId %q collides with a field of %s", op.Body.ClientRequestID, v.Type.NamedType)
			}
			bound[b.Variable] = "the body"
		}
	} else if op.Write {
		add("method", "a mutation needs a body binding (body: {variable: input})")
	}

	// Bind in the order the variables are declared, fields in input order,
	// so that the definition lists parameters predictably.
	keys := make([]string, 0, len(h.Params))
	for k := range h.Params {
		keys = append(keys, k)
	}
	order := func(k string) (int, int) {
		v, f, _ := strings.Cut(k, ".")
		vi := slices.IndexFunc(def.VariableDefinitions, func(d *ast.VariableDefinition) bool { return d.Variable == v })
		fi := -1
		if d := def.VariableDefinitions.ForName(v); d != nil && f != "" {
			if t := schema.Types[d.Type.NamedType]; t != nil {
				fi = slices.IndexFunc(t.Fields, func(fd *ast.FieldDefinition) bool { return fd.Name == f })
			}
		}
		return vi, fi
	}
	sort.Slice(keys, func(i, j int) bool {
		vi, fi := order(keys[i])
		vj, fj := order(keys[j])
		if vi != vj {
			return vi < vj
		}
		return fi < fj
	})

	pathNames := map[string]bool{}
	for _, m := range pathParamRE.FindAllStringSubmatch(op.Path, -1) {
		pathNames[m[1]] = false
	}
	restNames := map[string]bool{}
	descs := argDescriptions(def, schema)
	for _, key := range keys {
		ph := h.Params[key]
		at := "params." + key
		varName, field, isField := strings.Cut(key, ".")
		p := Param{In: ph.In, Variable: varName, Field: field, Summary: ph.Summary, Description: ph.Description, Visibility: ph.Visibility}
		p.Name = ph.Name
		if p.Name == "" {
			p.Name = varName
			if isField {
				p.Name = field
			}
		}
		vdef := def.VariableDefinitions.ForName(varName)
		if vdef == nil {
			add(at, "parameter %s binds $%s, which %s does not declare", p.Name, varName, op.ID)
			continue
		}
		if isField {
			if op.Body == nil || op.Body.Variable != varName {
				add(at, "parameter %s binds a field of $%s, which must then be the body variable", p.Name, varName)
				continue
			}
			fd := schema.Types[vdef.Type.NamedType].Fields.ForName(field)
			if fd == nil || strings.Contains(field, ".") {
				add(at, "%s has no field %s", vdef.Type.NamedType, field)
				continue
			}
			if by, dup := bound[key]; dup {
				add(at, "field %s is bound twice (also by %s)", key, by)
				continue
			}
			p.Type = fd.Type
			if fd.DefaultValue != nil {
				p.Default, _ = fd.DefaultValue.Value(nil)
			}
			p.Required = fd.Type.NonNull && fd.DefaultValue == nil
			if p.Description == "" {
				p.Description = fd.Description
			}
			op.Body.Omit = append(op.Body.Omit, field)
		} else {
			if by, dup := bound[varName]; dup {
				add(at, "$%s is bound twice (also by %s)", varName, by)
				continue
			}
			p.Type = vdef.Type
			if vdef.DefaultValue != nil {
				p.Default, _ = vdef.DefaultValue.Value(nil)
			}
			p.Required = vdef.Type.NonNull && vdef.DefaultValue == nil
			if p.Description == "" {
				p.Description = descs[varName]
			}
		}
		bound[key] = "parameter " + p.Name
		p.Summary = strings.TrimSpace(p.Summary)
		p.Description = strings.TrimSpace(p.Description)

		if !restNameRE.MatchString(p.Name) {
			add(at, "parameter name %q must be letters and digits", p.Name)
		}
		if restNames[p.In+" "+strings.ToLower(p.Name)] {
			add(at, "two parameters are named %s", p.Name)
		}
		restNames[p.In+" "+strings.ToLower(p.Name)] = true
		if p.Summary == "" {
			add(at, "parameter %s needs a summary (x-ms-summary)", p.Name)
		}
		switch p.Visibility {
		case "", "important", "advanced", "internal":
		default:
			add(at, "parameter %s: visibility must be important, advanced or internal", p.Name)
		}
		if t := schema.Types[p.Type.NamedType]; p.Type.Elem != nil || t == nil || (t.Kind != ast.Scalar && t.Kind != ast.Enum) {
			add(at, "parameter %s has type %s: path, query and header parameters must be scalars or enums (lists and objects go in a POST body)", p.Name, p.Type.String())
		}
		switch p.In {
		case "path":
			if _, ok := pathNames[p.Name]; !ok {
				add(at, "path parameter %s is not in the path %s", p.Name, op.Path)
			} else {
				pathNames[p.Name] = true
			}
			if !p.Type.NonNull {
				add(at, "path parameter %s must bind a non-null variable or field (path parameters are always required)", p.Name)
			}
			p.Required = true
		case "query", "header":
		default:
			add(at, "parameter %s: in must be path, query or header, got %q", p.Name, p.In)
		}
		if pk := ph.Picker; pk != nil {
			if pk.Operation == "" || pk.Value == "" || pk.Title == "" {
				add(at, "parameter %s: picker needs operation, value and title", p.Name)
			}
			p.Picker = &Picker{OperationID: pk.Operation, ValueCollection: "value", ValuePath: pk.Value, ValueTitle: pk.Title, Parameters: pk.Parameters}
		}
		op.Params = append(op.Params, p)
	}
	for name, seen := range pathNames {
		if !seen {
			add("path", "path parameter {%s} is bound by no parameter with in: path", name)
		}
	}
	for _, v := range def.VariableDefinitions {
		if _, ok := bound[v.Variable]; !ok && v.DefaultValue == nil {
			addLine(v.Position.Line, "$%s is bound to no parameter or body and has no default", v.Variable)
		}
	}
	if op.Paged {
		for _, v := range []string{op.PageSize, op.Cursor} {
			if !slices.ContainsFunc(op.Params, func(p Param) bool { return p.Variable == v && p.Field == "" && p.In == "query" }) {
				add("paged", "paged variable $%s must be bound to a query parameter", v)
			}
		}
	}
}

// argDescriptions maps each variable to the description of the first
// argument or input field it feeds, for parameters without their own.
func argDescriptions(def *ast.OperationDefinition, schema *ast.Schema) map[string]string {
	out := map[string]string{}
	var value func(v *ast.Value, desc string)
	value = func(v *ast.Value, desc string) {
		if v == nil {
			return
		}
		switch v.Kind {
		case ast.Variable:
			if _, ok := out[v.Raw]; !ok {
				out[v.Raw] = desc
			}
		case ast.ObjectValue:
			for _, c := range v.Children {
				d := desc
				if v.Definition != nil {
					if f := v.Definition.Fields.ForName(c.Name); f != nil {
						d = f.Description
					}
				}
				value(c.Value, d)
			}
		case ast.ListValue:
			for _, c := range v.Children {
				value(c.Value, desc)
			}
		}
	}
	WalkFields(schema, RootType(schema, def), def.SelectionSet, func(f *ast.Field, fd *ast.FieldDefinition) {
		for _, a := range f.Arguments {
			d := ""
			if ad := fd.Arguments.ForName(a.Name); ad != nil {
				d = ad.Description
			}
			value(a.Value, d)
		}
	})
	return out
}

// selectionAt follows response keys (alias or field name) from set, which
// selects on type on: the type and merged selection set the last key names.
func selectionAt(schema *ast.Schema, on *ast.Definition, set ast.SelectionSet, keys []string) (*ast.Definition, ast.SelectionSet, bool) {
	for _, k := range keys {
		f, ok := Lookup(schema, on, set, k)
		if !ok {
			return nil, nil, false
		}
		on, set = f.Type(schema), f.Selections()
	}
	return on, set, true
}

func hasPath(schema *ast.Schema, on *ast.Definition, set ast.SelectionSet, keys []string) bool {
	_, _, ok := selectionAt(schema, on, set, keys)
	return ok
}

// gqlErrors turns gqlparser errors into LoadErrors with the file's lines.
func gqlErrors(file string, err error) []error {
	var list gqlerror.List
	switch e := err.(type) {
	case gqlerror.List:
		list = e
	case *gqlerror.Error:
		list = gqlerror.List{e}
	default:
		return []error{&LoadError{File: file, Line: 1, Reason: err.Error()}}
	}
	out := make([]error, 0, len(list))
	for _, e := range list {
		line := 1
		if len(e.Locations) > 0 {
			line = e.Locations[0].Line
		}
		out = append(out, &LoadError{File: file, Line: line, Reason: e.Message})
	}
	return out
}

// keyLines maps binding keys ("path", "params.storeId", "cache.ttl") to
// their line in the header, so that binding errors point at the line to
// fix. Parameter keys contain dots ("input.backorderId"), so nested keys
// are found as the keys one indent below their parent rather than through
// a YAML path.
func keyLines(yamlText []byte) map[string]int {
	out := map[string]int{}
	parent, indent := "", -1
	for i, line := range bytes.Split(yamlText, []byte("\n")) {
		t := bytes.TrimLeft(line, " ")
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		k, _, ok := bytes.Cut(t, []byte(":"))
		if !ok {
			continue
		}
		key := string(bytes.TrimSpace(k))
		depth := len(line) - len(t)
		switch {
		case depth == 0:
			out[key] = i + 1
			parent, indent = key, -1
		case parent != "" && (indent < 0 || depth == indent):
			indent = depth
			out[parent+"."+key] = i + 1
		}
	}
	return out
}

package facade

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/middletier/middletier/internal/input"
)

// bindError is a client mistake in one parameter: always a 400 naming it.
type bindError struct {
	Param  string // REST name: "pageSize", or a body property path "newCustomer.name"
	In     string // path | query | header | body
	Reason string // what was wrong and what was expected
	Status int    // 400 unless set (415 for a body that is not JSON)
}

func (e *bindError) Error() string {
	if e.Param == "" {
		return e.Reason
	}
	return e.Param + ": " + e.Reason
}

// MaxKeyLen bounds idempotency keys: long enough for any GUID or hash. The
// definition declares it, so makers see the limit the binder enforces.
const MaxKeyLen = 255

// bound is a request turned into the operation's variables.
type bound struct {
	vars map[string]any
	key  string // idempotency key, "" when none was given
	hash string // identifies the request for idempotency: same hash, same request
}

// bind maps the request's path, query, header and body parameters onto op's
// variables with GraphQL input coercion, accepting what the connector
// runtime sends (True/False, 1.0 for an Int, blank for "not given").
func (op *Operation) bind(r *http.Request, schema *ast.Schema, contract *input.Contract) (bound, *bindError) {
	vars := map[string]any{}
	var b bound
	var obj map[string]any
	if op.Body != nil {
		var berr *bindError
		obj, b.key, berr = op.bindBody(r, schema)
		if berr != nil {
			return b, berr
		}
		vars[op.Body.Variable] = obj
	}
	if op.Write {
		if h := strings.TrimSpace(r.Header.Get("Idempotency-Key")); h != "" {
			if b.key != "" && b.key != h {
				return b, &bindError{Param: "Idempotency-Key", In: "header", Reason: fmt.Sprintf("differs from the body's %s; send one key", op.Body.ClientRequestID)}
			}
			b.key = h
		}
		if len(b.key) > MaxKeyLen || strings.ContainsFunc(b.key, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
			return b, &bindError{Param: "Idempotency-Key", In: "header", Reason: fmt.Sprintf("expected at most %d printable ASCII characters", MaxKeyLen)}
		}
	}

	query := r.URL.Query()
	for _, p := range op.Params {
		var (
			raw   string
			given bool
		)
		switch p.In {
		case "path":
			raw = chi.URLParam(r, p.Name)
			// The runtime escapes path values once (x-ms-url-encoding:
			// single), and they must reach the operation decoded exactly
			// once. chi routes on r.URL.RawPath when it is set (an escaping
			// net/url would not produce, such as %2F) and on the already
			// decoded r.URL.Path otherwise (EV00%2534 arrives as EV00%34), so
			// only the first kind still needs decoding here: decoding both
			// would turn EV00%2534 into EV004.
			if r.URL.RawPath != "" {
				u, err := url.PathUnescape(raw)
				if err != nil {
					return b, &bindError{Param: p.Name, In: p.In, Reason: "is not a validly escaped path value"}
				}
				raw = u
			}
			given = raw != ""
		case "query":
			vs, ok := query[p.Name]
			if len(vs) > 1 {
				return b, &bindError{Param: p.Name, In: p.In, Reason: "given more than once; expected one value"}
			}
			if ok {
				raw = vs[0]
			}
			given = strings.TrimSpace(raw) != ""
		case "header":
			raw = r.Header.Get(p.Name)
			given = strings.TrimSpace(raw) != ""
		}
		if !given {
			// The runtime sends "name=" for an optional parameter the maker
			// left blank: that means "not given", so the default applies.
			if p.Required {
				return b, &bindError{Param: p.Name, In: p.In, Reason: "is required; expected " + expected(p.Type, schema)}
			}
			continue
		}
		v, err := coerceString(p.Type, raw, schema)
		if err != nil {
			return b, &bindError{Param: p.Name, In: p.In, Reason: err.Error()}
		}
		if p.Field != "" {
			obj[p.Field] = v // the path wins over the same property in the body
		} else {
			vars[p.Variable] = v
		}
	}

	// The same coercion and checks /graphql applies, as a backstop for
	// anything the conversions above let through.
	if _, err := validator.VariableValues(schema, op.Op, vars); err != nil {
		return b, op.fromValidation(err)
	}
	// The input contract (text limits, page size ranges) is checked here
	// too, by the same checker the executor runs, so that a violation names
	// the REST parameter (pageSize, newCustomer.name) rather than the
	// GraphQL variable.
	if v := contract.Check(op.Op, vars); v != nil {
		return b, op.fromValidation(&gqlerror.Error{Message: v.Reason, Path: v.Path})
	}
	b.vars = vars
	if op.Write {
		// json.Marshal sorts map keys, so the same request always hashes alike
		// however its body was laid out.
		canon, err := json.Marshal(vars)
		if err != nil {
			return b, &bindError{Reason: "the request could not be encoded"}
		}
		sum := sha256.Sum256(append([]byte(op.ID+"\n"), canon...))
		b.hash = hex.EncodeToString(sum[:])
	}
	return b, nil
}

// bindBody decodes the JSON body into op.Body.Variable's input object and
// takes out the idempotency key property.
func (op *Operation) bindBody(r *http.Request, schema *ast.Schema) (map[string]any, string, *bindError) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, "", &bindError{Param: "body", In: "body", Reason: "expected Content-Type: application/json", Status: http.StatusUnsupportedMediaType}
		}
	}
	var raw bytes.Buffer
	if r.Body != nil {
		if _, err := raw.ReadFrom(r.Body); err != nil {
			return nil, "", &bindError{Param: "body", In: "body", Reason: "could not be read"}
		}
	}
	if reason := input.CheckJSON(raw.Bytes()); reason != "" {
		return nil, "", &bindError{Param: "body", In: "body", Reason: reason}
	}
	obj := map[string]any{}
	if len(bytes.TrimSpace(raw.Bytes())) > 0 {
		dec := json.NewDecoder(&raw)
		dec.UseNumber() // keep 1.0 and large numbers exact until the type is known
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, "", &bindError{Param: "body", In: "body", Reason: "expected a JSON object: " + jsonReason(err)}
		}
		if dec.More() {
			return nil, "", &bindError{Param: "body", In: "body", Reason: "expected one JSON object, found more after it"}
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, "", &bindError{Param: "body", In: "body", Reason: "expected a JSON object"}
		}
		obj = m
	}
	key := ""
	if name := op.Body.ClientRequestID; name != "" {
		if v, ok := obj[name]; ok {
			delete(obj, name)
			switch v := v.(type) {
			case nil:
			case string:
				key = strings.TrimSpace(v)
			default:
				return nil, "", &bindError{Param: name, In: "body", Reason: "expected a string"}
			}
		}
	}
	coerced, omit, err := coerceJSON(op.Body.Type, obj, "", schema, op.Body.Omit)
	if err != nil {
		return nil, "", err
	}
	if omit {
		coerced = map[string]any{}
	}
	return coerced.(map[string]any), key, nil
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	return err.Error()
}

// coerceString converts one path, query or header value to typ.
func coerceString(typ *ast.Type, s string, schema *ast.Schema) (any, error) {
	s = strings.TrimSpace(s)
	bad := func() error { return fmt.Errorf("expected %s, got %s", expected(typ, schema), quote(s)) }
	def := schema.Types[typ.NamedType]
	if def != nil && def.Kind == ast.Enum {
		for _, ev := range def.EnumValues {
			if strings.EqualFold(ev.Name, s) {
				return ev.Name, nil
			}
		}
		return nil, bad()
	}
	switch typ.NamedType {
	case "Int":
		n, ok := wholeNumber(s)
		if !ok {
			return nil, bad()
		}
		return n, nil
	case "Float":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, bad()
		}
		return f, nil
	case "Boolean":
		// .NET formats booleans as True and False.
		switch {
		case strings.EqualFold(s, "true"):
			return true, nil
		case strings.EqualFold(s, "false"):
			return false, nil
		}
		return nil, bad()
	case "DateTime":
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, bad()
		}
		return s, nil
	}
	return s, nil
}

// wholeNumber accepts an integer written as 5, 5.0 or 5e0 within GraphQL's
// 32-bit Int range: the runtime may send any of them.
func wholeNumber(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 32); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int64(f), true
}

// coerceJSON converts one decoded JSON body value to typ. omit=true means
// "not given": a null or, for non-text scalars, "" in a nullable place (flows
// send both for properties the maker left empty; input object properties,
// text ones included, are dropped before they get here by notGiven). skip
// lists input fields that parameters fill (only at the top level).
func coerceJSON(typ *ast.Type, v any, at string, schema *ast.Schema, skip []string) (out any, omit bool, berr *bindError) {
	bad := func(reason string) *bindError {
		name := at
		if name == "" {
			name = "body"
		}
		return &bindError{Param: name, In: "body", Reason: reason}
	}
	if v == nil {
		if typ.NonNull {
			return nil, false, bad("must not be null; expected " + expected(typ, schema))
		}
		return nil, true, nil
	}
	if typ.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			list = []any{v} // GraphQL input coercion: a single value is a list of one
		}
		out := make([]any, 0, len(list))
		for i, e := range list {
			c, omit, err := coerceJSON(typ.Elem, e, fmt.Sprintf("%s[%d]", at, i), schema, nil)
			if err != nil {
				return nil, false, err
			}
			if !omit {
				out = append(out, c)
			}
		}
		return out, false, nil
	}
	def := schema.Types[typ.NamedType]
	if def == nil {
		return nil, false, bad("has an unknown type " + typ.NamedType)
	}
	str, isStr := v.(string)
	if isStr && strings.TrimSpace(str) == "" && !typ.NonNull && !(def.Kind == ast.Scalar && (def.Name == "String" || def.Name == "ID")) {
		return nil, true, nil
	}
	switch def.Kind {
	case ast.Enum:
		if isStr {
			for _, ev := range def.EnumValues {
				if strings.EqualFold(ev.Name, strings.TrimSpace(str)) {
					return ev.Name, false, nil
				}
			}
		}
	case ast.InputObject:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false, bad("expected a JSON object")
		}
		out := make(map[string]any, len(m))
		for k, fv := range m {
			prefix := k
			if at != "" {
				prefix = at + "." + k
			}
			fd := def.Fields.ForName(k)
			if fd == nil {
				return nil, false, &bindError{Param: prefix, In: "body", Reason: "is not a property of " + def.Name}
			}
			if notGiven(fv) && (!fd.Type.NonNull || fd.DefaultValue != nil) {
				// Flows map a field the maker left empty to null or "": for
				// an optional property (nullable, or with a default such as
				// quantity = 1) that means "not given", so the default
				// applies, exactly as if the property were left out. A
				// required property stays required (checked below).
				continue
			}
			c, omit, err := coerceJSON(fd.Type, fv, prefix, schema, nil)
			if err != nil {
				return nil, false, err
			}
			if !omit {
				out[k] = c
			}
		}
		for _, fd := range def.Fields {
			if _, ok := out[fd.Name]; ok || !fd.Type.NonNull || fd.DefaultValue != nil || slices.Contains(skip, fd.Name) {
				continue
			}
			prefix := fd.Name
			if at != "" {
				prefix = at + "." + fd.Name
			}
			return nil, false, &bindError{Param: prefix, In: "body", Reason: "is required; expected " + expected(fd.Type, schema)}
		}
		return out, false, nil
	case ast.Scalar:
		switch def.Name {
		case "Int":
			switch n := v.(type) {
			case json.Number:
				if i, ok := wholeNumber(n.String()); ok {
					return i, false, nil
				}
			case string:
				if i, ok := wholeNumber(strings.TrimSpace(n)); ok {
					return i, false, nil
				}
			}
		case "Float":
			switch n := v.(type) {
			case json.Number:
				if f, err := n.Float64(); err == nil {
					return f, false, nil
				}
			case string:
				if f, err := strconv.ParseFloat(strings.TrimSpace(n), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
					return f, false, nil
				}
			}
		case "Boolean":
			switch b := v.(type) {
			case bool:
				return b, false, nil
			case string:
				if c, err := coerceString(typ, b, schema); err == nil {
					return c, false, nil
				}
			}
		case "String":
			if isStr {
				return str, false, nil
			}
		case "ID":
			switch id := v.(type) {
			case string:
				return id, false, nil
			case json.Number:
				if _, err := id.Int64(); err == nil {
					return id.String(), false, nil
				}
			}
		case "DateTime":
			if isStr {
				if _, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(str)); err == nil {
					return strings.TrimSpace(str), false, nil
				}
			}
		default:
			return v, false, nil // other custom scalars check themselves
		}
	}
	return nil, false, bad(fmt.Sprintf("expected %s, got %s", expected(typ, schema), describe(v)))
}

// notGiven reports a body value a flow sends for an empty field: null, or a
// string of only spaces.
func notGiven(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) == ""
}

// expected describes what a value of typ looks like, for error messages.
func expected(typ *ast.Type, schema *ast.Schema) string {
	if typ.Elem != nil {
		return "a list of " + expected(typ.Elem, schema)
	}
	def := schema.Types[typ.NamedType]
	if def != nil && def.Kind == ast.Enum {
		names := make([]string, len(def.EnumValues))
		for i, ev := range def.EnumValues {
			names[i] = ev.Name
		}
		return "one of " + strings.Join(names, ", ")
	}
	if def != nil && def.Kind == ast.InputObject {
		return "a " + def.Name + " object"
	}
	switch typ.NamedType {
	case "Int":
		return "a whole number"
	case "Float":
		return "a number"
	case "Boolean":
		return "true or false"
	case "DateTime":
		return "a UTC date-time such as 2026-11-21T09:30:00.000Z"
	case "ID":
		return "an id"
	}
	return "a text value"
}

// quote shows a client's value in an error, cut short so the body stays small.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}

func describe(v any) string {
	switch v := v.(type) {
	case string:
		return quote(v)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}

// fromValidation names the REST parameter behind a gqlparser variable error
// ("variable.input.quantity").
func (op *Operation) fromValidation(err error) *bindError {
	var gerr *gqlerror.Error
	if !errors.As(err, &gerr) {
		return &bindError{Reason: err.Error()}
	}
	var keys []string
	for _, p := range gerr.Path {
		switch p := p.(type) {
		case ast.PathName:
			keys = append(keys, string(p))
		case ast.PathIndex:
			if len(keys) > 0 {
				keys[len(keys)-1] += fmt.Sprintf("[%d]", int(p))
			}
		}
	}
	if len(keys) > 0 && keys[0] == "variable" {
		keys = keys[1:]
	}
	if len(keys) == 0 {
		return &bindError{Reason: gerr.Message}
	}
	if op.Body != nil && keys[0] == op.Body.Variable {
		if len(keys) == 2 {
			for _, p := range op.Params {
				if p.Variable == keys[0] && p.Field == keys[1] {
					return &bindError{Param: p.Name, In: p.In, Reason: gerr.Message}
				}
			}
		}
		name := strings.Join(keys[1:], ".")
		if name == "" {
			name = "body"
		}
		return &bindError{Param: name, In: "body", Reason: gerr.Message}
	}
	for _, p := range op.Params {
		if p.Variable == keys[0] && p.Field == "" {
			return &bindError{Param: p.Name, In: p.In, Reason: gerr.Message}
		}
	}
	return &bindError{Param: keys[0], Reason: gerr.Message}
}

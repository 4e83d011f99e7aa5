// Package input is the one input contract at the edge: every text value a
// client sends (GraphQL arguments and variables, and through them every REST
// path, query and body value of the connector facade) is valid UTF-8 without
// NUL and at most as long as the schema's @maxLength says, and every Int with
// an @range lies in it. It is checked once per operation, before any
// resolver or SQL runs, so that a bad value is the client's 400 and never a
// driver's 500 (PostgreSQL refuses NUL and invalid UTF-8 deep in the driver).
//
// The limits live in the schema, read once at start: @maxLength(n) on
// arguments and input fields, counted in characters (Unicode code points),
// not bytes, because that is what makers and users count; @range(min, max)
// on Int arguments such as first.
package input

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Code is the extensions.code of every violation (gqlerr.BadUserInput; not
// imported, so that gqlerr's dependencies stay out of this package).
const Code = "BAD_USER_INPUT"

// Directive names read from the schema.
const (
	MaxLengthDirective = "maxLength"
	RangeDirective     = "range"
)

// Limits of one argument or input field.
type Limits struct {
	MaxLength int // characters; 0 = no text limit declared
	// HasRange: Min and Max bound an Int value.
	HasRange bool
	Min, Max int64
}

// LimitsOf reads @maxLength and @range from an argument's or input field's
// directives. The facade's Swagger generator reads the same limits, so a
// maker sees exactly what is enforced.
func LimitsOf(ds ast.DirectiveList) (Limits, error) {
	var l Limits
	if d := ds.ForName(MaxLengthDirective); d != nil {
		n, err := intArg(d, "n")
		if err != nil {
			return l, err
		}
		if n < 1 {
			return l, fmt.Errorf("@%s(n: %d) must be at least 1", MaxLengthDirective, n)
		}
		l.MaxLength = int(n)
	}
	if d := ds.ForName(RangeDirective); d != nil {
		lo, err := intArg(d, "min")
		if err != nil {
			return l, err
		}
		hi, err := intArg(d, "max")
		if err != nil {
			return l, err
		}
		if lo > hi {
			return l, fmt.Errorf("@%s(min: %d, max: %d): min above max", RangeDirective, lo, hi)
		}
		l.HasRange, l.Min, l.Max = true, lo, hi
	}
	return l, nil
}

func intArg(d *ast.Directive, name string) (int64, error) {
	a := d.Arguments.ForName(name)
	if a == nil || a.Value == nil || a.Value.Kind != ast.IntValue {
		return 0, fmt.Errorf("@%s needs an Int %s", d.Name, name)
	}
	n, err := strconv.ParseInt(a.Value.Raw, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("@%s(%s: %s): %w", d.Name, name, a.Value.Raw, err)
	}
	return n, nil
}

// Contract checks operations against the schema's limits.
type Contract struct {
	schema *ast.Schema
	// args and fields hold the limits by definition, read once.
	args   map[*ast.ArgumentDefinition]Limits
	fields map[*ast.FieldDefinition]Limits
}

// New reads the limits from schema. Every String or ID argument and input
// field (introspection's aside) must declare @maxLength: a text value
// without a limit is how a 1 MB name reaches the database, so the service
// refuses to start with one.
func New(schema *ast.Schema) (*Contract, error) {
	c := &Contract{schema: schema, args: map[*ast.ArgumentDefinition]Limits{}, fields: map[*ast.FieldDefinition]Limits{}}
	var errs []error
	for _, name := range sortedKeys(schema.Types) {
		def := schema.Types[name]
		if strings.HasPrefix(name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if def.Kind == ast.InputObject {
				l, err := c.read(f.Directives, f.Type)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s.%s: %w", name, f.Name, err))
				}
				c.fields[f] = l
				continue
			}
			for _, a := range f.Arguments {
				l, err := c.read(a.Directives, a.Type)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s.%s(%s): %w", name, f.Name, a.Name, err))
				}
				c.args[a] = l
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func (c *Contract) read(ds ast.DirectiveList, t *ast.Type) (Limits, error) {
	l, err := LimitsOf(ds)
	if err != nil {
		return l, err
	}
	named := t.Name()
	if isText(named) && l.MaxLength == 0 {
		return l, fmt.Errorf("a %s needs @%s(n: ...)", named, MaxLengthDirective)
	}
	if l.MaxLength > 0 && !isText(named) {
		return l, fmt.Errorf("@%s on a %s, which is not text", MaxLengthDirective, named)
	}
	if l.HasRange && named != "Int" {
		return l, fmt.Errorf("@%s on a %s, which is not an Int", RangeDirective, named)
	}
	return l, nil
}

func isText(named string) bool { return named == "String" || named == "ID" }

// Violation is one value that breaks the contract.
type Violation struct {
	// Path is where the value is: ["variable", "input", "newCustomer",
	// "name"] for a value that came in a variable (the form gqlparser gives
	// its own variable errors, which the facade maps to REST names), else
	// the response path of the field whose argument it is.
	Path ast.Path
	// Argument is the dotted argument path ("input.newCustomer.name").
	Argument string
	// Reason says what is wrong and what is expected, without the name.
	Reason string
}

func (v *Violation) Error() string { return v.Argument + ": " + v.Reason }

// GQLError is the violation as a GraphQL request error: BAD_USER_INPUT,
// naming the argument in the message and in extensions.argument.
func (v *Violation) GQLError() *gqlerror.Error {
	top, _, _ := strings.Cut(v.Argument, ".")
	return &gqlerror.Error{
		Message: v.Error(),
		Path:    v.Path,
		Extensions: map[string]any{
			"code":     Code,
			"argument": top,
			"field":    v.Argument,
		},
	}
}

// CheckText applies the text rules to one value: valid UTF-8, no NUL, at
// most max characters (max 0: no length limit). The reason names no field.
//
// Decoded JSON strings never hold invalid UTF-8 (the decoder would have
// made it U+FFFD): CheckJSON refuses such bodies before they are decoded.
// Raw invalid bytes reach this check through query strings, path values
// and GraphQL literals.
func CheckText(s string, max int) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 text"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "must not contain a NUL character"
	}
	// RuneCount stops early for huge values: only whether it exceeds max
	// matters, and the byte length bounds the rune count from above.
	if max > 0 && len(s) > max {
		if n := utf8.RuneCountInString(s); n > max {
			return fmt.Sprintf("must be at most %d characters, got %d", max, n)
		}
	}
	return ""
}

// Check walks op's fields (through fragments, each once) and checks every
// argument value, literal or from vars (already coerced by
// validator.VariableValues), against its limits. It returns the first
// violation, or nil.
func (c *Contract) Check(op *ast.OperationDefinition, vars map[string]any) *Violation {
	w := walker{c: c, vars: vars, seen: map[string]bool{}}
	w.selections(op.SelectionSet, nil)
	return w.v
}

type walker struct {
	c    *Contract
	vars map[string]any
	seen map[string]bool // fragments already checked: a fragment's arguments are the same wherever it is spread
	v    *Violation
}

func (w *walker) selections(set ast.SelectionSet, at ast.Path) {
	for _, sel := range set {
		if w.v != nil {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.Arguments) == 0 && len(s.SelectionSet) == 0 {
				// Nothing to check, and no path to build for it: most
				// fields of a document are such leaves.
				continue
			}
			here := append(slices.Clip(at), ast.PathName(s.Alias))
			if s.Definition != nil {
				for _, a := range s.Arguments {
					ad := s.Definition.Arguments.ForName(a.Name)
					if ad == nil {
						continue
					}
					w.literal(a.Value, ad.Type, w.c.args[ad], a.Name, here)
				}
			}
			w.selections(s.SelectionSet, here)
		case *ast.InlineFragment:
			w.selections(s.SelectionSet, at)
		case *ast.FragmentSpread:
			if s.Definition == nil || w.seen[s.Name] {
				continue
			}
			w.seen[s.Name] = true
			w.selections(s.Definition.SelectionSet, at)
		}
	}
}

func (w *walker) fail(path ast.Path, name, reason string) {
	if w.v == nil {
		w.v = &Violation{Path: path, Argument: name, Reason: reason}
	}
}

// literal checks a value as written in the document; a variable hands over
// to value with the variable's coerced value.
func (w *walker) literal(v *ast.Value, t *ast.Type, l Limits, name string, field ast.Path) {
	if v == nil || w.v != nil {
		return
	}
	switch v.Kind {
	case ast.Variable:
		val, ok := w.vars[v.Raw]
		if !ok {
			return
		}
		w.value(val, t, l, name, ast.Path{ast.PathName("variable"), ast.PathName(v.Raw)})
	case ast.NullValue:
	case ast.ListValue:
		if t.Elem == nil {
			return
		}
		for i, e := range v.Children {
			w.literal(e.Value, t.Elem, l, fmt.Sprintf("%s[%d]", name, i), field)
		}
	case ast.ObjectValue:
		def := w.c.schema.Types[t.Name()]
		if def == nil || t.Elem != nil {
			return
		}
		for _, ch := range v.Children {
			fd := def.Fields.ForName(ch.Name)
			if fd == nil {
				continue
			}
			w.literal(ch.Value, fd.Type, w.c.fields[fd], name+"."+ch.Name, field)
		}
	case ast.StringValue, ast.BlockValue:
		if r := CheckText(v.Raw, l.MaxLength); r != "" {
			w.fail(field, name, r)
		}
	case ast.IntValue:
		if l.HasRange {
			n, err := strconv.ParseInt(v.Raw, 10, 64)
			if err != nil || n < l.Min || n > l.Max {
				w.fail(field, name, rangeReason(l, v.Raw))
			}
		}
	}
}

// value checks a coerced variable value; path is its variable path.
func (w *walker) value(val any, t *ast.Type, l Limits, name string, path ast.Path) {
	if val == nil || w.v != nil {
		return
	}
	if t.Elem != nil {
		list, ok := val.([]any)
		if !ok {
			w.value(val, t.Elem, l, name, path) // a single value is a list of one
			return
		}
		for i, e := range list {
			w.value(e, t.Elem, l, fmt.Sprintf("%s[%d]", name, i), append(slices.Clip(path), ast.PathIndex(i)))
		}
		return
	}
	switch x := val.(type) {
	case string:
		if r := CheckText(x, l.MaxLength); r != "" {
			w.fail(path, name, r)
		}
	case map[string]any:
		def := w.c.schema.Types[t.Name()]
		if def == nil {
			return
		}
		for _, k := range sortedKeys(x) {
			fd := def.Fields.ForName(k)
			if fd == nil {
				continue
			}
			w.value(x[k], fd.Type, w.c.fields[fd], name+"."+k, append(slices.Clip(path), ast.PathName(k)))
		}
	default:
		if !l.HasRange {
			return
		}
		n, ok := asInt(x)
		if !ok || n < l.Min || n > l.Max {
			w.fail(path, name, rangeReason(l, fmt.Sprint(x)))
		}
	}
}

func rangeReason(l Limits, got string) string {
	if len(got) > 20 {
		got = got[:20] + "..."
	}
	return fmt.Sprintf("must be a whole number from %d to %d, got %s", l.Min, l.Max, got)
}

// asInt reads the integer types a coerced Int variable may hold.
func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > math.MaxInt64/2 {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// The Contract is a gqlgen extension: it checks every operation after
// gqlgen has parsed, validated and coerced it and before anything runs. The
// REST facade runs through the same executor, so one check covers both.
var (
	_ graphql.HandlerExtension        = (*Contract)(nil)
	_ graphql.OperationContextMutator = (*Contract)(nil)
)

// ExtensionName names the extension in gqlgen's list.
func (c *Contract) ExtensionName() string { return "InputContract" }

// Validate is called by gqlgen when the extension is added.
func (c *Contract) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses an operation with a bad value.
func (c *Contract) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	if v := c.Check(rc.Operation, rc.Variables); v != nil {
		return v.GQLError()
	}
	return nil
}

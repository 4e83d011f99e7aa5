package facade

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/middletier/middletier/internal/gqlerr"
)

// An operation degrades rather than fails when an upstream service that
// feeds only part of its answer is down: a field marked @upstream(source:)
// in the schema is null with an UPSTREAM_UNAVAILABLE error while its source
// is down, and when that field lies strictly below the operation's result,
// the answer is 200 with the rest plus a "warnings" entry naming the missing
// part. When the result itself comes from the upstream (ListNews), there is
// no rest to give: the error stands (503 with Retry-After). This is one rule
// for every operation, so a new operation that selects nextRestock degrades
// without saying so in its file, and its definition documents it.

// upstreamDirective marks the schema fields whose value comes from an
// upstream service; its source argument names the service for people.
const upstreamDirective = "upstream"

// degradable is one upstream field of an operation's answer.
type degradable struct {
	path   string // where in the REST body, e.g. value.nextRestock
	source string // e.g. the supply system
}

// degrades reports whether e is the failure of an optional upstream part of
// the answer rather than of the answer itself: an upstream outage at a path
// strictly below the result. The caller checks that the result is there.
func (op *Operation) degrades(e *gqlerror.Error) bool {
	if codeOf(e) != gqlerr.UpstreamUnavailable {
		return false
	}
	result := op.resultKeys()
	names := pathNames(e.Path)
	return len(names) > len(result) && slices.Equal(names[:len(result)], result)
}

func (op *Operation) resultKeys() []string {
	if op.Result == "" {
		return nil
	}
	return strings.Split(op.Result, ".")
}

// pathNames is p without list indices: which field, not which row.
func pathNames(p ast.Path) []string {
	var names []string
	for _, step := range p {
		if name, ok := step.(ast.PathName); ok {
			names = append(names, string(name))
		}
	}
	return names
}

// bodyPath turns the response keys of a field below the result into its
// place in the REST body: relative to the result, and for a paged result
// under "value" (the body's name for the connection's nodes).
func (op *Operation) bodyPath(names []string) string {
	result := op.resultKeys()
	if len(names) < len(result) || !slices.Equal(names[:len(result)], result) {
		return strings.Join(names, ".")
	}
	rest := slices.Clone(names[len(result):])
	if op.Paged && len(rest) > 0 && rest[0] == "nodes" {
		rest[0] = "value"
	}
	return strings.Join(rest, ".")
}

// warnings turns the errors of the parts left out into the body's warnings:
// one per code and place, however many rows lost that part (a page of 20
// backorders without nextRestock is one warning, not 20).
func (op *Operation) warnings(errs gqlerror.List) []map[string]string {
	out := make([]map[string]string, 0, len(errs))
	seen := map[string]bool{}
	for _, e := range errs {
		w := map[string]string{"code": codeOf(e), "message": gqlerr.SafeMessage(e.Message)}
		if len(e.Path) > 0 {
			w["path"] = op.bodyPath(pathNames(e.Path))
		}
		if key := w["code"] + "\x00" + w["path"]; !seen[key] {
			seen[key] = true
			out = append(out, w)
		}
	}
	return out
}

// upstreamParts lists the @upstream fields selected strictly below op's
// result, in selection order: the parts of the answer that may be missing.
func (op *Operation) upstreamParts() []degradable {
	if op.Op == nil {
		return nil
	}
	result := op.resultKeys()
	var out []degradable
	var walk func(set ast.SelectionSet, at []string)
	walk = func(set ast.SelectionSet, at []string) {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				key := s.Alias
				if key == "" {
					key = s.Name
				}
				names := append(slices.Clone(at), key)
				below := len(names) > len(result) && slices.Equal(names[:len(result)], result)
				if src := upstreamSource(s.Definition); src != "" && below {
					out = append(out, degradable{path: op.bodyPath(names), source: src})
					continue // its own fields go with it
				}
				walk(s.SelectionSet, names)
			case *ast.InlineFragment:
				walk(s.SelectionSet, at)
			case *ast.FragmentSpread:
				if s.Definition != nil {
					walk(s.Definition.SelectionSet, at)
				}
			}
		}
	}
	walk(op.Op.SelectionSet, nil)
	return out
}

func upstreamSource(def *ast.FieldDefinition) string {
	if def == nil {
		return ""
	}
	d := def.Directives.ForName(upstreamDirective)
	if d == nil {
		return ""
	}
	if a := d.Arguments.ForName("source"); a != nil && a.Value != nil {
		return a.Value.Raw
	}
	return "an upstream service"
}

// DegradeDescription says, for the definition, which parts of op's answer
// are left out while an upstream source is down; empty when none can be.
func (op *Operation) DegradeDescription() string { return degradeDescription(op.upstreamParts()) }

// degradeDescription says, per source, which parts of the answer are left
// out while it is down: derived from the schema's @upstream marks, so the
// definition cannot drift from what the facade does.
func degradeDescription(parts []degradable) string {
	if len(parts) == 0 {
		return ""
	}
	var sources []string
	bySource := map[string][]string{}
	for _, p := range parts {
		if _, ok := bySource[p.source]; !ok {
			sources = append(sources, p.source)
		}
		if !slices.Contains(bySource[p.source], p.path) {
			bySource[p.source] = append(bySource[p.source], p.path)
		}
	}
	var b strings.Builder
	for i, src := range sources {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "While %s is down, %s %s left out.", src, joinAnd(bySource[src]), isOrAre(len(bySource[src])))
	}
	b.WriteString(" The answer then still succeeds and lists each missing part in warnings.")
	return b.String()
}

func joinAnd(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func isOrAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

package graph

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// TestEverythingIsDescribed: descriptions become the connector's
// documentation (description and x-ms-summary), so none may be missing.
func TestEverythingIsDescribed(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	var missing []string
	for name, def := range schema.Types {
		if def.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		if strings.TrimSpace(def.Description) == "" {
			missing = append(missing, "type "+name)
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if strings.TrimSpace(f.Description) == "" {
				missing = append(missing, name+"."+f.Name)
			}
			for _, a := range f.Arguments {
				if strings.TrimSpace(a.Description) == "" {
					missing = append(missing, name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
		if def.Kind == ast.Enum {
			for _, v := range def.EnumValues {
				if strings.TrimSpace(v.Description) == "" {
					missing = append(missing, name+"."+v.Name)
				}
			}
		}
	}
	if len(missing) > 0 {
		t.Fatalf("schema elements without a description: %s", strings.Join(missing, ", "))
	}
}

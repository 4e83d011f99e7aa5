package connector

import (
	"strings"
	"unicode"

	"github.com/vektah/gqlparser/v2/ast"
)

// Labels are what makers read in the designer: sentences for descriptions,
// Title Case for x-ms-summary and enum display names.

// sentence collapses a schema description onto one line and ends it with a
// full stop, as connector descriptions are sentences.
func sentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	if r := s[len(s)-1]; r != '.' && r != '!' && r != '?' {
		s += "."
	}
	return s
}

// acronyms stay upper case in Title Case labels.
var acronyms = map[string]string{"id": "ID", "sku": "SKU", "url": "URL", "rsvp": "RSVP", "sms": "SMS", "api": "API", "uri": "URI"}

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
		if a, ok := acronyms[lw]; ok {
			words[i] = a
			continue
		}
		r := []rune(lw)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}

// enumValues lists an enum's values and their x-ms-enum-values entries; the
// display name is the value in Title Case (the schema's value descriptions
// are sentences, too long for a dropdown).
func enumValues(def *ast.Definition) ([]any, []map[string]string) {
	var values []any
	var named []map[string]string
	for _, v := range def.EnumValues {
		values = append(values, v.Name)
		named = append(named, map[string]string{"value": v.Name, "displayName": TitleCase(v.Name)})
	}
	return values, named
}

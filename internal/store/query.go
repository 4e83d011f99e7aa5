package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// where collects AND-ed conditions with their ? arguments, so list queries
// can add optional filters without string surgery at every call site.
type where struct {
	parts []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.parts = append(w.parts, cond)
	w.args = append(w.args, args...)
}

// String renders " WHERE a AND b", or "" when there is no condition.
func (w *where) String() string {
	if len(w.parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.parts, " AND ")
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// oneOf is the condition "col is one of vals" with its arguments. On
// PostgreSQL it is "col = ANY(?)" with vals as one array argument, so the
// statement text is the same however many values there are: pgx prepares
// it once per connection and the server plans it once, where each new
// length of an IN list was a new prepared statement and a new plan (and
// planning a 100-value IN cost more than running it). SQLite prepares
// every statement anew anyway and has no array type, so it keeps IN (?, ...).
// vals should be duplicate-free (uniq).
func (s *DB) oneOf(col string, vals []string) (string, []any) {
	if s.dialect == Postgres {
		return col + ` = ANY(?)`, []any{vals}
	}
	return col + ` IN (` + placeholders(len(vals)) + `)`, anys(vals)
}

// uniq drops repeated values, keeping the first occurrence, so IN lists do
// not grow with duplicate keys from a loader.
func uniq[T comparable](xs []T) []T {
	seen := make(map[T]struct{}, len(xs))
	out := make([]T, 0, len(xs))
	for _, x := range xs {
		if _, ok := seen[x]; ok {
			continue
		}
		seen[x] = struct{}{}
		out = append(out, x)
	}
	return out
}

// anys converts a slice for use as variadic query arguments.
func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// nowMillis is the stored form of the current time.
func nowMillis() int64 { return Millis(time.Now()) }

// searchSep separates fields in search_text so that a search does not match
// across the end of one field and the start of the next.
const searchSep = "\n"

// ProductSearchText is the value of products.search_text for p. Whoever
// inserts or updates a product must store it.
func ProductSearchText(p Product) string {
	return strings.ToLower(strings.Join([]string{p.Name, p.Description, p.SKU, p.Barcode}, searchSep))
}

// CustomerSearchText is the value of customers.search_text: lowercased name
// and email, and the digits of the phone number so that "555-0101" and
// "(555) 0101" find each other. Whoever inserts or updates a customer must store it.
func CustomerSearchText(name, email, phone string) string {
	return strings.ToLower(strings.Join([]string{name, email, digitsOf(phone)}, searchSep))
}

// digitsOf keeps the ASCII digits of s.
func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// likeEscape is the ESCAPE clause that goes with likeContains patterns; a
// backslash is a plain character in string literals on both engines.
const likeEscape = ` ESCAPE '\'`

// likeContains is a LIKE pattern matching s anywhere, with s's own % and _
// (and the escape character) taken literally.
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// byKeys loads the rows of selectFrom ("SELECT ... FROM t") whose col is
// one of keys with one statement; unknown keys are simply absent, and no
// keys send nothing.
func byKeys[T any](ctx context.Context, s *DB, what, selectFrom, col string, keys []string, key func(T) string) (map[string]T, error) {
	out := make(map[string]T, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	cond, args := s.oneOf(col, uniq(keys))
	var rows []T
	if err := s.selectContext(ctx, &rows, selectFrom+` WHERE `+cond, args...); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	for _, r := range rows {
		out[key(r)] = r
	}
	return out, nil
}

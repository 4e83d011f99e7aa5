package facade

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// A GET operation may declare in its header how long its answers are
// cached and who may share them; a write declares which cached answers it
// makes wrong. Both speak of tags: "family" or "family:value", where the
// value may be a literal, "*" (every value of the family) or a placeholder
// filled per request: {variable} (a bound variable, {input.field} a field of
// a write's body) or {caller.store} (the caller's store; head office has
// none). A placeholder left empty stands for "*", so an answer whose store
// is unknown depends on every store, and a write whose store is unknown
// invalidates every store.
//
//	cache: {ttl: 30s, per: store, tags: ["backorders:{storeId}"], why: ...}
//	invalidates: ["backorders:{input.storeId}", customers]

// CachePolicy is how a GET operation's answers are cached.
type CachePolicy struct {
	// TTL is how long an answer is served from the cache, and the max-age
	// clients are told.
	TTL time.Duration
	// Per says who may share an answer (see Sharing).
	Per Sharing
	// Tags name the data an answer is built from; writes that invalidate
	// one of them drop the answer at once.
	Tags []Tag
	// Why says why this TTL and sharing are safe (documentation only).
	Why string
}

// Sharing says which callers may be served the same cached answer: never
// callers who may see different rows.
type Sharing string

const (
	// PerCaller: each employee has answers of their own. Always safe; the
	// only choice for anything personal (profile, leave, RSVPs).
	PerCaller Sharing = "caller"
	// PerStore: callers with the same store scope (auth.StoreScope: their
	// one store, or every store for head office) share answers. Safe when
	// the rows depend on nothing about the caller but that scope.
	PerStore Sharing = "store"
	// PerEveryone: every signed-in employee shares answers. Safe only for
	// data the access rules open to every employee (products, customers,
	// news, the store directory).
	PerEveryone Sharing = "everyone"
)

// maxCacheTTL bounds a declared TTL: clients are told it as max-age, and
// no write reaches a phone that holds an answer.
const maxCacheTTL = time.Hour

// Tag is a parsed tag template.
type Tag struct {
	Family string
	// Value is a literal value, "*", or "" with From set.
	Value string
	// From names what fills the value per request: a variable
	// ("storeId"), a field of the body variable ("input.storeId"), or
	// fromCallerStore.
	From string
}

const fromCallerStore = "caller.store"

var (
	tagRE       = regexp.MustCompile(`^([a-z][a-zA-Z0-9-]*)(?::(\*|\{[A-Za-z_][A-Za-z0-9_.]*\}|[A-Za-z0-9_-]+))?$`)
	sharingList = []Sharing{PerCaller, PerStore, PerEveryone}
)

func (t Tag) String() string {
	switch {
	case t.From != "":
		return t.Family + ":{" + t.From + "}"
	case t.Value != "":
		return t.Family + ":" + t.Value
	}
	return t.Family
}

// expand fills t for one request: vars are the bound variables, callerStore
// the caller's store ("" for none or unknown).
func (t Tag) expand(vars map[string]any, callerStore string) string {
	if t.From == "" {
		return t.String()
	}
	v := callerStore
	if t.From != fromCallerStore {
		name, field, isField := strings.Cut(t.From, ".")
		val := vars[name]
		if isField {
			obj, _ := val.(map[string]any)
			val = obj[field]
		}
		if val != nil {
			v = fmt.Sprint(val)
		}
	}
	if v == "" {
		v = "*"
	}
	return t.Family + ":" + v
}

type cacheHeader struct {
	TTL  string   `yaml:"ttl"`
	Per  string   `yaml:"per"`
	Tags []string `yaml:"tags"`
	Why  string   `yaml:"why"`
}

// bindCache checks the cache and invalidates keys of h against op (whose
// params and body are bound) and fills op.Cache and op.Invalidates.
func bindCache(op *Operation, h header, schema *ast.Schema, add func(key, format string, args ...any)) {
	if c := h.Cache; c != nil {
		if op.Method != "GET" {
			add("cache", "only GET operations are cached; a write declares what it invalidates (invalidates: [...])")
			return
		}
		p := &CachePolicy{Per: Sharing(c.Per), Why: strings.TrimSpace(c.Why)}
		ttl, err := time.ParseDuration(c.TTL)
		switch {
		case c.TTL == "":
			add("cache.ttl", "cache needs a ttl, a duration such as 30s or 5m")
		case err != nil:
			add("cache.ttl", "cache ttl %q is not a duration such as 30s or 5m", c.TTL)
		case ttl < time.Second || ttl > maxCacheTTL:
			add("cache.ttl", "cache ttl must be between 1s and %s, got %s", maxCacheTTL, c.TTL)
		default:
			p.TTL = ttl
		}
		if !slices.Contains(sharingList, p.Per) {
			add("cache.per", "cache per must be caller, store or everyone (who may share an answer), got %q", c.Per)
		}
		if p.Why == "" {
			add("cache.why", "cache needs a why: the reason this TTL and sharing are safe")
		}
		p.Tags = parseTags(op, c.Tags, schema, "cache.tags", add)
		op.Cache = p
	}
	if len(h.Invalidates) > 0 {
		if !op.Write {
			add("invalidates", "only writes invalidate; a GET declares cache: {ttl, per, tags}")
			return
		}
		op.Invalidates = parseTags(op, h.Invalidates, schema, "invalidates", add)
	}
}

func parseTags(op *Operation, raw []string, schema *ast.Schema, key string, add func(key, format string, args ...any)) []Tag {
	var out []Tag
	for _, s := range raw {
		m := tagRE.FindStringSubmatch(s)
		if m == nil {
			add(key, "tag %q must be family or family:value (lower-case family; value a literal, * or {placeholder})", s)
			continue
		}
		t := Tag{Family: m[1], Value: m[2]}
		if strings.HasPrefix(t.Value, "{") {
			t.From, t.Value = strings.Trim(t.Value, "{}"), ""
			if reason := op.checkTagSource(t.From, schema); reason != "" {
				add(key, "tag %q: %s", s, reason)
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

// checkTagSource says what is wrong with a placeholder, or "".
func (op *Operation) checkTagSource(from string, schema *ast.Schema) string {
	if from == fromCallerStore {
		return ""
	}
	name, field, isField := strings.Cut(from, ".")
	v := op.Op.VariableDefinitions.ForName(name)
	if v == nil {
		return fmt.Sprintf("{%s} names no variable of %s (or {caller.store})", from, op.ID)
	}
	t := v.Type
	if isField {
		def := schema.Types[v.Type.NamedType]
		if def == nil || def.Kind != ast.InputObject || def.Fields.ForName(field) == nil {
			return fmt.Sprintf("%s has no field %s", v.Type.NamedType, field)
		}
		t = def.Fields.ForName(field).Type
	}
	if d := schema.Types[t.NamedType]; t.Elem != nil || d == nil || (d.Kind != ast.Scalar && d.Kind != ast.Enum) {
		return fmt.Sprintf("{%s} must be a scalar, not %s", from, t.String())
	}
	return ""
}

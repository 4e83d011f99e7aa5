package facade

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/cache"
)

// The response cache keeps the answers of GET operations that declare
// cache: in their header, keyed by operation, normalised variables and the
// caller's access scope (CachePolicy.Per), and drops them by tag the moment
// a write through the facade that changes their data commits. Only whole
// 200 answers are kept: errors, non-2xx answers and answers with warnings
// (a source was down) are never cached, so an outage is not served for a
// TTL after it ends.

// CacheMetrics counts the response cache's work (telemetry.Metrics).
type CacheMetrics interface {
	ResponseCacheHit(operation string)
	ResponseCacheMiss(operation string)
	ResponseCacheInvalidated(family string)
}

type noMetrics struct{}

func (noMetrics) ResponseCacheHit(string)         {}
func (noMetrics) ResponseCacheMiss(string)        {}
func (noMetrics) ResponseCacheInvalidated(string) {}

// cached is one answer in the response cache.
type cached struct {
	body []byte
	etag string
	// link is the nextLink in body, and linkAt..linkEnd the bytes of its
	// JSON string there: a hit replaces it with the link this request's own
	// origin and query give, so pages are shared by key, not by spelling.
	link            string
	linkAt, linkEnd int
	cursor          string
}

// respCache is the facade's response cache.
type respCache struct {
	c       *cache.Tagged[cached]
	metrics CacheMetrics
}

func newRespCache(maxBytes int64, bus cache.Bus, shared SharedCache, m CacheMetrics) (*respCache, error) {
	opts := cache.TaggedOptions[cached]{
		MaxCost: maxBytes,
		// Bytes held: the body, the key, the link and a little overhead.
		Cost: func(key string, v cached) int64 {
			return int64(len(key) + len(v.body) + len(v.link) + len(v.cursor) + 128)
		},
		Bus: bus,
	}
	if shared != nil {
		// The body is the whole answer; its ETag and nextLink are found
		// in it again on the way back.
		opts.Remote, opts.Gens = shared, shared
		opts.Codec = cache.Codec[cached]{
			Marshal:   func(c cached) ([]byte, error) { return c.body, nil },
			Unmarshal: func(b []byte) (cached, error) { return newCached(b), nil },
		}
	}
	c, err := cache.NewTagged(opts)
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = noMetrics{}
	}
	return &respCache{c: c, metrics: m}, nil
}

// scope is the caller's access scope for sharing per, or ok=false when the
// request has no caller the cache may serve (no principal, or a store role
// without a store): such requests run uncached.
func scope(ctx context.Context, per Sharing) (string, bool) {
	p, err := auth.Caller(ctx)
	if err != nil {
		return "", false
	}
	switch per {
	case PerCaller:
		return "employee:" + p.EmployeeID, true
	case PerStore:
		s, err := auth.StoreScope(ctx)
		if err != nil {
			return "", false
		}
		if s == "" {
			s = "*" // every store (head office)
		}
		return "store:" + s, true
	case PerEveryone:
		return "everyone", true
	}
	return "", false
}

// cacheKey names an answer: operation, scope and every variable of the
// operation, a default applied where none was given, so that the same
// request spelled differently (query order, a default written out, an
// enum's case) is one key.
func (op *Operation) cacheKey(scope string, vars map[string]any) (string, bool) {
	canon, ok := op.defaults, op.defaultsOK
	if len(vars) > 0 || !ok {
		canon, ok = op.canonVars(vars)
	}
	if !ok {
		return "", false
	}
	return cache.Key("facade", op.ID, scope, canon), true
}

// canonVars is every variable of the operation, a default applied where
// none was given, as JSON with sorted keys.
func (op *Operation) canonVars(vars map[string]any) (string, bool) {
	canon := make(map[string]any, len(op.Op.VariableDefinitions))
	for _, d := range op.Op.VariableDefinitions {
		v, ok := vars[d.Variable]
		if !ok && d.DefaultValue != nil {
			var err error
			if v, err = d.DefaultValue.Value(nil); err != nil {
				return "", false
			}
		}
		canon[d.Variable] = v
	}
	b, err := json.Marshal(canon) // map keys sorted
	if err != nil {
		return "", false
	}
	return string(b), true
}

// callerStore is the caller's store for {caller.store}, "" without one.
func callerStore(ctx context.Context) string {
	p, _ := auth.PrincipalFrom(ctx)
	return p.StoreID
}

func (op *Operation) expandTags(tags []Tag, ctx context.Context, vars map[string]any) []string {
	out := make([]string, len(tags))
	store := callerStore(ctx)
	for i, t := range tags {
		out[i] = t.expand(vars, store)
	}
	return out
}

// cachedRead answers a GET with a cache policy: from the cache when it
// can, else by running it and keeping a whole 200 answer.
func (f *Facade) cachedRead(r *http.Request, op *Operation, b bound, origin string) outcome {
	ctx := r.Context()
	sc, ok := scope(ctx, op.Cache.Per)
	var key string
	if ok {
		key, ok = op.cacheKey(sc, b.vars)
	}
	if !ok {
		return readOutcome(f.run(ctx, r, op, b.vars, origin))
	}
	if e, storedAt, hit := f.rc.c.Get(ctx, key); hit {
		f.rc.metrics.ResponseCacheHit(op.ID)
		body, etag := e.render(op, r, origin)
		left := op.Cache.TTL - time.Since(storedAt)
		return outcome{answer: answer{status: http.StatusOK, body: body}, etag: etag, cacheControl: maxAge(left), vary: true}
	}
	f.rc.metrics.ResponseCacheMiss(op.ID)
	// Stamped before running, so that a write committed while this runs
	// keeps its (possibly older) answer out of the cache.
	stamp := f.rc.c.Stamp(ctx, op.expandTags(op.Cache.Tags, ctx, b.vars)...)
	a := f.run(ctx, r, op, b.vars, origin)
	if a.status != http.StatusOK || a.partial {
		o := readOutcome(a)
		o.vary = true
		return o
	}
	e := newCached(a.body)
	if e.linkAt >= 0 {
		f.rc.c.Add(ctx, key, e, op.Cache.TTL, stamp)
	}
	return outcome{answer: a, etag: e.etag, cacheControl: maxAge(op.Cache.TTL), vary: true}
}

// maxAge is the Cache-Control of an answer that stays valid for left:
// private (it is the caller's), for as long as the server would serve it.
func maxAge(left time.Duration) string {
	return "private, max-age=" + strconv.Itoa(max(int(left/time.Second), 0))
}

// etagOf is a strong ETag over the exact bytes.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// newCached wraps a 200 body, finding its nextLink (linkAt -1 when the
// body has one but it cannot be found, which keeps it out of the cache).
func newCached(body []byte) cached {
	e := cached{body: body, etag: etagOf(body)}
	if !bytes.Contains(body, []byte(`"`+NextLinkProperty+`"`)) {
		return e
	}
	var page struct {
		Link   string `json:"nextLink"`
		Cursor string `json:"nextCursor"`
	}
	if json.Unmarshal(body, &page) != nil || page.Link == "" {
		return e
	}
	lit := append([]byte(`"`+NextLinkProperty+`":`), encode(page.Link)...)
	i := bytes.Index(body, lit)
	if i < 0 {
		e.linkAt = -1
		return e
	}
	e.link, e.cursor = page.Link, page.Cursor
	e.linkAt = i + len(NextLinkProperty) + 3
	e.linkEnd = i + len(lit)
	return e
}

// render is the body for request r: the stored one, with the nextLink
// this request's origin and query give.
func (e cached) render(op *Operation, r *http.Request, origin string) (body []byte, etag string) {
	if e.link == "" {
		return e.body, e.etag
	}
	link := op.nextLink(r, origin, e.cursor)
	if link == e.link {
		return e.body, e.etag
	}
	lit := encode(link)
	body = make([]byte, 0, len(e.body)-(e.linkEnd-e.linkAt)+len(lit))
	body = append(body, e.body[:e.linkAt]...)
	body = append(body, lit...)
	body = append(body, e.body[e.linkEnd:]...)
	return body, etagOf(body)
}

// invalidate drops the cached answers a committed write changed, before
// its answer is sent, so that the caller's next read sees the write.
func (f *Facade) invalidate(r *http.Request, op *Operation, b bound) {
	if f.rc == nil || len(op.Invalidates) == 0 {
		return
	}
	tags := op.expandTags(op.Invalidates, r.Context(), b.vars)
	for _, t := range op.Invalidates {
		f.rc.metrics.ResponseCacheInvalidated(t.Family)
	}
	if err := f.rc.c.Invalidate(r.Context(), tags...); err != nil {
		// This replica dropped them; others keep theirs until their TTL.
		f.log.WarnContext(r.Context(), "publish cache invalidation", "err", err, "tags", tags)
	}
}

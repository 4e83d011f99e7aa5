// Package loaders batches and deduplicates the reads of one GraphQL request.
// New builds a fresh set per request; Middleware installs it; For is the only
// way to reach it. Loaders never outlive their request, so they never serve
// one request's data to another; the cross-request cache is internal/cache.
package loaders

import (
	"context"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/hours"
	"github.com/middletier/middletier/internal/upstream/hr"
	"github.com/middletier/middletier/internal/upstream/news"
	"github.com/middletier/middletier/internal/upstream/supply"
)

// Source is what the loaders read from: the store's batch queries.
type Source interface {
	StoresByID(ctx context.Context, ids []string) (map[string]store.Store, error)
	ProductsBySKU(ctx context.Context, skus []string) (map[string]store.Product, error)
	CustomersByID(ctx context.Context, ids []string) (map[string]store.Customer, error)
	EmployeesByID(ctx context.Context, ids []string) (map[string]store.Employee, error)
	BackordersByID(ctx context.Context, ids []string) (map[string]store.Backorder, error)
	EventsByID(ctx context.Context, ids []string) (map[string]store.Event, error)
	InventoryByKeys(ctx context.Context, keys []store.InventoryKey) (map[store.InventoryKey]store.Inventory, error)
	StockBySKU(ctx context.Context, skus []string) (map[string][]store.Inventory, error)
	BackorderHistory(ctx context.Context, ids []string) (map[string][]store.StatusChange, error)
	AttendeeCounts(ctx context.Context, eventIDs []string) (map[string]int, error)
	InventoryPages(ctx context.Context, storeIDs []string, f store.InventoryFilter, page store.Page) (map[string]store.Paged[store.Inventory], error)
	BackorderPages(ctx context.Context, ownerIDs []string, byCustomer bool, f store.BackorderFilter, page store.Page) (map[string]store.Paged[store.Backorder], error)
	RSVPsOf(ctx context.Context, employeeID string, eventIDs []string) (map[string]store.RSVP, error)
}

// Upstream is the opened upstream sources, with the cross-request cache in
// front (internal/upstream/cached): a batch asks the service only for the
// keys the cache misses, in one call. Each source's package finds its own
// reads in it, so a new source is one Read line.
type Upstream = upstream.Finder

// NewsPageKey asks for one page of company news.
type NewsPageKey = news.PageKey

// DefaultWait is the batch window of Keyed.Load: reads of resolvers that
// fan in independently (root fields, relations of lone objects, lists
// nested in lists) wait it once per level. A list's relations are read with
// their page and wait none (resolvers.batch). It stays short; a busy machine
// may split such a level into a few batches, never into one statement per item.
const DefaultWait = 2 * time.Millisecond

// InventoryPageKey asks for one page of one store's inventory.
type InventoryPageKey struct {
	StoreID      string
	LowStockOnly bool
	First        int
	After        string
}

// BackorderPageKey asks for one page of one store's or customer's backorders.
type BackorderPageKey struct {
	OwnerID    string
	ByCustomer bool
	Status     store.BackorderStatus // "" = any status
	StoreID    string                // narrows a customer's backorders to one store; "" = every store
	First      int
	After      string
}

// RSVPKey asks for one employee's answer to one event. The employee is part
// of the key, not read from the context, so a loader can never answer one
// employee's question with another's row.
type RSVPKey struct {
	EmployeeID string
	EventID    string
}

// Loaders holds one request's loaders.
type Loaders struct {
	Store          *Keyed[string, store.Store]
	Product        *Keyed[string, store.Product]
	Customer       *Keyed[string, store.Customer]
	Employee       *Keyed[string, store.Employee]
	Backorder      *Keyed[string, store.Backorder]
	Event          *Keyed[string, store.Event]
	Inventory      *Keyed[store.InventoryKey, store.Inventory]
	StockBySKU     *Keyed[string, []store.Inventory]
	History        *Keyed[string, []store.StatusChange]
	AttendeeCount  *Keyed[string, int]
	InventoryPage  *Keyed[InventoryPageKey, store.Paged[store.Inventory]]
	BackorderPages *Keyed[BackorderPageKey, store.Paged[store.Backorder]]
	RSVP           *Keyed[RSVPKey, store.RSVP]

	// Levels holds the rows of lists nested in lists, so that their
	// relations read a whole level at once (see Levels).
	Levels *Levels

	// The upstream reads' loaders, made on first use (see Read).
	up    Upstream
	wait  time.Duration
	tr    trace.Tracer
	mu    sync.Mutex
	reads map[any]any // *Read[K, V] -> *Keyed[K, V]
}

// The upstream sources' reads, one line each: the loader's name (in spans)
// and the source's own read over the opened sources (its package declares
// it next to its cache policy). A key the source does not know loads as
// ErrNotFound.
var (
	LeaveBalance = NewRead("LeaveBalance", hr.LeaveBalances)   // by employee id
	Restock      = NewRead("Restock", supply.NextRestocks)     // none scheduled: not found
	NewsPage     = NewRead("NewsPage", news.Pages)             // one page of company news
	OpeningHours = NewRead("OpeningHours", hours.OpeningHours) // by store id
)

// Read is one upstream read as a per-request loader: a handle, not state.
// Each request's Loaders make its Keyed the first time the read is used,
// over that request's opened sources, so a new source is one line above
// and nothing else here.
type Read[K comparable, V any] struct {
	name string
	open func(Upstream) func(context.Context, []K) (map[K]V, error)
}

// NewRead declares an upstream read called name; open finds the source's
// cached batch read in the opened sources (hr.LeaveBalances and its kind).
func NewRead[K comparable, V any](name string, open func(Upstream) func(context.Context, []K) (map[K]V, error)) *Read[K, V] {
	return &Read[K, V]{name: name, open: open}
}

// In is the request's loader for r.
func (r *Read[K, V]) In(ctx context.Context) *Keyed[K, V] {
	l := For(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reads == nil {
		l.reads = map[any]any{}
	}
	if k, ok := l.reads[r]; ok {
		return k.(*Keyed[K, V])
	}
	k := newKeyed(batch(l.tr, r.name, r.open(l.up)), l.wait)
	l.reads[r] = k
	return k
}

// Load loads key through the request's loader for r, batched with the
// request's other loads of r within the batch window.
func (r *Read[K, V]) Load(ctx context.Context, key K) (V, error) {
	return r.In(ctx).Load(ctx, key)
}

// New builds a fresh set of loaders over src and up for one request; wait is
// the batch window (0 = DefaultWait). up nil, or a source missing from it,
// answers that source's reads with its ErrUnavailable.
func New(src Source, up Upstream, wait time.Duration) *Loaders {
	if wait <= 0 {
		wait = DefaultWait
	}
	tr := otel.Tracer(tracerName)
	return &Loaders{
		Store:         newKeyed(batch(tr, "Store", src.StoresByID), wait),
		Product:       newKeyed(batch(tr, "Product", src.ProductsBySKU), wait),
		Customer:      newKeyed(batch(tr, "Customer", src.CustomersByID), wait),
		Employee:      newKeyed(batch(tr, "Employee", src.EmployeesByID), wait),
		Backorder:     newKeyed(batch(tr, "Backorder", src.BackordersByID), wait),
		Event:         newKeyed(batch(tr, "Event", src.EventsByID), wait),
		Inventory:     newKeyed(batch(tr, "Inventory", src.InventoryByKeys), wait),
		StockBySKU:    newKeyed(batch(tr, "StockBySKU", withEmpty(src.StockBySKU)), wait),
		History:       newKeyed(batch(tr, "History", withEmpty(src.BackorderHistory)), wait),
		AttendeeCount: newKeyed(batch(tr, "AttendeeCount", withEmpty(src.AttendeeCounts)), wait),
		InventoryPage: newKeyed(batch(tr, "InventoryPage", func(ctx context.Context, keys []InventoryPageKey) (map[InventoryPageKey]store.Paged[store.Inventory], error) {
			return grouped(ctx, keys,
				func(k InventoryPageKey) (string, InventoryPageKey) {
					return k.StoreID, InventoryPageKey{LowStockOnly: k.LowStockOnly, First: k.First, After: k.After}
				},
				func(ctx context.Context, ids []string, g InventoryPageKey) (map[string]store.Paged[store.Inventory], error) {
					return src.InventoryPages(ctx, ids, store.InventoryFilter{LowStockOnly: g.LowStockOnly}, store.Page{First: g.First, After: g.After})
				})
		}), wait),
		BackorderPages: newKeyed(batch(tr, "BackorderPages", func(ctx context.Context, keys []BackorderPageKey) (map[BackorderPageKey]store.Paged[store.Backorder], error) {
			return grouped(ctx, keys,
				func(k BackorderPageKey) (string, BackorderPageKey) {
					return k.OwnerID, BackorderPageKey{ByCustomer: k.ByCustomer, Status: k.Status, StoreID: k.StoreID, First: k.First, After: k.After}
				},
				func(ctx context.Context, ids []string, g BackorderPageKey) (map[string]store.Paged[store.Backorder], error) {
					return src.BackorderPages(ctx, ids, g.ByCustomer, store.BackorderFilter{Status: g.Status, StoreID: g.StoreID}, store.Page{First: g.First, After: g.After})
				})
		}), wait),
		RSVP: newKeyed(batch(tr, "RSVP", func(ctx context.Context, keys []RSVPKey) (map[RSVPKey]store.RSVP, error) {
			events := make(map[string][]string)
			for _, k := range keys {
				events[k.EmployeeID] = append(events[k.EmployeeID], k.EventID)
			}
			out := make(map[RSVPKey]store.RSVP, len(keys))
			// In practice one employee (the caller) per request: one statement.
			for emp, ids := range events {
				m, err := src.RSVPsOf(ctx, emp, ids)
				if err != nil {
					return nil, err
				}
				for ev, r := range m {
					out[RSVPKey{EmployeeID: emp, EventID: ev}] = r
				}
			}
			return out, nil
		}), wait),
		up:     up,
		wait:   wait,
		tr:     tr,
		Levels: new(Levels),
	}
}

// tracerName is the instrumentation scope of the loaders' spans.
const tracerName = "github.com/middletier/middletier/loaders"

// batch gives every batch fetch a span ("loader Store", with the number of
// keys) whose children are the batch's SQL statements or upstream calls: a
// trace shows one batch where N+1 would show N. One span per batch, never
// per key: dataloadgen's own tracer option starts spans for every Load.
func batch[K comparable, V any](tr trace.Tracer, name string, fetch func(context.Context, []K) (map[K]V, error)) func(context.Context, []K) (map[K]V, error) {
	name = "loader " + name
	return func(ctx context.Context, keys []K) (map[K]V, error) {
		ctx, span := tr.Start(ctx, name)
		defer span.End()
		if span.IsRecording() {
			span.SetAttributes(attribute.Int("loader.keys", len(keys)))
		}
		m, err := fetch(ctx, keys)
		if err != nil && span.IsRecording() {
			span.RecordError(err)
			span.SetStatus(codes.Error, "batch failed")
		}
		return m, err
	}
}

// withEmpty makes a key with no rows load as the zero value (an empty list,
// a zero count) instead of ErrNotFound.
func withEmpty[K comparable, V any](fetch func(context.Context, []K) (map[K]V, error)) func(context.Context, []K) (map[K]V, error) {
	return func(ctx context.Context, keys []K) (map[K]V, error) {
		m, err := fetch(ctx, keys)
		if err != nil {
			return nil, err
		}
		if m == nil {
			m = make(map[K]V, len(keys))
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				var zero V
				m[k] = zero
			}
		}
		return m, nil
	}
}

// grouped serves page keys that differ only in their owner with one query per
// distinct page shape (filter, size, cursor): in practice one query.
func grouped[K comparable, V any](
	ctx context.Context,
	keys []K,
	split func(K) (owner string, shape K),
	fetch func(ctx context.Context, owners []string, shape K) (map[string]V, error),
) (map[K]V, error) {
	owners := make(map[K][]string)
	var order []K
	for _, k := range keys {
		id, shape := split(k)
		if _, ok := owners[shape]; !ok {
			order = append(order, shape)
		}
		owners[shape] = append(owners[shape], id)
	}
	out := make(map[K]V, len(keys))
	for _, shape := range order {
		pages, err := fetch(ctx, owners[shape], shape)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			id, s := split(k)
			if s == shape {
				out[k] = pages[id]
			}
		}
	}
	return out, nil
}

type ctxKey struct{}

// lazy is a request's loaders, built on first use: a request that reads
// nothing through them ({ __typename }, introspection, a query refused by
// the limits) does not pay for building a dozen loaders, a quarter of an
// authenticated request's floor.
type lazy struct {
	once sync.Once
	src  Source
	up   Upstream
	wait time.Duration
	l    *Loaders
}

func (z *lazy) get() *Loaders {
	z.once.Do(func() {
		if z.l == nil {
			z.l = New(z.src, z.up, z.wait)
		}
	})
	return z.l
}

// Middleware installs fresh loaders over src and up into every request's
// context; they are built when the request first asks For them.
func Middleware(src Source, up Upstream, wait time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, &lazy{src: src, up: up, wait: wait})))
		})
	}
}

// With returns a context carrying l; the facade uses it for in-process calls.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, &lazy{l: l})
}

// For returns the request's loaders. It panics when none were installed:
// that is a wiring bug, never a client error.
func For(ctx context.Context) *Loaders {
	z, ok := ctx.Value(ctxKey{}).(*lazy)
	if !ok {
		panic("loaders: no loaders in context; is loaders.Middleware installed?")
	}
	return z.get()
}

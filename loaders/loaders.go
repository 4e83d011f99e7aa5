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

	"github.com/vikstrous/dataloadgen"

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

// DefaultWait is the batch window. Every nested level of a query waits one
// window, so it stays short; a busy machine may split a level into a few
// batches, never into one statement per item.
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
	Store          *dataloadgen.Loader[string, store.Store]
	Product        *dataloadgen.Loader[string, store.Product]
	Customer       *dataloadgen.Loader[string, store.Customer]
	Employee       *dataloadgen.Loader[string, store.Employee]
	Backorder      *dataloadgen.Loader[string, store.Backorder]
	Event          *dataloadgen.Loader[string, store.Event]
	Inventory      *dataloadgen.Loader[store.InventoryKey, store.Inventory]
	StockBySKU     *dataloadgen.Loader[string, []store.Inventory]
	History        *dataloadgen.Loader[string, []store.StatusChange]
	AttendeeCount  *dataloadgen.Loader[string, int]
	InventoryPage  *dataloadgen.Loader[InventoryPageKey, store.Paged[store.Inventory]]
	BackorderPages *dataloadgen.Loader[BackorderPageKey, store.Paged[store.Backorder]]
	RSVP           *dataloadgen.Loader[RSVPKey, store.RSVP]

	// The upstream reads' loaders, made on first use (see Read).
	up    Upstream
	opt   dataloadgen.Option
	mu    sync.Mutex
	reads map[any]any // *Read[K, V] -> *dataloadgen.Loader[K, V]
}

// The upstream sources' reads, one line each: the source's own read over
// the opened sources (its package declares it next to its cache policy).
// A key the source does not know loads as dataloadgen.ErrNotFound.
var (
	LeaveBalance = NewRead(hr.LeaveBalances)    // by employee id
	Restock      = NewRead(supply.NextRestocks) // none scheduled: not found
	NewsPage     = NewRead(news.Pages)          // one page of company news
	OpeningHours = NewRead(hours.OpeningHours)  // by store id
)

// Read is one upstream read as a per-request loader: a handle, not state.
// Each request's Loaders make the loader the first time the read is used,
// over that request's opened sources, so a new source is one line above
// and nothing else here.
type Read[K comparable, V any] struct {
	open func(Upstream) func(context.Context, []K) (map[K]V, error)
}

// NewRead declares an upstream read; open finds the source's cached batch
// read in the opened sources (hr.LeaveBalances and its kind).
func NewRead[K comparable, V any](open func(Upstream) func(context.Context, []K) (map[K]V, error)) *Read[K, V] {
	return &Read[K, V]{open: open}
}

// Load loads key through the request's loader for r (batched with the
// request's other loads of r within the batch window).
func (r *Read[K, V]) Load(ctx context.Context, key K) (V, error) {
	return r.loader(For(ctx)).Load(ctx, key)
}

func (r *Read[K, V]) loader(l *Loaders) *dataloadgen.Loader[K, V] {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reads == nil {
		l.reads = map[any]any{}
	}
	if ld, ok := l.reads[r]; ok {
		return ld.(*dataloadgen.Loader[K, V])
	}
	ld := dataloadgen.NewMappedLoader(r.open(l.up), l.opt)
	l.reads[r] = ld
	return ld
}

// New builds a fresh set of loaders over src and up for one request; wait is
// the batch window (0 = DefaultWait). up nil, or a source missing from it,
// answers that source's reads with its ErrUnavailable.
func New(src Source, up Upstream, wait time.Duration) *Loaders {
	if wait <= 0 {
		wait = DefaultWait
	}
	opt := dataloadgen.WithWait(wait)
	return &Loaders{
		Store:         dataloadgen.NewMappedLoader(src.StoresByID, opt),
		Product:       dataloadgen.NewMappedLoader(src.ProductsBySKU, opt),
		Customer:      dataloadgen.NewMappedLoader(src.CustomersByID, opt),
		Employee:      dataloadgen.NewMappedLoader(src.EmployeesByID, opt),
		Backorder:     dataloadgen.NewMappedLoader(src.BackordersByID, opt),
		Event:         dataloadgen.NewMappedLoader(src.EventsByID, opt),
		Inventory:     dataloadgen.NewMappedLoader(src.InventoryByKeys, opt),
		StockBySKU:    dataloadgen.NewMappedLoader(withEmpty(src.StockBySKU), opt),
		History:       dataloadgen.NewMappedLoader(withEmpty(src.BackorderHistory), opt),
		AttendeeCount: dataloadgen.NewMappedLoader(withEmpty(src.AttendeeCounts), opt),
		InventoryPage: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []InventoryPageKey) (map[InventoryPageKey]store.Paged[store.Inventory], error) {
			return grouped(ctx, keys,
				func(k InventoryPageKey) (string, InventoryPageKey) {
					return k.StoreID, InventoryPageKey{LowStockOnly: k.LowStockOnly, First: k.First, After: k.After}
				},
				func(ctx context.Context, ids []string, g InventoryPageKey) (map[string]store.Paged[store.Inventory], error) {
					return src.InventoryPages(ctx, ids, store.InventoryFilter{LowStockOnly: g.LowStockOnly}, store.Page{First: g.First, After: g.After})
				})
		}, opt),
		BackorderPages: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []BackorderPageKey) (map[BackorderPageKey]store.Paged[store.Backorder], error) {
			return grouped(ctx, keys,
				func(k BackorderPageKey) (string, BackorderPageKey) {
					return k.OwnerID, BackorderPageKey{ByCustomer: k.ByCustomer, Status: k.Status, StoreID: k.StoreID, First: k.First, After: k.After}
				},
				func(ctx context.Context, ids []string, g BackorderPageKey) (map[string]store.Paged[store.Backorder], error) {
					return src.BackorderPages(ctx, ids, g.ByCustomer, store.BackorderFilter{Status: g.Status, StoreID: g.StoreID}, store.Page{First: g.First, After: g.After})
				})
		}, opt),
		RSVP: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []RSVPKey) (map[RSVPKey]store.RSVP, error) {
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
		}, opt),
		up:  up,
		opt: opt,
	}
}

// withEmpty makes a key with no rows load as the zero value (an empty list,
// a zero count) instead of dataloadgen's ErrNotFound.
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

// Middleware installs fresh loaders over src and up into every request's context.
func Middleware(src Source, up Upstream, wait time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(With(r.Context(), New(src, up, wait))))
		})
	}
}

// With returns a context carrying l; the facade uses it for in-process calls.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the request's loaders. It panics when none were installed:
// that is a wiring bug, never a client error.
func For(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("loaders: no loaders in context; is loaders.Middleware installed?")
	}
	return l
}

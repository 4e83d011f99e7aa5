package resolvers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/vikstrous/dataloadgen"

	"github.com/middletier/middletier/graph/model"
	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/loaders"
)

// page turns the paging arguments of the field being resolved into a store
// page: a null first is the schema's default for it. The store checks the
// bounds again.
func page(ctx context.Context, first *int, after *string) (store.Page, error) {
	n, err := orDefault(ctx, "first", first)
	if err != nil {
		return store.Page{}, err
	}
	if n == 0 {
		// 0 would mean "the default" to the store; in GraphQL it is a mistake.
		n = -1
	}
	return store.Page{First: n, After: deref(after)}, nil
}

func pageInfo[T any](p store.Paged[T]) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: p.HasNext}
	if p.EndCursor != "" {
		c := p.EndCursor
		pi.EndCursor = &c
	}
	return pi
}

// inventoryConnection and backorderConnection shape a loaded page.
func inventoryConnection(p store.Paged[store.Inventory], err error) (*model.InventoryConnection, error) {
	if err != nil {
		return nil, err
	}
	return &model.InventoryConnection{Nodes: p.Items, PageInfo: pageInfo(p)}, nil
}

func backorderConnection(p store.Paged[store.Backorder], err error) (*model.BackorderConnection, error) {
	if err != nil {
		return nil, err
	}
	return &model.BackorderConnection{Nodes: p.Items, PageInfo: pageInfo(p)}, nil
}

// deref reads an optional argument; absent is the zero value, which the
// store reads as "not given" (no filter, no note).
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// optional loads a root entity and answers null when it does not exist.
func optional[T any](v T, err error) (*T, error) {
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// required loads a related entity that must exist; a missing row is a broken
// reference, so it is an internal error, not the client's.
func required[T any](v T, err error) (*T, error) {
	if err != nil {
		return nil, fmt.Errorf("load related row: %w", err)
	}
	return &v, nil
}

// storeExists turns an unknown store id into a NOT_FOUND error naming it.
func storeExists(ctx context.Context, id string) (store.Store, error) {
	s, err := loaders.For(ctx).Store.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return s, fmt.Errorf("store %s: %w", id, store.ErrNotFound)
	}
	return s, err
}

// pageOfKnownStore turns a list of storeID's rows (n of them, or listErr)
// into NOT_FOUND when the store does not exist. Only an empty page (or a
// refused one: the unknown store is the first thing to tell) needs the
// lookup; a row names its store, so a page with rows costs none.
func pageOfKnownStore(ctx context.Context, storeID string, n int, listErr error) error {
	if listErr == nil && n > 0 {
		return nil
	}
	if _, err := storeExists(ctx, storeID); err != nil {
		return err
	}
	return listErr
}

// actorID is the signed-in employee's id, or nil before identity is known.
func actorID(ctx context.Context) *string {
	if p, ok := auth.PrincipalFrom(ctx); ok && p.EmployeeID != "" {
		id := p.EmployeeID
		return &id
	}
	return nil
}

// canChangeStatus applies the status-change rule to the backorder's store;
// an unknown backorder is left to the store, which answers NOT_FOUND.
func canChangeStatus(ctx context.Context, backorderID string) error {
	b, err := loaders.For(ctx).Backorder.Load(ctx, backorderID)
	switch {
	case errors.Is(err, dataloadgen.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	return auth.CanChangeBackorderStatus(ctx, b.StoreID)
}

// availability gathers stock at storeID and the nearest stores that have the product.
// nearbyLimit is within the schema's @range: internal/input refused any
// other value before resolvers ran.
func availability(ctx context.Context, storeID, sku string, nearbyLimit int) (*model.Availability, error) {
	l := loaders.For(ctx)
	here, err := storeExists(ctx, storeID)
	if err != nil {
		return nil, err
	}
	a := &model.Availability{StoreID: storeID, SKU: sku, Nearby: []model.NearbyStock{}}
	inv, err := l.Inventory.Load(ctx, store.InventoryKey{StoreID: storeID, SKU: sku})
	switch {
	case errors.Is(err, dataloadgen.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		a.OnHand, a.Available = inv.OnHand, inv.Available()
	}
	a.InStock = a.Available > 0
	if nearbyLimit == 0 {
		return a, nil
	}
	stock, err := l.StockBySKU.Load(ctx, sku)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(stock))
	for _, s := range stock {
		if s.StoreID != storeID {
			ids = append(ids, s.StoreID)
		}
	}
	stores, errs := l.Store.LoadAll(ctx, ids)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	byID := make(map[string]store.Store, len(stores))
	for _, s := range stores {
		byID[s.ID] = s
	}
	for _, s := range stock {
		other, ok := byID[s.StoreID]
		if !ok || s.StoreID == storeID {
			continue
		}
		a.Nearby = append(a.Nearby, model.NearbyStock{
			StoreID:    s.StoreID,
			Available:  s.Available(),
			DistanceKm: math.Round(distanceKm(here, other)*10) / 10,
		})
	}
	sort.SliceStable(a.Nearby, func(i, j int) bool { return a.Nearby[i].DistanceKm < a.Nearby[j].DistanceKm })
	if len(a.Nearby) > nearbyLimit {
		a.Nearby = a.Nearby[:nearbyLimit]
	}
	return a, nil
}

// distanceKm is the great-circle (haversine) distance between two stores.
func distanceKm(a, b store.Store) float64 {
	const earthRadiusKm = 6371.0
	rad := func(d float64) float64 { return d * math.Pi / 180 }
	dLat, dLon := rad(b.Latitude-a.Latitude), rad(b.Longitude-a.Longitude)
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(rad(a.Latitude))*math.Cos(rad(b.Latitude))*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(h))
}

// recordParams converts the GraphQL input into the store's parameters.
func recordParams(ctx context.Context, in model.RecordBackorderInput) store.RecordBackorderParams {
	p := store.RecordBackorderParams{
		StoreID:           in.StoreID,
		SKU:               strings.TrimSpace(in.Sku),
		Quantity:          in.Quantity,
		CustomerID:        deref(in.CustomerID),
		ContactPreference: in.ContactPreference,
		Note:              deref(in.Note),
		RecordedBy:        actorID(ctx),
	}
	if c := in.NewCustomer; c != nil {
		p.NewCustomer = &store.NewCustomer{Name: strings.TrimSpace(c.Name), Phone: strings.TrimSpace(deref(c.Phone)), Email: strings.TrimSpace(deref(c.Email))}
	}
	return p
}

package resolvers

import (
	"context"

	"github.com/middletier/middletier/graph/model"
	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/upstream/supply"
	"github.com/middletier/middletier/loaders"
)

// The keys batch resolvers read their relations by, one function per
// relation so that the resolvers stay one line.

func backorderID(b *store.Backorder) string          { return b.ID }
func backorderStore(b *store.Backorder) string       { return b.StoreID }
func backorderRecordedBy(b *store.Backorder) *string { return b.RecordedBy }
func backorderRestock(b *store.Backorder) supply.RestockKey {
	return supply.RestockKey{StoreID: b.StoreID, SKU: b.SKU}
}
func changedBy(c *store.StatusChange) *string  { return c.ChangedBy }
func eventID(e *store.Event) string            { return e.ID }
func inventoryStore(i *store.Inventory) string { return i.StoreID }
func nearbyStore(n *model.NearbyStock) string  { return n.StoreID }
func storeID(s *store.Store) string            { return s.ID }

// inventoryPage keys a store by one page of its inventory.
func inventoryPage(lowStockOnly *bool, p store.Page) func(*store.Store) loaders.InventoryPageKey {
	low := lowStockOnly != nil && *lowStockOnly
	return func(s *store.Store) loaders.InventoryPageKey {
		return loaders.InventoryPageKey{StoreID: s.ID, LowStockOnly: low, First: p.First, After: p.After}
	}
}

// storeBackorderPage keys a store by one page of its backorders.
func storeBackorderPage(status store.BackorderStatus, p store.Page) func(*store.Store) loaders.BackorderPageKey {
	return func(s *store.Store) loaders.BackorderPageKey {
		return loaders.BackorderPageKey{OwnerID: s.ID, Status: status, First: p.First, After: p.After}
	}
}

// canReadStore is the store-data rule (auth.CanReadStore) for a store parent.
func canReadStore(ctx context.Context) func(*store.Store) error {
	return func(s *store.Store) error { return auth.CanReadStore(ctx, s.ID) }
}

// rsvpOf keys an event by the caller's answer to it: the employee is part of
// the key, never read by the loader, so no one gets another's answer.
func rsvpOf(employeeID string) func(*store.Event) loaders.RSVPKey {
	return func(e *store.Event) loaders.RSVPKey { return loaders.RSVPKey{EmployeeID: employeeID, EventID: e.ID} }
}

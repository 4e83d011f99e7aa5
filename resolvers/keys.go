package resolvers

import (
	"github.com/middletier/middletier/graph/model"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/upstream/supply"
	"github.com/middletier/middletier/loaders"
)

// The keys batch resolvers read their relations by, one function per
// relation so that the resolvers stay one line.

func backorderID(b *store.Backorder) string          { return b.ID }
func backorderStore(b *store.Backorder) string       { return b.StoreID }
func backorderSKU(b *store.Backorder) string         { return b.SKU }
func backorderCustomer(b *store.Backorder) string    { return b.CustomerID }
func backorderRecordedBy(b *store.Backorder) *string { return b.RecordedBy }
func backorderRestock(b *store.Backorder) supply.RestockKey {
	return supply.RestockKey{StoreID: b.StoreID, SKU: b.SKU}
}
func changedBy(c *store.StatusChange) *string  { return c.ChangedBy }
func eventID(e *store.Event) string            { return e.ID }
func inventoryStore(i *store.Inventory) string { return i.StoreID }
func inventorySKU(i *store.Inventory) string   { return i.SKU }
func nearbyStore(n *model.NearbyStock) string  { return n.StoreID }
func storeID(s *store.Store) string            { return s.ID }

// rsvpOf keys an event by the caller's answer to it: the employee is part of
// the key, never read by the loader, so no one gets another's answer.
func rsvpOf(employeeID string) func(*store.Event) loaders.RSVPKey {
	return func(e *store.Event) loaders.RSVPKey { return loaders.RSVPKey{EmployeeID: employeeID, EventID: e.ID} }
}

package resolvers

import (
	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/store"
)

// Costs of the fields that reach a source, beyond the 1 every field costs.
// They make the complexity limit bound the work a query can make the
// backends do, not just the number of fields written.
const (
	// searchCost: a text search is a scan (LIKE '%term%' over every row,
	// however long the term), the most a single statement here can cost.
	// At 100, the default limit of 5,000 admits a few dozen searches in one
	// request, never a thousand.
	searchCost = 100
	// upstreamListCost: an unbatched call to an upstream service (a news
	// page); each distinct page is an HTTP call the loader cannot merge.
	upstreamListCost = 50
	// upstreamKeyCost: one key of a batched upstream read (a leave balance,
	// a restock date): the loader merges keys into one call, but the
	// service still looks each one up.
	upstreamKeyCost = 5
)

// Complexity makes a paged list cost its page size times what each item
// costs, a search and an upstream read what they cost their source, so the
// complexity limit bounds the rows and calls a query can make the backends
// produce. Introspection (__schema, __type) is costed by the executor.
func Complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	c.Query.Stores = func(child int, first *int, _ *string) int { return paged(child, first) }
	c.Query.Products = func(child int, search, _, _ *string, first *int, _ *string) int {
		if search != nil && *search != "" {
			return searchCost + paged(child, first)
		}
		return paged(child, first)
	}
	c.Query.Customers = func(child int, _ string, first *int, _ *string) int { return searchCost + paged(child, first) }
	c.Query.Backorders = func(child int, _ string, _ *store.BackorderStatus, first *int, _ *string) int {
		return paged(child, first)
	}
	c.Query.Events = func(child int, _ *bool, first *int, _ *string) int { return paged(child, first) }
	c.Query.News = func(child int, first *int, _ *string) int {
		return upstreamListCost + 1 + child*max(deref0(first, 10), 1)
	}
	c.Store.Inventory = func(child int, _ *bool, first *int, _ *string) int { return paged(child, first) }
	c.Store.Backorders = func(child int, _ *store.BackorderStatus, first *int, _ *string) int { return paged(child, first) }
	c.Customer.Backorders = func(child int, _ *store.BackorderStatus, first *int, _ *string) int { return paged(child, first) }
	c.Product.Availability = func(child int, _ string, nearby *int) int { return 1 + child*max(deref0(nearby, 5), 1) }
	c.Employee.LeaveBalance = func(child int) int { return upstreamKeyCost + 1 + child }
	c.Backorder.NextRestock = func(child int) int { return upstreamKeyCost + 1 + child }
	c.Availability.NextRestock = func(child int) int { return upstreamKeyCost + 1 + child }
	return c
}

func paged(child int, first *int) int { return 1 + child*max(deref0(first, 20), 1) }

func deref0(v *int, def int) int {
	if v == nil {
		return def
	}
	return *v
}

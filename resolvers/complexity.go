package resolvers

import "github.com/middletier/middletier/graph"

// Complexity makes a paged list cost its page size times what each item
// costs, so the complexity limit bounds the rows a query can make the
// backends produce, not just the number of fields written.
func Complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	c.Query.Stores = func(child int, first *int, _ *string) int { return paged(child, first) }
	c.Query.Products = func(child int, _, _, _ *string, first *int, _ *string) int { return paged(child, first) }
	c.Query.Customers = func(child int, _ string, first *int, _ *string) int { return paged(child, first) }
	c.Query.Backorders = func(child int, _ string, _ *string, first *int, _ *string) int { return paged(child, first) }
	c.Query.Events = func(child int, _ *bool, first *int, _ *string) int { return paged(child, first) }
	c.Query.News = func(child int, first *int, _ *string) int { return 1 + child*max(deref0(first, 10), 1) }
	c.Store.Inventory = func(child int, _ *bool, first *int, _ *string) int { return paged(child, first) }
	c.Store.Backorders = func(child int, _ *string, first *int, _ *string) int { return paged(child, first) }
	c.Customer.Backorders = func(child int, _ *string, first *int, _ *string) int { return paged(child, first) }
	c.Product.Availability = func(child int, _ string, nearby *int) int { return 1 + child*max(deref0(nearby, 5), 1) }
	return c
}

func paged(child int, first *int) int { return 1 + child*max(deref0(first, 20), 1) }

func deref0(v *int, def int) int {
	if v == nil {
		return def
	}
	return *v
}

package store

import (
	"context"
	"fmt"
	"strings"
)

const productCols = `sku, name, description, category, barcode, price_cents`

// SearchProducts returns the products matching f, ordered by SKU.
func (s *DB) SearchProducts(ctx context.Context, f ProductFilter, page Page) (Paged[Product], error) {
	n, err := pageSize(page)
	if err != nil {
		return Paged[Product]{}, err
	}
	var w where
	if t := strings.ToLower(strings.TrimSpace(f.Text)); t != "" {
		w.add(`search_text LIKE ?`+likeEscape, likeContains(t))
	}
	if sku := strings.TrimSpace(f.SKU); sku != "" {
		w.add(`(sku = ? OR barcode = ?)`, sku, sku)
	}
	if f.Category != "" {
		w.add(`category = ?`, f.Category)
	}
	var c skuCursor
	if ok, err := decodeCursor(page.After, &c); err != nil {
		return Paged[Product]{}, err
	} else if ok {
		w.add(`sku > ?`, c.SKU)
	}
	var rows []Product
	q := `SELECT ` + productCols + ` FROM products` + w.String() + ` ORDER BY sku LIMIT ?`
	if err := s.selectContext(ctx, &rows, q, append(w.args, n+1)...); err != nil {
		return Paged[Product]{}, fmt.Errorf("search products: %w", err)
	}
	return finishPage(rows, n, func(x Product) any { return skuCursor{SKU: x.SKU} }), nil
}

// ProductsBySKU loads products in one statement; unknown SKUs are absent.
func (s *DB) ProductsBySKU(ctx context.Context, skus []string) (map[string]Product, error) {
	return byKeys(ctx, s, "products by sku", `SELECT `+productCols+` FROM products`, "sku", skus, func(r Product) string { return r.SKU })
}

const inventoryCols = `store_id, sku, on_hand, reserved, reorder_point, updated_at`

// productAs is product p's columns named for a row's nested Product
// (sqlx fills `db:"product"` from "product.sku" and so on).
const productAs = `p.sku AS "product.sku", p.name AS "product.name", p.description AS "product.description",
		p.category AS "product.category", p.barcode AS "product.barcode", p.price_cents AS "product.price_cents"`

// withProduct wraps a query of inventoryCols rows (inner) so that every row
// comes with its product, read in the same statement, as withParties does
// for backorders. order is the outer ORDER BY over i's columns ("" for
// none), since a join need not keep the inner query's order.
func withProduct(inner, order string) string {
	q := `SELECT i.store_id, i.sku, i.on_hand, i.reserved, i.reorder_point, i.updated_at, ` + productAs + `
	FROM (` + inner + `) i
	JOIN products p ON p.sku = i.sku`
	if order != "" {
		q += ` ORDER BY ` + order
	}
	return q
}

// InventoryByKeys loads stock rows in one statement; unknown keys are absent.
func (s *DB) InventoryByKeys(ctx context.Context, keys []InventoryKey) (map[InventoryKey]Inventory, error) {
	out := make(map[InventoryKey]Inventory, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	keys = uniq(keys)
	var (
		q    = `SELECT ` + inventoryCols + ` FROM inventory WHERE `
		args []any
	)
	if s.dialect == Postgres {
		// Two arrays zipped into pairs: one statement text for any number
		// of keys (see oneOf).
		stores, skus := make([]string, len(keys)), make([]string, len(keys))
		for i, k := range keys {
			stores[i], skus[i] = k.StoreID, k.SKU
		}
		q += `(store_id, sku) IN (SELECT * FROM unnest(CAST(? AS text[]), CAST(? AS text[])))`
		args = []any{stores, skus}
	} else {
		// OR of pairs rather than a row-value IN list: SQLite accepts row
		// values on the right of IN only as a subquery, and turns this into
		// primary-key lookups.
		conds := make([]string, len(keys))
		args = make([]any, 0, 2*len(keys))
		for i, k := range keys {
			conds[i] = `(store_id = ? AND sku = ?)`
			args = append(args, k.StoreID, k.SKU)
		}
		q += strings.Join(conds, ` OR `)
	}
	var rows []Inventory
	if err := s.selectContext(ctx, &rows, withProduct(q, ""), args...); err != nil {
		return nil, fmt.Errorf("inventory by keys: %w", err)
	}
	for _, r := range rows {
		out[InventoryKey{StoreID: r.StoreID, SKU: r.SKU}] = r
	}
	return out, nil
}

// InventoryPages returns one page of each store's inventory, ordered by SKU,
// in one statement. Every requested store has an entry, possibly empty. The
// cursor is a SKU, so the same page arguments mean the same thing for every store.
func (s *DB) InventoryPages(ctx context.Context, storeIDs []string, f InventoryFilter, page Page) (map[string]Paged[Inventory], error) {
	n, err := pageSize(page)
	if err != nil {
		return nil, err
	}
	var c skuCursor
	hasCursor, err := decodeCursor(page.After, &c)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Paged[Inventory], len(storeIDs))
	if len(storeIDs) == 0 {
		return out, nil
	}
	ids := uniq(storeIDs)
	var w where
	cond, args := s.oneOf("store_id", ids)
	w.add(cond, args...)
	if hasCursor {
		w.add(`sku > ?`, c.SKU)
	}
	if f.LowStockOnly {
		w.add(`on_hand - reserved <= reorder_point`)
	}
	q := `SELECT ` + inventoryCols + ` FROM (
		SELECT ` + inventoryCols + `, ROW_NUMBER() OVER (PARTITION BY store_id ORDER BY sku) AS rn
		FROM inventory` + w.String() + `
	) ranked WHERE rn <= ? ORDER BY store_id, sku`
	if len(ids) == 1 {
		// One store (a home view, a store page): walk the primary key in
		// SKU order and stop at the page, instead of numbering every
		// matching row of the store first.
		q = `SELECT ` + inventoryCols + ` FROM inventory` + w.String() + ` ORDER BY store_id, sku LIMIT ?`
	}
	var rows []Inventory
	if err := s.selectContext(ctx, &rows, withProduct(q, `i.store_id, i.sku`), append(w.args, n+1)...); err != nil {
		return nil, fmt.Errorf("inventory pages: %w", err)
	}
	byStore := make(map[string][]Inventory, len(ids))
	for _, r := range rows {
		byStore[r.StoreID] = append(byStore[r.StoreID], r)
	}
	for _, id := range ids {
		out[id] = finishPage(byStore[id], n, func(x Inventory) any { return skuCursor{SKU: x.SKU} })
	}
	return out, nil
}

// StockBySKU returns, per SKU, the stores that can sell it now (available > 0),
// ordered by store id.
func (s *DB) StockBySKU(ctx context.Context, skus []string) (map[string][]Inventory, error) {
	out := make(map[string][]Inventory, len(skus))
	if len(skus) == 0 {
		return out, nil
	}
	cond, args := s.oneOf("sku", uniq(skus))
	q := withProduct(`SELECT `+inventoryCols+` FROM inventory WHERE `+cond+` AND on_hand - reserved > 0`, `i.sku, i.store_id`)
	var rows []Inventory
	if err := s.selectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("stock by sku: %w", err)
	}
	for _, r := range rows {
		out[r.SKU] = append(out[r.SKU], r)
	}
	return out, nil
}

package store

import (
	"context"
	"fmt"
)

const storeCols = `id, name, city, address, latitude, longitude, phone`

// ListStores returns stores matching f ordered by id.
func (s *DB) ListStores(ctx context.Context, f StoreFilter, page Page) (Paged[Store], error) {
	n, err := pageSize(page)
	if err != nil {
		return Paged[Store]{}, err
	}
	var w where
	if f.ID != "" {
		w.add("id = ?", f.ID)
	}
	var c idCursor
	if ok, err := decodeCursor(page.After, &c); err != nil {
		return Paged[Store]{}, err
	} else if ok {
		w.add("id > ?", c.ID)
	}
	var rows []Store
	q := `SELECT ` + storeCols + ` FROM stores` + w.String() + ` ORDER BY id LIMIT ?`
	if err := s.selectContext(ctx, &rows, q, append(w.args, n+1)...); err != nil {
		return Paged[Store]{}, fmt.Errorf("list stores: %w", err)
	}
	return finishPage(rows, n, func(x Store) any { return idCursor{ID: x.ID} }), nil
}

// StoresByID loads stores in one statement; unknown ids are absent.
func (s *DB) StoresByID(ctx context.Context, ids []string) (map[string]Store, error) {
	return byKeys(ctx, s, "stores by id", `SELECT `+storeCols+` FROM stores`, "id", ids, func(r Store) string { return r.ID })
}

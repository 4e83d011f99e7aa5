package store

import (
	"context"
	"fmt"
	"strings"
)

const customerCols = `id, name, phone, email, created_at`

// minPhoneDigits is how many digits a search needs before it is also tried
// as a phone number; fewer would match nearly every customer.
const minPhoneDigits = 3

// SearchCustomers returns customers whose name, email or phone matches text
// (case-insensitive substring; "" matches all), ordered by name, then id.
func (s *DB) SearchCustomers(ctx context.Context, text string, page Page) (Paged[Customer], error) {
	n, err := pageSize(page)
	if err != nil {
		return Paged[Customer]{}, err
	}
	var w where
	if t := strings.ToLower(strings.TrimSpace(text)); t != "" {
		if d := digitsOf(t); len(d) >= minPhoneDigits && d != t {
			w.add(`(search_text LIKE ?`+likeEscape+` OR search_text LIKE ?`+likeEscape+`)`, likeContains(t), likeContains(d))
		} else {
			w.add(`search_text LIKE ?`+likeEscape, likeContains(t))
		}
	}
	var c nameCursor
	if ok, err := decodeCursor(page.After, &c); err != nil {
		return Paged[Customer]{}, err
	} else if ok {
		w.add(`(name, id) > (?, ?)`, c.Name, c.ID)
	}
	var rows []Customer
	q := `SELECT ` + customerCols + ` FROM customers` + w.String() + ` ORDER BY name, id LIMIT ?`
	if err := s.selectContext(ctx, &rows, q, append(w.args, n+1)...); err != nil {
		return Paged[Customer]{}, fmt.Errorf("search customers: %w", err)
	}
	return finishPage(rows, n, func(x Customer) any { return nameCursor{Name: x.Name, ID: x.ID} }), nil
}

// CustomersByID loads customers in one statement; unknown ids are absent.
func (s *DB) CustomersByID(ctx context.Context, ids []string) (map[string]Customer, error) {
	return byKeys(ctx, s, "customers by id", `SELECT `+customerCols+` FROM customers`, "id", ids, func(r Customer) string { return r.ID })
}

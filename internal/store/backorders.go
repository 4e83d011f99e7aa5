package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on what a maker may record.
const (
	MaxQuantity = 999
	MaxNoteLen  = 500 // characters, not bytes
)

const backorderCols = `id, store_id, sku, customer_id, quantity, contact_preference, status, note, recorded_by, created_at, updated_at`

// withParties wraps a query of backorderCols rows (inner) so that every row
// comes with its customer and product, read in the same statement: a
// backorder is never shown without them, and reading them here costs a
// primary-key join per row instead of a second and third statement and,
// in the GraphQL engine, a resolver per row and field. order is the outer
// ORDER BY over b's columns ("" for none), since a join need not keep the
// inner query's order.
func withParties(inner, order string) string {
	q := `SELECT b.id, b.store_id, b.sku, b.customer_id, b.quantity, b.contact_preference, b.status, b.note,
		b.recorded_by, b.created_at, b.updated_at,
		c.id AS "customer.id", c.name AS "customer.name", c.phone AS "customer.phone",
		c.email AS "customer.email", c.created_at AS "customer.created_at", ` + productAs + `
	FROM (` + inner + `) b
	JOIN customers c ON c.id = b.customer_id
	JOIN products p ON p.sku = b.sku`
	if order != "" {
		q += ` ORDER BY ` + order
	}
	return q
}

func checkStatusFilter(s BackorderStatus) error {
	if s != "" && !s.Valid() {
		return fmt.Errorf("status %q is not one of OPEN, NOTIFIED, FULFILLED, CANCELLED: %w", s, ErrInvalidInput)
	}
	return nil
}

func backorderCursor(b Backorder) any { return timeCursor{T: b.CreatedAtMS, ID: b.ID} }

// ListBackorders returns backorders matching f, newest first.
func (s *DB) ListBackorders(ctx context.Context, f BackorderFilter, page Page) (Paged[Backorder], error) {
	n, err := pageSize(page)
	if err != nil {
		return Paged[Backorder]{}, err
	}
	if err := checkStatusFilter(f.Status); err != nil {
		return Paged[Backorder]{}, err
	}
	var w where
	if f.StoreID != "" {
		w.add(`store_id = ?`, f.StoreID)
	}
	if f.CustomerID != "" {
		w.add(`customer_id = ?`, f.CustomerID)
	}
	if f.Status != "" {
		w.add(`status = ?`, f.Status)
	}
	var c timeCursor
	if ok, err := decodeCursor(page.After, &c); err != nil {
		return Paged[Backorder]{}, err
	} else if ok {
		w.add(`(created_at, id) < (?, ?)`, c.T, c.ID)
	}
	var rows []Backorder
	q := withParties(`SELECT `+backorderCols+` FROM backorders`+w.String()+` ORDER BY created_at DESC, id DESC LIMIT ?`,
		`b.created_at DESC, b.id DESC`)
	if err := s.selectContext(ctx, &rows, q, append(w.args, n+1)...); err != nil {
		return Paged[Backorder]{}, fmt.Errorf("list backorders: %w", err)
	}
	return finishPage(rows, n, backorderCursor), nil
}

// BackorderPages returns one page of backorders per store (or per customer
// when byCustomer), newest first, in one statement. Every requested owner has
// an entry, possibly empty. f.Status "" means any status; f.StoreID narrows
// customers' backorders to one store ("" = every store); f.CustomerID is unused.
func (s *DB) BackorderPages(ctx context.Context, ownerIDs []string, byCustomer bool, f BackorderFilter, page Page) (map[string]Paged[Backorder], error) {
	status := f.Status
	n, err := pageSize(page)
	if err != nil {
		return nil, err
	}
	if err := checkStatusFilter(status); err != nil {
		return nil, err
	}
	var c timeCursor
	hasCursor, err := decodeCursor(page.After, &c)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Paged[Backorder], len(ownerIDs))
	if len(ownerIDs) == 0 {
		return out, nil
	}
	owner := "store_id"
	if byCustomer {
		owner = "customer_id"
	}
	ids := uniq(ownerIDs)
	var w where
	if len(ids) == 1 {
		// A plain equality, not = ANY: with it the owner's index
		// (owner, created_at, id) gives the rows newest first.
		w.add(owner+` = ?`, ids[0])
	} else {
		cond, args := s.oneOf(owner, ids)
		w.add(cond, args...)
	}
	if status != "" {
		w.add(`status = ?`, status)
	}
	if f.StoreID != "" {
		w.add(`store_id = ?`, f.StoreID)
	}
	if hasCursor {
		w.add(`(created_at, id) < (?, ?)`, c.T, c.ID)
	}
	q := `SELECT ` + backorderCols + ` FROM (
		SELECT ` + backorderCols + `,
			ROW_NUMBER() OVER (PARTITION BY ` + owner + ` ORDER BY created_at DESC, id DESC) AS rn
		FROM backorders` + w.String() + `
	) ranked WHERE rn <= ?`
	order := `b.` + owner + `, b.created_at DESC, b.id DESC`
	if len(ids) == 1 {
		// One owner (a store's list, a customer's): walk the owner's index
		// newest first and stop at the page, instead of numbering every
		// matching row first. Ordering by the owner too would mix
		// directions and make the database sort every row of the owner.
		q = `SELECT ` + backorderCols + ` FROM backorders` + w.String() + ` ORDER BY created_at DESC, id DESC LIMIT ?`
		order = `b.created_at DESC, b.id DESC`
	}
	q = withParties(q, order)
	var rows []Backorder
	if err := s.selectContext(ctx, &rows, q, append(w.args, n+1)...); err != nil {
		return nil, fmt.Errorf("backorder pages: %w", err)
	}
	byOwner := make(map[string][]Backorder, len(ids))
	for _, r := range rows {
		k := r.StoreID
		if byCustomer {
			k = r.CustomerID
		}
		byOwner[k] = append(byOwner[k], r)
	}
	for _, id := range ids {
		out[id] = finishPage(byOwner[id], n, backorderCursor)
	}
	return out, nil
}

// BackordersByID loads backorders in one statement; unknown ids are absent.
func (s *DB) BackordersByID(ctx context.Context, ids []string) (map[string]Backorder, error) {
	return byKeys(ctx, s, "backorders by id", withParties(`SELECT `+backorderCols+` FROM backorders`, ""), "b.id", ids, func(r Backorder) string { return r.ID })
}

const statusChangeCols = `backorder_id, seq, status, note, changed_by, changed_at`

// BackorderHistory returns each backorder's status changes in order, in one
// statement; backorders without history are absent.
func (s *DB) BackorderHistory(ctx context.Context, backorderIDs []string) (map[string][]StatusChange, error) {
	out := make(map[string][]StatusChange, len(backorderIDs))
	if len(backorderIDs) == 0 {
		return out, nil
	}
	cond, args := s.oneOf("backorder_id", uniq(backorderIDs))
	q := `SELECT ` + statusChangeCols + ` FROM backorder_status_changes WHERE ` + cond + ` ORDER BY backorder_id, seq`
	var rows []StatusChange
	if err := s.selectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("backorder history: %w", err)
	}
	for _, r := range rows {
		out[r.BackorderID] = append(out[r.BackorderID], r)
	}
	return out, nil
}

// normalizeRecord trims p's free text and checks everything that needs no
// database, so that bad input costs no statement.
func normalizeRecord(p RecordBackorderParams) (RecordBackorderParams, error) {
	p.StoreID = strings.TrimSpace(p.StoreID)
	p.SKU = strings.TrimSpace(p.SKU)
	p.CustomerID = strings.TrimSpace(p.CustomerID)
	p.Note = strings.TrimSpace(p.Note)
	if p.StoreID == "" {
		return p, fmt.Errorf("storeId is required: %w", ErrInvalidInput)
	}
	if p.SKU == "" {
		return p, fmt.Errorf("sku is required: %w", ErrInvalidInput)
	}
	if p.Quantity < 1 || p.Quantity > MaxQuantity {
		return p, fmt.Errorf("quantity must be between 1 and %d, got %d: %w", MaxQuantity, p.Quantity, ErrInvalidInput)
	}
	if !p.ContactPreference.Valid() {
		return p, fmt.Errorf("contactPreference must be EMAIL, PHONE or SMS, got %q: %w", p.ContactPreference, ErrInvalidInput)
	}
	if n := utf8.RuneCountInString(p.Note); n > MaxNoteLen {
		return p, fmt.Errorf("note must be at most %d characters, got %d: %w", MaxNoteLen, n, ErrInvalidInput)
	}
	if (p.CustomerID == "") == (p.NewCustomer == nil) {
		return p, fmt.Errorf("exactly one of customerId and newCustomer is required: %w", ErrInvalidInput)
	}
	if nc := p.NewCustomer; nc != nil {
		c := NewCustomer{
			Name:  strings.TrimSpace(nc.Name),
			Phone: strings.TrimSpace(nc.Phone),
			Email: strings.TrimSpace(nc.Email),
		}
		p.NewCustomer = &c // a copy: the caller's value is left alone
		if c.Name == "" {
			return p, fmt.Errorf("newCustomer.name is required: %w", ErrInvalidInput)
		}
		if c.Phone == "" && c.Email == "" {
			return p, fmt.Errorf("newCustomer needs a phone or an email: %w", ErrInvalidInput)
		}
		if c.Email != "" && !strings.Contains(c.Email, "@") {
			return p, fmt.Errorf("newCustomer.email %q is not an email address: %w", c.Email, ErrInvalidInput)
		}
		if c.Phone != "" && digitsOf(c.Phone) == "" {
			return p, fmt.Errorf("newCustomer.phone %q has no digits: %w", c.Phone, ErrInvalidInput)
		}
	}
	return p, nil
}

// checkReachable says whether the chosen contact preference can reach the customer.
func checkReachable(pref ContactPreference, c Customer) error {
	switch {
	case pref == ContactEmail && c.Email == "":
		return fmt.Errorf("contactPreference EMAIL needs the customer's email, and none is recorded: %w", ErrInvalidInput)
	case (pref == ContactPhone || pref == ContactSMS) && c.Phone == "":
		return fmt.Errorf("contactPreference %s needs the customer's phone, and none is recorded: %w", pref, ErrInvalidInput)
	}
	return nil
}

// RecordBackorder records a customer's backorder, creating the customer when
// p.NewCustomer is set, in one transaction.
func (s *DB) RecordBackorder(ctx context.Context, p RecordBackorderParams) (Backorder, error) {
	p, err := normalizeRecord(p)
	if err != nil {
		return Backorder{}, err
	}
	var b Backorder
	err = s.inTx(ctx, func(tx *txn) error {
		// One round trip to check every reference except the customer.
		var refs struct {
			Stores    int `db:"stores"`
			Employees int `db:"employees"`
		}
		recordedBy := ""
		if p.RecordedBy != nil {
			recordedBy = *p.RecordedBy
		}
		if err := tx.getContext(ctx, &refs, `SELECT
			(SELECT COUNT(*) FROM stores WHERE id = ?) AS stores,
			(SELECT COUNT(*) FROM employees WHERE id = ?) AS employees`,
			p.StoreID, recordedBy); err != nil {
			return fmt.Errorf("check references: %w", err)
		}
		if refs.Stores == 0 {
			return fmt.Errorf("store %s: %w", p.StoreID, ErrNotFound)
		}
		// The product is read, not just checked: the backorder returns with it.
		var prod Product
		switch err := tx.getContext(ctx, &prod, `SELECT `+productCols+` FROM products WHERE sku = ?`, p.SKU); {
		case errors.Is(err, ErrNotFound):
			return fmt.Errorf("product %s: %w", p.SKU, ErrNotFound)
		case err != nil:
			return fmt.Errorf("load product: %w", err)
		}
		if p.RecordedBy != nil && refs.Employees == 0 {
			return fmt.Errorf("employee %s: %w", recordedBy, ErrNotFound)
		}

		now := nowMillis()
		var cust Customer
		if p.NewCustomer == nil {
			err := tx.getContext(ctx, &cust, `SELECT `+customerCols+` FROM customers WHERE id = ?`, p.CustomerID)
			switch {
			case errors.Is(err, ErrNotFound):
				return fmt.Errorf("customer %s: %w", p.CustomerID, ErrNotFound)
			case err != nil:
				return fmt.Errorf("load customer: %w", err)
			}
			if err := checkReachable(p.ContactPreference, cust); err != nil {
				return err
			}
		} else {
			nc := p.NewCustomer
			cust = Customer{Name: nc.Name, Phone: nc.Phone, Email: nc.Email, CreatedAtMS: now}
			// Checked before the insert, though the transaction would undo it anyway.
			if err := checkReachable(p.ContactPreference, cust); err != nil {
				return err
			}
			id, err := uuid.NewV7()
			if err != nil {
				return fmt.Errorf("customer id: %w", err)
			}
			cust.ID = id.String()
			if _, err := tx.execContext(ctx, `INSERT INTO customers (`+customerCols+`, search_text)
				VALUES (?, ?, ?, ?, ?, ?)`,
				cust.ID, cust.Name, cust.Phone, cust.Email, cust.CreatedAtMS,
				CustomerSearchText(cust.Name, cust.Email, cust.Phone)); err != nil {
				return fmt.Errorf("create customer: %w", err)
			}
		}

		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("backorder id: %w", err)
		}
		b = Backorder{
			ID:                id.String(),
			StoreID:           p.StoreID,
			SKU:               p.SKU,
			CustomerID:        cust.ID,
			Quantity:          p.Quantity,
			ContactPreference: p.ContactPreference,
			Status:            StatusOpen,
			Note:              p.Note,
			RecordedBy:        p.RecordedBy,
			CreatedAtMS:       now,
			UpdatedAtMS:       now,
			Customer:          &cust,
			Product:           &prod,
		}
		if _, err := tx.execContext(ctx, `INSERT INTO backorders (`+backorderCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			b.ID, b.StoreID, b.SKU, b.CustomerID, b.Quantity, b.ContactPreference,
			b.Status, b.Note, b.RecordedBy, b.CreatedAtMS, b.UpdatedAtMS); err != nil {
			return fmt.Errorf("create backorder: %w", err)
		}
		// The creation is the first entry of the history.
		if _, err := tx.execContext(ctx, `INSERT INTO backorder_status_changes (`+statusChangeCols+`)
			VALUES (?, 1, ?, '', ?, ?)`, b.ID, StatusOpen, b.RecordedBy, now); err != nil {
			return fmt.Errorf("create backorder history: %w", err)
		}
		return nil
	})
	if err != nil {
		return Backorder{}, err
	}
	return b, nil
}

// transitions lists the status changes a backorder may make.
var transitions = map[BackorderStatus][]BackorderStatus{
	StatusOpen:     {StatusNotified, StatusCancelled, StatusFulfilled},
	StatusNotified: {StatusFulfilled, StatusCancelled},
}

func canTransition(from, to BackorderStatus) bool {
	for _, t := range transitions[from] {
		if t == to {
			return true
		}
	}
	return false
}

// maxStatusAttempts bounds how often UpdateBackorderStatus re-reads a row
// that another writer changed under it.
const maxStatusAttempts = 3

// UpdateBackorderStatus moves a backorder to status and appends the change to
// its history. Asking for the status it already has returns it unchanged, so
// a retried request is harmless. changedBy is an employee id, nil when unknown.
func (s *DB) UpdateBackorderStatus(ctx context.Context, id string, status BackorderStatus, note string, changedBy *string) (Backorder, error) {
	if !status.Valid() {
		return Backorder{}, fmt.Errorf("status %q is not one of OPEN, NOTIFIED, FULFILLED, CANCELLED: %w", status, ErrInvalidInput)
	}
	note = strings.TrimSpace(note)
	if n := utf8.RuneCountInString(note); n > MaxNoteLen {
		return Backorder{}, fmt.Errorf("note must be at most %d characters, got %d: %w", MaxNoteLen, n, ErrInvalidInput)
	}
	var b Backorder
	err := s.inTx(ctx, func(tx *txn) error {
		if changedBy != nil {
			var n int
			if err := tx.getContext(ctx, &n, `SELECT COUNT(*) FROM employees WHERE id = ?`, *changedBy); err != nil {
				return fmt.Errorf("check employee: %w", err)
			}
			if n == 0 {
				return fmt.Errorf("employee %s: %w", *changedBy, ErrNotFound)
			}
		}
		for range maxStatusAttempts {
			err := tx.getContext(ctx, &b, withParties(`SELECT `+backorderCols+` FROM backorders WHERE id = ?`, ""), id)
			switch {
			case errors.Is(err, ErrNotFound):
				return fmt.Errorf("backorder %s: %w", id, ErrNotFound)
			case err != nil:
				return fmt.Errorf("load backorder: %w", err)
			}
			if b.Status == status {
				return nil
			}
			if !canTransition(b.Status, status) {
				return fmt.Errorf("backorder is %s; it cannot become %s: %w", b.Status, status, ErrConflict)
			}
			now := nowMillis()
			// Conditional on the status just read: if another writer got
			// there first, nothing is updated and the row is read again.
			res, err := tx.execContext(ctx, `UPDATE backorders SET status = ?, updated_at = ?
				WHERE id = ? AND status = ?`, status, now, id, b.Status)
			if err != nil {
				return fmt.Errorf("update backorder: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("update backorder: %w", err)
			}
			if n == 0 {
				continue
			}
			// The updated row is locked until commit, so MAX(seq)+1 cannot race.
			if _, err := tx.execContext(ctx, `INSERT INTO backorder_status_changes (`+statusChangeCols+`)
				VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM backorder_status_changes WHERE backorder_id = ?), ?, ?, ?, ?)`,
				id, id, status, note, changedBy, now); err != nil {
				return fmt.Errorf("append backorder history: %w", err)
			}
			b.Status, b.UpdatedAtMS = status, now
			return nil
		}
		return fmt.Errorf("backorder %s keeps changing; try again: %w", id, ErrConflict)
	})
	if err != nil {
		return Backorder{}, err
	}
	return b, nil
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
)

// The fixture: small, hand-made rows whose orders are easy to state.
//
// Backorders (id, store, customer, status, created_at):
//
//	B01 S1 C1 OPEN      1000
//	B02 S1 C2 NOTIFIED  2000
//	B03 S1 C1 OPEN      2000  (same instant as B02: id breaks the tie)
//	B04 S2 C1 FULFILLED 3000
//	B05 S1 C3 CANCELLED 4000
//	B06 S2 C2 OPEN      5000
//	B07 S1 C1 OPEN      6000
var (
	allStores     = []string{"S1", "S2", "S3", "S4", "S5"}
	allProducts   = []string{"P-001", "P-002", "P-003", "P-004", "P-005", "P-006", "P-007"}
	customersSort = []string{"C3", "C1", "C2", "C4", "C5"} // by name, then id
	backordersNew = []string{"B07", "B06", "B05", "B04", "B03", "B02", "B01"}
)

func exec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.SQLX().ExecContext(context.Background(), db.SQLX().Rebind(q), args...); err != nil {
		t.Fatalf("fixture %q: %v", q, err)
	}
}

// fixture inserts the rows above plus stores, products, stock, customers,
// employees and events. Events are placed relative to now because RSVP
// compares with the real clock.
func fixture(t *testing.T, db *store.DB) {
	t.Helper()
	for i, id := range allStores {
		exec(t, db, `INSERT INTO stores (id, name, city, address, latitude, longitude, phone) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, "Store "+id, "City", "1 Main St", 51.5+float64(i), -0.1, "020 7946 000"+fmt.Sprint(i))
	}
	products := []store.Product{
		{SKU: "P-001", Name: "Cotton Shirt", Description: "100% cotton", Category: "apparel", Barcode: "4000000000001", PriceCents: 2500},
		{SKU: "P-002", Name: "Linen Shirt", Description: "1000 threads", Category: "apparel", Barcode: "4000000000002", PriceCents: 3500},
		{SKU: "P-003", Name: "Kettle", Description: "snake_case kettle", Category: "kitchen", Barcode: "4000000000003", PriceCents: 4000},
		{SKU: "P-004", Name: "Toaster", Description: "snakeXcase toaster", Category: "kitchen", Barcode: "4000000000004", PriceCents: 3000},
		{SKU: "P-005", Name: "Mug", Description: "", Category: "kitchen", Barcode: "4000000000005", PriceCents: 800},
		{SKU: "P-006", Name: "Socks", Description: "cotton blend", Category: "apparel", Barcode: "4000000000006", PriceCents: 900},
		{SKU: "P-007", Name: "Lamp", Description: "", Category: "home", Barcode: "4000000000007", PriceCents: 5000},
	}
	for _, p := range products {
		exec(t, db, `INSERT INTO products (sku, name, description, category, barcode, price_cents, search_text) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.SKU, p.Name, p.Description, p.Category, p.Barcode, p.PriceCents, store.ProductSearchText(p))
	}
	// store, sku, on_hand, reserved, reorder_point. Low stock = on_hand - reserved <= reorder_point.
	stock := []struct {
		store, sku                  string
		onHand, reserved, reorderAt int
	}{
		{"S1", "P-001", 10, 0, 2},
		{"S1", "P-002", 3, 1, 2}, // low
		{"S1", "P-003", 0, 0, 1}, // low, none available
		{"S1", "P-004", 5, 5, 0}, // low, none available
		{"S1", "P-005", 8, 2, 1},
		{"S2", "P-001", 1, 0, 3}, // low
		{"S2", "P-003", 4, 0, 0},
	}
	for _, s := range stock {
		exec(t, db, `INSERT INTO inventory (store_id, sku, on_hand, reserved, reorder_point, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			s.store, s.sku, s.onHand, s.reserved, s.reorderAt, 1700000000000)
	}
	customers := []store.Customer{
		{ID: "C1", Name: "Bob Jones", Phone: "(555) 0101", Email: "bob@example.com"},
		{ID: "C2", Name: "Sam Lee", Phone: "555 0202", Email: ""},
		{ID: "C3", Name: "Alice Smith", Phone: "", Email: "alice@example.com"},
		{ID: "C4", Name: "Sam Lee", Phone: "", Email: "sam.lee@example.com"},
		{ID: "C5", Name: "Zoe 100%_Ward", Phone: "07700 900123", Email: "zoe@example.com"},
	}
	for _, c := range customers {
		exec(t, db, `INSERT INTO customers (id, name, phone, email, search_text, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID, c.Name, c.Phone, c.Email, store.CustomerSearchText(c.Name, c.Email, c.Phone), 1700000000000)
	}
	exec(t, db, `INSERT INTO employees (id, oid, login, name, email, role, store_id) VALUES
		('E1', 'oid-1', 'ann', 'Ann Maker', 'ann@example.com', 'STORE_ASSOCIATE', 'S1'),
		('E2', 'oid-2', 'hal', 'Hal Office', 'hal@example.com', 'HEAD_OFFICE', NULL),
		('E3', 'oid-3', 'kim', 'Kim Manager', 'kim@example.com', 'STORE_MANAGER', 'S2')`)
	backorders := []struct {
		id, store, customer, status string
		at                          int64
	}{
		{"B01", "S1", "C1", "OPEN", 1000},
		{"B02", "S1", "C2", "NOTIFIED", 2000},
		{"B03", "S1", "C1", "OPEN", 2000},
		{"B04", "S2", "C1", "FULFILLED", 3000},
		{"B05", "S1", "C3", "CANCELLED", 4000},
		{"B06", "S2", "C2", "OPEN", 5000},
		{"B07", "S1", "C1", "OPEN", 6000},
	}
	for _, b := range backorders {
		exec(t, db, `INSERT INTO backorders (id, store_id, sku, customer_id, quantity, contact_preference, status, note, recorded_by, created_at, updated_at)
			VALUES (?, ?, 'P-001', ?, 1, 'EMAIL', ?, '', 'E1', ?, ?)`, b.id, b.store, b.customer, b.status, b.at, b.at)
		exec(t, db, `INSERT INTO backorder_status_changes (backorder_id, seq, status, note, changed_by, changed_at) VALUES (?, 1, 'OPEN', '', 'E1', ?)`, b.id, b.at)
		if b.status != "OPEN" {
			exec(t, db, `INSERT INTO backorder_status_changes (backorder_id, seq, status, note, changed_by, changed_at) VALUES (?, 2, ?, 'moved', NULL, ?)`, b.id, b.status, b.at+1)
		}
	}
	now := time.Now()
	hour := int64(time.Hour / time.Millisecond)
	ms := store.Millis(now)
	// EV-A and EV-B start at the same instant: id breaks the tie.
	exec(t, db, `INSERT INTO events (id, title, starts_at, ends_at, capacity) VALUES
		('EV-PAST', 'Last year', ?, ?, 0),
		('EV-B', 'Town hall', ?, ?, 0),
		('EV-A', 'Training', ?, ?, 1),
		('EV-C', 'Party', ?, ?, 2)`,
		ms-48*hour, ms-47*hour,
		ms+24*hour, ms+25*hour,
		ms+24*hour, ms+26*hour,
		ms+48*hour, ms+50*hour)
	exec(t, db, `INSERT INTO rsvps (event_id, employee_id, response, responded_at) VALUES
		('EV-C', 'E1', 'GOING', 1), ('EV-C', 'E2', 'GOING', 1), ('EV-B', 'E1', 'MAYBE', 1), ('EV-PAST', 'E3', 'GOING', 1)`)
}

// walk pages through a list with cursors and returns the keys in the order
// served, failing on an oversized page, a missing cursor or an endless walk.
func walk[T any](t *testing.T, first int, fetch func(store.Page) (store.Paged[T], error), key func(T) string) []string {
	t.Helper()
	var (
		out  []string
		page = store.Page{First: first}
	)
	for range 100 {
		p, err := fetch(page)
		if err != nil {
			t.Fatalf("page after %q: %v", page.After, err)
		}
		if len(p.Items) > first {
			t.Fatalf("page has %d items, asked for %d", len(p.Items), first)
		}
		for _, it := range p.Items {
			out = append(out, key(it))
		}
		if (len(p.Items) == 0) != (p.EndCursor == "") {
			t.Fatalf("%d items with end cursor %q", len(p.Items), p.EndCursor)
		}
		if !p.HasNext {
			return out
		}
		if len(p.Items) != first {
			t.Fatalf("short page (%d of %d) claims a next page", len(p.Items), first)
		}
		page.After = p.EndCursor
	}
	t.Fatal("paging did not end")
	return nil
}

func TestPagingVisitsEveryRowOnceInOrder(t *testing.T) {
	ctx := context.Background()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			fixture(t, db)
			cases := []struct {
				name  string
				first int
				walk  func(t *testing.T, first int) []string
				want  []string
			}{
				{"stores", 2, func(t *testing.T, first int) []string {
					return walk(t, first, func(p store.Page) (store.Paged[store.Store], error) {
						return db.ListStores(ctx, store.StoreFilter{}, p)
					},
						func(s store.Store) string { return s.ID })
				}, allStores},
				{"stores in one page", 5, func(t *testing.T, first int) []string {
					return walk(t, first, func(p store.Page) (store.Paged[store.Store], error) {
						return db.ListStores(ctx, store.StoreFilter{}, p)
					},
						func(s store.Store) string { return s.ID })
				}, allStores},
				{"products", 3, func(t *testing.T, first int) []string {
					return walk(t, first, func(p store.Page) (store.Paged[store.Product], error) {
						return db.SearchProducts(ctx, store.ProductFilter{}, p)
					}, func(p store.Product) string { return p.SKU })
				}, allProducts},
				{"products by category", 1, func(t *testing.T, first int) []string {
					return walk(t, first, func(p store.Page) (store.Paged[store.Product], error) {
						return db.SearchProducts(ctx, store.ProductFilter{Category: "kitchen"}, p)
					}, func(p store.Product) string { return p.SKU })
				}, []string{"P-003", "P-004", "P-005"}},
				{"customers by name then id", 1, func(t *testing.T, first int) []string {
					return walk(t, first, func(p store.Page) (store.Paged[store.Customer], error) {
						return db.SearchCustomers(ctx, "", p)
					}, func(c store.Customer) string { return c.ID })
				}, customersSort},
				{"backorders newest first", 2, func(t *testing.T, first int) []string {
					return walk(t, first, func(p store.Page) (store.Paged[store.Backorder], error) {
						return db.ListBackorders(ctx, store.BackorderFilter{}, p)
					}, func(b store.Backorder) string { return b.ID })
				}, backordersNew},
				{"backorders across a tie", 5, func(t *testing.T, first int) []string {
					return walk(t, first, func(p store.Page) (store.Paged[store.Backorder], error) {
						return db.ListBackorders(ctx, store.BackorderFilter{}, p)
					}, func(b store.Backorder) string { return b.ID })
				}, backordersNew},
				{"open backorders of S1", 1, func(t *testing.T, first int) []string {
					return walk(t, first, func(p store.Page) (store.Paged[store.Backorder], error) {
						return db.ListBackorders(ctx, store.BackorderFilter{StoreID: "S1", Status: store.StatusOpen}, p)
					}, func(b store.Backorder) string { return b.ID })
				}, []string{"B07", "B03", "B01"}},
				{"backorders of C1 in S2", 1, func(t *testing.T, first int) []string {
					return walk(t, first, func(p store.Page) (store.Paged[store.Backorder], error) {
						return db.ListBackorders(ctx, store.BackorderFilter{StoreID: "S2", CustomerID: "C1"}, p)
					}, func(b store.Backorder) string { return b.ID })
				}, []string{"B04"}},
				{"events by start then id", 1, func(t *testing.T, first int) []string {
					return walk(t, first, func(p store.Page) (store.Paged[store.Event], error) {
						return db.ListEvents(ctx, store.EventFilter{}, p)
					}, func(e store.Event) string { return e.ID })
				}, []string{"EV-PAST", "EV-A", "EV-B", "EV-C"}},
				{"events not yet ended", 2, func(t *testing.T, first int) []string {
					return walk(t, first, func(p store.Page) (store.Paged[store.Event], error) {
						return db.ListEvents(ctx, store.EventFilter{EndsAfter: time.Now()}, p)
					}, func(e store.Event) string { return e.ID })
				}, []string{"EV-A", "EV-B", "EV-C"}},
				{"no match", 3, func(t *testing.T, first int) []string {
					return walk(t, first, func(p store.Page) (store.Paged[store.Product], error) {
						return db.SearchProducts(ctx, store.ProductFilter{Category: "garden"}, p)
					}, func(p store.Product) string { return p.SKU })
				}, nil},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					if got := tc.walk(t, tc.first); !slices.Equal(got, tc.want) {
						t.Errorf("got %v, want %v", got, tc.want)
					}
				})
			}
		})
	}
}

func TestPageArguments(t *testing.T) {
	ctx := context.Background()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			fixture(t, db)
			storesPage, err := db.ListStores(ctx, store.StoreFilter{}, store.Page{First: 1})
			if err != nil {
				t.Fatal(err)
			}
			cases := []struct {
				name    string
				page    store.Page
				want    error
				wantMsg string
				wantLen int
			}{
				{name: "zero means twenty", page: store.Page{}, wantLen: len(backordersNew)},
				{name: "negative means twenty", page: store.Page{First: -5}, wantLen: len(backordersNew)},
				{name: "hundred is allowed", page: store.Page{First: 100}, wantLen: len(backordersNew)},
				{name: "over a hundred", page: store.Page{First: 101}, want: store.ErrInvalidInput, wantMsg: "first must be between 1 and 100"},
				{name: "not base64", page: store.Page{After: "!!!"}, want: store.ErrInvalidInput, wantMsg: "after: malformed cursor"},
				{name: "not json", page: store.Page{After: "bm90IGpzb24"}, want: store.ErrInvalidInput, wantMsg: "after: malformed cursor"},
				{name: "cursor of another list", page: store.Page{After: storesPage.EndCursor}, want: store.ErrInvalidInput, wantMsg: "after: malformed cursor"},
				{name: "huge cursor", page: store.Page{After: strings.Repeat("A", 5000)}, want: store.ErrInvalidInput, wantMsg: "after: malformed cursor"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					before := db.Statements()
					p, err := db.ListBackorders(ctx, store.BackorderFilter{}, tc.page)
					if tc.want != nil {
						if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantMsg) {
							t.Fatalf("got %v, want %v mentioning %q", err, tc.want, tc.wantMsg)
						}
						if n := db.Statements() - before; n != 0 {
							t.Errorf("refused page sent %d statements", n)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if len(p.Items) != tc.wantLen || p.HasNext {
						t.Errorf("got %d items, hasNext %v; want %d, false", len(p.Items), p.HasNext, tc.wantLen)
					}
				})
			}
		})
	}
}

// keysOf renders a map as sorted "key=value" strings via show.
func keysOf[K comparable, V any](m map[K]V, show func(K, V) string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, show(k, v))
	}
	slices.Sort(out)
	return out
}

func TestBatchLoadsSendOneStatement(t *testing.T) {
	ctx := context.Background()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			fixture(t, db)
			// call loads ids (nil for the empty case) and renders the result.
			cases := []struct {
				name string
				call func(empty bool) ([]string, error)
				want []string
			}{
				{"stores", func(empty bool) ([]string, error) {
					ids := []string{"S2", "S1", "S999", "S2"}
					if empty {
						ids = nil
					}
					m, err := db.StoresByID(ctx, ids)
					return keysOf(m, func(k string, v store.Store) string { return k + "=" + v.Name }), err
				}, []string{"S1=Store S1", "S2=Store S2"}},
				{"products", func(empty bool) ([]string, error) {
					ids := []string{"P-003", "P-404", "P-001"}
					if empty {
						ids = []string{}
					}
					m, err := db.ProductsBySKU(ctx, ids)
					return keysOf(m, func(k string, v store.Product) string { return k + "=" + v.Name }), err
				}, []string{"P-001=Cotton Shirt", "P-003=Kettle"}},
				{"inventory by keys", func(empty bool) ([]string, error) {
					keys := []store.InventoryKey{{StoreID: "S1", SKU: "P-002"}, {StoreID: "S2", SKU: "P-001"}, {StoreID: "S2", SKU: "P-002"}, {StoreID: "S1", SKU: "P-002"}}
					if empty {
						keys = nil
					}
					m, err := db.InventoryByKeys(ctx, keys)
					return keysOf(m, func(k store.InventoryKey, v store.Inventory) string {
						return fmt.Sprintf("%s/%s=%d", k.StoreID, k.SKU, v.Available())
					}), err
				}, []string{"S1/P-002=2", "S2/P-001=1"}},
				{"stock by sku", func(empty bool) ([]string, error) {
					skus := []string{"P-001", "P-003", "P-004", "P-007"}
					if empty {
						skus = nil
					}
					m, err := db.StockBySKU(ctx, skus)
					return keysOf(m, func(k string, v []store.Inventory) string {
						var ids []string
						for _, i := range v {
							ids = append(ids, i.StoreID)
						}
						return k + "=" + strings.Join(ids, ",")
					}), err
				}, []string{"P-001=S1,S2", "P-003=S2"}},
				{"customers", func(empty bool) ([]string, error) {
					ids := []string{"C1", "C404"}
					if empty {
						ids = nil
					}
					m, err := db.CustomersByID(ctx, ids)
					return keysOf(m, func(k string, v store.Customer) string { return k + "=" + v.Phone }), err
				}, []string{"C1=(555) 0101"}},
				{"backorders", func(empty bool) ([]string, error) {
					ids := []string{"B01", "B05", "B404"}
					if empty {
						ids = nil
					}
					m, err := db.BackordersByID(ctx, ids)
					return keysOf(m, func(k string, v store.Backorder) string { return k + "=" + string(v.Status) }), err
				}, []string{"B01=OPEN", "B05=CANCELLED"}},
				{"backorder history", func(empty bool) ([]string, error) {
					ids := []string{"B01", "B02", "B404"}
					if empty {
						ids = nil
					}
					m, err := db.BackorderHistory(ctx, ids)
					return keysOf(m, func(k string, v []store.StatusChange) string {
						var s []string
						for _, c := range v {
							s = append(s, fmt.Sprintf("%d:%s", c.Seq, c.Status))
						}
						return k + "=" + strings.Join(s, ",")
					}), err
				}, []string{"B01=1:OPEN", "B02=1:OPEN,2:NOTIFIED"}},
				{"employees", func(empty bool) ([]string, error) {
					ids := []string{"E2", "E1", "E9"}
					if empty {
						ids = nil
					}
					m, err := db.EmployeesByID(ctx, ids)
					return keysOf(m, func(k string, v store.Employee) string {
						s := "-"
						if v.StoreID != nil {
							s = *v.StoreID
						}
						return k + "=" + string(v.Role) + "@" + s
					}), err
				}, []string{"E1=STORE_ASSOCIATE@S1", "E2=HEAD_OFFICE@-"}},
				{"events", func(empty bool) ([]string, error) {
					ids := []string{"EV-A", "EV-X"}
					if empty {
						ids = nil
					}
					m, err := db.EventsByID(ctx, ids)
					return keysOf(m, func(k string, v store.Event) string { return k + "=" + v.Title }), err
				}, []string{"EV-A=Training"}},
				{"attendee counts", func(empty bool) ([]string, error) {
					ids := []string{"EV-A", "EV-B", "EV-C", "EV-PAST"}
					if empty {
						ids = nil
					}
					m, err := db.AttendeeCounts(ctx, ids)
					return keysOf(m, func(k string, v int) string { return fmt.Sprintf("%s=%d", k, v) }), err
				}, []string{"EV-C=2", "EV-PAST=1"}},
				{"rsvps of one employee", func(empty bool) ([]string, error) {
					ids := []string{"EV-A", "EV-B", "EV-C"}
					if empty {
						ids = nil
					}
					m, err := db.RSVPsOf(ctx, "E1", ids)
					return keysOf(m, func(k string, v store.RSVP) string { return k + "=" + string(v.Response) }), err
				}, []string{"EV-B=MAYBE", "EV-C=GOING"}},
				{"inventory pages", func(empty bool) ([]string, error) {
					ids := []string{"S1", "S3"}
					if empty {
						ids = nil
					}
					m, err := db.InventoryPages(ctx, ids, store.InventoryFilter{}, store.Page{First: 1})
					return keysOf(m, func(k string, v store.Paged[store.Inventory]) string { return fmt.Sprintf("%s=%d", k, len(v.Items)) }), err
				}, []string{"S1=1", "S3=0"}},
				{"backorder pages", func(empty bool) ([]string, error) {
					ids := []string{"C2", "C3"}
					if empty {
						ids = nil
					}
					m, err := db.BackorderPages(ctx, ids, true, store.BackorderFilter{}, store.Page{})
					return keysOf(m, func(k string, v store.Paged[store.Backorder]) string { return fmt.Sprintf("%s=%d", k, len(v.Items)) }), err
				}, []string{"C2=2", "C3=1"}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					before := db.Statements()
					got, err := tc.call(false)
					if err != nil {
						t.Fatal(err)
					}
					if n := db.Statements() - before; n != 1 {
						t.Errorf("sent %d statements, want 1", n)
					}
					if !slices.Equal(got, tc.want) {
						t.Errorf("got %v, want %v", got, tc.want)
					}

					before = db.Statements()
					got, err = tc.call(true)
					if err != nil {
						t.Fatalf("empty input: %v", err)
					}
					if n := db.Statements() - before; n != 0 {
						t.Errorf("empty input sent %d statements, want 0", n)
					}
					if len(got) != 0 {
						t.Errorf("empty input gave %v", got)
					}
				})
			}
		})
	}
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			fixture(t, db)
			products := []struct {
				name string
				f    store.ProductFilter
				want []string
			}{
				{"text is case-insensitive", store.ProductFilter{Text: "COTTON"}, []string{"P-001", "P-006"}},
				{"text matches the sku", store.ProductFilter{Text: "p-00"}, allProducts},
				{"percent is literal", store.ProductFilter{Text: "100%"}, []string{"P-001"}},
				{"underscore is literal", store.ProductFilter{Text: "snake_case"}, []string{"P-003"}},
				{"text and category", store.ProductFilter{Text: "shirt", Category: "apparel"}, []string{"P-001", "P-002"}},
				{"sku exact", store.ProductFilter{SKU: "P-004"}, []string{"P-004"}},
				{"sku is not a prefix match", store.ProductFilter{SKU: "P-00"}, nil},
				{"barcode as sku", store.ProductFilter{SKU: "4000000000007"}, []string{"P-007"}},
				{"category", store.ProductFilter{Category: "home"}, []string{"P-007"}},
				{"nothing", store.ProductFilter{Text: "zzz"}, nil},
			}
			for _, tc := range products {
				t.Run("products/"+tc.name, func(t *testing.T) {
					got := walk(t, 100, func(p store.Page) (store.Paged[store.Product], error) { return db.SearchProducts(ctx, tc.f, p) },
						func(p store.Product) string { return p.SKU })
					if !slices.Equal(got, tc.want) {
						t.Errorf("got %v, want %v", got, tc.want)
					}
				})
			}
			customers := []struct {
				name, text string
				want       []string
			}{
				{"name, case-insensitive", "SAM", []string{"C2", "C4"}},
				{"email", "alice@", []string{"C3"}},
				{"phone written differently", "555-0101", []string{"C1"}},
				{"phone digits", "5550202", []string{"C2"}},
				{"phone prefix", "(555)", []string{"C1", "C2"}},
				{"two digits are not a phone search", "5-5", nil},
				{"literal percent and underscore", "100%_", []string{"C5"}},
				{"blank is everyone", "  ", customersSort},
				{"nobody", "nobody", nil},
			}
			for _, tc := range customers {
				t.Run("customers/"+tc.name, func(t *testing.T) {
					got := walk(t, 100, func(p store.Page) (store.Paged[store.Customer], error) { return db.SearchCustomers(ctx, tc.text, p) },
						func(c store.Customer) string { return c.ID })
					if !slices.Equal(got, tc.want) {
						t.Errorf("got %v, want %v", got, tc.want)
					}
				})
			}
			t.Run("employees", func(t *testing.T) {
				if got, err := db.EmployeeByLogin(ctx, "hal"); err != nil || got.ID != "E2" {
					t.Errorf("by login: got %+v, %v", got, err)
				}
				if got, err := db.EmployeeByOID(ctx, "oid-3"); err != nil || got.ID != "E3" || got.StoreID == nil || *got.StoreID != "S2" {
					t.Errorf("by oid: got %+v, %v", got, err)
				}
				if _, err := db.EmployeeByLogin(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("unknown login: got %v, want ErrNotFound", err)
				}
				if _, err := db.EmployeeByOID(ctx, "oid-9"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("unknown oid: got %v, want ErrNotFound", err)
				}
			})
		})
	}
}

// pageIDs renders per-owner pages as "owner=id,id next=bool", sorted.
func pageIDs[T any](m map[string]store.Paged[T], id func(T) string) []string {
	return keysOf(m, func(k string, p store.Paged[T]) string {
		ids := make([]string, len(p.Items))
		for i, it := range p.Items {
			ids[i] = id(it)
		}
		return fmt.Sprintf("%s=%s next=%v", k, strings.Join(ids, ","), p.HasNext)
	})
}

func TestPerOwnerPages(t *testing.T) {
	ctx := context.Background()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			fixture(t, db)
			sku := func(i store.Inventory) string { return i.SKU }
			bid := func(b store.Backorder) string { return b.ID }
			firstS1, err := db.InventoryPages(ctx, []string{"S1"}, store.InventoryFilter{}, store.Page{First: 2})
			if err != nil {
				t.Fatal(err)
			}
			firstB, err := db.BackorderPages(ctx, []string{"S1"}, false, store.BackorderFilter{}, store.Page{First: 2})
			if err != nil {
				t.Fatal(err)
			}
			cases := []struct {
				name string
				call func() ([]string, error)
				want []string
			}{
				{"inventory first page", func() ([]string, error) {
					m, err := db.InventoryPages(ctx, []string{"S1", "S2", "S3"}, store.InventoryFilter{}, store.Page{First: 2})
					return pageIDs(m, sku), err
				}, []string{"S1=P-001,P-002 next=true", "S2=P-001,P-003 next=false", "S3= next=false"}},
				{"inventory second page", func() ([]string, error) {
					m, err := db.InventoryPages(ctx, []string{"S1"}, store.InventoryFilter{}, store.Page{First: 2, After: firstS1["S1"].EndCursor})
					return pageIDs(m, sku), err
				}, []string{"S1=P-003,P-004 next=true"}},
				{"inventory low stock", func() ([]string, error) {
					m, err := db.InventoryPages(ctx, []string{"S1", "S2", "S3", "S1"}, store.InventoryFilter{LowStockOnly: true}, store.Page{})
					return pageIDs(m, sku), err
				}, []string{"S1=P-002,P-003,P-004 next=false", "S2=P-001 next=false", "S3= next=false"}},
				{"backorders by store", func() ([]string, error) {
					m, err := db.BackorderPages(ctx, []string{"S1", "S2", "S3"}, false, store.BackorderFilter{}, store.Page{First: 2})
					return pageIDs(m, bid), err
				}, []string{"S1=B07,B05 next=true", "S2=B06,B04 next=false", "S3= next=false"}},
				{"backorders by store, second page", func() ([]string, error) {
					m, err := db.BackorderPages(ctx, []string{"S1"}, false, store.BackorderFilter{}, store.Page{First: 2, After: firstB["S1"].EndCursor})
					return pageIDs(m, bid), err
				}, []string{"S1=B03,B02 next=true"}},
				{"open backorders by customer", func() ([]string, error) {
					m, err := db.BackorderPages(ctx, []string{"C1", "C2", "C3"}, true, store.BackorderFilter{Status: store.StatusOpen}, store.Page{})
					return pageIDs(m, bid), err
				}, []string{"C1=B07,B03,B01 next=false", "C2=B06 next=false", "C3= next=false"}},
				{"one store of the list", func() ([]string, error) {
					p, err := db.ListStores(ctx, store.StoreFilter{ID: "S2"}, store.Page{})
					return pageIDs(map[string]store.Paged[store.Store]{"list": p}, func(s store.Store) string { return s.ID }), err
				}, []string{"list=S2 next=false"}},
				{"a customer's backorders at one store", func() ([]string, error) {
					m, err := db.BackorderPages(ctx, []string{"C1", "C2"}, true, store.BackorderFilter{StoreID: "S2"}, store.Page{})
					return pageIDs(m, bid), err
				}, []string{"C1=B04 next=false", "C2=B06 next=false"}},
				{"bad status filter", func() ([]string, error) {
					_, err := db.BackorderPages(ctx, []string{"C1"}, true, store.BackorderFilter{Status: "LOST"}, store.Page{})
					return nil, err
				}, nil},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					got, err := tc.call()
					if tc.want == nil {
						if !errors.Is(err, store.ErrInvalidInput) {
							t.Fatalf("got %v, want ErrInvalidInput", err)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, tc.want) {
						t.Errorf("got %v, want %v", got, tc.want)
					}
				})
			}
		})
	}
}

// counts returns the number of customers, backorders and status changes.
func counts(t *testing.T, db *store.DB) [3]int {
	t.Helper()
	var c [3]int
	for i, table := range []string{"customers", "backorders", "backorder_status_changes"} {
		if err := db.SQLX().GetContext(context.Background(), &c[i], "SELECT COUNT(*) FROM "+table); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func ptr[T any](v T) *T { return &v }

func TestRecordBackorder(t *testing.T) {
	ctx := context.Background()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			fixture(t, db)

			t.Run("existing customer", func(t *testing.T) {
				start := store.Millis(time.Now())
				b, err := db.RecordBackorder(ctx, store.RecordBackorderParams{
					StoreID: "S2", SKU: "P-005", Quantity: 3, CustomerID: "C2",
					ContactPreference: "SMS", Note: "  wants blue  ", RecordedBy: ptr("E3"),
				})
				if err != nil {
					t.Fatal(err)
				}
				if b.ID == "" || b.Status != store.StatusOpen || b.CustomerID != "C2" || b.Quantity != 3 ||
					b.Note != "wants blue" || b.RecordedBy == nil || *b.RecordedBy != "E3" ||
					b.CreatedAtMS < start || b.UpdatedAtMS != b.CreatedAtMS {
					t.Errorf("unexpected backorder %+v", b)
				}
				stored, err := db.BackordersByID(ctx, []string{b.ID})
				if err != nil {
					t.Fatal(err)
				}
				if got := stored[b.ID]; got.ID != b.ID || got.Note != b.Note || got.CreatedAtMS != b.CreatedAtMS ||
					got.RecordedBy == nil || *got.RecordedBy != "E3" || got.ContactPreference != "SMS" {
					t.Errorf("stored %+v, returned %+v", got, b)
				}
				h, err := db.BackorderHistory(ctx, []string{b.ID})
				if err != nil {
					t.Fatal(err)
				}
				if len(h[b.ID]) != 1 || h[b.ID][0].Seq != 1 || h[b.ID][0].Status != store.StatusOpen ||
					h[b.ID][0].ChangedBy == nil || *h[b.ID][0].ChangedBy != "E3" || h[b.ID][0].ChangedAtMS != b.CreatedAtMS {
					t.Errorf("history %+v", h[b.ID])
				}
				page, err := db.ListBackorders(ctx, store.BackorderFilter{StoreID: "S2"}, store.Page{First: 1})
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Items) != 1 || page.Items[0].ID != b.ID {
					t.Errorf("newest backorder of S2 is %+v, want %s", page.Items, b.ID)
				}
			})

			t.Run("new customer", func(t *testing.T) {
				before := counts(t, db)
				b, err := db.RecordBackorder(ctx, store.RecordBackorderParams{
					StoreID: "S1", SKU: "P-003", Quantity: 1,
					NewCustomer:       &store.NewCustomer{Name: " Dana Cruz ", Phone: "+44 (0)7700-900999"},
					ContactPreference: "PHONE",
				})
				if err != nil {
					t.Fatal(err)
				}
				if b.RecordedBy != nil || b.CustomerID == "" {
					t.Errorf("unexpected backorder %+v", b)
				}
				c, err := db.CustomersByID(ctx, []string{b.CustomerID})
				if err != nil {
					t.Fatal(err)
				}
				if got := c[b.CustomerID]; got.Name != "Dana Cruz" || got.Phone != "+44 (0)7700-900999" || got.CreatedAtMS != b.CreatedAtMS {
					t.Errorf("customer %+v", got)
				}
				found, err := db.SearchCustomers(ctx, "7700 900 999", store.Page{})
				if err != nil {
					t.Fatal(err)
				}
				if len(found.Items) != 1 || found.Items[0].ID != b.CustomerID {
					t.Errorf("search by phone found %+v", found.Items)
				}
				if got, want := counts(t, db), [3]int{before[0] + 1, before[1] + 1, before[2] + 1}; got != want {
					t.Errorf("row counts %v, want %v", got, want)
				}
			})

			valid := func() store.RecordBackorderParams {
				return store.RecordBackorderParams{StoreID: "S1", SKU: "P-001", Quantity: 2, CustomerID: "C1", ContactPreference: "EMAIL", RecordedBy: ptr("E1")}
			}
			newCust := func(name, phone, email string) func(*store.RecordBackorderParams) {
				return func(p *store.RecordBackorderParams) {
					p.CustomerID = ""
					p.NewCustomer = &store.NewCustomer{Name: name, Phone: phone, Email: email}
				}
			}
			cases := []struct {
				name    string
				mod     func(*store.RecordBackorderParams)
				want    error
				wantMsg string
			}{
				{"quantity zero", func(p *store.RecordBackorderParams) { p.Quantity = 0 }, store.ErrInvalidInput, "quantity must be between 1 and 999"},
				{"quantity too big", func(p *store.RecordBackorderParams) { p.Quantity = 1000 }, store.ErrInvalidInput, "quantity must be between 1 and 999"},
				{"contact preference", func(p *store.RecordBackorderParams) { p.ContactPreference = "PIGEON" }, store.ErrInvalidInput, "contactPreference"},
				{"no customer", func(p *store.RecordBackorderParams) { p.CustomerID = "" }, store.ErrInvalidInput, "exactly one of customerId and newCustomer"},
				{"both customers", func(p *store.RecordBackorderParams) {
					p.NewCustomer = &store.NewCustomer{Name: "X", Email: "x@example.com"}
				}, store.ErrInvalidInput, "exactly one of customerId and newCustomer"},
				{"new customer without name", newCust("  ", "555 1234", ""), store.ErrInvalidInput, "newCustomer.name"},
				{"new customer without phone or email", newCust("Eve", "", ""), store.ErrInvalidInput, "phone or an email"},
				{"new customer with bad email", newCust("Eve", "", "eve"), store.ErrInvalidInput, "newCustomer.email"},
				{"email preference, new customer without email", newCust("Eve", "555 1234", ""), store.ErrInvalidInput, "contactPreference EMAIL"},
				{"phone preference, existing customer without phone", func(p *store.RecordBackorderParams) {
					p.CustomerID, p.ContactPreference = "C3", "PHONE"
				}, store.ErrInvalidInput, "contactPreference PHONE"},
				{"sms preference, new customer without phone", func(p *store.RecordBackorderParams) {
					newCust("Eve", "", "eve@example.com")(p)
					p.ContactPreference = "SMS"
				}, store.ErrInvalidInput, "contactPreference SMS"},
				{"note too long", func(p *store.RecordBackorderParams) { p.Note = strings.Repeat("é", 501) }, store.ErrInvalidInput, "note must be at most 500"},
				{"unknown store", func(p *store.RecordBackorderParams) { p.StoreID = "S999" }, store.ErrNotFound, "store S999"},
				{"unknown store with new customer", func(p *store.RecordBackorderParams) {
					newCust("Eve", "", "eve@example.com")(p)
					p.StoreID = "S999"
				}, store.ErrNotFound, "store S999"},
				{"unknown product", func(p *store.RecordBackorderParams) { p.SKU = "P-404" }, store.ErrNotFound, "product P-404"},
				{"unknown customer", func(p *store.RecordBackorderParams) { p.CustomerID = "C404" }, store.ErrNotFound, "customer C404"},
				{"unknown employee with new customer", func(p *store.RecordBackorderParams) {
					newCust("Eve", "", "eve@example.com")(p)
					p.RecordedBy = ptr("E404")
				}, store.ErrNotFound, "employee E404"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					before := counts(t, db)
					p := valid()
					tc.mod(&p)
					b, err := db.RecordBackorder(ctx, p)
					if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantMsg) {
						t.Fatalf("got %+v, %v; want %v mentioning %q", b, err, tc.want, tc.wantMsg)
					}
					if after := counts(t, db); after != before {
						t.Errorf("rows (customers, backorders, changes) went from %v to %v", before, after)
					}
				})
			}
			t.Run("note of exactly 500 characters", func(t *testing.T) {
				p := valid()
				p.Note = strings.Repeat("é", 500)
				if _, err := db.RecordBackorder(ctx, p); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

func TestUpdateBackorderStatus(t *testing.T) {
	ctx := context.Background()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			fixture(t, db)
			// newBackorder records a backorder and walks it to status.
			newBackorder := func(t *testing.T, status store.BackorderStatus) store.Backorder {
				t.Helper()
				b, err := db.RecordBackorder(ctx, store.RecordBackorderParams{StoreID: "S1", SKU: "P-002", Quantity: 1, CustomerID: "C1", ContactPreference: "EMAIL"})
				if err != nil {
					t.Fatal(err)
				}
				if status == store.StatusOpen {
					return b
				}
				if status == store.StatusFulfilled || status == store.StatusCancelled {
					if b, err = db.UpdateBackorderStatus(ctx, b.ID, store.StatusNotified, "", nil); err != nil {
						t.Fatal(err)
					}
				}
				if b, err = db.UpdateBackorderStatus(ctx, b.ID, status, "", nil); err != nil {
					t.Fatal(err)
				}
				return b
			}
			cases := []struct {
				name        string
				from, to    store.BackorderStatus
				want        error
				wantMsg     string
				wantHistory int // entries added by this change
			}{
				{name: "open to notified", from: "OPEN", to: "NOTIFIED", wantHistory: 1},
				{name: "open to cancelled", from: "OPEN", to: "CANCELLED", wantHistory: 1},
				{name: "open to fulfilled", from: "OPEN", to: "FULFILLED", wantHistory: 1},
				{name: "notified to fulfilled", from: "NOTIFIED", to: "FULFILLED", wantHistory: 1},
				{name: "notified to cancelled", from: "NOTIFIED", to: "CANCELLED", wantHistory: 1},
				{name: "open again is a no-op", from: "OPEN", to: "OPEN"},
				{name: "notified again is a no-op", from: "NOTIFIED", to: "NOTIFIED"},
				{name: "cancelled again is a no-op", from: "CANCELLED", to: "CANCELLED"},
				{name: "fulfilled to open", from: "FULFILLED", to: "OPEN", want: store.ErrConflict, wantMsg: "backorder is FULFILLED; it cannot become OPEN"},
				{name: "cancelled to notified", from: "CANCELLED", to: "NOTIFIED", want: store.ErrConflict, wantMsg: "backorder is CANCELLED; it cannot become NOTIFIED"},
				{name: "fulfilled to cancelled", from: "FULFILLED", to: "CANCELLED", want: store.ErrConflict, wantMsg: "cannot become CANCELLED"},
				{name: "notified to open", from: "NOTIFIED", to: "OPEN", want: store.ErrConflict, wantMsg: "backorder is NOTIFIED; it cannot become OPEN"},
				{name: "unknown status", from: "OPEN", to: "LOST", want: store.ErrInvalidInput, wantMsg: `"LOST"`},
				{name: "lower-case status", from: "OPEN", to: "notified", want: store.ErrInvalidInput, wantMsg: "status"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					b := newBackorder(t, tc.from)
					hist, err := db.BackorderHistory(ctx, []string{b.ID})
					if err != nil {
						t.Fatal(err)
					}
					before := len(hist[b.ID])
					got, err := db.UpdateBackorderStatus(ctx, b.ID, tc.to, "customer called", ptr("E2"))
					if tc.want != nil {
						if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantMsg) {
							t.Fatalf("got %v, want %v mentioning %q", err, tc.want, tc.wantMsg)
						}
					} else if err != nil {
						t.Fatal(err)
					} else if got.Status != tc.to || got.ID != b.ID {
						t.Errorf("returned %+v", got)
					}
					if tc.want == nil && tc.wantHistory == 0 && !reflect.DeepEqual(got, b) {
						t.Errorf("no-op changed the row: %+v, was %+v", got, b)
					}
					stored, err := db.BackordersByID(ctx, []string{b.ID})
					if err != nil {
						t.Fatal(err)
					}
					wantStatus := tc.from
					if tc.want == nil {
						wantStatus = tc.to
						if !reflect.DeepEqual(stored[b.ID], got) {
							t.Errorf("stored %+v, returned %+v", stored[b.ID], got)
						}
					}
					if stored[b.ID].Status != wantStatus {
						t.Errorf("stored status %s, want %s", stored[b.ID].Status, wantStatus)
					}
					hist, err = db.BackorderHistory(ctx, []string{b.ID})
					if err != nil {
						t.Fatal(err)
					}
					h := hist[b.ID]
					if len(h) != before+tc.wantHistory {
						t.Fatalf("history has %d entries, want %d", len(h), before+tc.wantHistory)
					}
					for i, c := range h {
						if c.Seq != i+1 {
							t.Errorf("history seqs %+v", h)
						}
					}
					if tc.wantHistory > 0 {
						last := h[len(h)-1]
						if last.Status != tc.to || last.Note != "customer called" || last.ChangedBy == nil || *last.ChangedBy != "E2" || last.ChangedAtMS != got.UpdatedAtMS {
							t.Errorf("last change %+v", last)
						}
					}
				})
			}
			t.Run("unknown backorder", func(t *testing.T) {
				if _, err := db.UpdateBackorderStatus(ctx, "B404", "NOTIFIED", "", nil); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("got %v, want ErrNotFound", err)
				}
			})
			t.Run("unknown employee", func(t *testing.T) {
				if _, err := db.UpdateBackorderStatus(ctx, "B01", "NOTIFIED", "", ptr("E404")); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("got %v, want ErrNotFound", err)
				}
			})
			t.Run("note too long", func(t *testing.T) {
				if _, err := db.UpdateBackorderStatus(ctx, "B01", "NOTIFIED", strings.Repeat("x", 501), nil); !errors.Is(err, store.ErrInvalidInput) {
					t.Errorf("got %v, want ErrInvalidInput", err)
				}
			})
			t.Run("concurrent final changes", func(t *testing.T) {
				b := newBackorder(t, store.StatusOpen)
				var (
					wg      sync.WaitGroup
					mu      sync.Mutex
					results = map[string]int{}
				)
				for i := range 8 {
					to := []store.BackorderStatus{store.StatusFulfilled, store.StatusCancelled}[i%2]
					wg.Go(func() {
						got, err := db.UpdateBackorderStatus(ctx, b.ID, to, "", nil)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case errors.Is(err, store.ErrConflict):
							results["conflict"]++
						case err != nil:
							t.Errorf("%s: %v", to, err)
						default:
							results[string(got.Status)]++
						}
					})
				}
				wg.Wait()
				hist, err := db.BackorderHistory(ctx, []string{b.ID})
				if err != nil {
					t.Fatal(err)
				}
				h := hist[b.ID]
				if len(h) != 2 || h[1].Seq != 2 {
					t.Fatalf("history %+v, want exactly one change", h)
				}
				if results[string(h[1].Status)] != 4 || results["conflict"] != 4 {
					t.Errorf("results %v with final status %s", results, h[1].Status)
				}
			})
		})
	}
}

func TestRSVP(t *testing.T) {
	ctx := context.Background()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			fixture(t, db)
			// The steps run in order: each sees the answers before it.
			// EV-A has one place, EV-B is unlimited, EV-PAST has ended.
			steps := []struct {
				name, event, employee string
				response              store.RSVPResponse
				want                  error
			}{
				{name: "going", event: "EV-A", employee: "E1", response: "GOING"},
				{name: "going again while full", event: "EV-A", employee: "E1", response: "GOING"},
				{name: "full", event: "EV-A", employee: "E2", response: "GOING", want: store.ErrConflict},
				{name: "maybe is allowed while full", event: "EV-A", employee: "E2", response: "MAYBE"},
				{name: "giving up the place", event: "EV-A", employee: "E1", response: "DECLINED"},
				{name: "place taken", event: "EV-A", employee: "E2", response: "GOING"},
				{name: "unlimited", event: "EV-B", employee: "E1", response: "GOING"},
				{name: "ended", event: "EV-PAST", employee: "E1", response: "GOING", want: store.ErrConflict},
				{name: "declining an ended event", event: "EV-PAST", employee: "E1", response: "DECLINED"},
				{name: "bad response", event: "EV-B", employee: "E1", response: "YES", want: store.ErrInvalidInput},
				{name: "unknown event", event: "EV-404", employee: "E1", response: "GOING", want: store.ErrNotFound},
				{name: "unknown event, maybe", event: "EV-404", employee: "E1", response: "MAYBE", want: store.ErrNotFound},
				{name: "unknown employee", event: "EV-B", employee: "E404", response: "MAYBE", want: store.ErrNotFound},
			}
			for _, s := range steps {
				t.Run(s.name, func(t *testing.T) {
					start := store.Millis(time.Now())
					r, err := db.RSVP(ctx, s.event, s.employee, s.response)
					if s.want != nil {
						if !errors.Is(err, s.want) {
							t.Fatalf("got %+v, %v; want %v", r, err, s.want)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if r.EventID != s.event || r.EmployeeID != s.employee || r.Response != s.response || r.RespondedAtMS < start {
						t.Errorf("returned %+v", r)
					}
					got, err := db.RSVPsOf(ctx, s.employee, []string{s.event})
					if err != nil {
						t.Fatal(err)
					}
					if got[s.event] != r {
						t.Errorf("stored %+v, returned %+v", got[s.event], r)
					}
				})
			}
			counts, err := db.AttendeeCounts(ctx, []string{"EV-A", "EV-B", "EV-PAST"})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int{"EV-A": 1, "EV-B": 1, "EV-PAST": 1}; !maps.Equal(counts, want) {
				t.Errorf("attendee counts %v, want %v", counts, want)
			}
			var rows int
			if err := db.SQLX().GetContext(ctx, &rows, db.SQLX().Rebind("SELECT COUNT(*) FROM rsvps WHERE event_id = ?"), "EV-A"); err != nil {
				t.Fatal(err)
			}
			if rows != 2 {
				t.Errorf("EV-A has %d rsvp rows, want 2 (upserts, not duplicates)", rows)
			}
		})
	}
}

func TestRSVPNeverOverbooks(t *testing.T) {
	ctx := context.Background()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			fixture(t, db)
			// EV-C has 2 places, both taken; free one, then race three for it.
			if _, err := db.RSVP(ctx, "EV-C", "E2", "DECLINED"); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i, emp := range []string{"E2", "E3", "E2"} {
				wg.Go(func() { _, errs[i] = db.RSVP(ctx, "EV-C", emp, "GOING") })
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil && !errors.Is(err, store.ErrConflict) {
					t.Errorf("unexpected error %v", err)
				}
			}
			n, err := db.AttendeeCounts(ctx, []string{"EV-C"})
			if err != nil {
				t.Fatal(err)
			}
			if n["EV-C"] != 2 {
				t.Errorf("EV-C has %d going, capacity 2", n["EV-C"])
			}
		})
	}
}

// TestBackordersComeWithTheirParties checks every way the store returns a
// backorder: each comes with its own customer and product, read with the
// row, so the GraphQL engine can serve both without a read of its own.
func TestBackordersComeWithTheirParties(t *testing.T) {
	ctx := context.Background()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			fixture(t, db)
			customers := map[string]string{"C1": "Bob Jones", "C2": "Sam Lee", "C3": "Alice Smith"}
			check := func(how string, bs ...store.Backorder) {
				t.Helper()
				if len(bs) == 0 {
					t.Fatalf("%s: no backorders", how)
				}
				for _, b := range bs {
					switch {
					case b.Customer == nil || b.Product == nil:
						t.Errorf("%s: %s has customer %v, product %v", how, b.ID, b.Customer, b.Product)
					case b.Customer.ID != b.CustomerID || b.Product.SKU != b.SKU:
						t.Errorf("%s: %s of %s/%s came with %s/%s", how, b.ID, b.CustomerID, b.SKU, b.Customer.ID, b.Product.SKU)
					case customers[b.CustomerID] != "" && b.Customer.Name != customers[b.CustomerID]:
						t.Errorf("%s: %s: customer name %q, want %q", how, b.ID, b.Customer.Name, customers[b.CustomerID])
					case b.SKU == "P-001" && (b.Product.Name != "Cotton Shirt" || b.Product.PriceCents != 2500):
						t.Errorf("%s: %s: product %+v", how, b.ID, *b.Product)
					}
				}
			}
			list, err := db.ListBackorders(ctx, store.BackorderFilter{StoreID: "S1"}, store.Page{First: 10})
			if err != nil {
				t.Fatal(err)
			}
			check("list", list.Items...)
			for _, owners := range [][]string{{"S1"}, {"S1", "S2"}} {
				pages, err := db.BackorderPages(ctx, owners, false, store.BackorderFilter{}, store.Page{First: 10})
				if err != nil {
					t.Fatal(err)
				}
				for id, p := range pages {
					check(fmt.Sprintf("pages of %v, %s", owners, id), p.Items...)
				}
			}
			byCustomer, err := db.BackorderPages(ctx, []string{"C1", "C2"}, true, store.BackorderFilter{}, store.Page{First: 10})
			if err != nil {
				t.Fatal(err)
			}
			for id, p := range byCustomer {
				check("customer page "+id, p.Items...)
			}
			byID, err := db.BackordersByID(ctx, []string{"B01", "B06"})
			if err != nil {
				t.Fatal(err)
			}
			check("by id", slices.Collect(maps.Values(byID))...)
			rec, err := db.RecordBackorder(ctx, store.RecordBackorderParams{StoreID: "S1", SKU: "P-003", Quantity: 1, CustomerID: "C3", ContactPreference: store.ContactEmail})
			if err != nil {
				t.Fatal(err)
			}
			check("recorded", rec)
			if rec.Product.Name != "Kettle" {
				t.Errorf("recorded: product %+v", *rec.Product)
			}
			recNew, err := db.RecordBackorder(ctx, store.RecordBackorderParams{StoreID: "S2", SKU: "P-001", Quantity: 2,
				NewCustomer: &store.NewCustomer{Name: "New Person", Email: "new@example.com"}, ContactPreference: store.ContactEmail})
			if err != nil {
				t.Fatal(err)
			}
			check("recorded for a new customer", recNew)
			if recNew.Customer.Name != "New Person" || recNew.Customer.Email != "new@example.com" {
				t.Errorf("recorded for a new customer: customer %+v", *recNew.Customer)
			}
			upd, err := db.UpdateBackorderStatus(ctx, "B01", store.StatusNotified, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			check("updated", upd)
			same, err := db.UpdateBackorderStatus(ctx, "B01", store.StatusNotified, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			check("updated to the same status", same)
		})
	}
}

// TestInventoryComesWithItsProduct checks every way the store returns stock
// rows: each comes with its own product, read with the row.
func TestInventoryComesWithItsProduct(t *testing.T) {
	ctx := context.Background()
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			db := e.DB
			fixture(t, db)
			names := map[string]string{"P-001": "Cotton Shirt", "P-002": "Linen Shirt", "P-003": "Kettle", "P-004": "Toaster", "P-005": "Mug"}
			check := func(how string, rows ...store.Inventory) {
				t.Helper()
				if len(rows) == 0 {
					t.Fatalf("%s: no rows", how)
				}
				for _, r := range rows {
					if r.Product == nil || r.Product.SKU != r.SKU || r.Product.Name != names[r.SKU] {
						t.Errorf("%s: %s/%s came with product %+v", how, r.StoreID, r.SKU, r.Product)
					}
				}
			}
			for _, stores := range [][]string{{"S1"}, {"S1", "S2"}} {
				for _, low := range []bool{false, true} {
					pages, err := db.InventoryPages(ctx, stores, store.InventoryFilter{LowStockOnly: low}, store.Page{First: 10})
					if err != nil {
						t.Fatal(err)
					}
					for id, p := range pages {
						check(fmt.Sprintf("pages of %v (low stock %v), %s", stores, low, id), p.Items...)
					}
				}
			}
			byKey, err := db.InventoryByKeys(ctx, []store.InventoryKey{{StoreID: "S1", SKU: "P-002"}, {StoreID: "S2", SKU: "P-003"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(byKey) != 2 {
				t.Fatalf("by keys: %d rows, want 2", len(byKey))
			}
			check("by keys", slices.Collect(maps.Values(byKey))...)
			bySKU, err := db.StockBySKU(ctx, []string{"P-001", "P-003"})
			if err != nil {
				t.Fatal(err)
			}
			for sku, rows := range bySKU {
				check("stock of "+sku, rows...)
			}
		})
	}
}

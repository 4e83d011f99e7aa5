package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/store/storetest"
)

// TestSeed seeds scale 1 once per engine to inspect it and compares the
// engines with each other, and seeds the test fixture twice per engine to
// prove a seed is deterministic.
// Under the race detector the pure-Go SQLite driver runs tens of times
// slower, so there SQLite is seeded once and its determinism is checked
// against PostgreSQL's seed instead (when MIDDLETIER_TEST_POSTGRES_DSN is set).
func TestSeed(t *testing.T) {
	ctx := context.Background()
	engines := storetest.Engines(t)
	var mu sync.Mutex
	digests := map[string]string{}
	t.Run("engines", func(t *testing.T) {
		for _, e := range engines {
			t.Run(e.Name, func(t *testing.T) {
				t.Parallel()
				d := testSeedEngine(ctx, t, e, len(engines))
				mu.Lock()
				digests[e.Name] = d
				mu.Unlock()
			})
		}
	})
	if len(digests) == 2 && digests["sqlite"] != digests["postgres"] {
		t.Errorf("SQLite and PostgreSQL seeds differ: %s vs %s", digests["sqlite"], digests["postgres"])
	}
}

func testSeedEngine(ctx context.Context, t *testing.T, e storetest.Engine, engines int) string {
	db := e.DB
	if empty, err := db.IsEmpty(ctx); err != nil || !empty {
		t.Fatalf("IsEmpty on a fresh database = %v, %v; want true", empty, err)
	}
	for _, scale := range []int{0, -1, store.SeedMaxScale + 1} {
		if err := db.Seed(ctx, scale); !errors.Is(err, store.ErrInvalidInput) {
			t.Errorf("Seed(scale %d) = %v; want ErrInvalidInput", scale, err)
		}
	}
	for _, size := range []store.SeedSize{{}, {Products: 1, Customers: 1}, {Products: -1, Customers: 1, Backorders: 1}} {
		if err := db.SeedSized(ctx, size); !errors.Is(err, store.ErrInvalidInput) {
			t.Errorf("SeedSized(%+v) = %v; want ErrInvalidInput", size, err)
		}
	}
	if empty, err := db.IsEmpty(ctx); err != nil || !empty {
		t.Fatalf("IsEmpty after refused seeds = %v, %v; want true", empty, err)
	}

	start := time.Now()
	if err := db.Seed(ctx, 1); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	t.Logf("seeded scale 1 on %s in %v (%d statements)", e.Name, time.Since(start).Round(time.Millisecond), db.Statements())
	if empty, err := db.IsEmpty(ctx); err != nil || empty {
		t.Fatalf("IsEmpty after Seed = %v, %v; want false", empty, err)
	}

	t.Run("counts", func(t *testing.T) { checkSeedCounts(t, db) })
	t.Run("products", func(t *testing.T) { checkSeedProducts(t, db) })
	t.Run("inventory", func(t *testing.T) { checkSeedInventory(t, db) })
	t.Run("customers", func(t *testing.T) { checkSeedCustomers(t, db) })
	t.Run("employees", func(t *testing.T) { checkSeedEmployees(t, db) })
	t.Run("backorders", func(t *testing.T) { checkSeedBackorders(t, db) })
	t.Run("events", func(t *testing.T) { checkSeedEvents(t, db) })

	err := db.Seed(ctx, 1)
	if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "seed runs only on an empty database") {
		t.Errorf("second Seed = %v; want ErrConflict about an empty database", err)
	}
	if n := seedCount(t, db, "SELECT COUNT(*) FROM stores"); n != 20 {
		t.Errorf("after the refused second seed: %d stores, want 20", n)
	}

	want := seedDigest(t, db)
	if seedRaceEnabled && e.Name == "sqlite" {
		if engines > 1 {
			t.Log("race detector: SQLite seeded once; its determinism is checked against PostgreSQL")
		} else {
			t.Logf("race detector: SQLite seeded once; set %s to check determinism against PostgreSQL, or run without -race", storetest.PostgresEnv)
		}
		return want
	}
	// Determinism: two more databases seeded alike hold the same rows. The
	// test fixture runs the same code over the same streams at a tenth of
	// scale 1's rows, so it checks this without two more scale-1 seeds.
	var digests [2]string
	for i := range digests {
		var again *store.DB
		if e.Name == "postgres" {
			again = storetest.Postgres(t)
		} else {
			again = storetest.SQLite(t)
		}
		if err := again.SeedSized(ctx, store.FixtureSize); err != nil {
			t.Fatalf("seed the fixture: %v", err)
		}
		digests[i] = seedDigest(t, again)
	}
	if digests[0] != digests[1] {
		t.Errorf("two fixture seeds differ: digests %s and %s", digests[0], digests[1])
	}
	return want
}

func seedCount(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQLX().Get(&n, db.SQLX().Rebind(query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func checkSeedCounts(t *testing.T, db *store.DB) {
	for _, c := range []struct {
		table string
		want  int
	}{
		{"stores", 20},
		{"products", 5000},
		{"inventory", 20 * 5000},
		{"customers", 2000},
		{"backorders", 10000},
		{"events", 12},
	} {
		if n := seedCount(t, db, "SELECT COUNT(*) FROM "+c.table); n != c.want {
			t.Errorf("%s: %d rows, want %d", c.table, n, c.want)
		}
	}
	for _, id := range []string{"S001", "S002", "S020"} {
		if n := seedCount(t, db, "SELECT COUNT(*) FROM stores WHERE id = ?", id); n != 1 {
			t.Errorf("store %s missing", id)
		}
	}
	if n := seedCount(t, db, "SELECT COUNT(*) FROM backorder_status_changes"); n < 10000 || n > 30000 {
		t.Errorf("backorder_status_changes: %d rows, want 10,000 to 30,000", n)
	}
	if n := seedCount(t, db, "SELECT COUNT(*) FROM rsvps"); n < 50 {
		t.Errorf("rsvps: %d rows, want some", n)
	}
	// The status mix: roughly 45% OPEN, 20% NOTIFIED, 25% FULFILLED, 10% CANCELLED.
	for _, c := range []struct {
		status   store.BackorderStatus
		min, max int
	}{
		{store.StatusOpen, 4000, 5000},
		{store.StatusNotified, 1600, 2400},
		{store.StatusFulfilled, 2100, 2900},
		{store.StatusCancelled, 700, 1300},
	} {
		if n := seedCount(t, db, "SELECT COUNT(*) FROM backorders WHERE status = ?", c.status); n < c.min || n > c.max {
			t.Errorf("%s backorders: %d, want %d to %d", c.status, n, c.min, c.max)
		}
	}
	// Spread over every store.
	var perStore []int
	if err := db.SQLX().Select(&perStore, "SELECT COUNT(*) FROM backorders GROUP BY store_id"); err != nil {
		t.Fatal(err)
	}
	if len(perStore) != 20 || slices.Min(perStore) < 300 {
		t.Errorf("backorders per store: %v; want all 20 stores with at least 300", perStore)
	}
}

func checkSeedProducts(t *testing.T, db *store.DB) {
	var rows []struct {
		store.Product
		SearchText string `db:"search_text"`
	}
	if err := db.SQLX().Select(&rows, "SELECT sku, name, description, category, barcode, price_cents, search_text FROM products"); err != nil {
		t.Fatal(err)
	}
	categories := map[string]int{}
	names := map[string]bool{}
	for _, p := range rows {
		categories[p.Category]++
		names[p.Name] = true
		if !seedValidEAN13(p.Barcode) {
			t.Fatalf("product %s: barcode %q is not a valid EAN-13", p.SKU, p.Barcode)
		}
		if p.PriceCents < 100 || p.PriceCents > 100000 {
			t.Fatalf("product %s: price %d cents", p.SKU, p.PriceCents)
		}
		if p.Name == "" || p.Description == "" {
			t.Fatalf("product %s has no name or description", p.SKU)
		}
		if want := store.ProductSearchText(p.Product); p.SearchText != want {
			t.Fatalf("product %s: search_text %q, want %q", p.SKU, p.SearchText, want)
		}
	}
	if len(categories) < 4 {
		t.Errorf("categories %v; want a mix", categories)
	}
	if len(names) < 2500 {
		t.Errorf("only %d distinct product names among %d products", len(names), len(rows))
	}
	for _, sku := range []string{"SKU-00001", "SKU-05000"} {
		if n := seedCount(t, db, "SELECT COUNT(*) FROM products WHERE sku = ?", sku); n != 1 {
			t.Errorf("product %s missing", sku)
		}
	}
}

func seedValidEAN13(s string) bool {
	if len(s) != 13 {
		return false
	}
	sum := 0
	for i, c := range s {
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return sum%10 == 0
}

func checkSeedInventory(t *testing.T, db *store.DB) {
	// Every store stocks every product: (store_id, sku) is the primary key and
	// both are foreign keys, so stores x products rows means every pair once.
	stores, products := seedCount(t, db, "SELECT COUNT(*) FROM stores"), seedCount(t, db, "SELECT COUNT(*) FROM products")
	if n := seedCount(t, db, "SELECT COUNT(*) FROM inventory"); n != stores*products {
		t.Errorf("%d inventory rows for %d stores and %d products", n, stores, products)
	}
	if n := seedCount(t, db, `SELECT COUNT(*) FROM inventory i WHERE NOT EXISTS (SELECT 1 FROM stores s WHERE s.id = i.store_id)
		OR NOT EXISTS (SELECT 1 FROM products p WHERE p.sku = i.sku)`); n != 0 {
		t.Errorf("%d inventory rows for unknown stores or products", n)
	}
	for _, id := range []string{"S001", "S002"} {
		if n := seedCount(t, db, "SELECT COUNT(*) FROM inventory WHERE store_id = ?", id); n != products {
			t.Errorf("store %s stocks %d products, want all %d", id, n, products)
		}
	}
	if n := seedCount(t, db, `SELECT COUNT(*) FROM inventory WHERE reserved > on_hand OR on_hand > 60
		OR reorder_point < 3 OR reorder_point > 10`); n != 0 {
		t.Errorf("%d inventory rows out of range", n)
	}
	zero := seedCount(t, db, "SELECT COUNT(*) FROM inventory WHERE on_hand = 0")
	if pct := float64(zero) / 1000; pct < 7 || pct > 11 {
		t.Errorf("%.1f%% of inventory is out of stock; want about 8-10%%", pct)
	}
	if n := seedCount(t, db, "SELECT COUNT(*) FROM inventory WHERE updated_at > ?", store.Millis(store.SeedReference)); n != 0 {
		t.Errorf("%d inventory rows updated after the seed reference date", n)
	}
}

func checkSeedCustomers(t *testing.T, db *store.DB) {
	var rows []struct {
		store.Customer
		SearchText string `db:"search_text"`
	}
	if err := db.SQLX().Select(&rows, "SELECT id, name, phone, email, created_at, search_text FROM customers"); err != nil {
		t.Fatal(err)
	}
	for _, c := range rows {
		if _, err := uuid.Parse(c.ID); err != nil {
			t.Fatalf("customer id %q: %v", c.ID, err)
		}
		if c.Phone == "" && c.Email == "" {
			t.Fatalf("customer %s has neither phone nor email", c.ID)
		}
		if c.Phone != "" && !strings.Contains(c.Phone, " 555-") {
			t.Fatalf("customer %s: phone %q outside the 555 range", c.ID, c.Phone)
		}
		if c.Email != "" && !strings.HasSuffix(c.Email, "@example.com") && !strings.HasSuffix(c.Email, "@example.org") {
			t.Fatalf("customer %s: email %q", c.ID, c.Email)
		}
		if want := store.CustomerSearchText(c.Name, c.Email, c.Phone); c.SearchText != want {
			t.Fatalf("customer %s: search_text %q, want %q", c.ID, c.SearchText, want)
		}
	}
	// Every customer existed before any of their backorders.
	if n := seedCount(t, db, `SELECT COUNT(*) FROM backorders b JOIN customers c ON c.id = b.customer_id
		WHERE c.created_at > b.created_at`); n != 0 {
		t.Errorf("%d backorders older than their customer", n)
	}
	// Contact preferences reach the customer.
	if n := seedCount(t, db, `SELECT COUNT(*) FROM backorders b JOIN customers c ON c.id = b.customer_id
		WHERE (b.contact_preference = 'EMAIL' AND c.email = '')
		   OR (b.contact_preference IN ('PHONE', 'SMS') AND c.phone = '')`); n != 0 {
		t.Errorf("%d backorders with a contact preference the customer cannot be reached by", n)
	}
}

func checkSeedEmployees(t *testing.T, db *store.DB) {
	var emps []store.Employee
	if err := db.SQLX().Select(&emps, "SELECT id, oid, login, name, email, role, store_id FROM employees ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	byLogin := map[string]store.Employee{}
	for _, e := range emps {
		byLogin[e.Login] = e
		if _, err := uuid.Parse(e.OID); err != nil {
			t.Errorf("employee %s: oid %q: %v", e.ID, e.OID, err)
		}
		if (e.Role == store.RoleHeadOffice) != (e.StoreID == nil) {
			t.Errorf("employee %s: role %s with store %v", e.ID, e.Role, e.StoreID)
		}
	}
	for i, p := range []struct {
		login, name string
		role        store.Role
		store       string
	}{
		{"avery", "Avery Johnson", store.RoleStoreAssociate, "S001"},
		{"blake", "Blake Chen", store.RoleStoreManager, "S001"},
		{"casey", "Casey Morgan", store.RoleStoreAssociate, "S002"},
		{"devon", "Devon Patel", store.RoleHeadOffice, ""},
	} {
		e, ok := byLogin[p.login]
		if !ok {
			t.Errorf("persona %s missing", p.login)
			continue
		}
		storeID := ""
		if e.StoreID != nil {
			storeID = *e.StoreID
		}
		wantOID := uuid.NewSHA1(uuid.NameSpaceURL, []byte("middletier:employee:"+p.login)).String()
		if e.ID != fmt.Sprintf("E%04d", i+1) || e.Name != p.name || e.Role != p.role || storeID != p.store ||
			e.Email != p.login+"@contoso.example" || e.OID != wantOID || store.SeedEmployeeOID(p.login) != wantOID {
			t.Errorf("persona %s = %+v (store %q); want %s, %s, %s, oid %s", p.login, e, storeID, p.name, p.role, p.store, wantOID)
		}
	}
	// Every store has a manager and at least two associates.
	var staff []struct {
		StoreID    string `db:"store_id"`
		Managers   int    `db:"managers"`
		Associates int    `db:"associates"`
	}
	if err := db.SQLX().Select(&staff, `SELECT store_id,
		SUM(CASE WHEN role = 'STORE_MANAGER' THEN 1 ELSE 0 END) AS managers,
		SUM(CASE WHEN role = 'STORE_ASSOCIATE' THEN 1 ELSE 0 END) AS associates
		FROM employees WHERE store_id IS NOT NULL GROUP BY store_id`); err != nil {
		t.Fatal(err)
	}
	if len(staff) != 20 {
		t.Errorf("%d stores have staff, want 20", len(staff))
	}
	for _, s := range staff {
		if s.Managers < 1 || s.Associates < 2 {
			t.Errorf("store %s: %d managers and %d associates", s.StoreID, s.Managers, s.Associates)
		}
	}
}

func checkSeedBackorders(t *testing.T, db *store.DB) {
	var bos []store.Backorder
	if err := db.SQLX().Select(&bos, `SELECT id, store_id, sku, customer_id, quantity, contact_preference,
		status, note, recorded_by, created_at, updated_at FROM backorders`); err != nil {
		t.Fatal(err)
	}
	var changes []store.StatusChange
	if err := db.SQLX().Select(&changes, `SELECT backorder_id, seq, status, note, changed_by, changed_at
		FROM backorder_status_changes`); err != nil {
		t.Fatal(err)
	}
	var emps []store.Employee
	if err := db.SQLX().Select(&emps, "SELECT id, oid, login, name, email, role, store_id FROM employees"); err != nil {
		t.Fatal(err)
	}
	storeOf := map[string]string{}
	for _, e := range emps {
		if e.StoreID != nil {
			storeOf[e.ID] = *e.StoreID
		}
	}
	history := map[string][]store.StatusChange{}
	for _, c := range changes {
		history[c.BackorderID] = append(history[c.BackorderID], c)
	}
	allowed := map[[2]store.BackorderStatus]bool{
		{store.StatusOpen, store.StatusNotified}:      true,
		{store.StatusOpen, store.StatusCancelled}:     true,
		{store.StatusNotified, store.StatusFulfilled}: true,
		{store.StatusNotified, store.StatusCancelled}: true,
	}
	ref := store.Millis(store.SeedReference)
	oldest := store.Millis(store.SeedReference.AddDate(0, 0, -120))
	for _, b := range bos {
		if _, err := uuid.Parse(b.ID); err != nil {
			t.Fatalf("backorder id %q: %v", b.ID, err)
		}
		if b.CreatedAtMS < oldest || b.CreatedAtMS >= ref {
			t.Fatalf("backorder %s created at %v, outside the 120 days before %v", b.ID, b.CreatedAt(), store.SeedReference)
		}
		if b.RecordedBy == nil || storeOf[*b.RecordedBy] != b.StoreID {
			t.Fatalf("backorder %s at %s recorded by %v, not a member of its staff", b.ID, b.StoreID, b.RecordedBy)
		}
		h := history[b.ID]
		slices.SortFunc(h, func(x, y store.StatusChange) int { return x.Seq - y.Seq })
		if len(h) == 0 || h[0].Status != store.StatusOpen || h[0].ChangedAtMS != b.CreatedAtMS {
			t.Fatalf("backorder %s: history %+v does not start with its creation", b.ID, h)
		}
		last := h[len(h)-1]
		if last.Status != b.Status || last.ChangedAtMS != b.UpdatedAtMS || last.ChangedAtMS > ref {
			t.Fatalf("backorder %s (%s, updated %d): last history entry %+v", b.ID, b.Status, b.UpdatedAtMS, last)
		}
		for i, c := range h {
			if c.Seq != i+1 {
				t.Fatalf("backorder %s: seq %d at position %d", b.ID, c.Seq, i+1)
			}
			if c.ChangedBy == nil || storeOf[*c.ChangedBy] != b.StoreID {
				t.Fatalf("backorder %s at %s: change %d by %v, not a member of its staff", b.ID, b.StoreID, c.Seq, c.ChangedBy)
			}
			if i > 0 {
				if c.ChangedAtMS <= h[i-1].ChangedAtMS {
					t.Fatalf("backorder %s: change %d not after change %d", b.ID, c.Seq, h[i-1].Seq)
				}
				if !allowed[[2]store.BackorderStatus{h[i-1].Status, c.Status}] {
					t.Fatalf("backorder %s: %s -> %s is not a lifecycle step", b.ID, h[i-1].Status, c.Status)
				}
			}
		}
		delete(history, b.ID)
	}
	if len(history) != 0 {
		t.Errorf("%d histories without a backorder", len(history))
	}
}

func checkSeedEvents(t *testing.T, db *store.DB) {
	var events []store.Event
	if err := db.SQLX().Select(&events, "SELECT id, title, description, location, starts_at, ends_at, capacity FROM events"); err != nil {
		t.Fatal(err)
	}
	ref := store.SeedReference
	past, upcoming, future := 0, 0, 0
	for _, e := range events {
		if !e.EndsAt().After(e.StartsAt()) || e.Capacity <= 0 || e.Title == "" {
			t.Errorf("event %+v", e)
		}
		if e.StartsAt().Before(ref) {
			past++
			continue
		}
		upcoming++
		if e.StartsAt().Before(ref.AddDate(0, 0, 30)) || e.StartsAt().After(ref.AddDate(0, 0, 301)) {
			t.Errorf("upcoming event %s starts %v, not 30 to 300 days after %v", e.ID, e.StartsAt(), ref)
		}
		if e.StartsAt().After(time.Now()) {
			future++
		}
	}
	if past == 0 || upcoming <= past {
		t.Errorf("%d past and %d upcoming events; want some past, most upcoming", past, upcoming)
	}
	if future < 5 {
		t.Errorf("only %d events start after the current time", future)
	}
	if n := seedCount(t, db, `SELECT COUNT(*) FROM events e WHERE e.capacity <
		(SELECT COUNT(*) FROM rsvps r WHERE r.event_id = e.id AND r.response = 'GOING')`); n != 0 {
		t.Errorf("%d events with more GOING answers than places", n)
	}
	if n := seedCount(t, db, "SELECT COUNT(*) FROM rsvps WHERE responded_at > ?", store.Millis(ref)); n != 0 {
		t.Errorf("%d RSVPs answered after the seed reference date", n)
	}
	if n := seedCount(t, db, `SELECT COUNT(*) FROM rsvps r JOIN employees e ON e.id = r.employee_id
		WHERE e.login = 'avery'`); n == 0 {
		t.Error("avery has no RSVPs")
	}
}

// seedDigest hashes every seeded row of every table. Rows are rendered and
// sorted in Go, so collation differences between engines do not matter.
func seedDigest(t *testing.T, db *store.DB) string {
	t.Helper()
	h := sha256.New()
	for _, table := range []string{"stores", "products", "inventory", "customers", "employees",
		"backorders", "backorder_status_changes", "events", "rsvps"} {
		rows, err := db.SQLX().Queryx("SELECT * FROM " + table)
		if err != nil {
			t.Fatalf("digest %s: %v", table, err)
		}
		var lines []string
		for rows.Next() {
			vals, err := rows.SliceScan()
			if err != nil {
				rows.Close()
				t.Fatalf("digest %s: %v", table, err)
			}
			var sb strings.Builder
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintf(&sb, "%v\x1f", v)
			}
			lines = append(lines, sb.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("digest %s: %v", table, err)
		}
		rows.Close()
		slices.Sort(lines)
		fmt.Fprintf(h, "%s:%d\n", table, len(lines))
		for _, l := range lines {
			h.Write([]byte(l))
			h.Write([]byte{'\n'})
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// seedRaceEnabled is set by seed_race_test.go when the race detector is on.
var seedRaceEnabled bool

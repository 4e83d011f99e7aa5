package facade_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/middletier/middletier/internal/input"
	"github.com/middletier/middletier/internal/store/storetest"
)

// TestFacadeInputContract: bad text (NUL, invalid UTF-8 in query strings
// and path values, over-long values) and out-of-range page sizes are a 400
// BAD_USER_INPUT naming the REST parameter, on both engines, with nothing
// written. On main these were 500s on PostgreSQL (and a 1 MB search on both).
func TestFacadeInputContract(t *testing.T) {
	mb := strings.Repeat("a", 1<<20)
	body := func(name, email, note string) string {
		b, _ := json.Marshal(map[string]any{"storeId": "S001", "sku": "SKU-00001", "contactPreference": "EMAIL", "note": note,
			"newCustomer": map[string]any{"name": name, "email": email}})
		return string(b)
	}
	cases := []struct {
		name  string
		req   req
		param string
		in    string
	}{
		{"SearchProducts NUL", get("/api/v1/products?search=lamp%00", "avery"), "search", "query"},
		{"SearchProducts FF FE", get("/api/v1/products?search=%FF%FE", "avery"), "search", "query"},
		{"SearchProducts overlong", get("/api/v1/products?search=%C0%AF", "avery"), "search", "query"},
		{"SearchProducts surrogate", get("/api/v1/products?search=%ED%A0%80", "avery"), "search", "query"},
		{"SearchProducts 1 MB", get("/api/v1/products?search="+mb, "avery"), "search", "query"},
		{"SearchProducts page size 0", get("/api/v1/products?pageSize=0", "avery"), "pageSize", "query"},
		{"SearchProducts page size -1", get("/api/v1/products?pageSize=-1", "avery"), "pageSize", "query"},
		{"SearchProducts page size 101", get("/api/v1/products?pageSize=101", "avery"), "pageSize", "query"},
		{"SearchProducts forged long token", get("/api/v1/products?pageToken="+strings.Repeat("A", 513), "avery"), "pageToken", "query"},
		{"ListNews page size 51", get("/api/v1/news?pageSize=51", "avery"), "pageSize", "query"},
		{"FindCustomers NUL", get("/api/v1/customers?search=an%00", "avery"), "search", "query"},
		{"FindCustomers invalid UTF-8", get("/api/v1/customers?search=%FF%FE", "avery"), "search", "query"},
		{"GetProductAvailability NUL in path", get("/api/v1/stores/S0%0001/products/SKU-00001/availability", "avery"), "storeId", "path"},
		{"GetProductAvailability invalid UTF-8 in path", get("/api/v1/stores/S001/products/%FF%FE/availability", "avery"), "sku", "path"},
		{"GetProductAvailability nearbyLimit 21", get("/api/v1/stores/S001/products/SKU-00001/availability?nearbyLimit=21", "avery"), "nearbyLimit", "query"},
		{"RecordBackorder NUL name", post("/api/v1/backorders", "avery", body("Eve\u0000", "eve@example.org", "")), "newCustomer.name", "body"},
		{"RecordBackorder 1 MB name", post("/api/v1/backorders", "avery", body(mb, "eve@example.org", "")), "newCustomer.name", "body"},
		{"RecordBackorder 1 MB email", post("/api/v1/backorders", "avery", body("Eve", mb+"@example.org", "")), "newCustomer.email", "body"},
		{"RecordBackorder long note", post("/api/v1/backorders", "avery", body("Eve", "eve@example.org", strings.Repeat("é", 501))), "note", "body"},
		{"UpdateBackorderStatus NUL in path", post("/api/v1/backorders/B%00/status", "blake", `{"status":"CANCELLED"}`), "backorderId", "path"},
		{"UpdateBackorderStatus invalid UTF-8 in path", post("/api/v1/backorders/%C0%AF/status", "blake", `{"status":"CANCELLED"}`), "backorderId", "path"},
		{"UpdateBackorderStatus NUL note", post("/api/v1/backorders/B1/status", "blake", `{"status":"CANCELLED","note":"x\u0000"}`), "note", "body"},
		{"RsvpEvent surrogate in path", post("/api/v1/events/%ED%A0%80/rsvp", "casey", `{"response":"GOING"}`), "eventId", "path"},
		{"RsvpEvent NUL in path", post("/api/v1/events/EV%00/rsvp", "casey", `{"response":"GOING"}`), "eventId", "path"},
	}
	for name, e := range seeded(t) {
		t.Run(name, func(t *testing.T) {
			count := func() (n [3]int) {
				for i, table := range []string{"customers", "backorders", "rsvps"} {
					if err := e.db.SQLX().Get(&n[i], "SELECT COUNT(*) FROM "+table); err != nil {
						t.Fatal(err)
					}
				}
				return n
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					before := count()
					w := e.do(t, c.req)
					b := checkErrorContract(t, w)
					if w.Code != http.StatusBadRequest || b.Error.Code != "BAD_USER_INPUT" {
						t.Fatalf("got %d %s, want 400 BAD_USER_INPUT: %.300s", w.Code, b.Error.Code, w.Body)
					}
					if len(b.Error.Details) == 0 || b.Error.Details[0]["parameter"] != c.param || b.Error.Details[0]["in"] != c.in {
						t.Fatalf("details %v, want parameter %s in %s", b.Error.Details, c.param, c.in)
					}
					if after := count(); after != before {
						t.Fatalf("rows went from %v to %v", before, after)
					}
				})
			}
		})
	}
}

// FuzzBind drives parameter binding through the full router with arbitrary
// query, path and body text: never a 5xx; text the contract refuses is a
// 400 naming that parameter; text it accepts is never refused as that
// parameter (the empty database then answers 401, 404 or a page).
func FuzzBind(f *testing.F) {
	for _, s := range []string{"lamp", "\x00", "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "%", "a/b", strings.Repeat("a", 201), strings.Repeat("a", 1<<20), "-1", "99999999999"} {
		f.Add(s)
	}
	e := newEnv(f, storetest.SQLite(f))
	f.Fuzz(func(t *testing.T, s string) {
		bodyText, _ := json.Marshal(map[string]any{"status": "CANCELLED", "note": s})
		var sentNote struct{ Note string }
		_ = json.Unmarshal(bodyText, &sentNote) // what the server decodes
		cases := []struct {
			req   req
			param string
			value string // as the binder sees it
			max   int
		}{
			{get("/api/v1/products?search="+url.QueryEscape(s), ""), "search", strings.TrimSpace(s), 200},
			{get("/api/v1/stores/S001/products/"+url.PathEscape(s)+"/availability", ""), "sku", s, 64},
			{get("/api/v1/stores?pageToken="+url.QueryEscape(s), ""), "pageToken", strings.TrimSpace(s), 512},
			{post("/api/v1/backorders/B1/status", "", string(bodyText)), "note", sentNote.Note, 500},
		}
		for _, c := range cases {
			w := e.do(t, c.req)
			if w.Code >= 500 {
				t.Fatalf("%s: %d: %.300s", c.param, w.Code, w.Body)
			}
			var b errorBody
			_ = json.Unmarshal(w.Body.Bytes(), &b)
			namesIt := len(b.Error.Details) > 0 && b.Error.Details[0]["parameter"] == c.param
			refused := input.CheckText(c.value, c.max) != ""
			if refused && (w.Code != http.StatusBadRequest || !namesIt) {
				t.Fatalf("%s %q: got %d %.300s, want 400 naming %s", c.param, c.value, w.Code, w.Body, c.param)
			}
			if !refused && namesIt && strings.Contains(b.Error.Message, "characters") {
				t.Fatalf("%s %q: refused valid text: %.300s", c.param, c.value, w.Body)
			}
		}
	})
}

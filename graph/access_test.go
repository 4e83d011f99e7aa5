package graph_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
)

// sqlStrings runs a query (with ? placeholders) that selects one text column.
func sqlStrings(t *testing.T, s *testServer, q string, args ...any) []string {
	t.Helper()
	var out []string
	db := s.DB.SQLX()
	if err := db.SelectContext(context.Background(), &out, db.Rebind(q), args...); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// testPersonas: each demo persona sees exactly their own profile, their own
// RSVPs, and the stores they work for.
func testPersonas(t *testing.T, s *testServer) {
	allStores := sqlStrings(t, s, `SELECT id FROM stores`)
	tests := []struct {
		login, role string
		stores      []string
	}{
		{"avery", "STORE_ASSOCIATE", []string{"S001"}},
		{"blake", "STORE_MANAGER", []string{"S001"}},
		{"casey", "STORE_ASSOCIATE", []string{"S002"}},
		{"devon", "HEAD_OFFICE", allStores},
	}
	const query = `{ me { login role store { id } }
		stores(first: 100) { nodes { id } }
		events(includePast: true, first: 100) { nodes { id myRsvp { response event { id } } } } }`
	for _, tt := range tests {
		t.Run(tt.login, func(t *testing.T) {
			_, res := s.PostAs(t, s.TokenFor(t, tt.login), query, nil)
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %+v", res.Errors)
			}
			me := decode[struct {
				Login, Role string
				Store       *struct{ ID string }
			}](t, res.Data["me"])
			if me.Login != tt.login || me.Role != tt.role {
				t.Errorf("me = %+v, want %s %s", me, tt.login, tt.role)
			}
			var stores []string
			for _, n := range decode[pageOf[struct{ ID string }]](t, res.Data["stores"]).Nodes {
				stores = append(stores, n.ID)
			}
			if !slices.Equal(stores, tt.stores) {
				t.Errorf("stores = %v, want %v", stores, tt.stores)
			}
			var rsvps []string
			for _, e := range decode[pageOf[struct {
				ID     string
				MyRsvp *struct {
					Response string
					Event    struct{ ID string }
				}
			}]](t, res.Data["events"]).Nodes {
				if e.MyRsvp != nil {
					if e.MyRsvp.Event.ID != e.ID {
						t.Errorf("event %s: myRsvp is for event %s", e.ID, e.MyRsvp.Event.ID)
					}
					rsvps = append(rsvps, e.ID+"="+e.MyRsvp.Response)
				}
			}
			sort.Strings(rsvps)
			want := sqlStrings(t, s, `SELECT r.event_id || '=' || r.response FROM rsvps r JOIN employees e ON e.id = r.employee_id WHERE e.login = ?`, tt.login)
			if len(want) == 0 || !slices.Equal(rsvps, want) {
				t.Errorf("myRsvp answers = %v, want exactly %v", rsvps, want)
			}
		})
	}
}

// testAccessRules: store data is only for the store's staff and head
// office, status changes only for managers and head office, and a refused
// field is FORBIDDEN on that field alone.
func testAccessRules(t *testing.T, s *testServer) {
	s001 := sqlStrings(t, s, `SELECT id FROM backorders WHERE store_id = 'S001' AND status = 'OPEN'`)
	s002 := sqlStrings(t, s, `SELECT id FROM backorders WHERE store_id = 'S002' AND status = 'OPEN'`)
	if len(s001) == 0 || len(s002) == 0 {
		t.Fatal("seed has no open backorders at S001 and S002")
	}
	tokens := map[string]string{}
	for _, login := range []string{"avery", "blake", "casey", "devon"} {
		tokens[login] = s.TokenFor(t, login)
	}
	tokens["avery read-only"] = s.TokenFor(t, "avery", "Data.Read")
	const (
		listS001   = `{ backorders(storeId: "S001", first: 5) { nodes { id store { id } } } }`
		storeS001  = `{ store(id: "S001") { backorders(first: 5) { nodes { id } } } }`
		invS001    = `{ store(id: "S001") { inventory(first: 5) { nodes { onHand } } } }`
		availS001  = `{ product(sku: "SKU-00001") { availability(storeId: "S001") { inStock } } }`
		prodInv    = `{ product(sku: "SKU-00001") { inventory(storeId: "S001") { onHand } } }`
		record     = `mutation { recordBackorder(input: {storeId: "S001", sku: "SKU-00001", customerId: "none", contactPreference: EMAIL}) { backorder { id } } }`
		rsvp       = `mutation { rsvpEvent(input: {eventId: "nope", response: GOING}) { rsvp { response } } }`
		oneS001    = `query($id: ID!) { backorder(id: $id) { id } }`
		statusS001 = `mutation($id: ID!) { updateBackorderStatus(input: {backorderId: $id, status: CANCELLED}) { backorder { id } } }`
	)
	id1, id2 := map[string]any{"id": s001[0]}, map[string]any{"id": s002[0]}
	tests := []struct {
		who, query string
		vars       map[string]any
		wantCode   string // "" = allowed; a later business error (NOT_FOUND) also means the rule let it through
	}{
		{"avery", listS001, nil, ""},
		{"blake", listS001, nil, ""},
		{"devon", listS001, nil, ""},
		{"casey", listS001, nil, "FORBIDDEN"},
		{"casey", storeS001, nil, "FORBIDDEN"},
		{"casey", invS001, nil, "FORBIDDEN"},
		{"casey", availS001, nil, "FORBIDDEN"},
		{"casey", prodInv, nil, "FORBIDDEN"},
		{"casey", oneS001, id1, "FORBIDDEN"},
		{"casey", oneS001, id2, ""},
		{"avery", oneS001, id1, ""},
		{"casey", record, nil, "FORBIDDEN"},
		{"devon", record, nil, "FORBIDDEN"}, // head office reads, store staff record
		{"avery", record, nil, "NOT_FOUND"}, // allowed; customer "none" does not exist
		{"casey", statusS001, id1, "FORBIDDEN"},
		{"avery", statusS001, id1, "FORBIDDEN"}, // associates do not change status
		{"blake", statusS001, id2, "FORBIDDEN"}, // a manager of another store
		{"avery read-only", rsvp, nil, "FORBIDDEN"},
		{"avery read-only", record, nil, "FORBIDDEN"},
		{"avery", rsvp, nil, "NOT_FOUND"}, // allowed; the event does not exist
	}
	for _, tt := range tests {
		t.Run(tt.who+" "+strings.Fields(tt.query)[1], func(t *testing.T) {
			_, res := s.PostAs(t, tokens[tt.who], tt.query, tt.vars)
			if got := res.Code(0); got != tt.wantCode {
				t.Fatalf("code = %q, want %q (%+v)", got, tt.wantCode, res.Errors)
			}
		})
	}

	t.Run("a refused field leaves the others answered", func(t *testing.T) {
		_, res := s.PostAs(t, tokens["casey"], `{ me { login } store(id: "S001") { name backorders(first: 1) { nodes { id } } } }`, nil)
		if len(res.Errors) != 1 || res.Code(0) != "FORBIDDEN" || len(res.Errors[0].Path) != 2 || res.Errors[0].Path[1] != "backorders" {
			t.Fatalf("errors = %+v, want one FORBIDDEN at store.backorders", res.Errors)
		}
		me := decode[struct{ Login string }](t, res.Data["me"])
		st := decode[struct {
			Name       string
			Backorders *struct{}
		}](t, res.Data["store"])
		if me.Login != "casey" || st.Name == "" || st.Backorders != nil {
			t.Fatalf("data = %s", res.Data)
		}
	})

	t.Run("a customer's backorders are narrowed to the caller's store", func(t *testing.T) {
		cust := sqlStrings(t, s, `SELECT customer_id FROM backorders GROUP BY customer_id HAVING COUNT(DISTINCT store_id) > 1 ORDER BY customer_id LIMIT 1`)
		if len(cust) == 0 {
			t.Skip("seed has no customer with backorders at two stores")
		}
		q := `query($id: ID!) { customer(id: $id) { backorders(first: 100) { nodes { store { id } } } } }`
		for who, want := range map[string]int{"avery": len(sqlStrings(t, s, `SELECT id FROM backorders WHERE customer_id = ? AND store_id = 'S001'`, cust[0])), "devon": len(sqlStrings(t, s, `SELECT id FROM backorders WHERE customer_id = ?`, cust[0]))} {
			_, res := s.PostAs(t, tokens[who], q, map[string]any{"id": cust[0]})
			if len(res.Errors) > 0 {
				t.Fatalf("%s: %+v", who, res.Errors)
			}
			c := decode[struct {
				Backorders pageOf[struct{ Store struct{ ID string } }]
			}](t, res.Data["customer"])
			if len(c.Backorders.Nodes) != want {
				t.Errorf("%s sees %d of the customer's backorders, want %d", who, len(c.Backorders.Nodes), want)
			}
			for _, n := range c.Backorders.Nodes {
				if who == "avery" && n.Store.ID != "S001" {
					t.Errorf("avery sees a backorder of %s", n.Store.ID)
				}
			}
		}
	})

	t.Run("a valid token of someone not provisioned", func(t *testing.T) {
		code, _ := s.PostAs(t, s.Mint(t, "oid-of-a-stranger"), `{ me { login } }`, nil)
		if code != 403 {
			t.Fatalf("status = %d, want 403", code)
		}
	})
}

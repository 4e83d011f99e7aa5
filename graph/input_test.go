package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/middletier/middletier/internal/input"
)

// rowCounts counts what a refused write must not have added.
func rowCounts(t *testing.T, s *testServer) [3]int {
	t.Helper()
	var out [3]int
	for i, table := range []string{"customers", "backorders", "rsvps"} {
		if err := s.DB.SQLX().Get(&out[i], "SELECT COUNT(*) FROM "+table); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestInputContract sends every kind of bad text and page size through
// /graphql, on both engines: each is BAD_USER_INPUT naming the argument,
// with no data and nothing written. On PostgreSQL NUL and invalid UTF-8
// used to be a 500 from the driver.
func TestInputContract(t *testing.T) {
	mb := strings.Repeat("a", 1<<20)
	const (
		products  = `query($s: String) { products(search: $s) { nodes { sku } } }`
		customers = `query($s: String!) { customers(search: $s) { nodes { id } } }`
		avail     = `query($sku: String!, $store: ID!) { product(sku: $sku) { availability(storeId: $store) { onHand } } }`
		record    = `mutation($in: RecordBackorderInput!) { recordBackorder(input: $in) { backorder { id } } }`
		status    = `mutation($in: UpdateBackorderStatusInput!) { updateBackorderStatus(input: $in) { backorder { id } } }`
		rsvp      = `mutation($in: RsvpEventInput!) { rsvpEvent(input: $in) { rsvp { response } } }`
	)
	newCustomer := func(name, email, phone string) map[string]any {
		return map[string]any{"in": map[string]any{"storeId": "S001", "sku": "SKU-00001", "contactPreference": "EMAIL",
			"newCustomer": map[string]any{"name": name, "email": email, "phone": phone}}}
	}
	tests := []struct {
		name    string
		query   string
		vars    map[string]any
		wantArg string // in the message
	}{
		{"NUL in search", products, map[string]any{"s": "lamp\x00"}, "search"},
		// A JSON body cannot carry invalid UTF-8 (encoders and decoders make
		// it U+FFFD); a GET query string can: see the get cases below.
		{"1 MB search", products, map[string]any{"s": mb}, "search"},
		{"NUL in customer search", customers, map[string]any{"s": "\x00ab"}, "search"},
		{"NUL in a path-like id", avail, map[string]any{"sku": "SKU-00001", "store": "S0\x0001"}, "storeId"},
		{"NUL in a sku", avail, map[string]any{"sku": "SKU\x00", "store": "S001"}, "sku"},
		{"NUL in a customer name", record, newCustomer("Eve\x00", "eve@example.org", ""), "newCustomer.name"},
		{"1 MB customer name", record, newCustomer(mb, "eve@example.org", ""), "newCustomer.name"},
		{"1 MB email", record, newCustomer("Eve", mb+"@example.org", ""), "newCustomer.email"},
		{"long phone", record, newCustomer("Eve", "eve@example.org", strings.Repeat("5", 33)), "newCustomer.phone"},
		{"NUL in a status note", status, map[string]any{"in": map[string]any{"backorderId": "B1", "status": "CANCELLED", "note": "x\x00"}}, "note"},
		{"note over 500 characters", status, map[string]any{"in": map[string]any{"backorderId": "B1", "status": "CANCELLED", "note": strings.Repeat("é", 501)}}, "note"},
		{"NUL in an event id", rsvp, map[string]any{"in": map[string]any{"eventId": "EV\x00", "response": "GOING"}}, "eventId"},
		{"literal NUL escape", `{ products(search: "a\u0000") { nodes { sku } } }`, nil, "search"},
		{"stores first 0", `{ stores(first: 0) { nodes { id } } }`, nil, "first"},
		{"stores first -1", `{ stores(first: -1) { nodes { id } } }`, nil, "first"},
		{"products first 101", `{ products(first: 101) { nodes { sku } } }`, nil, "first"},
		{"nested first 0", `{ stores(first: 1) { nodes { backorders(first: 0) { nodes { id } } } } }`, nil, "first"},
		{"news first 51", `{ news(first: 51) { nodes { id } } }`, nil, "first"},
		{"forged cursor too long", `query($a: String) { stores(after: $a) { nodes { id } } }`, map[string]any{"a": strings.Repeat("A", 513)}, "after"},
	}
	for name, s := range engines(t) {
		t.Run(name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					before := rowCounts(t, s)
					code, res := s.Post(t, tt.query, tt.vars)
					if code != http.StatusOK || len(res.Errors) != 1 || res.Code(0) != "BAD_USER_INPUT" {
						t.Fatalf("got %d %+v, want one BAD_USER_INPUT error", code, res.Errors)
					}
					if msg := res.Errors[0].Message; !strings.Contains(msg, tt.wantArg) || len(msg) > 200 {
						t.Errorf("message %q does not name %s briefly", msg, tt.wantArg)
					}
					if res.Data != nil {
						t.Errorf("data %v on a refused request", res.Data)
					}
					if after := rowCounts(t, s); after != before {
						t.Errorf("rows went from %v to %v", before, after)
					}
				})
			}
			for _, bad := range []string{"%FF%FE", "%C0%AF", "%ED%A0%80", "%00"} {
				t.Run("GET search "+bad, func(t *testing.T) {
					req, _ := http.NewRequest(http.MethodGet, s.URL+"/graphql?query="+url.QueryEscape(`{ products(search: "`)+bad+url.QueryEscape(`") { nodes { sku } } }`), nil)
					req.Header.Set("Authorization", "Bearer "+s.Token)
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer res.Body.Close()
					var out gqlResponse
					if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
						t.Fatal(err)
					}
					// gqlparser refuses a raw NUL in the document itself (a
					// GRAPHQL_PARSE_FAILED request error); everything else
					// reaches the contract.
					if res.StatusCode >= 500 || len(out.Errors) != 1 || (out.Code(0) != "BAD_USER_INPUT" && bad != "%00") {
						t.Fatalf("got %d %+v, want one BAD_USER_INPUT error", res.StatusCode, out.Errors)
					}
				})
			}
			t.Run("longest values are stored whole", func(t *testing.T) {
				name := strings.Repeat("é", 200)
				email := strings.Repeat("ü", 242) + "@example.org" // 254 characters
				vars := newCustomer(name, email, "+1 555 0100")
				vars["in"].(map[string]any)["note"] = strings.Repeat("😀", 500)
				_, res := s.PostAs(t, s.TokenFor(t, "avery"), `mutation($in: RecordBackorderInput!) { recordBackorder(input: $in) { backorder { note customer { name email } } } }`, vars)
				if len(res.Errors) > 0 {
					t.Fatalf("errors: %+v", res.Errors)
				}
				var got struct {
					Backorder struct {
						Note     string
						Customer struct{ Name, Email string }
					}
				}
				if err := json.Unmarshal(res.Data["recordBackorder"], &got); err != nil {
					t.Fatal(err)
				}
				if got.Backorder.Note != strings.Repeat("😀", 500) || got.Backorder.Customer.Name != name || got.Backorder.Customer.Email != email {
					t.Fatalf("stored values differ from those sent: %+v", got)
				}
			})
		})
	}
}

// FuzzGraphQLRequest posts arbitrary bodies, and a well-formed request
// carrying an arbitrary search text, to the real /graphql handler: never a
// 5xx; the search is refused with BAD_USER_INPUT exactly when the contract
// says so, and otherwise answers data.
func FuzzGraphQLRequest(f *testing.F) {
	for _, s := range []string{"lamp", "\x00", "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", strings.Repeat("a", 201), strings.Repeat("a", 1<<20)} {
		f.Add([]byte(`{"query":"{ stores(first: 1) { nodes { id } } }"}`), s)
	}
	for _, body := range []string{
		`{"query":"{ stores(first: -1) { nodes { id } } }"}`,
		`{"query":"{ stores(first: 99999999999) { nodes { id } } }"}`,
		`{"query":"{ stores(after: \"eyJpZCI6IlMwMDEifQ\") { nodes { id } } }"}`,
		`{"query":"{ stores(after: \"!!!\") { nodes { id } } }"}`,
		`{"query":"{ products(search: \"a\\u0000\") { nodes { sku } } }"}`,
		`{"query":"query($s: String) { products(search: $s) { nodes { sku } } }","variables":{"s":"\ud800"}}`,
		"{\"query\":\"{ products(search: \\\"\xff\xfe\\\") { nodes { sku } } }\"}",
		`{"query": 1}`,
		`not json`,
	} {
		f.Add([]byte(body), "lamp")
	}
	s := emptyServer(f)
	do := func(t *testing.T, body []byte) (int, gqlResponse) {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+s.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out gqlResponse
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	f.Fuzz(func(t *testing.T, body []byte, search string) {
		if code, _ := do(t, body); code >= 500 {
			t.Fatalf("%d for body %q", code, body)
		}
		// encoding/json turns invalid UTF-8 into U+FFFD on the way out, as a
		// client's encoder would; what the server sees is that text.
		req, _ := json.Marshal(map[string]any{"query": `query($s: String) { products(search: $s, first: 2) { nodes { sku } } }`, "variables": map[string]any{"s": search}})
		var sent struct{ Variables struct{ S string } }
		_ = json.Unmarshal(req, &sent)
		code, res := do(t, req)
		bad := input.CheckText(sent.Variables.S, 200) != ""
		switch {
		case code != http.StatusOK:
			t.Fatalf("%d for search %q", code, search)
		case bad && res.Code(0) != "BAD_USER_INPUT":
			t.Fatalf("search %q: got %+v, want BAD_USER_INPUT", search, res.Errors)
		case !bad && (len(res.Errors) > 0 || res.Data["products"] == nil):
			t.Fatalf("search %q: got errors %+v, want data", search, res.Errors)
		}
	})
}

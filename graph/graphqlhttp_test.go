package graph_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRequestErrorsHaveNoData: GraphQL over HTTP says a request error (the
// request never reached execution) is answered without a "data" entry, in
// either media type; once execution began, "data" is there, null or not.
// The statuses are the ones TestHTTPProtocol pins.
func TestRequestErrorsHaveNoData(t *testing.T) {
	s := emptyServer(t)
	const (
		plain    = "application/json"
		response = "application/graphql-response+json"
	)
	tests := []struct {
		name       string
		method     string
		accept     string
		body       string // POST body, or the GET query string
		wantStatus int
		wantData   bool
	}{
		{"parse error, json", "POST", plain, `{"query":"{ stores { "}`, 200, false},
		{"parse error, graphql-response", "POST", response, `{"query":"{ stores { "}`, 400, false},
		{"validation error, json", "POST", plain, `{"query":"{ nope }"}`, 200, false},
		{"validation error, graphql-response", "POST", response, `{"query":"{ nope }"}`, 400, false},
		{"variables of the wrong type, json", "POST", plain, `{"query":"query($n: Int) { stores(first: $n) { nodes { id } } }","variables":{"n":"ten"}}`, 200, false},
		{"variables of the wrong type, graphql-response", "POST", response, `{"query":"query($n: Int) { stores(first: $n) { nodes { id } } }","variables":{"n":"ten"}}`, 400, false},
		{"unknown operation name, graphql-response", "POST", response, `{"query":"query A { stores { nodes { id } } }","operationName":"B"}`, 400, false},
		{"body not JSON, graphql-response", "POST", response, `{"query": `, 400, false},
		{"get parse error, graphql-response", "GET", response, "query=" + url.QueryEscape("{ stores { "), 400, false},
		{"get validation error, json", "GET", plain, "query=" + url.QueryEscape("{ nope }"), 200, false},
		{"success, graphql-response", "POST", response, `{"query":"{ stores(first: 1) { nodes { id } } }"}`, 200, true},
		{"field error, graphql-response", "POST", response, `{"query":"{ backorders(storeId: \"S999\") { nodes { id } } }"}`, 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, body := s.URL+"/graphql", io.Reader(strings.NewReader(tt.body))
			if tt.method == http.MethodGet {
				target, body = target+"?"+tt.body, nil
			}
			req, _ := http.NewRequest(tt.method, target, body)
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Accept", tt.accept)
			req.Header.Set("Authorization", "Bearer "+s.Token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var got map[string]json.RawMessage
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("body is not a JSON object: %v: %s", err, raw)
			}
			_, hasData := got["data"]
			if res.StatusCode != tt.wantStatus || hasData != tt.wantData {
				t.Errorf("got %d, data entry %v; want %d, data entry %v: %s", res.StatusCode, hasData, tt.wantStatus, tt.wantData, raw)
			}
			if !tt.wantData && len(got["errors"]) < 3 {
				t.Errorf("a request error without errors: %s", raw)
			}
		})
	}
}

package supply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/upstream"
	"github.com/middletier/middletier/internal/upstream/supply"
	"github.com/middletier/middletier/internal/upstream/upstreamtest"
)

func demoKeys(n int) []supply.RestockKey {
	keys := make([]supply.RestockKey, n)
	for i := range keys {
		keys[i] = supply.RestockKey{StoreID: fmt.Sprintf("S%03d", i%5+1), SKU: fmt.Sprintf("SKU-%05d", i+1)}
	}
	return keys
}

func TestNextRestocksFromDemo(t *testing.T) {
	srv := upstreamtest.Serve(t, supply.NewDemo())
	n := upstreamtest.NewCounter(t)
	c := supply.New(srv.URL, n.HTTP)
	ctx := context.Background()
	keys := demoKeys(100)

	got, err := c.NextRestocks(ctx, append(keys, keys[0]))
	if err != nil {
		t.Fatal(err)
	}
	// One HTTP call for the whole batch, seen from both ends.
	if n.Calls() != 1 || srv.Requests() != 1 {
		t.Fatalf("calls: client %d, server %d; want 1 and 1", n.Calls(), srv.Requests())
	}
	if len(got) < 40 || len(got) > 80 {
		t.Errorf("%d of 100 keys have a restock; want some with and some without (about 60)", len(got))
	}
	ref := upstream.DemoReference()
	for k, r := range got {
		if r.StoreID != k.StoreID || r.SKU != k.SKU {
			t.Errorf("restock %+v filed under %+v", r, k)
		}
		if !r.ExpectedAt.After(ref) || r.ExpectedAt.After(ref.AddDate(0, 0, 16)) {
			t.Errorf("%+v: ExpectedAt %v not within two weeks after %v", k, r.ExpectedAt, ref)
		}
		if r.Quantity <= 0 || r.Quantity%6 != 0 {
			t.Errorf("%+v: Quantity = %d, want whole case packs of 6", k, r.Quantity)
		}
	}
	if ct := srv.LastHeader().Get("Content-Type"); ct != "application/json" {
		t.Errorf("request Content-Type = %q", ct)
	}

	again, err := supply.New(srv.URL, nil).NextRestocks(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(again) != fmt.Sprint(got) {
		t.Error("second run differs; want answers derived from the key alone")
	}
}

func TestNextRestocksNoKeysNoCall(t *testing.T) {
	n := upstreamtest.NewCounter(t)
	c := supply.New(upstreamtest.Serve(t, supply.NewDemo()).URL, n.HTTP)
	got, err := c.NextRestocks(context.Background(), nil)
	if err != nil || len(got) != 0 || n.Calls() != 0 {
		t.Fatalf("NextRestocks(nil) = %v, %v after %d calls; want empty, nil, 0", got, err, n.Calls())
	}
}

func TestNextRestocksSplitsLargeBatches(t *testing.T) {
	srv := upstreamtest.Serve(t, supply.NewDemo())
	c := supply.New(srv.URL, nil)
	if _, err := c.NextRestocks(context.Background(), demoKeys(supply.MaxBatch+1)); err != nil {
		t.Fatal(err)
	}
	if srv.Requests() != 2 {
		t.Fatalf("requests = %d, want 2", srv.Requests())
	}
}

// The supply system may list several deliveries, and answer for keys not
// asked; the client keeps the earliest delivery of the keys asked.
func TestNextRestocksEarliestAskedOnly(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"restocks":[
			{"storeId":"S001","sku":"SKU-00001","expectedAt":"2026-11-09T14:00:00Z","quantity":12},
			{"storeId":"S001","sku":"SKU-00001","expectedAt":"2026-11-03T14:00:00Z","quantity":6},
			{"storeId":"S009","sku":"SKU-00009","expectedAt":"2026-11-03T14:00:00Z","quantity":6}]}`))
	})
	c := supply.New(upstreamtest.Serve(t, h).URL, nil)
	k := supply.RestockKey{StoreID: "S001", SKU: "SKU-00001"}
	got, err := c.NextRestocks(context.Background(), []supply.RestockKey{k})
	if err != nil {
		t.Fatal(err)
	}
	want := supply.Restock{StoreID: "S001", SKU: "SKU-00001", ExpectedAt: time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC), Quantity: 6}
	if len(got) != 1 || got[k] != want {
		t.Fatalf("got %+v, want only %+v", got, want)
	}
}

func TestDemoValidates(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int
	}{
		{"ok", `{"items":[{"storeId":"S001","sku":"SKU-00001"}]}`, http.StatusOK},
		{"empty", `{"items":[]}`, http.StatusBadRequest},
		{"not JSON", `storeId=S001`, http.StatusBadRequest},
		{"unknown field", `{"items":[{"storeId":"S001","sku":"SKU-00001","qty":1}]}`, http.StatusBadRequest},
		{"bad store", `{"items":[{"storeId":"1","sku":"SKU-00001"}]}`, http.StatusBadRequest},
		{"bad sku", `{"items":[{"storeId":"S001","sku":"00001"}]}`, http.StatusBadRequest},
		{"too many", `{"items":[` + strings.Repeat(`{"storeId":"S001","sku":"SKU-00001"},`, supply.MaxBatch) + `{"storeId":"S001","sku":"SKU-00001"}]}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			supply.NewDemo().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/restocks:query", strings.NewReader(tt.body)))
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tt.want, rec.Body)
			}
		})
	}
}

func TestDemoShape(t *testing.T) {
	rec := httptest.NewRecorder()
	body := `{"items":[` + strings.TrimSuffix(strings.Repeat(`{"storeId":"S001","sku":"SKU-00001"},{"storeId":"S002","sku":"SKU-00002"},{"storeId":"S003","sku":"SKU-00003"},`, 1), ",") + `]}`
	supply.NewDemo().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/restocks:query", strings.NewReader(body)))
	var got struct {
		Restocks []struct {
			StoreID    string    `json:"storeId"`
			SKU        string    `json:"sku"`
			ExpectedAt time.Time `json:"expectedAt"`
			Quantity   int       `json:"quantity"`
		} `json:"restocks"`
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil || got.Restocks == nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
}

func TestNextRestocksFaults(t *testing.T) {
	sentinel := map[error]error{
		upstream.ErrUnavailable: supply.ErrUnavailable,
		upstream.ErrNotFound:    supply.ErrNotFound,
		upstream.ErrBadRequest:  supply.ErrBadRequest,
	}
	faults := append(upstreamtest.Faults(), upstreamtest.Fault{
		Name: "restock without quantity",
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"restocks":[{"storeId":"S001","sku":"SKU-00001","expectedAt":"2026-11-03T14:00:00Z"}]}`))
		}),
		Want: upstream.ErrUnavailable,
	})
	for _, f := range faults {
		t.Run(f.Name, func(t *testing.T) {
			n := upstreamtest.NewCounter(t)
			c := supply.New(upstreamtest.Serve(t, f.Handler).URL, n.HTTP)
			ctx := context.Background()
			if f.Blocks {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
			}
			got, err := c.NextRestocks(ctx, demoKeys(3))
			if !errors.Is(err, sentinel[f.Want]) || !errors.Is(err, f.Want) {
				t.Fatalf("NextRestocks = %v, %v; want an error wrapping %v", got, err, sentinel[f.Want])
			}
			if f.Message != "" && !strings.Contains(err.Error(), f.Message) {
				t.Errorf("error %q does not carry the upstream message %q", err, f.Message)
			}
			if n.Calls() != 1 {
				t.Errorf("Calls() = %d, want 1 (no retries)", n.Calls())
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	c := supply.New(upstreamtest.RefusedURL(t), nil)
	if _, err := c.NextRestocks(context.Background(), demoKeys(1)); !errors.Is(err, supply.ErrUnavailable) {
		t.Fatalf("error = %v, want supply.ErrUnavailable", err)
	}
}

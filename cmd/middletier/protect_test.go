package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/store/storetest"
	"github.com/middletier/middletier/internal/telemetry"
)

// TestTrustedDocumentsMode builds the service as serve does with
// --trusted-documents: the connector operations still run, a registered
// document runs by its hash, and any other document sent to /graphql is
// refused.
func TestTrustedDocumentsMode(t *testing.T) {
	db, dir := storetest.SeededSQLite(t)
	docs := t.TempDir()
	const registered = "query StoreIds { stores(first: 2) { nodes { id } } }"
	if err := os.WriteFile(filepath.Join(docs, "ids.graphql"), []byte(registered), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseConfig("serve", "", []string{"--data-dir", dir, "--trusted-documents", docs}, func(string) string { return "" }, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	h, closeFn, err := buildHandler(cfg, db, nil, shared{}, nil, telemetry.New(db), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeFn)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	id, err := newIdentity(cfg, db, log)
	if err != nil {
		t.Fatal(err)
	}
	token, err := mintDevToken(context.Background(), cfg, id.dev, db, "avery", []string{config.ScopeReadWrite}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, path, body string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	byHash := func(doc string) string {
		b, _ := json.Marshal(map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": graph.DocumentHash(doc)}}})
		return string(b)
	}

	if code, body, hdr := send(http.MethodGet, "/api/v1/stores", ""); code != http.StatusOK || !strings.Contains(body, `"S001"`) || hdr.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("connector operation: %d %.300s, want 200 with S001 and the security headers", code, body)
	}
	if code, body, _ := send(http.MethodPost, "/graphql", byHash(registered)); code != http.StatusOK || !strings.Contains(body, `{"data":{"stores":{"nodes":[{"id":"S001"}]}}}`) {
		t.Errorf("registered document by hash: %d %.300s, want avery's store", code, body)
	}
	if code, body, _ := send(http.MethodPost, "/graphql", `{"query":"{ stores(first: 50) { nodes { id name } } }"}`); !strings.Contains(body, graph.CodeTrustedDocumentRequired) || strings.Contains(body, `"data":{`) {
		t.Errorf("a made-up document: %d %.300s, want %s and no data", code, body, graph.CodeTrustedDocumentRequired)
	}
}

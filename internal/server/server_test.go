package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/middletier/middletier/graph/graphtest"
	"github.com/middletier/middletier/internal/server"
)

// The HTTP tests serve the whole surface (graphtest), under the short names
// they were written with.
type (
	testServer    = graphtest.Server
	gqlResponse   = graphtest.Response
	fakeEmployees = graphtest.Employees
)

var (
	devAuth     = graphtest.DevAuth
	emptyServer = graphtest.Empty
)

func TestPanicBecomes500(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := server.Recoverer(log)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 {
		t.Fatalf("status = %d, want 500", rec.Code)
	}
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "INTERNAL_SERVER_ERROR" || strings.Contains(rec.Body.String(), "boom") {
		t.Fatalf("body = %s", rec.Body.String())
	}
}

func TestErrorBodies(t *testing.T) {
	s := emptyServer(t)
	long := strings.Repeat("x", 5000)
	big := `{"pad": "` + strings.Repeat("y", 5<<20) + `"}`
	tests := []struct {
		name       string
		method     string
		target     string
		token      string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"unknown long path", "GET", "/" + long, s.Token, "", 404, "NOT_FOUND"},
		{"oversize body", "POST", "/graphql", s.Token, big, 413, "PAYLOAD_TOO_LARGE"},
		{"token not valid", "POST", "/graphql", long, `{"query":"{ me { id } }"}`, 401, "UNAUTHENTICATED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL+tt.target, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tt.token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			checkErrorBody(t, res.StatusCode, body, tt.wantStatus, tt.wantCode)
		})
	}
	t.Run("panic", func(t *testing.T) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		h := middleware.RequestID(server.Recoverer(log)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		checkErrorBody(t, rec.Code, rec.Body.Bytes(), 500, "INTERNAL_SERVER_ERROR")
	})
}

func checkErrorBody(t *testing.T, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	var b struct {
		Error struct{ Message, Code, RequestID string }
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("body is not JSON: %v: %.300s", err, body)
	}
	if status != wantStatus || b.Error.Code != wantCode {
		t.Fatalf("got %d %s, want %d %s: %.300s", status, b.Error.Code, wantStatus, wantCode, body)
	}
	if !bytes.HasPrefix(body, []byte(`{"error":{"message":`)) {
		t.Errorf("message is not first: %.300s", body)
	}
	if len(body) > 1024 || len(b.Error.Message) > 200 || b.Error.RequestID == "" {
		t.Errorf("body %d bytes, message %d bytes, request id %q: want at most 1024 and 200, and an id", len(body), len(b.Error.Message), b.Error.RequestID)
	}
	if strings.Contains(string(body), strings.Repeat("x", 41)) {
		t.Errorf("body echoes the request: %.300s", body)
	}
}

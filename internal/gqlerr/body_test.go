package gqlerr

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestSafeMessage(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"short stays", "store S999 not found", "store S999 not found"},
		{"long word cut to a prefix", "store " + strings.Repeat("x", 5000) + " not found", "store " + strings.Repeat("x", 37) + "... not found"},
		{"control characters become spaces", "bad\nvalue\t here", "bad value here"},
		{"multi-byte word cut on a rune", strings.Repeat("é", 50), strings.Repeat("é", 38) + "..."},
		{"long message cut", strings.Repeat("word ", 100), strings.Repeat("word ", 39) + "wo..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SafeMessage(tt.in)
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if len(got) > MaxMessage {
				t.Fatalf("got %d bytes, want at most %d", len(got), MaxMessage)
			}
		})
	}
}

// testTraceID is a W3C trace id as error bodies carry it.
const testTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"

func TestEncodeBodyWithoutTrace(t *testing.T) {
	body := EncodeBody(NotFound, "store S999 not found", Ref{RequestID: "req-1"}, nil)
	if want := `{"error":{"message":"store S999 not found","code":"NOT_FOUND","requestId":"req-1"}}`; string(body) != want {
		t.Errorf("got %s, want %s (no traceId when tracing is off)", body, want)
	}
}

func TestEncodeBody(t *testing.T) {
	many := make([]map[string]string, 20)
	for i := range many {
		many[i] = map[string]string{"code": "UPSTREAM_UNAVAILABLE", "message": strings.Repeat("m ", 80), "path": "a.b.c"}
	}
	tests := []struct {
		name        string
		message     string
		details     []map[string]string
		wantDetails int
	}{
		{"plain", "store S999 not found", nil, 0},
		{"details kept", "bad", []map[string]string{{"parameter": "pageToken", "in": "query", "reason": "is not valid"}}, 1},
		{"details dropped to fit", "many", many, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := EncodeBody(BadUserInput, tt.message, Ref{RequestID: "req-1", TraceID: testTraceID}, tt.details)
			if !bytes.HasPrefix(body, []byte(`{"error":{"message":`)) {
				t.Errorf("message is not first: %s", body)
			}
			if len(body) > MaxBody {
				t.Errorf("body is %d bytes, want at most %d", len(body), MaxBody)
			}
			var got Body
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Error.Code != BadUserInput || got.Error.RequestID != "req-1" || got.Error.TraceID != testTraceID || len(got.Error.Details) != tt.wantDetails {
				t.Errorf("got %+v, want code %s, request and trace id and %d details", got.Error, BadUserInput, tt.wantDetails)
			}
		})
	}
}

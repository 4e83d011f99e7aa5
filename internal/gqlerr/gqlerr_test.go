package gqlerr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"

	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/store"
	"github.com/middletier/middletier/internal/upstream/hr"
	"github.com/middletier/middletier/internal/upstream/news"
)

func TestPresenter(t *testing.T) {
	present := Presenter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tests := []struct {
		name     string
		err      error
		wantCode string
		wantMsg  string
	}{
		{"not found", fmt.Errorf("store S999: %w", store.ErrNotFound), NotFound, "store S999 not found"},
		{"bad input", fmt.Errorf("quantity must be between 1 and 999: %w", store.ErrInvalidInput), BadUserInput, "quantity must be between 1 and 999"},
		{"conflict", fmt.Errorf("backorder is FULFILLED; it cannot become OPEN: %w", store.ErrConflict), Conflict, "backorder is FULFILLED; it cannot become OPEN"},
		{"forbidden", fmt.Errorf("store S001 is not yours: %w", auth.ErrForbidden), Forbidden, "store S001 is not yours"},
		{"upstream down", fmt.Errorf("latest news: %w: GET http://10.0.0.7/v1/articles: 503", news.ErrUnavailable), UpstreamUnavailable, "the news service is not answering; try again shortly"},
		{"upstream not found", fmt.Errorf("leave balance of E0001: %w", hr.ErrNotFound), NotFound, "not found in a backend service"},
		{"bad store cursor", fmt.Errorf("list stores: %w", store.ErrInvalidCursor), BadUserInput, invalidCursor},
		{"refused news cursor", fmt.Errorf("news page: %w: %w", ErrInvalidCursor, news.ErrBadRequest), BadUserInput, invalidCursor},
		{"other upstream 400 is ours, masked", fmt.Errorf("latest news: %w: limit must be a whole number", news.ErrBadRequest), Internal, "internal server error"},
		{"internal is masked", errors.New("pq: relation \"secret_table\" does not exist"), Internal, "internal server error"},
		{"gqlgen's own pass through", &gqlerror.Error{Message: "Cannot query field", Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}, "GRAPHQL_VALIDATION_FAILED", "Cannot query field"},
		{"body echo dropped, coded as bad input", &gqlerror.Error{Message: "json request body could not be decoded: unexpected EOF body:{\"query\": secret"}, "BAD_USER_INPUT", "json request body could not be decoded: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := present(context.Background(), tt.err)
			code, _ := got.Extensions["code"].(string)
			if code != tt.wantCode || got.Message != tt.wantMsg {
				t.Fatalf("got (%q, %q), want (%q, %q)", code, got.Message, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestPresenterNamesRequestAndTrace(t *testing.T) {
	present := Presenter(slog.New(slog.DiscardHandler))
	tid, _ := trace.TraceIDFromHex(testTraceID)
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	traced := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	shared := &gqlerror.Error{Message: "Cannot query field", Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}
	tests := []struct {
		name      string
		ctx       context.Context
		wantReq   any
		wantTrace any
	}{
		{"request id and trace id", context.WithValue(traced, middleware.RequestIDKey, "req-7"), "req-7", testTraceID},
		{"request id only (tracing off)", context.WithValue(context.Background(), middleware.RequestIDKey, "req-8"), "req-8", nil},
		{"neither", context.Background(), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := present(tt.ctx, shared)
			if got.Extensions["requestId"] != tt.wantReq || got.Extensions["traceId"] != tt.wantTrace || got.Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("got extensions %v, want requestId %v, traceId %v and the code", got.Extensions, tt.wantReq, tt.wantTrace)
			}
		})
	}
	if len(shared.Extensions) != 1 {
		t.Errorf("the presenter wrote into gqlgen's own error: %v", shared.Extensions)
	}
}

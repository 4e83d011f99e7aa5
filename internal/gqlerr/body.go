package gqlerr

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5/middleware"
	"go.opentelemetry.io/otel/trace"
)

// Limits of the error body every HTTP answer outside GraphQL shares (the
// REST facade and the server's own 401/403/404/413/500). The Power Platform
// runtime shows error.message to app users in a banner and to makers as
// FirstError.Message, and hands the raw body to flows (CONNECTOR.md §10).
const (
	// MaxMessage bounds error.message: a banner, not a log line.
	MaxMessage = 200
	// MaxEcho bounds any one word of a message: messages name the value
	// a client sent ("store S999 not found"), and a 5,000-character id or a
	// pasted token must not come back whole.
	MaxEcho = 40
	// MaxBody keeps the whole body under 1 KB.
	MaxBody = 1024
	// maxDetail bounds each value of error.details.
	maxDetail = 160
)

// Body is the error body: {"error": {"message", "code", "requestId",
// "traceId", "details"}}. It is a struct, not a map, so that message comes first in the
// bytes (encoding/json sorts map keys), where a person reading a raw body in
// a flow's run history looks first.
type Body struct {
	Error BodyError `json:"error"`
}

// BodyError is the inside of Body.
type BodyError struct {
	// Message is for people: short, safe to show, at most MaxMessage bytes.
	Message string `json:"message"`
	// Code is for programs: a stable code such as BAD_USER_INPUT.
	Code string `json:"code"`
	// RequestID is what to quote to support.
	RequestID string `json:"requestId"`
	// TraceID finds the request's trace (Application Insights' operation
	// id) and log lines; absent when tracing is off.
	TraceID string `json:"traceId,omitempty"`
	// Details are more errors, or the parameter a 400 is about.
	Details []map[string]string `json:"details,omitempty"`
}

// Ref names one request for support: its request id (X-Request-Id) and,
// when tracing is on, its trace id. Error bodies carry both.
type Ref struct {
	RequestID string
	TraceID   string
}

// RefFrom is the Ref of the request ctx belongs to.
func RefFrom(ctx context.Context) Ref {
	ref := Ref{RequestID: middleware.GetReqID(ctx)}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		ref.TraceID = sc.TraceID().String()
	}
	return ref
}

// EncodeBody returns the error body, shortened to fit MaxBody: long words
// and the message are cut first, then trailing details dropped.
func EncodeBody(code, message string, ref Ref, details []map[string]string) []byte {
	message = SafeMessage(message)
	for _, d := range details {
		for k, v := range d {
			d[k] = cut(shortWords(v), maxDetail)
		}
	}
	for {
		body := encode(Body{Error: BodyError{Message: message, Code: code, RequestID: ref.RequestID, TraceID: ref.TraceID, Details: details}})
		if len(body) <= MaxBody {
			return body
		}
		if len(details) > 0 {
			details = details[:len(details)-1]
			continue
		}
		message = cut(message, len(message)/2)
	}
}

// SafeMessage makes a message fit to show: control characters and runs of
// white space become one space, any word longer than MaxEcho (an echoed id,
// path or token) is cut to a prefix, and the whole is at most MaxMessage
// bytes.
func SafeMessage(s string) string {
	return cut(shortWords(s), MaxMessage)
}

func shortWords(s string) string {
	words := strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
	for i, w := range words {
		if utf8.RuneCountInString(w) > MaxEcho {
			words[i] = cut(w, prefixBytes(w, MaxEcho))
		}
	}
	return strings.Join(words, " ")
}

// prefixBytes is the byte length of s's first n runes.
func prefixBytes(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// cut shortens s to at most n bytes on a rune boundary, marking the cut
// with "..." (within the n bytes).
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= len("...")
	if n < 0 {
		n = 0
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// encode writes v as JSON without HTML escaping (bodies are read by apps,
// not embedded in pages) and without a trailing newline.
func encode(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Body holds only strings: it always encodes.
		return []byte(`{"error":{"message":"internal server error","code":"INTERNAL_SERVER_ERROR"}}`)
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

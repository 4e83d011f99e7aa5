// Package model holds the GraphQL types that are not store rows: pages,
// inputs, payloads, and the DateTime scalar. models_gen.go is generated.
package model

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// dateTimeLayout always carries milliseconds and a Z, the form canvas apps and
// flows read as UTC (a date-time without an offset is read as local time).
const dateTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalDateTime writes t in UTC as RFC 3339 with milliseconds.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format(dateTimeLayout)))
	})
}

// UnmarshalDateTime accepts an RFC 3339 date-time; an offset is required so
// that no value is silently read in the server's time zone.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, badInput(fmt.Sprintf("DateTime must be a string such as 2026-11-21T09:30:00Z, got %T", v))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badInput(fmt.Sprintf("DateTime %q is not an RFC 3339 date-time with an offset, such as 2026-11-21T09:30:00Z", s))
	}
	return t.UTC(), nil
}

// badInput is a client-facing error: the error presenter passes it through.
func badInput(msg string) error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": "BAD_USER_INPUT"}}
}

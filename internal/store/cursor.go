package store

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Paging limits shared by every list method.
const (
	defaultPageSize = 20
	maxPageSize     = 100
	// maxCursorLen bounds the work a hostile cursor can cause; real cursors
	// hold one or two short sort keys.
	maxCursorLen = 1024
)

// pageSize applies the paging rules to page.First.
func pageSize(p Page) (int, error) {
	switch {
	case p.First <= 0:
		return defaultPageSize, nil
	case p.First > maxPageSize:
		return 0, fmt.Errorf("first must be between 1 and %d, got %d: %w", maxPageSize, p.First, ErrInvalidInput)
	}
	return p.First, nil
}

// Cursor payloads: the sort key of the last item of a page. Field names are
// short because the cursor travels in every connection; each list has its own
// shape so that a cursor from one list is refused by another.
type (
	idCursor struct {
		ID string `json:"id"`
	}
	skuCursor struct {
		SKU string `json:"sku"`
	}
	nameCursor struct {
		Name string `json:"n"`
		ID   string `json:"id"`
	}
	// timeCursor orders by a millisecond timestamp, then id.
	timeCursor struct {
		T  int64  `json:"t"`
		ID string `json:"id"`
	}
)

// encodeCursor makes an opaque cursor: unpadded base64url of a small JSON.
func encodeCursor(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// The payloads are plain structs of strings and integers.
		panic(fmt.Sprintf("store: encode cursor: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrInvalidCursor is a page cursor (after) this store did not make or that
// was tampered with: the client's mistake, never retried.
var ErrInvalidCursor = fmt.Errorf("after: malformed cursor: %w", ErrInvalidInput)

// decodeCursor reads a cursor made by encodeCursor into dst (a pointer to a
// cursor payload). ok is false for the empty cursor, which means "from the
// start". Any cursor that is not exactly one payload of dst's shape with all
// fields present is malformed.
func decodeCursor(after string, dst any) (ok bool, err error) {
	if after == "" {
		return false, nil
	}
	if len(after) > maxCursorLen {
		return false, ErrInvalidCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(after)
	if err != nil {
		return false, ErrInvalidCursor
	}
	// Field presence: decode into a map first so that a missing key is not
	// mistaken for a zero value.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return false, ErrInvalidCursor
	}
	want, _ := json.Marshal(dst)
	var wantFields map[string]json.RawMessage
	_ = json.Unmarshal(want, &wantFields)
	if len(fields) != len(wantFields) {
		return false, ErrInvalidCursor
	}
	for k := range wantFields {
		if _, ok := fields[k]; !ok {
			return false, ErrInvalidCursor
		}
		// A forged cursor can carry text the input contract refuses
		// elsewhere ("\u0000"), which PostgreSQL refuses with a driver error.
		var text string
		if json.Unmarshal(fields[k], &text) == nil && (strings.IndexByte(text, 0) >= 0 || !utf8.ValidString(text)) {
			return false, ErrInvalidCursor
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return false, ErrInvalidCursor
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return false, ErrInvalidCursor
	}
	return true, nil
}

// finishPage turns up to n+1 fetched rows into a page of at most n.
func finishPage[T any](rows []T, n int, key func(T) any) Paged[T] {
	p := Paged[T]{Items: rows}
	if len(rows) > n {
		p.Items, p.HasNext = rows[:n], true
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(p.Items) > 0 {
		p.EndCursor = encodeCursor(key(p.Items[len(p.Items)-1]))
	}
	return p
}

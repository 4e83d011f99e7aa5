package facade

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// The REST body is written from the executor's JSON without decoding it
// into maps: a streaming decoder (jsontext) walks the bytes once, and
// numbers, literals and ordinary strings are copied as they are. Nulls are
// left out (canvas apps and flows mishandle null in typed columns, and
// Swagger 2.0 cannot declare it) and object members are written in sorted
// order, with strings escaped as encoding/json escapes them: the exact bytes
// the facade wrote when it did decode into maps, so bodies, golden files
// and ETags stay what they were.

// newRawDecoder reads data. Invalid UTF-8 is let through to be replaced
// with U+FFFD when its string is written, as encoding/json did. Names are
// not checked for duplicates: the executor merges fields, so it never
// writes one twice, and the check would cost a set per object.
func newRawDecoder(data []byte) *jsontext.Decoder {
	// A bytes.Buffer is parsed in place (jsontext special-cases it); a
	// bytes.Reader would be copied into the decoder's own buffer first.
	return jsontext.NewDecoder(bytes.NewBuffer(data), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
}

var errNotObject = errors.New("not a JSON object")

// descend moves dec to the value at the dot path inside data. found is
// false when data is empty or null, or a step is absent or null; missing
// then names the first such step ("" when the path is empty).
func descend(dec *jsontext.Decoder, present bool, path string) (found bool, missing string, err error) {
	var steps []string
	if path != "" {
		steps = strings.Split(path, ".")
	}
	if !present {
		if len(steps) > 0 {
			missing = steps[0]
		}
		return false, missing, nil
	}
	for _, step := range steps {
		if dec.PeekKind() != '{' {
			return false, step, nil
		}
		if _, err := dec.ReadToken(); err != nil {
			return false, "", err
		}
		for {
			if dec.PeekKind() == '}' {
				return false, step, nil
			}
			name, err := dec.ReadValue()
			if err != nil {
				return false, "", err
			}
			if nameIs(name, step) {
				if dec.PeekKind() == 'n' {
					return false, step, nil
				}
				break
			}
			if err := dec.SkipValue(); err != nil {
				return false, "", err
			}
		}
	}
	switch dec.PeekKind() {
	case 'n':
		return false, "", nil // null data, empty path
	case 0:
		_, err := dec.ReadValue() // the decoder's error
		return false, "", err
	}
	return true, "", nil
}

// nameIs reports whether the raw member name (quoted, as read) is name.
// GraphQL response names are identifiers, never escaped.
func nameIs(raw jsontext.Value, name string) bool {
	return len(raw) == len(name)+2 && string(raw[1:len(raw)-1]) == name
}

// member is an object member to add: name unquoted, value raw JSON; a nil
// value adds nothing.
type member struct {
	name  string
	value []byte
}

// rawWriter writes values read from dec without nulls, with sorted members.
type rawWriter struct {
	dec *jsontext.Decoder
	// scratch holds an object's members while they are put in order.
	scratch []byte
	// name holds the member name being read: the decoder reuses its
	// buffer once it looks further.
	name []byte
	// spans is a stack: each object pushes its members above those of the
	// objects it is nested in and pops them when written.
	spans []span
}

// value appends the value dec is at; extra joins its members if it is an object.
func (w *rawWriter) value(dst []byte, extra member) ([]byte, error) {
	switch w.dec.PeekKind() {
	case '{':
		return w.object(dst, extra)
	case '[':
		return w.array(dst)
	}
	v, err := w.dec.ReadValue()
	if err != nil {
		return dst, err
	}
	if v.Kind() == '"' {
		return appendString(dst, v), nil
	}
	return append(dst, v...), nil
}

// members calls fn with the raw name of each non-null member of the object
// dec is at; fn must read the member's value and may use name only until
// then. A value that is not an object is skipped.
func (w *rawWriter) members(fn func(name []byte) error) error {
	if w.dec.PeekKind() != '{' {
		return w.dec.SkipValue()
	}
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	for w.dec.PeekKind() != '}' {
		name, err := w.dec.ReadValue()
		if err != nil {
			return err
		}
		w.name = append(w.name[:0], name...)
		if w.dec.PeekKind() == 'n' {
			if err := w.dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		if err := fn(w.name); err != nil {
			return err
		}
	}
	_, err := w.dec.ReadToken()
	return err
}

// span is one written member: dst[start:nameEnd] is its quoted name,
// dst[start:end] the whole "name":value.
type span struct{ start, nameEnd, end int }

func (w *rawWriter) object(dst []byte, extra member) ([]byte, error) {
	open := len(dst)
	base := len(w.spans)
	defer func() { w.spans = w.spans[:base] }()
	err := w.members(func(name []byte) error {
		if extra.value != nil && nameIs(name, extra.name) {
			return w.dec.SkipValue() // replaced by extra
		}
		s := span{start: len(dst)}
		dst = appendString(dst, name)
		s.nameEnd = len(dst)
		dst = append(dst, ':')
		var err error
		dst, err = w.value(dst, member{})
		s.end = len(dst)
		w.spans = append(w.spans, s)
		return err
	})
	if err != nil {
		return dst, err
	}
	if extra.value != nil {
		s := span{start: len(dst)}
		dst = appendString(dst, []byte(`"`+extra.name+`"`))
		s.nameEnd = len(dst)
		dst = append(dst, ':')
		dst = append(dst, extra.value...)
		s.end = len(dst)
		w.spans = append(w.spans, s)
	}
	spans := w.spans[base:]
	// Names are identifiers, so their quoted bytes sort as the names do.
	slices.SortFunc(spans, func(a, b span) int {
		return bytes.Compare(dst[a.start:a.nameEnd], dst[b.start:b.nameEnd])
	})
	w.scratch = append(w.scratch[:0], dst[open:]...)
	dst = append(dst[:open], '{')
	for i, s := range spans {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, w.scratch[s.start-open:s.end-open]...)
	}
	return append(dst, '}'), nil
}

func (w *rawWriter) array(dst []byte) ([]byte, error) {
	if _, err := w.dec.ReadToken(); err != nil {
		return dst, err
	}
	dst = append(dst, '[')
	first := true
	for w.dec.PeekKind() != ']' {
		if w.dec.PeekKind() == 'n' {
			if err := w.dec.SkipValue(); err != nil {
				return dst, err
			}
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		var err error
		if dst, err = w.value(dst, member{}); err != nil {
			return dst, err
		}
	}
	if _, err := w.dec.ReadToken(); err != nil {
		return dst, err
	}
	return append(dst, ']'), nil
}

// appendString appends a quoted JSON string as encoding/json (without HTML
// escaping) writes it. The executor writes most strings that way already;
// one with an escape, invalid UTF-8 or U+2028/U+2029 is decoded and
// encoded again.
func appendString(dst []byte, raw []byte) []byte {
	if plainString(raw) {
		return append(dst, raw...)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return append(dst, raw...) // the decoder accepted it; keep it
	}
	return append(dst, encode(s)...)
}

// plainString reports whether raw needs no rewriting: no backslash, valid
// UTF-8 and no line or paragraph separator (which encoding/json escapes).
func plainString(raw []byte) bool {
	ascii := true
	for _, c := range raw {
		if c == '\\' {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return ascii || utf8.Valid(raw) && !bytes.Contains(raw, []byte("\u2028")) && !bytes.Contains(raw, []byte("\u2029"))
}

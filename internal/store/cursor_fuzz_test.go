package store

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeCursor: any page cursor a client sends is either one this
// store made (it decodes, and encoding the result gives a cursor that
// decodes to the same position) or ErrInvalidCursor, a BAD_USER_INPUT;
// never a panic or another error that would be a 500.
func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{
		"", encodeCursor(nameCursor{Name: "Avery", ID: "C1"}), encodeCursor(idCursor{ID: "S001"}),
		encodeCursor(nameCursor{Name: "a\x00b", ID: "\xff\xfe"}), // forged payload with NUL and invalid UTF-8
		"eyJuIjoiQSIsImlkIjoiQyIsIngiOjF9",                       // an extra field
		"eyJuIjoxLCJpZCI6IkMifQ",                                 // a number for a string
		"eyJuIjoiYVx1MDAwMCIsImlkIjoiQyJ9",                       // {"n":"a\u0000","id":"C"}
		"!!!", "%FF%FE", "\x00", strings.Repeat("A", 1025), strings.Repeat("A", 1<<20),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, after string) {
		var c nameCursor
		ok, err := decodeCursor(after, &c)
		switch {
		case err != nil && !errors.Is(err, ErrInvalidCursor):
			t.Fatalf("%q: %v, want ErrInvalidCursor", after, err)
		case err == nil && ok != (after != ""):
			t.Fatalf("%q: ok=%v", after, ok)
		case err == nil && ok && (strings.ContainsRune(c.Name+c.ID, 0) || !utf8.ValidString(c.Name+c.ID)):
			t.Fatalf("%q decoded to text the database refuses: %+v", after, c)
		case err == nil && ok:
			var again nameCursor
			if ok, err := decodeCursor(encodeCursor(c), &again); err != nil || !ok || again != c {
				t.Fatalf("%q decoded to %+v, which does not round-trip: %+v %v", after, c, again, err)
			}
		}
	})
}

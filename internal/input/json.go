package input

import (
	"fmt"
	"unicode/utf8"
)

// CheckJSON applies the text rules to a whole JSON request body before it
// is decoded, and returns why it breaks them ("" when it does not). Go's
// JSON decoder would silently turn invalid UTF-8 inside a string, and a
// lone surrogate escape such as "\ud800", into U+FFFD: the client's text
// would be stored changed, not refused. JSON text must be UTF-8 (RFC 8259
// §8.1) and a lone surrogate is no character at all, so both are a 400.
// NUL escapes ("\u0000") decode faithfully and are refused with the field's
// name by the operation's contract.
func CheckJSON(raw []byte) string {
	for i := 0; i < len(raw); {
		if raw[i] < utf8.RuneSelf {
			if raw[i] == '\\' {
				if reason := checkEscape(raw, i); reason != "" {
					return reason
				}
				i += escapeLen(raw, i)
				continue
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && size <= 1 {
			return fmt.Sprintf("is not valid UTF-8 at byte %d; send the body as UTF-8 text", i)
		}
		i += size
	}
	return ""
}

// escapeLen is how many bytes the escape at raw[i] ('\\') spans: a
// surrogate pair's two \u escapes count as one.
func escapeLen(raw []byte, i int) int {
	if i+1 >= len(raw) || raw[i+1] != 'u' {
		return 2 // \" \\ \/ \b \f \n \r \t: the escaped byte is not a backslash that starts another escape
	}
	if hi, ok := hex4(raw, i+2); ok && hi >= 0xd800 && hi <= 0xdbff {
		return 12
	}
	return 6
}

// checkEscape refuses a \u escape that is half of a surrogate pair.
func checkEscape(raw []byte, i int) string {
	if i+1 >= len(raw) || raw[i+1] != 'u' {
		return ""
	}
	c, ok := hex4(raw, i+2)
	if !ok {
		return "" // not valid JSON: the decoder says so
	}
	switch {
	case c >= 0xdc00 && c <= 0xdfff:
		return fmt.Sprintf("has a lone UTF-16 surrogate escape at byte %d; send characters, not halves of a surrogate pair", i)
	case c >= 0xd800 && c <= 0xdbff:
		if i+7 < len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
			if lo, ok := hex4(raw, i+8); ok && lo >= 0xdc00 && lo <= 0xdfff {
				return ""
			}
		}
		return fmt.Sprintf("has a lone UTF-16 surrogate escape at byte %d; send characters, not halves of a surrogate pair", i)
	}
	return ""
}

func hex4(raw []byte, at int) (rune, bool) {
	if at+4 > len(raw) {
		return 0, false
	}
	var c rune
	for _, b := range raw[at : at+4] {
		c <<= 4
		switch {
		case b >= '0' && b <= '9':
			c |= rune(b - '0')
		case b >= 'a' && b <= 'f':
			c |= rune(b-'a') + 10
		case b >= 'A' && b <= 'F':
			c |= rune(b-'A') + 10
		default:
			return 0, false
		}
	}
	return c, true
}

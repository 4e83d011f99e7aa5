package input

import (
	"strings"
	"testing"
)

func TestCheckJSON(t *testing.T) {
	tests := []struct {
		name string
		body string
		bad  bool
	}{
		{"plain", `{"a":"hello"}`, false},
		{"multi-byte text", `{"a":"Zoë 😀 東京"}`, false},
		{"escapes", `{"a":"line\nbreak \"quoted\" back\\slash \u00e9"}`, false},
		{"surrogate pair escape", `{"a":"\ud83d\ude00"}`, false},
		{"escaped backslash before u", `{"a":"\\ud800"}`, false},
		{"NUL escape is the contract's business", `{"a":"\u0000"}`, false},
		{"invalid byte FF FE", "{\"a\":\"\xff\xfe\"}", true},
		{"overlong C0 AF", "{\"a\":\"\xc0\xaf\"}", true},
		{"encoded surrogate ED A0 80", "{\"a\":\"\xed\xa0\x80\"}", true},
		{"truncated sequence", "{\"a\":\"\xe2\x82\"}", true},
		{"lone high surrogate", `{"a":"\ud800"}`, true},
		{"lone high surrogate before text", `{"a":"\ud800abc"}`, true},
		{"lone low surrogate", `{"a":"\udc00"}`, true},
		{"reversed pair", `{"a":"\ude00\ud83d"}`, true},
		{"high then non-surrogate escape", `{"a":"\ud83d\u0041"}`, true},
		{"at the very end", `"\ud800`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckJSON([]byte(tt.body))
			if (got != "") != tt.bad {
				t.Fatalf("CheckJSON(%q) = %q, want refused=%v", tt.body, got, tt.bad)
			}
			if got != "" && !strings.Contains(got, "byte") {
				t.Errorf("reason %q does not say where", got)
			}
		})
	}
}

func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `"\ud83d\ude00"`, `"\ud800"`, "\"\xff\"", `\\\u`, `\u12`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		reason := CheckJSON(raw)
		// Whatever passes is valid UTF-8.
		if reason == "" && CheckText(string(raw), 0) == "is not valid UTF-8 text" {
			t.Fatalf("CheckJSON accepted invalid UTF-8 %q", raw)
		}
	})
}

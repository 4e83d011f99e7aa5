package facade

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// referenceBody is how the facade wrote a body before rawjson.go: decode
// into maps (numbers kept as written), drop nulls at every depth, encode
// with encoding/json. rawWriter must write the same bytes.
func referenceBody(t *testing.T, src []byte) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("reference decode %s: %v", src, err)
	}
	return encode(referenceDropNulls(v))
}

func referenceDropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
				continue
			}
			v[k] = referenceDropNulls(e)
		}
		return v
	case []any:
		out := v[:0]
		for _, e := range v {
			if e != nil {
				out = append(out, referenceDropNulls(e))
			}
		}
		return out
	}
	return v
}

func rawBody(t *testing.T, src []byte) []byte {
	t.Helper()
	w := rawWriter{dec: newRawDecoder(src)}
	got, err := w.value(nil, member{})
	if err != nil {
		t.Fatalf("rawWriter %s: %v", src, err)
	}
	return got
}

// TestRawBodyMatchesDecodeAndEncode: for the executor's kind of JSON
// (what gqlgen writes: strings escaped its way, numbers as strconv writes
// them), the streaming writer gives the bytes decode-and-re-encode gave.
func TestRawBodyMatchesDecodeAndEncode(t *testing.T) {
	cases := map[string]string{
		"nulls everywhere":      `{"b":null,"a":{"z":null,"y":[null,1,null,{"x":null}]},"c":[null]}`,
		"member order":          `{"zeta":1,"alpha":{"m":true,"b":false,"a_b":"x","a":"y"},"Beta":2,"_u":3}`,
		"numbers as written":    `{"i":-0,"f":1.50,"e":1e+06,"E":2.5E-3,"big":12345678901234567890}`,
		"escapes gqlgen writes": `{"s":"tab\tnl\ncr\rq\"bs\\ctl\u0001\u000B\u001F"}`,
		"html and unicode":      `{"s":"<a href=\"x\">&amp;</a> caf\u00e9 café 😀 ` + "\u2028\u2029" + `"}`,
		"empty containers":      `{"o":{},"l":[],"n":[null,null],"on":{"a":null}}`,
		"top-level list":        `[null,{"b":2,"a":1},[null],"s"]`,
		"scalar":                `"just text"`,
		"invalid UTF-8":         "{\"s\":\"a\xffb\xc3\"}",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			if got, want := rawBody(t, []byte(src)), referenceBody(t, []byte(src)); !bytes.Equal(got, want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
	// Generated documents: nesting, nulls and member orders a test author
	// would not think of.
	r := rand.New(rand.NewPCG(9, 9))
	for i := range 300 {
		src := randomJSON(r, 0)
		if got, want := rawBody(t, []byte(src)), referenceBody(t, []byte(src)); !bytes.Equal(got, want) {
			t.Fatalf("document %d %s:\ngot  %s\nwant %s", i, src, got, want)
		}
	}
}

func randomJSON(r *rand.Rand, depth int) string {
	k := r.IntN(10)
	if depth > 4 {
		k = 5 + r.IntN(5)
	}
	switch k {
	case 0, 1, 2:
		var b strings.Builder
		b.WriteByte('{')
		names := r.Perm(8)[:r.IntN(6)]
		for i, n := range names {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q:%s", []string{"id", "name", "a", "aB", "_x", "Z", "nodes", "pageInfo"}[n], randomJSON(r, depth+1))
		}
		b.WriteByte('}')
		return b.String()
	case 3, 4:
		parts := make([]string, r.IntN(5))
		for i := range parts {
			parts[i] = randomJSON(r, depth+1)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case 5:
		return "null"
	case 6:
		return []string{"true", "false"}[r.IntN(2)]
	case 7:
		return []string{"0", "-12", "3.25", "1e+21", "47.6101"}[r.IntN(5)]
	default:
		return []string{`"S001"`, `""`, `"a \"q\" \\ b"`, `"line\nnext"`, `"ünï"`, `"<&>"`}[r.IntN(6)]
	}
}

// TestDescend: the result path is found, or the first absent or null step
// is named, as the not-found answer says.
func TestDescend(t *testing.T) {
	tests := []struct {
		name, data, path string
		wantFound        bool
		wantMissing      string
		wantRest         string // the value written from where descend stopped
	}{
		{"found", `{"a":{"x":1,"b":{"c":null,"d":2}}}`, "a.b", true, "", `{"d":2}`},
		{"empty path", `{"a":1}`, "", true, "", `{"a":1}`},
		{"absent step", `{"a":{"x":1}}`, "a.b", false, "b", ""},
		{"null step", `{"a":null}`, "a.b", false, "a", ""},
		{"null result", `{"a":{"b":null}}`, "a.b", false, "b", ""},
		{"list where an object belongs", `{"a":[1]}`, "a.b", false, "b", ""},
		{"null data", `null`, "a", false, "a", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := newRawDecoder([]byte(tt.data))
			found, missing, err := descend(dec, true, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if found != tt.wantFound || missing != tt.wantMissing {
				t.Fatalf("found %v, missing %q; want %v, %q", found, missing, tt.wantFound, tt.wantMissing)
			}
			if found {
				w := rawWriter{dec: dec}
				if got, _ := w.value(nil, member{}); string(got) != tt.wantRest {
					t.Errorf("value %s, want %s", got, tt.wantRest)
				}
			}
		})
	}
	if found, missing, _ := descend(newRawDecoder(nil), false, "stores"); found || missing != "stores" {
		t.Errorf("no data: found %v, missing %q", found, missing)
	}
}

// BenchmarkShapeBody compares writing a page of 100 backorders (the
// executor's bytes, with the nulls a page has) the old way, decoding into
// maps and encoding again, with the streaming writer.
func BenchmarkShapeBody(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"store":{"backorders":{"nodes":[`)
	for i := range 100 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":"01a22c72-8550-7500-ac47-16c1143f%04d","status":"OPEN","quantity":%d,"note":null,"createdAt":"2026-11-%02dT10:00:00.000Z",`+
			`"customer":{"id":"C%05d","name":"Customer %d","phone":null,"email":"c%d@example.com"},`+
			`"product":{"sku":"SKU-%05d","name":"Product %d with a longer name","price":%d.99},"nextRestock":null}`,
			i, 1+i%5, 1+i%28, i, i, i, i, i, 10+i)
	}
	sb.WriteString(`],"pageInfo":{"hasNextPage":true,"endCursor":"eyJpZCI6IjEwMCJ9"}}}}`)
	data := []byte(sb.String())
	b.Run("decode-reencode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				b.Fatal(err)
			}
			nodes := v.(map[string]any)["store"].(map[string]any)["backorders"].(map[string]any)["nodes"]
			_ = encode(map[string]any{"value": referenceDropNulls(nodes), "nextCursor": "x"})
		}
	})
	b.Run("stream", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		op := &Operation{Result: "store.backorders", Paged: true}
		for b.Loop() {
			dec := newRawDecoder(data)
			if found, _, err := descend(dec, true, op.Result); !found || err != nil {
				b.Fatal(found, err)
			}
			w := rawWriter{dec: dec}
			if err := w.members(func(name []byte) error {
				if string(name) == `"nodes"` {
					_, err := w.value(nil, member{})
					return err
				}
				return w.dec.SkipValue()
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

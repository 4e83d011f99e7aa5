package connectortest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-openapi/spec"
)

// Judge says what a flow or an app would fail on in a successful answer: a
// status the definition does not declare, a body off the declared schema
// (types, required properties, enums, date-times without Z or an offset,
// integers out of their format's range), a null for a typed property, a
// pageable answer without its value array (CONNECTOR.md §10, Responses).
// It returns one line per problem; none means the runtime takes the answer.
func (op *Operation) Judge(r Result) []string {
	want, schema, ok := op.SuccessSchema()
	if !ok {
		return []string{op.ID + " declares no 2xx response"}
	}
	if r.Status != want {
		return []string{fmt.Sprintf("%s: status %d, the definition declares %d: %s", op.ID, r.Status, want, clip(r.Body))}
	}
	if schema == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []string{fmt.Sprintf("%s: body is not JSON: %v", op.ID, err)}
	}
	var problems []string
	check(schema, v, "$", &problems)
	if name := op.NextLinkName(); name != "" {
		m, _ := v.(map[string]any)
		if _, ok := m["value"].([]any); !ok {
			problems = append(problems, "$.value: a pageable answer needs a value array")
		}
		if next, ok := m[name]; ok {
			if s, _ := next.(string); !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
				problems = append(problems, fmt.Sprintf("$.%s: %v is not an absolute URL", name, next))
			}
		}
	}
	return problems
}

func check(s *spec.Schema, v any, at string, problems *[]string) {
	bad := func(format string, args ...any) {
		*problems = append(*problems, at+": "+fmt.Sprintf(format, args...))
	}
	if v == nil {
		// Flows validate types and fail the run; apps show empty rows.
		bad("null for a property typed %v", s.Type)
		return
	}
	if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		bad("%v is not one of %v", v, s.Enum)
	}
	switch {
	case s.Type.Contains("object"):
		m, ok := v.(map[string]any)
		if !ok {
			bad("%T, want an object", v)
			return
		}
		for _, r := range s.Required {
			if _, ok := m[r]; !ok {
				// Missing required properties fail flows at run time.
				bad("required property %s is missing", r)
			}
		}
		for k, pv := range m {
			if ps, ok := s.Properties[k]; ok {
				check(&ps, pv, at+"."+k, problems)
			}
			// Extra properties are ignored by the runtime.
		}
	case s.Type.Contains("array"):
		l, ok := v.([]any)
		if !ok {
			bad("%T, want an array", v)
			return
		}
		if s.Items != nil && s.Items.Schema != nil {
			for i, e := range l {
				check(s.Items.Schema, e, fmt.Sprintf("%s[%d]", at, i), problems)
			}
		}
	case s.Type.Contains("string"):
		str, ok := v.(string)
		if !ok {
			bad("%T, want a string", v)
			return
		}
		switch s.Format {
		case "date-time":
			// Without Z or an offset the player reads local time.
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				bad("%q is not a date-time with Z or an offset", str)
			}
		case "date":
			if _, err := time.Parse(time.DateOnly, str); err != nil {
				bad("%q is not a yyyy-MM-dd date", str)
			}
		}
	case s.Type.Contains("integer"):
		n, ok := v.(json.Number)
		if !ok {
			bad("%T, want an integer", v)
			return
		}
		i, ok := new(big.Int).SetString(n.String(), 10)
		if !ok {
			bad("%s is not a whole number", n)
			return
		}
		lim := big.NewInt(1 << 53) // the player's exact range
		if s.Format == "int32" {
			lim = big.NewInt(math.MaxInt32)
		}
		if new(big.Int).Abs(i).Cmp(lim) > 0 {
			bad("%s is out of range for %s", n, s.Format)
		}
	case s.Type.Contains("number"):
		if _, ok := v.(json.Number); !ok {
			bad("%T, want a number", v)
		}
	case s.Type.Contains("boolean"):
		if _, ok := v.(bool); !ok {
			bad("%T, want a boolean", v)
		}
	}
}

// bearerRE is a token after "Bearer"; the word alone, in a hint on how to
// sign in, is fine.
var bearerRE = regexp.MustCompile(`(?i)bearer\s+[A-Za-z0-9._~+/-]{16,}`)

// MaxMessage is the longest error.message a maker should see in
// FirstError.Message; MaxErrorBody bounds the raw body (CONNECTOR.md §10).
const (
	MaxMessage   = 200
	MaxErrorBody = 1024
)

// JudgeError says what is wrong with an error answer: not JSON, error.message
// not the first member or longer than MaxMessage, no stable code, a body of
// MaxErrorBody bytes or more, the token or "Bearer" echoed, a 429 or 503
// without Retry-After, a redirect. secrets are texts that must not appear.
func JudgeError(r Result, secrets ...string) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if r.Status < 400 {
		bad("status %d is not an error status (3xx are errors to the runtime, never follow them)", r.Status)
	}
	if (r.Status == http.StatusTooManyRequests || r.Status == http.StatusServiceUnavailable) && r.Header.Get("Retry-After") == "" {
		bad("%d without Retry-After", r.Status)
	}
	if len(r.Body) >= MaxErrorBody {
		bad("error body is %d bytes, want under %d", len(r.Body), MaxErrorBody)
	}
	if m := bearerRE.Find(r.Body); m != nil {
		bad("error body echoes a bearer token: %s", clip(m))
	}
	for _, s := range secrets {
		if s != "" && bytes.Contains(r.Body, []byte(s)) {
			bad("error body echoes a secret (%d characters)", len(s))
		}
	}
	keys, err := memberOrder(r.Body, "error")
	if err != nil {
		bad("error body %s: %v", clip(r.Body), err)
		return problems
	}
	if len(keys) == 0 || keys[0] != "message" {
		bad("error.message is not the first member of error (members in order: %v)", keys)
	}
	var e struct {
		Error struct {
			Message *string `json:"message"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	switch {
	case e.Error.Message == nil || *e.Error.Message == "":
		bad("error.message is missing")
	case utf8.RuneCountInString(*e.Error.Message) > MaxMessage:
		bad("error.message is %d characters, want at most %d", utf8.RuneCountInString(*e.Error.Message), MaxMessage)
	}
	if e.Error.Code == nil || *e.Error.Code == "" {
		bad("error.code is missing")
	}
	return problems
}

// memberOrder lists the member names of the object at key of the top-level
// object, in the order they are written, and checks key is the first
// top-level member.
func memberOrder(body []byte, key string) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	if t, err := dec.Token(); err != nil || t != key {
		return nil, fmt.Errorf("the first member is %v, want %q", t, key)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("%s is not an object", key)
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, fmt.Sprint(t))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// Clip shortens a body for a failure message.
func Clip(b []byte) string { return clip(b) }

func clip(b []byte) string {
	const n = 300
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "... (" + strconv.Itoa(len(b)) + " bytes)"
}

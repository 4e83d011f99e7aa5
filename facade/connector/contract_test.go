package connector

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// breakingChanges lists what in next would break a canvas app or flow built
// against prev: an operation removed or moved, a parameter removed, renamed,
// retyped or newly required, an enum value a caller may send removed, a
// response property removed or retyped. Additions (operations, optional
// parameters, response properties) and text changes are not breaking.
func breakingChanges(prev, next []byte) ([]string, error) {
	var a, b obj
	if err := json.Unmarshal(prev, &a); err != nil {
		return nil, fmt.Errorf("previous definition: %w", err)
	}
	if err := json.Unmarshal(next, &b); err != nil {
		return nil, fmt.Errorf("next definition: %w", err)
	}
	pa, pb := &connectorPackage{def: a}, &connectorPackage{def: b}
	index := func(p *connectorPackage) map[string]opRef {
		m := map[string]opRef{}
		for _, o := range p.operations() {
			m[asStr(o.op["operationId"])] = o
		}
		return m
	}
	oldOps, newOps := index(pa), index(pb)
	var out []string
	for _, id := range slices.Sorted(maps.Keys(oldOps)) {
		o := oldOps[id]
		n, ok := newOps[id]
		if !ok {
			out = append(out, id+": operation removed")
			continue
		}
		if o.String() != n.String() {
			out = append(out, fmt.Sprintf("%s: moved from %s to %s", id, o, n))
		}
		paramKey := func(p obj) string { return asStr(p["in"]) + " " + asStr(p["name"]) }
		oldParams, newParams := map[string]obj{}, map[string]obj{}
		for _, p := range pa.params(o) {
			oldParams[paramKey(p)] = p
		}
		for _, p := range pb.params(n) {
			newParams[paramKey(p)] = p
		}
		for _, k := range slices.Sorted(maps.Keys(oldParams)) {
			op, np := oldParams[k], newParams[k]
			where := id + ": parameter " + k
			switch {
			case np == nil:
				out = append(out, where+" removed")
				continue
			case op["required"] != true && np["required"] == true:
				out = append(out, where+" is newly required")
			}
			if op["in"] == "body" {
				compareSchemas(where, asObj(op["schema"]), asObj(np["schema"]), true, &out)
			} else {
				compareSchemas(where, op, np, true, &out)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(newParams)) {
			if oldParams[k] == nil && newParams[k]["required"] == true {
				out = append(out, id+": new required parameter "+k)
			}
		}
		compareSchemas(id+": response", successSchema(o.op), successSchema(n.op), false, &out)
	}
	return out, nil
}

// successSchema is the schema a designer reads: on the lowest 2xx response.
func successSchema(op obj) obj {
	rs := asObj(op["responses"])
	for _, code := range slices.Sorted(maps.Keys(rs)) {
		if strings.HasPrefix(code, "2") {
			return asObj(asObj(rs[code])["schema"])
		}
	}
	return nil
}

// compareSchemas compares a request (callers send it) or response (callers
// read it) schema, recursively.
func compareSchemas(where string, a, b obj, request bool, out *[]string) {
	if a == nil {
		return
	}
	if b == nil {
		*out = append(*out, where+": schema removed")
		return
	}
	if a["type"] != b["type"] || a["format"] != b["format"] {
		*out = append(*out, fmt.Sprintf("%s: type %v/%v changed to %v/%v", where, a["type"], a["format"], b["type"], b["format"]))
		return
	}
	if request && has(a, "enum") {
		for _, v := range asArr(a["enum"]) {
			if has(b, "enum") && !slices.Contains(asArr(b["enum"]), v) {
				*out = append(*out, fmt.Sprintf("%s: value %v no longer accepted", where, v))
			}
		}
	}
	if request {
		// Tightening a declared limit breaks callers that sent a value the
		// published contract allowed. Declaring a limit where there was none
		// is not counted: the first limits (issue 12) bound text that never
		// worked (a 1 MB name was a 500 on PostgreSQL, NUL was a 500
		// everywhere), so no published app relied on it.
		for _, k := range []string{"maxLength", "maximum"} {
			if x, y, ok := bothNumbers(a, b, k); ok && y < x {
				*out = append(*out, fmt.Sprintf("%s: %s lowered from %v to %v", where, k, x, y))
			}
		}
		if x, y, ok := bothNumbers(a, b, "minimum"); ok && y > x {
			*out = append(*out, fmt.Sprintf("%s: minimum raised from %v to %v", where, x, y))
		}
	}
	ap, bp := asObj(a["properties"]), asObj(b["properties"])
	for _, k := range slices.Sorted(maps.Keys(ap)) {
		if !has(bp, k) {
			*out = append(*out, where+"."+k+": property removed")
			continue
		}
		compareSchemas(where+"."+k, asObj(ap[k]), asObj(bp[k]), request, out)
	}
	if request {
		for _, r := range asArr(b["required"]) {
			if !slices.Contains(asArr(a["required"]), r) {
				*out = append(*out, fmt.Sprintf("%s.%v: newly required", where, r))
			}
		}
	}
	if has(a, "items") {
		compareSchemas(where+"[]", asObj(a["items"]), asObj(b["items"]), request, out)
	}
}

// bothNumbers returns a[k] and b[k] when both are numbers.
func bothNumbers(a, b obj, k string) (x, y float64, ok bool) {
	x, okA := a[k].(float64)
	y, okB := b[k].(float64)
	return x, y, okA && okB
}

const contractBase = `{
  "swagger": "2.0",
  "paths": {
    "/stores/{storeId}/backorders": {"get": {
      "operationId": "ListStoreBackorders",
      "parameters": [
        {"name": "storeId", "in": "path", "required": true, "type": "string"},
        {"name": "status", "in": "query", "type": "string", "enum": ["OPEN", "CANCELLED"]},
        {"name": "pageSize", "in": "query", "type": "integer", "format": "int32", "default": 20, "minimum": 1, "maximum": 100},
        {"name": "search", "in": "query", "type": "string", "maxLength": 200}
      ],
      "responses": {"200": {"description": "ok", "schema": {"type": "object", "properties": {
        "value": {"type": "array", "items": {"type": "object", "required": ["id"], "properties": {
          "id": {"type": "string"},
          "quantity": {"type": "integer", "format": "int32"},
          "status": {"type": "string", "enum": ["OPEN", "CANCELLED"]}
        }}},
        "nextLink": {"type": "string"}
      }}}}
    }},
    "/backorders": {"post": {
      "operationId": "RecordBackorder",
      "parameters": [
        {"name": "body", "in": "body", "required": true, "schema": {"type": "object", "required": ["sku"], "properties": {
          "sku": {"type": "string"},
          "note": {"type": "string"}
        }}}
      ],
      "responses": {"201": {"description": "created", "schema": {"type": "object", "properties": {"id": {"type": "string"}}}}}
    }}
  }
}`

func TestBreakingChanges(t *testing.T) {
	get := func(d obj) obj { return asObj(at(d, "paths", "/stores/{storeId}/backorders", "get")) }
	post := func(d obj) obj { return asObj(at(d, "paths", "/backorders", "post")) }
	param := func(d obj, name string) obj {
		for _, p := range asArr(get(d)["parameters"]) {
			if asObj(p)["name"] == name {
				return asObj(p)
			}
		}
		return nil
	}
	item := func(d obj) obj {
		return asObj(at(get(d), "responses", "200", "schema", "properties", "value", "items"))
	}
	body := func(d obj) obj { return asObj(asObj(asArr(post(d)["parameters"])[0])["schema"]) }
	tests := []struct {
		name string
		mut  func(d obj)
		want []string // substrings of the breaking changes; none = not breaking
	}{
		{"unchanged", func(obj) {}, nil},
		{"operation added", func(d obj) {
			asObj(d["paths"])["/news"] = obj{"get": obj{"operationId": "ListNews", "responses": obj{"200": obj{"description": "ok"}}}}
		}, nil},
		{"optional parameter added", func(d obj) {
			op := get(d)
			op["parameters"] = append(asArr(op["parameters"]), obj{"name": "since", "in": "query", "type": "string"})
		}, nil},
		{"response property added", func(d obj) { asObj(item(d)["properties"])["note"] = obj{"type": "string"} }, nil},
		{"description changed", func(d obj) { get(d)["description"] = "New words." }, nil},
		{"enum value added to a parameter", func(d obj) {
			param(d, "status")["enum"] = []any{"OPEN", "CANCELLED", "NOTIFIED"}
		}, nil},
		{"default changed", func(d obj) { param(d, "pageSize")["default"] = 50 }, nil},
		{"maxLength declared where there was none", func(d obj) { asObj(asObj(body(d)["properties"])["note"])["maxLength"] = 500 }, nil},
		{"maxLength raised", func(d obj) { param(d, "search")["maxLength"] = 400 }, nil},
		{"range widened", func(d obj) { param(d, "pageSize")["maximum"] = 200; param(d, "pageSize")["minimum"] = 0 }, nil},
		{"optional body property added", func(d obj) { asObj(body(d)["properties"])["quantity"] = obj{"type": "integer", "format": "int32"} }, nil},

		{"operation removed", func(d obj) { delete(asObj(d["paths"]), "/backorders") }, []string{"RecordBackorder: operation removed"}},
		{"operation renamed", func(d obj) { post(d)["operationId"] = "CreateBackorder" }, []string{"RecordBackorder: operation removed"}},
		{"operation moved", func(d obj) {
			paths := asObj(d["paths"])
			paths["/backorder"] = paths["/backorders"]
			delete(paths, "/backorders")
		}, []string{"RecordBackorder: moved from POST /backorders to POST /backorder"}},
		{"parameter removed", func(d obj) {
			op := get(d)
			op["parameters"] = asArr(op["parameters"])[:2]
		}, []string{"parameter query pageSize removed"}},
		{"parameter renamed", func(d obj) { param(d, "status")["name"] = "state" }, []string{"parameter query status removed"}},
		{"parameter newly required", func(d obj) { param(d, "status")["required"] = true }, []string{"query status is newly required"}},
		{"new required parameter", func(d obj) {
			op := get(d)
			op["parameters"] = append(asArr(op["parameters"]), obj{"name": "region", "in": "query", "type": "string", "required": true})
		}, []string{"new required parameter query region"}},
		{"parameter type changed", func(d obj) { param(d, "pageSize")["type"] = "string"; delete(param(d, "pageSize"), "format") }, []string{"pageSize: type integer/int32 changed to string/<nil>"}},
		{"parameter enum value removed", func(d obj) { param(d, "status")["enum"] = []any{"OPEN"} }, []string{"value CANCELLED no longer accepted"}},
		{"response property removed", func(d obj) { delete(asObj(item(d)["properties"]), "quantity") }, []string{"response.value[].quantity: property removed"}},
		{"response property type changed", func(d obj) {
			asObj(item(d)["properties"])["quantity"] = obj{"type": "number", "format": "double"}
		}, []string{"quantity: type integer/int32 changed to number/double"}},
		{"response list became an object", func(d obj) {
			props := asObj(at(get(d), "responses", "200", "schema", "properties"))
			props["value"] = obj{"type": "object", "properties": obj{"id": obj{"type": "string"}}}
		}, []string{"response.value: type array/<nil> changed to object/<nil>"}},
		{"maxLength lowered", func(d obj) { param(d, "search")["maxLength"] = 100 }, []string{"search: maxLength lowered from 200 to 100"}},
		{"maximum lowered", func(d obj) { param(d, "pageSize")["maximum"] = 50 }, []string{"pageSize: maximum lowered from 100 to 50"}},
		{"minimum raised", func(d obj) { param(d, "pageSize")["minimum"] = 5 }, []string{"pageSize: minimum raised from 1 to 5"}},
		{"body property newly required", func(d obj) { body(d)["required"] = []any{"sku", "note"} }, []string{"body.note: newly required"}},
		{"body property removed", func(d obj) { delete(asObj(body(d)["properties"]), "note") }, []string{"body.note: property removed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d obj
			if err := json.Unmarshal([]byte(contractBase), &d); err != nil {
				t.Fatal(err)
			}
			tt.mut(d)
			next, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			got, err := breakingChanges([]byte(contractBase), next)
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.want) == 0 && len(got) > 0 {
				t.Fatalf("not breaking, but got %v", got)
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, w) }) {
					t.Errorf("breaking changes %v lack %q", got, w)
				}
			}
		})
	}
}

package admin

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
)

// decodeStrict is decode for representations that must not lose what is
// sent: a field the representation does not know is refused with 400
// naming it, unless its value is empty (null, "", false, [] or {}), which
// asks for nothing Gatehouse would drop. Tooling that echoes a Keycloak
// representation back with defaults therefore still works.
func decodeStrict(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return badRequest("unable to read request body")
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := decode(r, v); err != nil {
		return err
	}
	if unknown := unknownFields(body, v); len(unknown) > 0 {
		return badRequest("unsupported field(s): %s", strings.Join(unknown, ", "))
	}
	return nil
}

// unknownFields returns the top-level keys of body that v's struct does
// not declare (by json tag) and that carry a non-empty value, sorted.
func unknownFields(body []byte, v any) []string {
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return nil
	}
	known := jsonFields(reflect.TypeOf(v))
	var out []string
	for k, val := range raw {
		if known[k] || emptyJSON(val) {
			continue
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func jsonFields(t reflect.Type) map[string]bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			// An embedded struct's fields are the representation's own.
			maps.Copy(out, jsonFields(f.Type))
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = true
	}
	return out
}

func emptyJSON(v json.RawMessage) bool {
	switch string(bytes.TrimSpace(v)) {
	case "null", `""`, "false", "[]", "{}":
		return true
	}
	var m map[string]any
	if json.Unmarshal(v, &m) == nil && len(m) == 0 {
		return true
	}
	var a []any
	return json.Unmarshal(v, &a) == nil && len(a) == 0
}

package oidc

import (
	"encoding/json"
	"testing"
)

// appendJSONAny must write exactly what encoding/json writes, or tokens
// would change bytes with the claim values.
func TestAppendJSONAnyMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{"", "alice", "Alice Liddell", `q"uote`, `back\\slash`, "<tag>&", "tab\t", "\x01", "é ü 漢", "\u2028",
		"\xff", true, false, int64(42), []any{"a", 1.5}, map[string]any{"k": "v"}} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendJSONAny(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%#v: got %s, want %s", v, got, want)
		}
	}
}

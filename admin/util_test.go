package admin_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
)

func decodeSeg(s string) ([]byte, error)  { return base64.RawURLEncoding.DecodeString(s) }
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func jsonDecode(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }

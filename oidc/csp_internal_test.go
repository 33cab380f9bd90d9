package oidc

import "testing"

// The login pages' form-action must name the origin the form's answer
// redirects to, and nothing a client could smuggle into the policy.
func TestFormActionSourceOfClientURIs(t *testing.T) {
	for _, tc := range []struct{ uri, want string }{
		{"http://127.0.0.1:8080/callback?x=1", "http://127.0.0.1:8080"},
		{"https://app.example.com/cb#frag", "https://app.example.com"},
		{"https://[::1]:9000/cb", "https://[::1]:9000"},
		{"com.example.app:/oauth2redirect", "com.example.app:"},
		{"", ""},
		{"/relative/path", ""},
		{"https://a.example; script-src *", ""},
		{"https://user@a.example/cb", "https://a.example"},
		{"https:///no-host", ""},
	} {
		if got := cspSource(tc.uri); got != tc.want {
			t.Errorf("cspSource(%q) = %q, want %q", tc.uri, got, tc.want)
		}
	}
}

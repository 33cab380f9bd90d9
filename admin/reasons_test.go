package admin_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Admin error answers are logged with Keycloak's errorMessage and a reason
// saying why, and never with the token sent.
func TestAdminErrorsAreLoggedWithMessageAndReason(t *testing.T) {
	var logs syncBuffer
	e := newLoggedEnv(t, slog.New(slog.NewTextHandler(&logs, nil)))
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "acme", "enabled": true})
	for _, tc := range []struct {
		name                string
		method, path, token string
		body                any
		want                []string
	}{
		{"realm exists", "POST", "/admin/realms", e.admin, map[string]any{"realm": "acme"},
			[]string{"status=409", `error="Conflict detected. See logs for details"`, `reason="realm exists"`}},
		{"no token", "GET", "/admin/realms/acme", "", nil,
			[]string{"status=401", `error="HTTP 401 Unauthorized"`, `reason="no bearer token"`}},
		{"bad token", "GET", "/admin/realms/acme", "not-a-token", nil,
			[]string{"status=401", `reason="invalid, expired or revoked token"`}},
		{"unknown realm", "GET", "/admin/realms/nowhere", e.admin, nil,
			[]string{"status=404", `error="Could not find realm"`, `reason="not found"`}},
		{"invalid representation", "POST", "/admin/realms", e.admin, `{"realm": 42}`,
			[]string{"status=400", `reason="bad request"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(logs.String())
			e.call(tc.method, tc.path, tc.token, tc.body)
			var line string
			for _, l := range strings.Split(logs.String()[before:], "\n") {
				if strings.Contains(l, "msg=request") {
					line = l
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("log line lacks %s:\n%s", w, line)
				}
			}
		})
	}
	if strings.Contains(logs.String(), e.admin) {
		t.Error("the log carries the admin's token")
	}
}

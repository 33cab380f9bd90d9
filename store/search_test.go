package store

import "testing"

func TestMatchSearchKeycloakSemantics(t *testing.T) {
	for _, tc := range []struct {
		pattern, value string
		want           bool
	}{
		{"", "alice", true},
		{"*", "alice", true},
		{"al", "alice", true},
		{"AL", "alice", true},
		{"lic", "alice", false},
		{"*lic", "alice", true},
		{"*lic*", "alice", true},
		{"a*e", "alice", true},
		{"a*x", "alice", false},
		{`"alice"`, "Alice", true},
		{`"ali"`, "alice", false},
		{`"`, `"`, true},
		{"alice.smith@", "alice.smith@example.com", true},
		{"x", "", false},
	} {
		if got := MatchSearch(tc.pattern, tc.value); got != tc.want {
			t.Errorf("MatchSearch(%q, %q) = %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
}

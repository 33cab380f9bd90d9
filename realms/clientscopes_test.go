package realms

import (
	"slices"
	"testing"
)

// Discovery advertises exactly the built-in scopes a realm starts with.
func TestSupportedScopesAreTheBuiltinScopes(t *testing.T) {
	scopes, _, _ := builtinClientScopes("r")
	var names []string
	for _, cs := range scopes {
		names = append(names, cs.Name)
	}
	slices.Sort(names)
	if got := SupportedScopes(); !slices.Equal(got[1:], names) || got[0] != "openid" {
		t.Errorf("SupportedScopes = %v, built-in scopes %v", got, names)
	}
}

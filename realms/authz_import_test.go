package realms

import (
	"slices"
	"testing"
)

// What a realm file's authorization settings carry that Gatehouse does
// not run is left out by name, with every aggregate and permission that
// applies it (directly or through another), and the rest is kept typed.
func TestAuthzImportLeavesOutUnsupportedPoliciesAndWhatAppliesThem(t *testing.T) {
	st := ImportAuthzSettings{Policies: []AuthzPolicyRep{
		{Name: "script", Type: "js", Config: map[string]string{"code": "$evaluation.grant();"}},
		{Name: "office hours", Type: "time", Config: map[string]string{"hour": "9", "hourEnd": "17"}},
		{Name: "team", Type: PolicyRole, Config: map[string]string{"roles": `[{"id":"ml","required":false}]`, "fetchRoles": "true"}},
		{Name: "claimed", Type: PolicyGroup, Config: map[string]string{"groups": `[{"path":"/a"}]`, "groupsClaim": "groups"}},
		{Name: "empty claim", Type: PolicyGroup, Config: map[string]string{"groups": `[{"path":"/a"}]`, "groupsClaim": ""}},
		{Name: "team or script", Type: PolicyAggregate, Config: map[string]string{"applyPolicies": `["team","script"]`}},
		{Name: "outer", Type: PolicyAggregate, Config: map[string]string{"applyPolicies": `["team or script"]`}},
		{Name: "uses outer", Type: PermResource, Config: map[string]string{"resources": `["r"]`, "applyPolicies": `["outer"]`}},
		{Name: "uses team", Type: PermScope, Config: map[string]string{"resources": `["r"]`, "scopes": `["read"]`,
			"defaultResourceType": "T", "applyPolicies": `["team"]`}},
	}}
	kept, left := authzLeftOut("c", st)
	want := []string{
		"c.policies[claimed] (unsupported field config.groupsClaim)",
		"c.policies[office hours] (type time)",
		"c.policies[outer] (applies team or script, left out)",
		"c.policies[script] (type js)",
		"c.policies[team or script] (applies script, left out)",
		"c.policies[uses outer] (applies outer, left out)",
		"c.policies[uses team].config.defaultResourceType (a scope permission naming resources)",
	}
	slices.Sort(left)
	if !slices.Equal(left, want) {
		t.Fatalf("left out:\n%q\nwant\n%q", left, want)
	}
	var names []string
	for _, p := range kept.Policies {
		names = append(names, p.Name)
		if p.Config != nil {
			t.Errorf("policy %s kept untyped: %v", p.Name, p.Config)
		}
	}
	if !slices.Equal(names, []string{"team", "empty claim", "uses team"}) {
		t.Fatalf("kept %v", names)
	}
	if p := kept.Policies[2]; p.ResourceType != "" || !slices.Equal(p.Resources, []string{"r"}) || !slices.Equal(p.Policies, []string{"team"}) {
		t.Errorf("uses team kept as %+v", p)
	}
}

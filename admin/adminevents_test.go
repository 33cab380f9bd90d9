package admin_test

import (
	"strings"
	"testing"
)

// GET /admin-events takes the filters keycloak-admin-client sends, and
// DELETE /admin-events clears the log.
func TestAdminEventsFilters(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/admin/realms", e.admin, map[string]any{"realm": "demo", "enabled": true})
	app := idFromLocation(t, e.must(201, "POST", "/admin/realms/demo/clients", e.admin, map[string]any{"clientId": "app"}))
	e.must(204, "PUT", "/admin/realms/demo/clients/"+app, e.admin, map[string]any{"description": "x"})
	mgrID, mgr := e.userWithRights("demo", "mgr", nil, "manage-users", "view-events", "manage-events")
	e.must(201, "POST", "/admin/realms/demo/users", mgr, map[string]any{"username": "carol", "enabled": true})
	var master map[string]any
	e.must(200, "GET", "/admin/realms/master", e.admin, nil).json(t, &master)
	var demo map[string]any
	e.must(200, "GET", "/admin/realms/demo", e.admin, nil).json(t, &demo)

	base := "/admin/realms/demo/admin-events"
	key := func(ev map[string]any) string {
		return ev["operationType"].(string) + " " + ev["resourcePath"].(string)
	}
	var all []map[string]any
	e.must(200, "GET", base, e.admin, nil).json(t, &all)
	if len(all) < 4 {
		t.Fatalf("admin events = %v", all)
	}
	for _, tc := range []struct {
		query string
		want  func(ev map[string]any) bool
	}{
		{"?operationTypes=UPDATE", func(ev map[string]any) bool { return ev["operationType"] == "UPDATE" }},
		{"?operationTypes=UPDATE&operationTypes=CREATE", func(ev map[string]any) bool {
			return ev["operationType"] == "UPDATE" || ev["operationType"] == "CREATE"
		}},
		{"?resourceTypes=CLIENT", func(ev map[string]any) bool { return ev["resourceType"] == "CLIENT" }},
		{"?resourcePath=clients/*", func(ev map[string]any) bool { return strings.HasPrefix(ev["resourcePath"].(string), "clients/") }},
		{"?resourcePath=clients/" + app, func(ev map[string]any) bool { return ev["resourcePath"] == "clients/"+app }},
		{"?resourcePath=*/role-mappings/*", func(ev map[string]any) bool { return strings.Contains(ev["resourcePath"].(string), "/role-mappings/") }},
		{"?authRealm=" + demo["id"].(string), func(ev map[string]any) bool { return ev["authDetails"].(map[string]any)["realmId"] == demo["id"] }},
		{"?authRealm=" + master["id"].(string), func(ev map[string]any) bool { return ev["authDetails"].(map[string]any)["realmId"] == master["id"] }},
		{"?authUser=" + mgrID, func(ev map[string]any) bool { return ev["authDetails"].(map[string]any)["userId"] == mgrID }},
		{"?authClient=tester", func(ev map[string]any) bool { return ev["authDetails"].(map[string]any)["clientId"] == "tester" }},
		{"?authIpAddress=127.0.0.1", func(map[string]any) bool { return true }},
		{"?authIpAddress=192.0.2.1", func(map[string]any) bool { return false }},
		{"?dateFrom=2000-01-01&dateTo=2999-01-01", func(map[string]any) bool { return true }},
		{"?dateTo=2000-01-01", func(map[string]any) bool { return false }},
		{"?dateFrom=2999-01-01", func(map[string]any) bool { return false }},
	} {
		var want []string
		for _, ev := range all {
			if tc.want(ev) {
				want = append(want, key(ev))
			}
		}
		var got []map[string]any
		e.must(200, "GET", base+tc.query, e.admin, nil).json(t, &got)
		var keys []string
		for _, ev := range got {
			keys = append(keys, key(ev))
		}
		if strings.Join(keys, "|") != strings.Join(want, "|") {
			t.Errorf("%s: %v, want %v", tc.query, keys, want)
		}
	}
	var page []map[string]any
	e.must(200, "GET", base+"?operationTypes=CREATE&first=1&max=1", e.admin, nil).json(t, &page)
	var creates []string
	for _, ev := range all {
		if ev["operationType"] == "CREATE" {
			creates = append(creates, key(ev))
		}
	}
	if len(page) != 1 || key(page[0]) != creates[1] {
		t.Errorf("first=1&max=1 of creates: %v, want %s", page, creates[1])
	}

	for _, tc := range []struct {
		method, path, token string
		status              int
	}{
		{"GET", base + "?dateFrom=01/01/2020", e.admin, 400},
		{"GET", base + "?first=x", e.admin, 400},
		{"DELETE", "/admin/realms/nothing/admin-events", e.admin, 404},
		{"DELETE", "/admin/realms/master/admin-events", mgr, 403},
	} {
		if r := e.call(tc.method, tc.path, tc.token, nil); r.status != tc.status || r.obj(t)["errorMessage"] == nil {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.raw, tc.status)
		}
	}
	e.must(204, "DELETE", base, mgr, nil)
	e.must(200, "GET", base, e.admin, nil).json(t, &all)
	if len(all) != 0 {
		t.Errorf("after DELETE: %v", all)
	}
}

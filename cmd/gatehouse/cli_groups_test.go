package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// kcadm.sh's group and composite forms of add-roles, remove-roles and
// get-roles: --gname/--gpath/--gid for a group's role mappings, --rname
// for a role's composites, realm and client roles alike.
func TestCLIGroupAndCompositeRoles(t *testing.T) {
	p := startServe(t, t.TempDir(), []string{"GATEHOUSE_ADMIN_PASSWORD=cli-Admin-1"})
	defer p.stop(t)
	c := cli{t: t, config: filepath.Join(t.TempDir(), "config.json")}
	if out, errs, code := c.run("cli-Admin-1\n", "config", "credentials", "--server", p.base, "--realm", "master", "--user", "admin"); code != 0 {
		t.Fatalf("login: %s %s", out, errs)
	}
	c.ok("create", "realms", "-s", "realm=demo", "-s", "enabled=true")
	for _, r := range []string{"reader", "editor"} {
		c.ok("create", "roles", "-r", "demo", "-s", "name="+r)
	}
	staff := c.ok("create", "groups", "-r", "demo", "-s", "name=staff", "-i")
	c.ok("create", "groups/"+staff+"/children", "-r", "demo", "-s", "name=team")

	for _, tc := range []struct {
		name string
		args []string
		get  []string
		want string
	}{
		{"group by path", []string{"--gpath", "/staff/team", "--rolename", "reader"}, []string{"--gpath", "/staff/team"}, `"reader"`},
		{"group by name", []string{"--gname", "staff", "--cclientid", "realm-management", "--rolename", "view-users"}, []string{"--gname", "staff", "--cclientid", "realm-management"}, `"view-users"`},
		{"group by id", []string{"--gid", staff, "--rolename", "editor"}, []string{"--gid", staff}, `"editor"`},
		{"realm composite", []string{"--rname", "editor", "--rolename", "reader"}, []string{"--rname", "editor"}, `"reader"`},
		{"client composite", []string{"--rname", "editor", "--cclientid", "realm-management", "--rolename", "query-users"}, []string{"--rname", "editor", "--cclientid", "realm-management"}, `"query-users"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.ok(append([]string{"add-roles", "-r", "demo"}, tc.args...)...)
			if got := c.ok(append([]string{"get-roles", "-r", "demo"}, tc.get...)...); !strings.Contains(got, tc.want) {
				t.Errorf("after add-roles: %s", got)
			}
			c.ok(append([]string{"remove-roles", "-r", "demo"}, tc.args...)...)
			if got := c.ok(append([]string{"get-roles", "-r", "demo"}, tc.get...)...); strings.Contains(got, tc.want) {
				t.Errorf("after remove-roles: %s", got)
			}
		})
	}
	// The README's membership line.
	c.ok("create", "users", "-r", "demo", "-s", "username=alice")
	alice := c.ok("get", "users", "-r", "demo", "-q", "username=alice", "--fields", "id", "--format", "csv")
	c.ok("update", "users/"+alice+"/groups/"+staff, "-r", "demo", "-n")
	if got := c.ok("get", "users/"+alice+"/groups", "-r", "demo", "--fields", "path", "--format", "csv"); got != "/staff" {
		t.Errorf("alice's groups: %q", got)
	}
	if _, errs, code := c.run("", "add-roles", "-r", "demo", "--gpath", "/nope", "--rolename", "reader"); code == 0 || !strings.Contains(errs, "Group path does not exist") {
		t.Errorf("unknown group path: exit %d, %q", code, errs)
	}
}

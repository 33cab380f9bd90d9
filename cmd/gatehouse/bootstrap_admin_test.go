package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// runBootstrapAdmin runs `gatehouse bootstrap-admin` with env added to
// this process's environment and stdin from a pipe (never a terminal).
func runBootstrapAdmin(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"bootstrap-admin"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), 0
}

// An operator who lost the only admin's password recovers on the stopped
// server: bootstrap-admin refuses while the server runs, then resets the
// existing admin (re-enabled, admin role, new password) or creates a new
// one, and both sign in after the restart.
func TestBootstrapAdminRecoversLockedOutServer(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, data, []string{"GATEHOUSE_ADMIN_USER=root", "GATEHOUSE_ADMIN_PASSWORD=Very-Secret-42"})
	status, body := adminLogin(t, p.base, "root", "Very-Secret-42")
	if status != 200 {
		t.Fatalf("admin login: %d %v", status, body)
	}
	// The admin makes a second admin, which disables root, takes its admin
	// role and sets a password nobody remembers: root is locked out.
	api := func(method, path, token, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, p.base+"/admin/realms/master"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d", method, path, res.StatusCode)
		}
		return res
	}
	root := body["access_token"].(string)
	var users []map[string]any
	if err := json.NewDecoder(api("GET", "/users?username=root&exact=true", root, "").Body).Decode(&users); err != nil || len(users) != 1 {
		t.Fatalf("users: %v %v", users, err)
	}
	rootID := users[0]["id"].(string)
	loc := api("POST", "/users", root, `{"username":"other","enabled":true,"credentials":[{"value":"Other-Pass-1"}]}`).Header.Get("Location")
	api("POST", "/users/"+loc[strings.LastIndex(loc, "/")+1:]+"/role-mappings/realm", root, `[{"name":"admin"}]`)
	_, body = adminLogin(t, p.base, "other", "Other-Pass-1")
	other := body["access_token"].(string)
	api("PUT", "/users/"+rootID+"/reset-password", other, `{"type":"password","value":"Forgotten-99"}`)
	api("DELETE", "/users/"+rootID+"/role-mappings/realm", other, `[{"name":"admin"}]`)
	api("PUT", "/users/"+rootID, other, `{"enabled":false}`)

	withPassword := []string{"GATEHOUSE_ADMIN_PASSWORD=Recovered-7"}
	out, code := runBootstrapAdmin(t, withPassword, "--data", data, "--username", "root")
	if code == 0 || !strings.Contains(out, "in use by a running server") {
		t.Errorf("bootstrap-admin on a running server's data: exit %d %s", code, out)
	}
	p.stop(t)

	for name, c := range map[string]struct {
		env  []string
		args []string
		want string
	}{
		"no password":   {[]string{"GATEHOUSE_ADMIN_PASSWORD="}, []string{"--data", data, "--username", "root"}, "GATEHOUSE_ADMIN_PASSWORD"},
		"no username":   {withPassword, []string{"--data", data}, "--username is required"},
		"no store here": {withPassword, []string{"--data", t.TempDir(), "--username", "root"}, "no Gatehouse store"},
	} {
		if out, code := runBootstrapAdmin(t, c.env, c.args...); code == 0 || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d %s", name, code, out)
		}
	}
	if out, code := runBootstrapAdmin(t, withPassword, "--data", data, "--username", "root"); code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore root: exit %d %s", code, out)
	}
	if out, code := runBootstrapAdmin(t, []string{"GATEHOUSE_ADMIN_PASSWORD=Rescuer-Pass-8"}, "--data", data, "--username", "rescuer"); code != 0 || !strings.Contains(out, "created") {
		t.Fatalf("create rescuer: exit %d %s", code, out)
	}

	p2 := startServe(t, data, nil)
	defer p2.stop(t)
	if status, _ := adminLogin(t, p2.base, "root", "Forgotten-99"); status != 401 {
		t.Errorf("the forgotten password still works: %d", status)
	}
	for user, password := range map[string]string{"root": "Recovered-7", "rescuer": "Rescuer-Pass-8"} {
		status, body := adminLogin(t, p2.base, user, password)
		if status != 200 {
			t.Fatalf("%s after recovery: %d %v", user, status, body)
		}
		req, _ := http.NewRequest("GET", p2.base+"/admin/realms", nil)
		req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s lists realms: %d", user, res.StatusCode)
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// lookupID finds the id of the single resource a query selects.
func (a *adminClient) lookupID(ctx context.Context, realm, collection string, q url.Values, what string) (string, error) {
	path, err := adminPath(collection, realm)
	if err != nil {
		return "", err
	}
	out, _, err := a.do(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return "", err
	}
	var list []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return "", err
	}
	if len(list) != 1 {
		return "", fmt.Errorf("%s not found", what)
	}
	return list[0].ID, nil
}

func (a *adminClient) userID(ctx context.Context, realm, id, username string) (string, error) {
	if id != "" {
		return id, nil
	}
	if username == "" {
		return "", errors.New("--uusername or --uid is required")
	}
	return a.lookupID(ctx, realm, "users", url.Values{"username": {username}, "exact": {"true"}}, "user "+username)
}

func (a *adminClient) clientUUID(ctx context.Context, realm, id, clientID string) (string, error) {
	if id != "" || clientID == "" {
		return id, nil
	}
	return a.lookupID(ctx, realm, "clients", url.Values{"clientId": {clientID}}, "client "+clientID)
}

// setPassword is `gatehouse set-password -r R --username U --new-password P [--temporary]`.
func setPassword(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("set-password", stderr)
	realm := realmFlag(fs)
	username := fs.String("username", "", "`name` of the user")
	uid := fs.String("userid", "", "`id` of the user")
	pw := fs.String("new-password", "", "the new `password`")
	temporary := fs.Bool("temporary", false, "the user must change it at next login")
	cfgFlag := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pw == "" {
		return usagef("--new-password is required")
	}
	a, err := newAdminClient(ctx, *cfgFlag)
	if err != nil {
		return err
	}
	if *realm == "" {
		*realm = a.cfg.Realm
	}
	id, err := a.userID(ctx, *realm, *uid, *username)
	if err != nil {
		return err
	}
	path, _ := adminPath("users/"+id+"/reset-password", *realm)
	_, _, err = a.do(ctx, http.MethodPut, path, nil, map[string]any{"type": "password", "value": *pw, "temporary": *temporary})
	return err
}

// roles implements add-roles, remove-roles and get-roles.
func roles(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet(verb, stderr)
	realm := realmFlag(fs)
	uusername := fs.String("uusername", "", "`name` of the user")
	uid := fs.String("uid", "", "`id` of the user")
	cclientid := fs.String("cclientid", "", "`clientId` of the client whose roles are meant (default: realm roles)")
	cid := fs.String("cid", "", "`id` of that client")
	gname := fs.String("gname", "", "`name` of a group (instead of a user)")
	gpath := fs.String("gpath", "", "`path` of a group, /parent/child (instead of a user)")
	gid := fs.String("gid", "", "`id` of a group (instead of a user)")
	rname := fs.String("rname", "", "`name` of a realm role whose composites are meant (instead of a user)")
	rid := fs.String("rid", "", "`id` of a role whose composites are meant (instead of a user)")
	var names multiFlag
	fs.Var(&names, "rolename", "role `name` (repeatable)")
	cfgFlag := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := newAdminClient(ctx, *cfgFlag)
	if err != nil {
		return err
	}
	if *realm == "" {
		*realm = a.cfg.Realm
	}
	client, err := a.clientUUID(ctx, *realm, *cid, *cclientid)
	if err != nil {
		return err
	}
	holder, composite, err := a.roleHolder(ctx, *realm, *gid, *gname, *gpath, *rid, *rname)
	if err != nil {
		return err
	}
	if verb == "get-roles" && *uusername == "" && *uid == "" && holder == "" {
		// The roles that exist: realm roles, or the client's.
		rel := "roles"
		if client != "" {
			rel = "clients/" + client + "/roles"
		}
		path, _ := adminPath(rel, *realm)
		out, _, err := a.do(ctx, http.MethodGet, path, nil, nil)
		if err != nil {
			return err
		}
		return printJSON(stdout, out, "", "json")
	}
	if holder == "" {
		user, err := a.userID(ctx, *realm, *uid, *uusername)
		if err != nil {
			return err
		}
		holder = "users/" + user + "/role-mappings"
	}
	rel := holder + "/realm"
	if client != "" {
		rel = holder + "/clients/" + client
	}
	path, _ := adminPath(rel, *realm)
	if composite {
		// Listing filters by container; changes take the roles by id.
		path, _ = adminPath(holder, *realm)
		if verb == "get-roles" {
			path, _ = adminPath(rel, *realm)
		}
	}
	if verb == "get-roles" {
		out, _, err := a.do(ctx, http.MethodGet, path, nil, nil)
		if err != nil {
			return err
		}
		return printJSON(stdout, out, "", "json")
	}
	if len(names) == 0 {
		return usagef("--rolename is required")
	}
	body := make([]map[string]string, len(names))
	for i, n := range names {
		body[i] = map[string]string{"name": n}
		if composite {
			if body[i]["id"], err = a.roleID(ctx, *realm, client, n); err != nil {
				return err
			}
		}
	}
	method := http.MethodPost
	if verb == "remove-roles" {
		method = http.MethodDelete
	}
	_, _, err = a.do(ctx, method, path, nil, body)
	return err
}

// roleHolder resolves what add-roles, remove-roles and get-roles act on
// when it is not a user: a group's role mappings (--gid, --gname, --gpath)
// or a role's composites (--rid, --rname), as kcadm.sh. It returns the
// path under the realm ("" for a user) and whether it is a composite.
func (a *adminClient) roleHolder(ctx context.Context, realm, gid, gname, gpath, rid, rname string) (string, bool, error) {
	switch {
	case rid != "":
		return "roles-by-id/" + rid + "/composites", true, nil
	case rname != "":
		return "roles/" + url.PathEscape(rname) + "/composites", true, nil
	case gid != "":
		return "groups/" + gid + "/role-mappings", false, nil
	case gpath != "":
		segs := strings.Split(strings.TrimPrefix(gpath, "/"), "/")
		for i := range segs {
			segs[i] = url.PathEscape(segs[i])
		}
		path, err := adminPath("group-by-path/"+strings.Join(segs, "/"), realm)
		if err != nil {
			return "", false, err
		}
		out, _, err := a.do(ctx, http.MethodGet, path, nil, nil)
		if err != nil {
			return "", false, err
		}
		var g struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(out, &g); err != nil {
			return "", false, err
		}
		return "groups/" + g.ID + "/role-mappings", false, nil
	case gname != "":
		id, err := a.lookupID(ctx, realm, "groups", url.Values{"search": {gname}, "exact": {"true"}, "populateHierarchy": {"false"}}, "group "+gname)
		return "groups/" + id + "/role-mappings", false, err
	}
	return "", false, nil
}

// roleID finds the id of a realm role (client "") or of a client's role.
func (a *adminClient) roleID(ctx context.Context, realm, client, name string) (string, error) {
	rel := "roles/" + url.PathEscape(name)
	if client != "" {
		rel = "clients/" + client + "/roles/" + url.PathEscape(name)
	}
	path, _ := adminPath(rel, realm)
	out, _, err := a.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return "", err
	}
	var r struct {
		ID string `json:"id"`
	}
	return r.ID, json.Unmarshal(out, &r)
}

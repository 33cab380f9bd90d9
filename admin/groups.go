package admin

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/store"
)

// queryGroups is the realm-management right to list groups.
const queryGroups = "query-groups"

// groupRep is Keycloak 26's GroupRepresentation. Path, subGroupCount and
// access are computed (accepted back and ignored, as Keycloak does);
// subGroups, realmRoles and clientRoles are output only here and refused
// when sent non-empty.
type groupRep struct {
	ID            string              `json:"id,omitempty"`
	Name          string              `json:"name,omitempty"`
	Description   *string             `json:"description,omitempty"`
	Path          string              `json:"path,omitempty"`
	ParentID      string              `json:"parentId,omitempty"`
	SubGroupCount *int                `json:"subGroupCount,omitempty"`
	SubGroups     []groupRep          `json:"subGroups"`
	Attributes    map[string][]string `json:"attributes,omitempty"`
	RealmRoles    []string            `json:"realmRoles,omitempty"`
	ClientRoles   map[string][]string `json:"clientRoles,omitempty"`
	Access        map[string]bool     `json:"access,omitempty"`
}

// groupTree indexes a realm's groups for building representations.
type groupTree struct {
	byID     map[string]store.Group
	children map[string][]store.Group // parent ID ("" = top) -> children by name
}

func (a *API) loadTree(ctx context.Context, realmID string) (*groupTree, error) {
	all, err := a.svc.AllGroups(ctx, realmID)
	if err != nil {
		return nil, err
	}
	t := &groupTree{byID: map[string]store.Group{}, children: map[string][]store.Group{}}
	for _, g := range all {
		t.byID[g.ID] = g
		t.children[g.ParentID] = append(t.children[g.ParentID], g)
	}
	return t, nil
}

func (t *groupTree) path(g store.Group) string {
	p := "/" + g.Name
	for i := 0; g.ParentID != "" && i < 64; i++ {
		g = t.byID[g.ParentID]
		p = "/" + g.Name + p
	}
	return p
}

// rep builds a group's representation: brief leaves out attributes and
// role names.
func (a *API) groupRep(ctx context.Context, rl store.Realm, t *groupTree, g store.Group, brief bool) (groupRep, error) {
	n := len(t.children[g.ID])
	rep := groupRep{ID: g.ID, Name: g.Name, Path: t.path(g), ParentID: g.ParentID, SubGroupCount: &n, SubGroups: []groupRep{}}
	if g.Description != "" {
		rep.Description = &g.Description
	}
	if brief {
		return rep, nil
	}
	rep.Attributes = g.Attributes
	if rep.Attributes == nil {
		rep.Attributes = map[string][]string{}
	}
	rep.RealmRoles, rep.ClientRoles = []string{}, map[string][]string{}
	roles, err := a.rolesByID(ctx, rl.ID, g.RoleIDs)
	if err != nil {
		return rep, err
	}
	for _, role := range roles {
		if role.ClientID == "" {
			rep.RealmRoles = append(rep.RealmRoles, role.Name)
			continue
		}
		c, err := a.svc.Client(ctx, rl.ID, role.ClientID)
		if err != nil {
			continue
		}
		rep.ClientRoles[c.ClientID] = append(rep.ClientRoles[c.ClientID], role.Name)
	}
	return rep, nil
}

// loadGroup finds the {id} group of a request.
func (a *API) loadGroup(r *http.Request, rl store.Realm) (store.Group, error) {
	g, err := a.svc.Group(r.Context(), rl.ID, mux.Vars(r)["group"])
	if errors.Is(err, store.ErrNotFound) {
		return g, notFound("group by id")
	}
	return g, err
}

// groupSearch is the filter of GET /groups and /groups/{id}/children:
// search (a name substring, or the whole name with exact=true) or q
// ("key:value key2:value2" on attributes).
type groupSearch struct {
	search string
	exact  bool
	q      map[string]string
}

func parseGroupSearch(r *http.Request) (groupSearch, error) {
	v := r.URL.Query()
	s := groupSearch{search: v.Get("search"), exact: v.Get("exact") == "true"}
	if q := strings.TrimSpace(v.Get("q")); q != "" {
		s.q = map[string]string{}
		for _, kv := range strings.Fields(q) {
			k, val, ok := strings.Cut(kv, ":")
			if !ok || k == "" {
				return s, badRequest("invalid query parameter q: expected key:value pairs")
			}
			s.q[k] = val
		}
	}
	return s, nil
}

func (s groupSearch) active() bool { return s.search != "" || s.q != nil }

func (s groupSearch) matches(g store.Group) bool {
	if s.search != "" {
		if s.exact && g.Name != s.search {
			return false
		}
		if !s.exact && !strings.Contains(strings.ToLower(g.Name), strings.ToLower(s.search)) {
			return false
		}
	}
	for k, v := range s.q {
		found := false
		for _, x := range g.Attributes[k] {
			found = found || x == v
		}
		if !found {
			return false
		}
	}
	return true
}

// searchReps answers a group search as Keycloak does: each group of the
// level with a match in its subtree, its subGroups narrowed to the
// branches that lead to matches.
func (a *API) searchReps(ctx context.Context, rl store.Realm, t *groupTree, level []store.Group, s groupSearch, brief bool) ([]groupRep, error) {
	out := []groupRep{}
	for _, g := range level {
		sub, err := a.searchReps(ctx, rl, t, t.children[g.ID], s, brief)
		if err != nil {
			return nil, err
		}
		if len(sub) == 0 && !s.matches(g) {
			continue
		}
		rep, err := a.groupRep(ctx, rl, t, g, brief)
		if err != nil {
			return nil, err
		}
		rep.SubGroups = sub
		out = append(out, rep)
	}
	return out, nil
}

// listGroupLevel answers GET /groups (parent "") and /groups/{id}/children.
func (a *API) listGroupLevel(w http.ResponseWriter, r *http.Request, rl store.Realm, parentID string, briefDefault bool) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	s, err := parseGroupSearch(r)
	if err != nil {
		return err
	}
	brief := briefDefault
	if v := r.URL.Query().Get("briefRepresentation"); v != "" {
		brief = v == "true"
	}
	t, err := a.loadTree(r.Context(), rl.ID)
	if err != nil {
		return err
	}
	level := t.children[parentID]
	var out []groupRep
	switch {
	case s.active() && r.URL.Query().Get("populateHierarchy") == "false":
		// The matching groups themselves, wherever they are, without the
		// branches above them.
		out = []groupRep{}
		for _, g := range t.subtree(level) {
			if !s.matches(g) {
				continue
			}
			var rep groupRep
			if rep, err = a.groupRep(r.Context(), rl, t, g, brief); err != nil {
				break
			}
			out = append(out, rep)
		}
	case s.active():
		out, err = a.searchReps(r.Context(), rl, t, level, s, brief)
	default:
		out = []groupRep{}
		for _, g := range level {
			var rep groupRep
			if rep, err = a.groupRep(r.Context(), rl, t, g, brief); err != nil {
				break
			}
			out = append(out, rep)
		}
	}
	if err != nil {
		return err
	}
	first := min(p.First, len(out))
	writeJSON(w, http.StatusOK, out[first:min(first+p.Max, len(out))])
	return nil
}

// subtree lists the groups of level and all their descendants, depth
// first, siblings by name.
func (t *groupTree) subtree(level []store.Group) []store.Group {
	var out []store.Group
	for _, g := range level {
		out = append(out, g)
		out = append(out, t.subtree(t.children[g.ID])...)
	}
	return out
}

// groupReader authorizes group reads: query-groups, or view-users (which
// manage-users implies).
func (a *API) groupReader(r *http.Request) (store.Realm, error) {
	return a.targetRealmAny(r, queryGroups, viewUsers)
}

// readGroup resolves {realm} for a group read and the group {id} in it.
func (a *API) readGroup(r *http.Request) (store.Realm, store.Group, error) {
	rl, err := a.groupReader(r)
	if err == nil {
		var g store.Group
		if g, err = a.loadGroup(r, rl); err == nil {
			return rl, g, nil
		}
	}
	return store.Realm{}, store.Group{}, err
}

// targetGroup is targetClient for the group {id}.
func (a *API) targetGroup(r *http.Request, right string) (store.Realm, store.Group, error) {
	return targetIn(a, r, right, a.loadGroup)
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.groupReader(r)
	if err != nil {
		return err
	}
	return a.listGroupLevel(w, r, rl, "", true)
}

func (a *API) listChildren(w http.ResponseWriter, r *http.Request) error {
	rl, g, err := a.readGroup(r)
	if err != nil {
		return err
	}
	return a.listGroupLevel(w, r, rl, g.ID, false)
}

// countGroups is GET /groups/count: every group, the top-level ones with
// top=true, or those matching search.
func (a *API) countGroups(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.groupReader(r)
	if err != nil {
		return err
	}
	s, err := parseGroupSearch(r)
	if err != nil {
		return err
	}
	t, err := a.loadTree(r.Context(), rl.ID)
	if err != nil {
		return err
	}
	n := 0
	switch {
	case s.active():
		for _, g := range t.byID {
			if s.matches(g) {
				n++
			}
		}
	case r.URL.Query().Get("top") == "true":
		n = len(t.children[""])
	default:
		n = len(t.byID)
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": n})
	return nil
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) error {
	rl, g, err := a.readGroup(r)
	if err != nil {
		return err
	}
	t, err := a.loadTree(r.Context(), rl.ID)
	if err != nil {
		return err
	}
	rep, err := a.groupRep(r.Context(), rl, t, g, false)
	if err != nil {
		return err
	}
	c := callerOf(r)
	manage := c.can(rl, manageUsers)
	rep.Access = map[string]bool{"view": true, "viewMembers": c.can(rl, viewUsers), "manageMembers": manage,
		"manage": manage, "manageMembership": manage}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// groupByPath is GET /group-by-path/{path}: a group by its full path.
func (a *API) groupByPath(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.groupReader(r)
	if err != nil {
		return err
	}
	g, err := a.svc.GroupByPath(r.Context(), rl.ID, "/"+mux.Vars(r)["path"])
	if errors.Is(err, store.ErrNotFound) {
		err = &apiError{http.StatusNotFound, "Group path does not exist"}
	}
	if err != nil {
		return err
	}
	t, err := a.loadTree(r.Context(), rl.ID)
	if err != nil {
		return err
	}
	rep, err := a.groupRep(r.Context(), rl, t, g, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// decodeGroup reads a GroupRepresentation, refusing what it cannot keep.
func decodeGroup(r *http.Request) (groupRep, error) {
	var rep groupRep
	if err := decodeKnown(r, &rep); err != nil {
		return rep, err
	}
	switch {
	case len(rep.SubGroups) > 0:
		return rep, badRequest("unsupported field subGroups: create subgroups through /groups/{id}/children")
	case len(rep.RealmRoles) > 0:
		return rep, badRequest("unsupported field realmRoles: map roles through /groups/{id}/role-mappings")
	case len(rep.ClientRoles) > 0:
		return rep, badRequest("unsupported field clientRoles: map roles through /groups/{id}/role-mappings")
	}
	return rep, nil
}

// sameParent: parentId is computed from where a group hangs; a body that
// names another parent would be dropped, so it is refused (moves go
// through POST /groups/{id}/children or POST /groups).
func sameParent(rep groupRep, parentID string) error {
	if rep.ParentID != "" && rep.ParentID != parentID {
		return badRequest("unsupported field parentId: move a group by posting it to /groups/{id}/children")
	}
	return nil
}

// createGroup is POST /groups and POST /groups/{id}/children: a new group
// (201), or, when the body carries an id, that group moved here (204; an
// unknown id is 404, as Keycloak).
func (a *API) createGroup(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, manageUsers)
	if err != nil {
		return err
	}
	parentID := ""
	if _, child := mux.Vars(r)["group"]; child {
		parent, err := a.loadGroup(r, rl)
		if err != nil {
			return err
		}
		parentID = parent.ID
	}
	rep, err := decodeGroup(r)
	if err != nil {
		return err
	}
	if rep.ID != "" {
		// A move: the body is the group as it was, parentId included.
		_, err := a.svc.Group(r.Context(), rl.ID, rep.ID)
		if errors.Is(err, store.ErrNotFound) {
			err = notFound("child by id")
		}
		if err != nil {
			return err
		}
		return a.moveGroup(w, r, rl, rep, parentID)
	}
	if err := sameParent(rep, parentID); err != nil {
		return err
	}
	ng := store.Group{Name: rep.Name, ParentID: parentID, Attributes: rep.Attributes}
	if rep.Description != nil {
		ng.Description = *rep.Description
	}
	g, err := a.svc.CreateGroup(r.Context(), rl.Name, ng)
	if err != nil {
		return err
	}
	rep.ID, rep.ParentID = g.ID, parentID
	a.audit(r, rl.ID, "CREATE", "GROUP", "groups/"+g.ID, rep)
	// Location is the group's own resource, also for a child.
	loc := requestURL(r)
	if parentID != "" {
		loc = strings.TrimSuffix(loc, "/"+parentID+"/children")
	}
	w.Header().Set("Location", loc+"/"+g.ID)
	w.WriteHeader(http.StatusCreated)
	return nil
}

// moveGroup hangs an existing group under parentID ("" = top level),
// renamed to rep.Name when given.
func (a *API) moveGroup(w http.ResponseWriter, r *http.Request, rl store.Realm, rep groupRep, parentID string) error {
	g, err := a.svc.UpdateGroup(r.Context(), rl.Name, rep.ID, func(g *store.Group) error {
		g.ParentID = parentID
		if rep.Name != "" {
			g.Name = rep.Name
		}
		return nil
	})
	if err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "UPDATE", "GROUP", "groups/"+g.ID, groupRep{ID: g.ID, Name: g.Name, ParentID: g.ParentID})
}

func (a *API) updateGroup(w http.ResponseWriter, r *http.Request) error {
	rl, g, err := a.targetGroup(r, manageUsers)
	if err != nil {
		return err
	}
	rep, err := decodeGroup(r)
	if err == nil {
		err = sameParent(rep, g.ParentID)
	}
	if err != nil {
		return err
	}
	updated, err := a.svc.UpdateGroup(r.Context(), rl.Name, g.ID, func(x *store.Group) error {
		patchNamed(&x.Name, &x.Description, &x.Attributes, rep.Name, rep.Description, rep.Attributes)
		return nil
	})
	if err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "UPDATE", "GROUP", "groups/"+g.ID, groupRep{ID: updated.ID, Name: updated.Name, Attributes: updated.Attributes, Description: rep.Description})
}

// mayManageGroup: deleting a group or changing who is in it moves the
// rights it confers, so the caller must hold them (as mayGrant).
func (a *API) mayManageGroup(r *http.Request, rl store.Realm, g store.Group) error {
	eff, err := a.svc.GroupRoles(r.Context(), rl.ID, g.ID)
	if err != nil {
		return err
	}
	rights, err := a.svc.RoleRights(r.Context(), rl, slices.Collect(maps.Keys(eff.IDs))...)
	if err != nil {
		return err
	}
	if !callerOf(r).covers(rl, rights) {
		return withReason(errForbidden, "group confers rights the caller lacks")
	}
	return nil
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	rl, g, err := a.targetGroup(r, manageUsers)
	if err == nil {
		err = a.mayManageGroup(r, rl, g)
	}
	if err == nil {
		err = a.svc.DeleteGroup(r.Context(), rl.Name, g.ID)
	}
	if err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "DELETE", "GROUP", "groups/"+g.ID, nil)
}

// groupMembers is GET /groups/{id}/members: direct members, full
// representations unless briefRepresentation=true.
func (a *API) groupMembers(w http.ResponseWriter, r *http.Request) error {
	rl, g, err := a.targetGroup(r, viewUsers)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	users, err := a.svc.GroupMembers(r.Context(), rl.ID, g.ID, p)
	if err != nil {
		return err
	}
	writeUsers(w, r, users, r.URL.Query().Get("briefRepresentation") == "true")
	return nil
}

// userGroupList is the user's groups for /users/{id}/groups and /count.
func (a *API) userGroupList(r *http.Request) (store.Realm, []groupRep, error) {
	rl, u, err := a.targetUser(r, viewUsers)
	if err != nil {
		return rl, nil, err
	}
	groups, _, err := a.svc.UserGroups(r.Context(), rl.ID, u.ID)
	if err != nil {
		return rl, nil, err
	}
	t, err := a.loadTree(r.Context(), rl.ID)
	if err != nil {
		return rl, nil, err
	}
	brief := r.URL.Query().Get("briefRepresentation") != "false"
	search := strings.ToLower(r.URL.Query().Get("search"))
	out := []groupRep{}
	for _, g := range groups {
		if search != "" && !strings.Contains(strings.ToLower(g.Name), search) {
			continue
		}
		rep, err := a.groupRep(r.Context(), rl, t, g, brief)
		if err != nil {
			return rl, nil, err
		}
		out = append(out, rep)
	}
	return rl, out, nil
}

func (a *API) userGroups(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	_, out, err := a.userGroupList(r)
	if err != nil {
		return err
	}
	first := min(p.First, len(out))
	writeJSON(w, http.StatusOK, out[first:min(first+p.Max, len(out))])
	return nil
}

func (a *API) userGroupCount(w http.ResponseWriter, r *http.Request) error {
	_, out, err := a.userGroupList(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": len(out)})
	return nil
}

func (a *API) joinGroup(w http.ResponseWriter, r *http.Request) error {
	return a.changeMembership(w, r, true)
}

func (a *API) leaveGroup(w http.ResponseWriter, r *http.Request) error {
	return a.changeMembership(w, r, false)
}

// changeMembership is PUT/DELETE /users/{id}/groups/{group}.
func (a *API) changeMembership(w http.ResponseWriter, r *http.Request, join bool) error {
	rl, u, err := a.targetUser(r, manageUsers)
	if err != nil {
		return err
	}
	g, err := a.loadGroup(r, rl)
	if err == nil {
		err = a.mayManageGroup(r, rl, g)
	}
	op := "CREATE"
	if err == nil && join {
		err = a.svc.JoinGroup(r.Context(), rl.Name, u.ID, g.ID)
	} else if err == nil {
		op = "DELETE"
		err = a.svc.LeaveGroup(r.Context(), rl.Name, u.ID, g.ID)
	}
	if err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, op, "GROUP_MEMBERSHIP", "users/"+u.ID+"/groups/"+g.ID, groupRep{ID: g.ID, Name: g.Name})
}

// groupsByPath resolves UserRepresentation.groups (full paths) for a new
// user; joining each takes what joining it later would (mayManageGroup).
func (a *API) groupsByPath(r *http.Request, rl store.Realm, paths []string) ([]string, error) {
	var ids []string
	for _, p := range paths {
		g, err := a.svc.GroupByPath(r.Context(), rl.ID, p)
		if errors.Is(err, store.ErrNotFound) {
			return nil, badRequest("Group %s not found", p)
		}
		if err == nil {
			err = a.mayManageGroup(r, rl, g)
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, g.ID)
	}
	return ids, nil
}

// roleGroups is GET …/roles/{role}/groups: the groups the role is directly
// mapped to, tree order (Keycloak: brief unless briefRepresentation=false).
func (a *API) roleGroups(w http.ResponseWriter, r *http.Request) error {
	rl, role, err := a.readRoleTarget(r)
	if err == nil && !callerOf(r).can(rl, viewUsers) {
		err = withReason(errForbidden, "caller lacks view-users")
	}
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	t, err := a.loadTree(r.Context(), rl.ID)
	if err != nil {
		return err
	}
	brief := r.URL.Query().Get("briefRepresentation") != "false"
	out := []groupRep{}
	for _, g := range t.subtree(t.children[""]) {
		if !slices.Contains(g.RoleIDs, role.ID) {
			continue
		}
		rep, err := a.groupRep(r.Context(), rl, t, g, brief)
		if err != nil {
			return err
		}
		out = append(out, rep)
	}
	first := min(p.First, len(out))
	writeJSON(w, http.StatusOK, out[first:min(first+p.Max, len(out))])
	return nil
}

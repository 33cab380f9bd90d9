package admin

import (
	"context"
	"errors"
	"net/http"
	"sort"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// roleRep is Keycloak's RoleRepresentation.
type roleRep struct {
	ID          string              `json:"id,omitempty"`
	Name        string              `json:"name,omitempty"`
	Description *string             `json:"description,omitempty"`
	Composite   bool                `json:"composite"`
	ClientRole  bool                `json:"clientRole"`
	ContainerID string              `json:"containerId,omitempty"`
	Attributes  map[string][]string `json:"attributes,omitempty"`
}

func toRoleRep(realmID string, r store.Role) roleRep {
	rep := roleRep{ID: r.ID, Name: r.Name, Composite: len(r.Composites) > 0, ClientRole: r.ClientID != "",
		ContainerID: realmID, Attributes: r.Attributes}
	if r.Description != "" {
		rep.Description = ptr(r.Description)
	}
	if r.ClientID != "" {
		rep.ContainerID = r.ClientID
	}
	if rep.Attributes == nil {
		rep.Attributes = map[string][]string{}
	}
	return rep
}

// targetRealmAny is targetRealm for endpoints any of several rights open.
func (a *API) targetRealmAny(r *http.Request, rights ...string) (store.Realm, error) {
	var last error
	for _, right := range rights {
		rl, err := a.targetRealm(r, right)
		if err == nil {
			return rl, nil
		}
		last = err
	}
	return store.Realm{}, last
}

// roleScope resolves the role container of a request: the realm, or the
// client {id} for client-role routes. right is what a write needs.
func (a *API) roleScope(r *http.Request, write bool) (store.Realm, string, error) {
	_, clientRoute := mux.Vars(r)["id"]
	var rl store.Realm
	var err error
	switch {
	case clientRoute && write:
		rl, err = a.targetRealm(r, manageClient)
	case clientRoute:
		rl, err = a.targetRealmAny(r, viewClients, viewUsers)
	case write:
		rl, err = a.targetRealm(r, manageRealm)
	default:
		rl, err = a.targetRealmAny(r, viewRealm, viewUsers, viewClients)
	}
	if err != nil {
		return rl, "", err
	}
	if !clientRoute {
		return rl, "", nil
	}
	c, err := a.loadClient(r, rl)
	return rl, c.ID, err
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request) error {
	rl, clientID, err := a.roleScope(r, false)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	roles, err := a.svc.Store().ListRoles(r.Context(), rl.ID, clientID, p)
	if err != nil {
		return err
	}
	out := []roleRep{}
	for _, role := range roles {
		out = append(out, toRoleRep(rl.ID, role))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) createRole(w http.ResponseWriter, r *http.Request) error {
	rl, clientID, err := a.roleScope(r, true)
	if err != nil {
		return err
	}
	var rep roleRep
	if err := decode(r, &rep); err != nil {
		return err
	}
	role := store.Role{Name: rep.Name, ClientID: clientID, Attributes: rep.Attributes}
	if rep.Description != nil {
		role.Description = *rep.Description
	}
	role, err = a.svc.CreateRole(r.Context(), rl.Name, role)
	if err != nil {
		return err
	}
	a.audit(r, rl.ID, "CREATE", resourceTypeOf(role), rolePath(role), toRoleRep(rl.ID, role))
	created(w, r, role.Name)
	return nil
}

func resourceTypeOf(role store.Role) string {
	if role.ClientID != "" {
		return "CLIENT_ROLE"
	}
	return "REALM_ROLE"
}

func rolePath(role store.Role) string {
	if role.ClientID != "" {
		return "clients/" + role.ClientID + "/roles/" + role.Name
	}
	return "roles/" + role.Name
}

// loadRole finds the role of a request: by {role-id}, or by {role} name in
// the request's container.
func (a *API) loadRole(r *http.Request, rl store.Realm, clientID string) (store.Role, error) {
	vars := mux.Vars(r)
	var role store.Role
	var err error
	if id, ok := vars["role-id"]; ok {
		role, err = a.svc.Store().GetRole(r.Context(), rl.ID, id)
	} else {
		role, err = a.svc.Store().GetRoleByName(r.Context(), rl.ID, clientID, vars["role"])
	}
	return role, mapNotFound(err, "role")
}

// roleByIDScope authorizes a roles-by-id call once the role (and so its
// container) is known.
func (a *API) roleByIDScope(r *http.Request, write bool) (store.Realm, store.Role, error) {
	rl, err := a.targetRealmAny(r, viewRealm, viewClients, viewUsers)
	if err != nil {
		return rl, store.Role{}, err
	}
	role, err := a.loadRole(r, rl, "")
	if err != nil {
		return rl, role, err
	}
	right := ""
	switch {
	case write && role.ClientID != "":
		right = manageClient
	case write:
		right = manageRealm
	}
	if right != "" && !callerOf(r).can(rl, right) {
		return rl, role, errForbidden
	}
	return rl, role, nil
}

func (a *API) getRole(w http.ResponseWriter, r *http.Request) error {
	rl, role, err := a.roleTarget(r, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRoleRep(rl.ID, role))
	return nil
}

// roleTarget resolves and authorizes the role of a request, by {role-id}
// or by name in its container; write asks for the right to change it.
func (a *API) roleTarget(r *http.Request, write bool) (store.Realm, store.Role, error) {
	if _, byID := mux.Vars(r)["role-id"]; byID {
		return a.roleByIDScope(r, write)
	}
	rl, clientID, err := a.roleScope(r, write)
	if err != nil {
		return rl, store.Role{}, err
	}
	role, err := a.loadRole(r, rl, clientID)
	return rl, role, err
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request) error {
	rl, role, err := a.roleTarget(r, true)
	if err != nil {
		return err
	}
	var rep roleRep
	if err := decode(r, &rep); err != nil {
		return err
	}
	if isOfflineAccess(role) && rep.Name != "" && rep.Name != role.Name {
		return badRequest("Built-in role %s cannot be renamed", role.Name)
	}
	updated, err := a.svc.UpdateRole(r.Context(), rl.Name, role.ID, func(x *store.Role) error {
		if rep.Name != "" {
			x.Name = rep.Name
		}
		if rep.Description != nil {
			x.Description = *rep.Description
		}
		if rep.Attributes != nil {
			x.Attributes = rep.Attributes
		}
		return nil
	})
	if err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "UPDATE", resourceTypeOf(updated), rolePath(updated), toRoleRep(rl.ID, updated))
}

// isOfflineAccess: the realm role the offline_access scope asks for keeps
// its name. The roles admin rights and defaults depend on are protected by
// ID in realms (UpdateRole, DeleteRole).
func isOfflineAccess(role store.Role) bool {
	return role.ClientID == "" && role.Name == realms.OfflineAccess
}

func (a *API) deleteRole(w http.ResponseWriter, r *http.Request) error {
	rl, role, err := a.roleTarget(r, true)
	if err != nil {
		return err
	}
	if isOfflineAccess(role) {
		return badRequest("Built-in role %s cannot be deleted", role.Name)
	}
	if err := a.svc.DeleteRole(r.Context(), rl.Name, role.ID); err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "DELETE", resourceTypeOf(role), rolePath(role), nil)
}

// mayGrant stops privilege escalation through role mappings: a role that
// carries admin rights (by its ID and composites, whatever its name) can
// only be granted or removed by a caller who holds those rights.
func (a *API) mayGrant(r *http.Request, rl store.Realm, role store.Role) (bool, error) {
	rights, err := a.svc.RoleRights(r.Context(), rl, role.ID)
	if err != nil {
		return false, err
	}
	return callerOf(r).covers(rl, rights), nil
}

// mappingsRep is GET /users/{id}/role-mappings.
type clientMappings struct {
	ID       string    `json:"id"`
	Client   string    `json:"client"`
	Mappings []roleRep `json:"mappings"`
}

func (a *API) directRoles(ctx context.Context, rl store.Realm, u store.User) ([]store.Role, error) {
	var out []store.Role
	for _, id := range u.RoleIDs {
		role, err := a.svc.Store().GetRole(ctx, rl.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, role)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (a *API) roleMappings(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetUser(r, viewUsers)
	if err != nil {
		return err
	}
	roles, err := a.directRoles(r.Context(), rl, u)
	if err != nil {
		return err
	}
	out := map[string]any{}
	var realmRoles []roleRep
	clients := map[string]*clientMappings{}
	for _, role := range roles {
		if role.ClientID == "" {
			realmRoles = append(realmRoles, toRoleRep(rl.ID, role))
			continue
		}
		cm := clients[role.ClientID]
		if cm == nil {
			c, err := a.svc.Store().GetClient(r.Context(), rl.ID, role.ClientID)
			if err != nil {
				continue
			}
			cm = &clientMappings{ID: c.ID, Client: c.ClientID}
			clients[role.ClientID] = cm
		}
		cm.Mappings = append(cm.Mappings, toRoleRep(rl.ID, role))
	}
	if len(realmRoles) > 0 {
		out["realmMappings"] = realmRoles
	}
	if len(clients) > 0 {
		byClientID := map[string]*clientMappings{}
		for _, cm := range clients {
			byClientID[cm.Client] = cm
		}
		out["clientMappings"] = byClientID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// mappingScope resolves the user and the role container ("" = realm) of a
// role-mapping route.
func (a *API) mappingScope(r *http.Request, right string) (store.Realm, store.User, string, error) {
	rl, u, err := a.targetUser(r, right)
	if err != nil {
		return rl, u, "", err
	}
	cid, ok := mux.Vars(r)["client"]
	if !ok {
		return rl, u, "", nil
	}
	c, err := a.svc.Store().GetClient(r.Context(), rl.ID, cid)
	return rl, u, c.ID, mapNotFound(err, "client")
}

func (a *API) listMappings(w http.ResponseWriter, r *http.Request) error {
	rl, u, clientID, err := a.mappingScope(r, viewUsers)
	if err != nil {
		return err
	}
	roles, err := a.directRoles(r.Context(), rl, u)
	if err != nil {
		return err
	}
	out := []roleRep{}
	for _, role := range roles {
		if role.ClientID == clientID {
			out = append(out, toRoleRep(rl.ID, role))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// mappingRoles resolves a [{id,name}] body to roles of the container.
func (a *API) mappingRoles(r *http.Request, rl store.Realm, clientID string) ([]store.Role, error) {
	var reps []roleRep
	if err := decode(r, &reps); err != nil {
		return nil, err
	}
	var out []store.Role
	for _, rep := range reps {
		var role store.Role
		var err error
		if rep.ID != "" {
			role, err = a.svc.Store().GetRole(r.Context(), rl.ID, rep.ID)
		} else {
			role, err = a.svc.Store().GetRoleByName(r.Context(), rl.ID, clientID, rep.Name)
		}
		if errors.Is(err, store.ErrNotFound) || (err == nil && role.ClientID != clientID) {
			return nil, notFound("role")
		}
		if err != nil {
			return nil, err
		}
		if ok, err := a.mayGrant(r, rl, role); err != nil {
			return nil, err
		} else if !ok {
			return nil, errForbidden
		}
		out = append(out, role)
	}
	return out, nil
}

func (a *API) addMappings(w http.ResponseWriter, r *http.Request) error {
	return a.changeMappings(w, r, true)
}

func (a *API) removeMappings(w http.ResponseWriter, r *http.Request) error {
	return a.changeMappings(w, r, false)
}

func (a *API) changeMappings(w http.ResponseWriter, r *http.Request, add bool) error {
	rl, u, clientID, err := a.mappingScope(r, manageUsers)
	if err != nil {
		return err
	}
	roles, err := a.mappingRoles(r, rl, clientID)
	if err != nil {
		return err
	}
	ids := make([]string, len(roles))
	reps := make([]roleRep, len(roles))
	for i, role := range roles {
		ids[i], reps[i] = role.ID, toRoleRep(rl.ID, role)
	}
	op := "CREATE"
	if add {
		err = a.svc.GrantRoles(r.Context(), rl.Name, u.ID, ids...)
	} else {
		op = "DELETE"
		err = a.svc.RevokeRoles(r.Context(), rl.Name, u.ID, ids...)
	}
	if err != nil {
		return err
	}
	path := "users/" + u.ID + "/role-mappings/realm"
	rt := "REALM_ROLE_MAPPING"
	if clientID != "" {
		path, rt = "users/"+u.ID+"/role-mappings/clients/"+clientID, "CLIENT_ROLE_MAPPING"
	}
	return a.changed(w, r, rl.ID, op, rt, path, reps)
}

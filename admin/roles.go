package admin

import (
	"net/http"

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
	// Composites names the roles a composite contains (input only:
	// Keycloak's role GET leaves them to the /composites routes).
	Composites *roleComposites `json:"composites,omitempty"`
}

// roleComposites is RoleRepresentation.Composites: realm role names, and
// client role names by clientId.
type roleComposites struct {
	Realm  []string            `json:"realm,omitempty"`
	Client map[string][]string `json:"client,omitempty"`
}

// toRoleRepBrief is toRoleRep without attributes when brief, as
// Keycloak's briefRepresentation.
func toRoleRepBrief(realmID string, r store.Role, brief bool) roleRep {
	rep := toRoleRep(realmID, r)
	if brief {
		rep.Attributes = nil
	}
	return rep
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
	roles, err := a.svc.Roles(r.Context(), rl.ID, clientID, realms.RoleQuery{Page: p, Search: r.URL.Query().Get("search")})
	if err != nil {
		return err
	}
	writeRoles(w, r, rl.ID, clientID, roles)
	return nil
}

func (a *API) createRole(w http.ResponseWriter, r *http.Request) error {
	rl, clientID, err := a.roleScope(r, true)
	if err != nil {
		return err
	}
	var rep roleRep
	if err := decodeKnown(r, &rep); err != nil {
		return err
	}
	role := store.Role{Name: rep.Name, ClientID: clientID, Attributes: rep.Attributes}
	if rep.Description != nil {
		role.Description = *rep.Description
	}
	if rep.Composites != nil {
		children, err := a.namedComposites(r, rl, *rep.Composites)
		if err != nil {
			return err
		}
		for _, c := range children {
			role.Composites = append(role.Composites, c.ID)
		}
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
		role, err = a.svc.Role(r.Context(), rl.ID, id)
	} else {
		role, err = a.svc.RoleByName(r.Context(), rl.ID, clientID, vars["role"])
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
	if err := decodeKnown(r, &rep); err != nil {
		return err
	}
	if rep.Composites != nil {
		return badRequest("unsupported field composites: change a role's composites through its /composites routes")
	}
	if isOfflineAccess(role) && rep.Name != "" && rep.Name != role.Name {
		return badRequest("Built-in role %s cannot be renamed", role.Name)
	}
	updated, err := a.svc.UpdateRole(r.Context(), rl.Name, role.ID, func(x *store.Role) error {
		patchNamed(&x.Name, &x.Description, &x.Attributes, rep.Name, rep.Description, rep.Attributes)
		return nil
	})
	if err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "UPDATE", resourceTypeOf(updated), rolePath(updated), toRoleRep(rl.ID, updated))
}

// patchNamed applies an update representation to a role's or group's
// name, description and attributes: a field the representation leaves out
// (empty name, no description, no attributes) keeps its value.
func patchNamed(name, description *string, attributes *map[string][]string, newName string, newDescription *string, newAttributes map[string][]string) {
	if newName != "" {
		*name = newName
	}
	if newDescription != nil {
		*description = *newDescription
	}
	if newAttributes != nil {
		*attributes = newAttributes
	}
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

package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/store"
)

// readRoleTarget is writeRoleTarget for reads: the role of a
// /roles-by-id/{role-id}, /roles/{role} or /clients/{id}/roles/{role} route.
func (a *API) readRoleTarget(r *http.Request) (store.Realm, store.Role, error) {
	if _, byID := mux.Vars(r)["role-id"]; byID {
		return a.roleByIDScope(r, false)
	}
	rl, clientID, err := a.roleScope(r, false)
	if err != nil {
		return rl, store.Role{}, err
	}
	role, err := a.loadRole(r, rl, clientID)
	return rl, role, err
}

// compositeFilter is the container a …/composites/realm or
// …/composites/clients/{client} route keeps; all is true for …/composites.
func (a *API) compositeFilter(r *http.Request, rl store.Realm) (clientID string, all bool, err error) {
	if cid, ok := mux.Vars(r)["client"]; ok {
		c, err := a.svc.Client(r.Context(), rl.ID, cid)
		if errors.Is(err, store.ErrNotFound) {
			return "", false, notFound("client")
		}
		return c.ID, false, err
	}
	return "", !strings.HasSuffix(r.URL.Path, "/composites/realm"), nil
}

// getComposites lists the roles a composite directly contains.
func (a *API) getComposites(w http.ResponseWriter, r *http.Request) error {
	rl, role, err := a.readRoleTarget(r)
	if err != nil {
		return err
	}
	clientID, all, err := a.compositeFilter(r, rl)
	if err != nil {
		return err
	}
	children, err := a.svc.Composites(r.Context(), rl.ID, role)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	search := strings.ToLower(q.Get("search"))
	out := []roleRep{}
	for _, c := range children {
		if (all || c.ClientID == clientID) && strings.Contains(strings.ToLower(c.Name), search) {
			out = append(out, toRoleRep(rl.ID, c))
		}
	}
	// search, first and max page the list (Keycloak 26's roles-by-id
	// composites); without them it is whole.
	if q.Has("first") || q.Has("max") {
		p, err := page(r)
		if err != nil {
			return err
		}
		first := min(p.First, len(out))
		out = out[first:min(first+p.Max, len(out))]
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) addComposites(w http.ResponseWriter, r *http.Request) error {
	return a.changeComposites(w, r, true)
}

func (a *API) removeComposites(w http.ResponseWriter, r *http.Request) error {
	return a.changeComposites(w, r, false)
}

// changeComposites is POST/DELETE …/composites with [RoleRepresentation]
// (by id, or by name for realm roles). Adding a role to a composite hands
// its rights to every holder of the composite, so it takes what a direct
// grant takes (mayGrant).
func (a *API) changeComposites(w http.ResponseWriter, r *http.Request, add bool) error {
	rl, role, err := a.roleTarget(r, true)
	if err != nil {
		return err
	}
	var reps []roleRep
	if err := decodeKnown(r, &reps); err != nil {
		return err
	}
	var ids []string
	var done []roleRep
	for _, rep := range reps {
		var child store.Role
		var err error
		if rep.ID != "" {
			child, err = a.svc.Role(r.Context(), rl.ID, rep.ID)
		} else {
			child, err = a.svc.RoleByName(r.Context(), rl.ID, "", rep.Name)
		}
		if errors.Is(err, store.ErrNotFound) {
			err = notFound("role")
		}
		if err == nil {
			var ok bool
			if ok, err = a.mayGrant(r, rl, child); err == nil && !ok {
				err = errForbidden
			}
		}
		if err != nil {
			return err
		}
		ids = append(ids, child.ID)
		done = append(done, toRoleRep(rl.ID, child))
	}
	op := "CREATE"
	if add {
		err = a.svc.AddComposites(r.Context(), rl.Name, role.ID, ids...)
	} else {
		op = "DELETE"
		err = a.svc.RemoveComposites(r.Context(), rl.Name, role.ID, ids...)
	}
	if err != nil {
		return err
	}
	a.audit(r, rl.ID, op, resourceTypeOf(role), rolePath(role)+"/composites", done)
	noContent(w)
	return nil
}

// namedComposites resolves RoleRepresentation.composites (names; client
// roles under their clientId) to roles the caller may hand out.
func (a *API) namedComposites(r *http.Request, rl store.Realm, c roleComposites) ([]store.Role, error) {
	var out []store.Role
	add := func(clientUUID, name string) error {
		role, err := a.svc.RoleByName(r.Context(), rl.ID, clientUUID, name)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("role " + name)
		}
		if err != nil {
			return err
		}
		if ok, err := a.mayGrant(r, rl, role); err != nil {
			return err
		} else if !ok {
			return errForbidden
		}
		out = append(out, role)
		return nil
	}
	for _, name := range c.Realm {
		if err := add("", name); err != nil {
			return nil, err
		}
	}
	for clientID, names := range c.Client {
		cl, err := a.svc.ClientByClientID(r.Context(), rl.ID, clientID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("client " + clientID)
		}
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			if err := add(cl.ID, name); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// roleUsers is GET …/roles/{role}/users: the users the role is directly
// mapped to (Keycloak: brief representations unless
// briefRepresentation=false).
func (a *API) roleUsers(w http.ResponseWriter, r *http.Request) error {
	rl, role, err := a.readRoleTarget(r)
	if err != nil {
		return err
	}
	if !callerOf(r).can(rl, viewUsers) {
		return withReason(errForbidden, "caller lacks view-users")
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	users, err := a.svc.RoleUsers(r.Context(), rl.ID, role.ID, p)
	if err != nil {
		return err
	}
	writeUsers(w, r, users, r.URL.Query().Get("briefRepresentation") != "false")
	return nil
}

// writeUsers answers a list of users, brief (Keycloak's
// toBriefRepresentation) or full.
func writeUsers(w http.ResponseWriter, r *http.Request, users []store.User, brief bool) {
	out := []userRep{}
	for _, u := range users {
		rep := toUserRep(u)
		if brief {
			rep = userRep{ID: rep.ID, Username: rep.Username, FirstName: rep.FirstName, LastName: rep.LastName,
				Email: rep.Email, Enabled: rep.Enabled, EmailVerified: rep.EmailVerified, CreatedTimestamp: rep.CreatedTimestamp}
		}
		out = append(out, rep)
	}
	writeJSON(w, http.StatusOK, out)
}

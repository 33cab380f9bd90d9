package admin

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// scopeContainer is the role container of a scope-mapping route: the
// realm ("") or the client {client}.
func (a *API) scopeContainer(r *http.Request, rl store.Realm) (string, error) {
	cid, ok := mux.Vars(r)["client"]
	if !ok {
		return "", nil
	}
	c, err := a.svc.StoredClient(r.Context(), rl.ID, cid)
	if errors.Is(err, store.ErrNotFound) {
		return "", notFound("client")
	}
	return c.ID, err
}

// scopeRoles loads the owner's scope-mapped roles (missing ones skipped).
func (a *API) scopeRoles(r *http.Request, rl store.Realm, o realms.MapperOwner) ([]store.Role, error) {
	ids, err := a.svc.ScopeRoleIDs(r.Context(), rl.Name, o)
	if err != nil {
		return nil, err
	}
	return a.rolesByID(r.Context(), rl.ID, ids)
}

// allScopeMappings is GET .../scope-mappings: realm and client mappings.
func (a *API) allScopeMappings(w http.ResponseWriter, r *http.Request) error {
	rl, o, _, err := a.mapperOwner(r, false)
	if err != nil {
		return err
	}
	roles, err := a.scopeRoles(r, rl, o)
	if err != nil {
		return err
	}
	return a.writeMappings(w, r, rl.ID, roles)
}

// scopeMappingsView serves GET .../scope-mappings/realm|clients/{client}
// and their /available and /composite.
func (a *API) scopeMappingsView(view string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, o, _, err := a.mapperOwner(r, false)
		if err != nil {
			return err
		}
		container, err := a.scopeContainer(r, rl)
		if err != nil {
			return err
		}
		mapped, err := a.scopeRoles(r, rl, o)
		if err != nil {
			return err
		}
		mappedIDs := map[string]bool{}
		for _, role := range mapped {
			mappedIDs[role.ID] = true
		}
		all, err := a.svc.Roles(r.Context(), rl.ID, container, realms.RoleQuery{Page: store.Page{Max: 1 << 20}})
		if err != nil {
			return err
		}
		var keep func(store.Role) bool
		switch view {
		case "available":
			keep = func(role store.Role) bool { return !mappedIDs[role.ID] }
		case "composite":
			full := false
			if o.ClientUUID != "" {
				c, err := a.svc.StoredClient(r.Context(), rl.ID, o.ClientUUID)
				if err != nil {
					return err
				}
				full = !c.RestrictScope
			}
			ids := make([]string, 0, len(mapped))
			for _, role := range mapped {
				ids = append(ids, role.ID)
			}
			eff, err := a.svc.ExpandRoleIDs(r.Context(), rl.ID, ids)
			if err != nil {
				return err
			}
			keep = func(role store.Role) bool { return full || eff[role.ID] }
		default:
			keep = func(role store.Role) bool { return mappedIDs[role.ID] }
		}
		out := []roleRep{}
		for _, role := range all {
			if keep(role) {
				out = append(out, toRoleRep(rl.ID, role))
			}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// changeScopeMappings serves POST (add) and DELETE on
// .../scope-mappings/realm|clients/{client} with a [role] body.
func (a *API) changeScopeMappings(add bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, o, path, err := a.mapperOwner(r, true)
		if err != nil {
			return err
		}
		container, err := a.scopeContainer(r, rl)
		if err != nil {
			return err
		}
		var reps []roleRep
		if err := decode(r, &reps); err != nil {
			return err
		}
		ids := make([]string, 0, len(reps))
		out := make([]roleRep, 0, len(reps))
		for _, rep := range reps {
			var role store.Role
			if rep.ID != "" {
				role, err = a.svc.Role(r.Context(), rl.ID, rep.ID)
			} else {
				role, err = a.svc.RoleByName(r.Context(), rl.ID, container, rep.Name)
			}
			if errors.Is(err, store.ErrNotFound) || (err == nil && role.ClientID != container) {
				err = notFound("role")
			}
			if err != nil {
				return err
			}
			ids = append(ids, role.ID)
			out = append(out, toRoleRep(rl.ID, role))
		}
		if err := a.svc.SetScopeRoles(r.Context(), rl.Name, o, add, ids...); err != nil {
			return err
		}
		op, rt := "CREATE", "REALM_SCOPE_MAPPING"
		if !add {
			op = "DELETE"
		}
		p := path + "/scope-mappings/realm"
		if container != "" {
			rt, p = "CLIENT_SCOPE_MAPPING", path+"/scope-mappings/clients/"+container
		}
		a.audit(r, rl.ID, op, rt, p, out)
		noContent(w)
		return nil
	}
}

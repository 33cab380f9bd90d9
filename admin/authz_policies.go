package admin

import (
	"net/http"
	"slices"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

type policyRep = realms.AuthzPolicyRep

func (a *API) toPolicyRep(r *http.Request, realmID string, p store.AuthzPolicy, typed bool) policyRep {
	return a.svc.PolicyRep(r.Context(), realmID, p, typed)
}

// policyKind checks that p is of the kind the path addresses (a policy
// under /policy, a permission under /permission, and of {type} on a typed
// path): anything else is not found there.
func policyKind(r *http.Request, p store.AuthzPolicy, permission bool) error {
	if realms.IsPermission(p) != permission {
		return notFound("policy")
	}
	if t := mux.Vars(r)["type"]; t != "" && t != p.Type {
		return notFound("policy")
	}
	return nil
}

func (a *API) listAuthzPolicies(permission bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, srv, caller, p, err := a.authzList(r)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		f := realms.PolicyFilter{Page: p, Name: q.Get("name"), Type: q.Get("type"), Resource: q.Get("resource"), Scope: q.Get("scope")}
		switch {
		case permission:
			f.Permission = ptr(true)
		case q.Get("permission") != "":
			f.Permission = ptr(q.Get("permission") == "true")
		}
		ps, err := a.svc.ListPolicies(r.Context(), rl.ID, srv.ID, caller, f)
		if err != nil {
			return err
		}
		out := []policyRep{}
		for _, x := range ps {
			out = append(out, a.toPolicyRep(r, rl.ID, x, false))
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// searchAuthzPolicy answers GET policy/search?name=: the policy of that
// exact name, or 204.
func (a *API) searchAuthzPolicy(permission bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, srv, caller, err := a.authzTarget(r, viewAuthz)
		if err != nil {
			return err
		}
		name := r.URL.Query().Get("name")
		ps, err := a.svc.ListPolicies(r.Context(), rl.ID, srv.ID, caller, realms.PolicyFilter{Name: name, Page: store.Page{Max: 1 << 30}})
		if err != nil {
			return err
		}
		for _, p := range ps {
			if p.Name == name && realms.IsPermission(p) == permission {
				writeJSON(w, http.StatusOK, a.toPolicyRep(r, rl.ID, p, false))
				return nil
			}
		}
		noContent(w)
		return nil
	}
}

// decodePolicy reads a policy representation for a path: typed paths fix
// the type; the generic ones take it from the body, else from dflt.
func decodePolicy(r *http.Request, permission bool, dflt string) (policyRep, error) {
	var rep policyRep
	if err := decodeKnown(r, &rep); err != nil {
		return rep, err
	}
	if err := rep.FromConfig(); err != nil {
		return rep, err
	}
	if rep.Type == "" {
		rep.Type = dflt
	}
	if t := mux.Vars(r)["type"]; t != "" {
		if rep.Type != "" && rep.Type != t {
			return rep, badRequest("type %q does not match the path (%s)", rep.Type, t)
		}
		rep.Type = t
	}
	if rep.Type == "" {
		return rep, badRequest("type is required")
	}
	if realms.IsPermission(store.AuthzPolicy{Type: rep.Type}) != permission {
		if permission {
			return rep, badRequest("type %q is not a permission type (resource, scope)", rep.Type)
		}
		return rep, badRequest("type %q is a permission: use the permission endpoints", rep.Type)
	}
	return rep, nil
}

func (a *API) createAuthzPolicy(permission, typed bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, srv, caller, err := a.authzTarget(r, manageAuthz)
		if err != nil {
			return err
		}
		rep, err := decodePolicy(r, permission, "")
		if err != nil {
			return err
		}
		if rep.ID != "" {
			return badRequest("id is assigned by the server")
		}
		p, err := a.svc.CreatePolicy(r.Context(), rl.ID, srv.ID, caller, rep.Policy())
		if err != nil {
			return err
		}
		out := a.toPolicyRep(r, rl.ID, p, typed)
		a.audit(r, rl.ID, "CREATE", evPolicy, authzPath(srv, "/policy/"+p.ID), out)
		writeJSON(w, http.StatusCreated, out)
		return nil
	}
}

// loadAuthzPolicy reads the {pid} policy of the kind the path addresses.
func (a *API) loadAuthzPolicy(r *http.Request, right string, permission bool) (store.Realm, store.Client, realms.AuthzCaller, store.AuthzPolicy, error) {
	rl, srv, caller, err := a.authzTarget(r, right)
	if err != nil {
		return rl, srv, caller, store.AuthzPolicy{}, err
	}
	p, err := a.svc.Policy(r.Context(), rl.ID, srv.ID, caller, mux.Vars(r)["pid"])
	if err != nil {
		return rl, srv, caller, p, mapNotFound(err, "policy")
	}
	return rl, srv, caller, p, policyKind(r, p, permission)
}

func (a *API) getAuthzPolicy(permission, typed bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, _, _, p, err := a.loadAuthzPolicy(r, viewAuthz, permission)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, a.toPolicyRep(r, rl.ID, p, typed))
		return nil
	}
}

func (a *API) updateAuthzPolicy(permission, typed bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, srv, caller, cur, err := a.loadAuthzPolicy(r, manageAuthz, permission)
		if err != nil {
			return err
		}
		rep, err := decodePolicy(r, permission, cur.Type)
		if err != nil {
			return err
		}
		if rep.ID != "" && rep.ID != cur.ID {
			return badRequest("id does not match the policy addressed")
		}
		p, err := a.svc.UpdatePolicy(r.Context(), rl.ID, srv.ID, caller, cur.ID, rep.Policy())
		if err != nil {
			return mapNotFound(err, "policy")
		}
		return a.changed(w, r, rl.ID, "UPDATE", evPolicy, authzPath(srv, "/policy/"+p.ID), a.toPolicyRep(r, rl.ID, p, typed))
	}
}

func (a *API) deleteAuthzPolicy(permission bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, srv, caller, p, err := a.loadAuthzPolicy(r, manageAuthz, permission)
		if err != nil {
			return err
		}
		if err := a.svc.DeletePolicy(r.Context(), rl.ID, srv.ID, caller, p.ID); err != nil {
			return mapNotFound(err, "policy")
		}
		return a.changed(w, r, rl.ID, "DELETE", evPolicy, authzPath(srv, "/policy/"+p.ID), nil)
	}
}

// authzPolicyLinks answers policy/{id}/associatedPolicies (the policies
// it applies), dependentPolicies (those applying it), resources and
// scopes (what a permission covers).
func (a *API) authzPolicyLinks(permission bool, sub string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, srv, caller, p, err := a.loadAuthzPolicy(r, viewAuthz, permission)
		if err != nil {
			return err
		}
		ctx := r.Context()
		switch sub {
		case "associatedPolicies", "dependentPolicies":
			all, err := a.svc.ListPolicies(ctx, rl.ID, srv.ID, caller, realms.PolicyFilter{Page: store.Page{Max: 1 << 30}})
			if err != nil {
				return err
			}
			out := []policyRep{}
			for _, x := range all {
				if sub == "associatedPolicies" && slices.Contains(p.PolicyIDs, x.ID) ||
					sub == "dependentPolicies" && slices.Contains(x.PolicyIDs, p.ID) {
					out = append(out, a.toPolicyRep(r, rl.ID, x, false))
				}
			}
			writeJSON(w, http.StatusOK, out)
		case "resources":
			out := []map[string]string{}
			for _, id := range p.ResourceIDs {
				res, err := a.svc.GetResource(ctx, rl.ID, srv.ID, caller, id)
				if err != nil {
					continue // deleted since
				}
				out = append(out, map[string]string{"_id": res.ID, "name": res.Name})
			}
			writeJSON(w, http.StatusOK, out)
		case "scopes":
			out := []authzScopeRef{}
			for _, id := range p.ScopeIDs {
				s, err := a.svc.Scope(ctx, rl.ID, srv.ID, id)
				if err != nil {
					continue // deleted since
				}
				out = append(out, toAuthzScopeRep(s))
			}
			writeJSON(w, http.StatusOK, out)
		}
		return nil
	}
}

// policyProviders answers policy/providers and permission/providers: the
// types Gatehouse evaluates, as Keycloak lists its policy providers.
func (a *API) policyProviders(permission bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, _, _, err := a.authzTarget(r, viewAuthz); err != nil {
			return err
		}
		type provider struct {
			Type  string `json:"type"`
			Name  string `json:"name"`
			Group string `json:"group"`
		}
		out := []provider{{realms.PolicyAggregate, "Aggregated", "Others"}, {realms.PolicyClient, "Client", "Identity Based"},
			{realms.PolicyGroup, "Group", "Identity Based"}, {realms.PolicyRole, "Role", "Identity Based"}, {realms.PolicyUser, "User", "Identity Based"}}
		if permission {
			out = []provider{{realms.PermResource, "Resource-based", "Others"}, {realms.PermScope, "Scope-based", "Others"}}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// authzResourcePermissions answers resource/{id}/permissions: the
// permissions naming the resource, or its type.
func (a *API) authzResourcePermissions(w http.ResponseWriter, r *http.Request) error {
	rl, srv, caller, err := a.authzTarget(r, viewAuthz)
	if err != nil {
		return err
	}
	res, err := a.svc.GetResource(r.Context(), rl.ID, srv.ID, caller, mux.Vars(r)["rid"])
	if err != nil {
		return mapNotFound(err, "resource")
	}
	all, err := a.svc.ListPolicies(r.Context(), rl.ID, srv.ID, caller, realms.PolicyFilter{Permission: ptr(true), Page: store.Page{Max: 1 << 30}})
	if err != nil {
		return err
	}
	out := []policyRep{}
	for _, p := range all {
		if slices.Contains(p.ResourceIDs, res.ID) || p.ResourceType != "" && p.ResourceType == res.Type {
			out = append(out, a.toPolicyRep(r, rl.ID, p, false))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

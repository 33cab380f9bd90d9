package admin

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/realms"
	"github.com/gatehouse/gatehouse/store"
)

// Authorization services of a resource server, at
// /clients/{id}/authz/resource-server, with Keycloak's representations.
// Reads need view-authorization, writes manage-authorization (both
// realm-management roles; manage implies view, realm-admin holds both).
// The rules (access modes, validation, references) live in realms; the
// handlers only translate.

// Keycloak's admin event resource types for authorization records.
const (
	evResourceServer = "AUTHORIZATION_RESOURCE_SERVER"
	evResource       = "AUTHORIZATION_RESOURCE"
	evScope          = "AUTHORIZATION_SCOPE"
	evPolicy         = "AUTHORIZATION_POLICY"
)

func (a *API) authzRoutes(rr *mux.Router) {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	)
	rs := rr.PathPrefix("/clients/{id}/authz/resource-server").Subrouter()
	rs.HandleFunc("", a.handle(a.getResourceServer)).Methods(get)
	rs.HandleFunc("", a.handle(a.updateResourceServer)).Methods(put)
	rs.HandleFunc("/resource", a.handle(a.listAuthzResources)).Methods(get)
	rs.HandleFunc("/resource", a.handle(a.createAuthzResource)).Methods(post)
	rs.HandleFunc("/resource/search", a.handle(a.searchAuthzResource)).Methods(get)
	rs.HandleFunc("/resource/{rid}", a.handle(a.getAuthzResource)).Methods(get)
	rs.HandleFunc("/resource/{rid}", a.handle(a.updateAuthzResource)).Methods(put)
	rs.HandleFunc("/resource/{rid}", a.handle(a.deleteAuthzResource)).Methods(del)
	rs.HandleFunc("/resource/{rid}/scopes", a.handle(a.authzResourceScopes)).Methods(get)
	rs.HandleFunc("/resource/{rid}/permissions", a.handle(a.authzResourcePermissions)).Methods(get)
	rs.HandleFunc("/resource/{rid}/access-key", a.handle(a.createResourceAccessKey)).Methods(post)
	rs.HandleFunc("/resource/{rid}/access-key", a.handle(a.resourceAccessKeyInfo)).Methods(get)
	rs.HandleFunc("/scope", a.handle(a.listAuthzScopes)).Methods(get)
	rs.HandleFunc("/scope", a.handle(a.createAuthzScope)).Methods(post)
	rs.HandleFunc("/scope/search", a.handle(a.searchAuthzScope)).Methods(get)
	rs.HandleFunc("/scope/{sid}", a.handle(a.getAuthzScope)).Methods(get)
	rs.HandleFunc("/scope/{sid}", a.handle(a.updateAuthzScope)).Methods(put)
	rs.HandleFunc("/scope/{sid}", a.handle(a.deleteAuthzScope)).Methods(del)
	for _, kind := range []struct {
		path       string
		types      string
		permission bool
	}{{"/policy", "role|group|user|client|aggregate", false}, {"/permission", "resource|scope", true}} {
		p := kind.path
		rs.HandleFunc(p+"/providers", a.handle(a.policyProviders(kind.permission))).Methods(get)
		rs.HandleFunc(p, a.handle(a.listAuthzPolicies(kind.permission))).Methods(get)
		rs.HandleFunc(p, a.handle(a.createAuthzPolicy(kind.permission, false))).Methods(post)
		rs.HandleFunc(p+"/search", a.handle(a.searchAuthzPolicy(kind.permission))).Methods(get)
		rs.HandleFunc(p+"/{type:"+kind.types+"}", a.handle(a.createAuthzPolicy(kind.permission, true))).Methods(post)
		for _, typed := range []bool{false, true} {
			at := p + "/{pid}"
			if typed {
				at = p + "/{type:" + kind.types + "}/{pid}"
			}
			rs.HandleFunc(at, a.handle(a.getAuthzPolicy(kind.permission, typed))).Methods(get)
			rs.HandleFunc(at, a.handle(a.updateAuthzPolicy(kind.permission, typed))).Methods(put)
			rs.HandleFunc(at, a.handle(a.deleteAuthzPolicy(kind.permission))).Methods(del)
		}
		for _, sub := range []string{"associatedPolicies", "dependentPolicies", "resources", "scopes"} {
			rs.HandleFunc(p+"/{pid}/"+sub, a.handle(a.authzPolicyLinks(kind.permission, sub))).Methods(get)
		}
	}
}

// authzTarget resolves {realm} with right, the resource server {id}, and
// the caller as the domain sees it: an admin of the server, by user ID
// when the admin belongs to that realm.
func (a *API) authzTarget(r *http.Request, right string) (store.Realm, store.Client, realms.AuthzCaller, error) {
	rl, err := a.targetRealm(r, right)
	if err != nil {
		return rl, store.Client{}, realms.AuthzCaller{}, err
	}
	srv, err := a.svc.ResourceServer(r.Context(), rl.ID, mux.Vars(r)["id"])
	if errors.Is(err, store.ErrNotFound) {
		return rl, srv, realms.AuthzCaller{}, notFound("resource server")
	}
	c := callerOf(r)
	caller := realms.AuthzCaller{Admin: true}
	if c.token.Realm.ID == rl.ID {
		caller.UserID = c.token.User.ID
	}
	return rl, srv, caller, err
}

// authzList is authzTarget for a listing, with its first/max page.
func (a *API) authzList(r *http.Request) (store.Realm, store.Client, realms.AuthzCaller, store.Page, error) {
	rl, srv, caller, err := a.authzTarget(r, viewAuthz)
	if err != nil {
		return rl, srv, caller, store.Page{}, err
	}
	p, err := page(r)
	return rl, srv, caller, p, err
}

// authzDecode is authzTarget for a write (manage-authorization) with its
// body decoded strictly into v.
func (a *API) authzDecode(r *http.Request, v any) (store.Realm, store.Client, realms.AuthzCaller, error) {
	rl, srv, caller, err := a.authzTarget(r, manageAuthz)
	if err == nil {
		err = decodeKnown(r, v)
	}
	return rl, srv, caller, err
}

func authzPath(srv store.Client, rest string) string {
	return "clients/" + srv.ID + "/authz/resource-server" + rest
}

// Resource server settings.

type resourceServerRep struct {
	ID                            string `json:"id,omitempty"`
	ClientID                      string `json:"clientId,omitempty"`
	Name                          string `json:"name,omitempty"`
	AllowRemoteResourceManagement *bool  `json:"allowRemoteResourceManagement,omitempty"`
	PolicyEnforcementMode         string `json:"policyEnforcementMode,omitempty"`
	DecisionStrategy              string `json:"decisionStrategy,omitempty"`
}

func toResourceServerRep(c store.Client) resourceServerRep {
	st := *c.Authorization
	return resourceServerRep{ID: c.ID, ClientID: c.ClientID, Name: c.ClientID,
		AllowRemoteResourceManagement: ptr(st.AllowRemoteResourceManagement),
		PolicyEnforcementMode:         st.PolicyEnforcementMode, DecisionStrategy: st.DecisionStrategy}
}

func (a *API) getResourceServer(w http.ResponseWriter, r *http.Request) error {
	_, srv, _, err := a.authzTarget(r, viewAuthz)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toResourceServerRep(srv))
	return nil
}

// updateResourceServer changes the settings present in the body; id and
// clientId, when sent, must be the server's own.
func (a *API) updateResourceServer(w http.ResponseWriter, r *http.Request) error {
	var rep resourceServerRep
	rl, srv, caller, err := a.authzDecode(r, &rep)
	if err != nil {
		return err
	}
	if rep.ID != "" && rep.ID != srv.ID || rep.ClientID != "" && rep.ClientID != srv.ClientID {
		return badRequest("id and clientId name the resource server and cannot change")
	}
	st := *srv.Authorization
	setIf(&st.AllowRemoteResourceManagement, rep.AllowRemoteResourceManagement)
	if rep.PolicyEnforcementMode != "" {
		st.PolicyEnforcementMode = rep.PolicyEnforcementMode
	}
	if rep.DecisionStrategy != "" {
		st.DecisionStrategy = rep.DecisionStrategy
	}
	if _, err := a.svc.UpdateAuthzSettings(r.Context(), rl.ID, srv.ID, caller, st); err != nil {
		return err
	}
	srv.Authorization = &st
	return a.changed(w, r, rl.ID, "UPDATE", evResourceServer, authzPath(srv, ""), toResourceServerRep(srv))
}

// Resources.

// The representations live in realms (realm import and export write
// them too).
type (
	authzScopeRef    = realms.AuthzScopeRep
	authzResourceRep = realms.AuthzResourceRep
)

func (a *API) toAuthzResourceRep(r *http.Request, realmID string, res store.AuthzResource) (authzResourceRep, error) {
	return a.svc.ResourceRep(r.Context(), realmID, res)
}

func (a *API) writeAuthzResources(w http.ResponseWriter, r *http.Request, realmID string, rs []store.AuthzResource) error {
	out := []authzResourceRep{}
	for _, res := range rs {
		rep, err := a.toAuthzResourceRep(r, realmID, res)
		if err != nil {
			return err
		}
		out = append(out, rep)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) listAuthzResources(w http.ResponseWriter, r *http.Request) error {
	rl, srv, caller, p, err := a.authzList(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := realms.ResourceFilter{Page: p, Name: q.Get("name"), ExactName: q.Get("exactName") == "true",
		Owner: q.Get("owner"), Type: q.Get("type"), URI: q.Get("uri"), Scope: q.Get("scope"), ParentID: q.Get("parent")}
	rs, err := a.svc.ListResources(r.Context(), rl.ID, srv.ID, caller, f)
	if err != nil {
		return err
	}
	if q.Get("deep") == "false" {
		ids := []string{}
		for _, res := range rs {
			ids = append(ids, res.ID)
		}
		writeJSON(w, http.StatusOK, ids)
		return nil
	}
	return a.writeAuthzResources(w, r, rl.ID, rs)
}

// searchAuthzResource answers GET resource/search?name=: the resource of
// that exact name, or 204 when there is none (Keycloak's answer).
func (a *API) searchAuthzResource(w http.ResponseWriter, r *http.Request) error {
	rl, srv, caller, err := a.authzTarget(r, viewAuthz)
	if err != nil {
		return err
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		return badRequest("query parameter name is required")
	}
	rs, err := a.svc.ListResources(r.Context(), rl.ID, srv.ID, caller, realms.ResourceFilter{Name: name, ExactName: true})
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		noContent(w)
		return nil
	}
	rep, err := a.toAuthzResourceRep(r, rl.ID, rs[0])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (a *API) createAuthzResource(w http.ResponseWriter, r *http.Request) error {
	var rep authzResourceRep
	rl, srv, caller, err := a.authzDecode(r, &rep)
	if err != nil {
		return err
	}
	if rep.ID != "" {
		return badRequest("_id is assigned by the server")
	}
	res, err := a.svc.CreateResource(r.Context(), rl.ID, srv.ID, caller, rep.Input())
	if err != nil {
		return err
	}
	out, err := a.toAuthzResourceRep(r, rl.ID, res)
	if err != nil {
		return err
	}
	a.audit(r, rl.ID, "CREATE", evResource, authzPath(srv, "/resource/"+res.ID), out)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// readAuthzResource renders the {rid} resource of a read request.
func (a *API) readAuthzResource(r *http.Request) (authzResourceRep, error) {
	rl, srv, caller, err := a.authzTarget(r, viewAuthz)
	if err != nil {
		return authzResourceRep{}, err
	}
	res, err := a.svc.GetResource(r.Context(), rl.ID, srv.ID, caller, mux.Vars(r)["rid"])
	if err != nil {
		return authzResourceRep{}, mapNotFound(err, "resource")
	}
	return a.toAuthzResourceRep(r, rl.ID, res)
}

func (a *API) getAuthzResource(w http.ResponseWriter, r *http.Request) error {
	out, err := a.readAuthzResource(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) authzResourceScopes(w http.ResponseWriter, r *http.Request) error {
	out, err := a.readAuthzResource(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out.Scopes)
	return nil
}

func (a *API) updateAuthzResource(w http.ResponseWriter, r *http.Request) error {
	var rep authzResourceRep
	rl, srv, caller, err := a.authzDecode(r, &rep)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["rid"]
	if rep.ID != "" && rep.ID != id {
		return badRequest("_id does not match the resource addressed")
	}
	res, err := a.svc.UpdateResource(r.Context(), rl.ID, srv.ID, caller, id, rep.Input())
	if err != nil {
		return mapNotFound(err, "resource")
	}
	out, err := a.toAuthzResourceRep(r, rl.ID, res)
	if err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "UPDATE", evResource, authzPath(srv, "/resource/"+id), out)
}

func (a *API) deleteAuthzResource(w http.ResponseWriter, r *http.Request) error {
	rl, srv, caller, err := a.authzTarget(r, manageAuthz)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["rid"]
	if err := a.svc.DeleteResource(r.Context(), rl.ID, srv.ID, caller, id); err != nil {
		return mapNotFound(err, "resource")
	}
	return a.changed(w, r, rl.ID, "DELETE", evResource, authzPath(srv, "/resource/"+id), nil)
}

// accessKeyRep shows a resource's access key: the key itself only in the
// answer that made it.
type accessKeyRep struct {
	AccessKey        string `json:"accessKey,omitempty"`
	Exists           bool   `json:"exists"`
	CreatedTimestamp int64  `json:"createdTimestamp,omitempty"`
}

// createResourceAccessKey makes or replaces the resource's access key;
// the previous one stops working at once.
func (a *API) createResourceAccessKey(w http.ResponseWriter, r *http.Request) error {
	rl, srv, caller, err := a.authzTarget(r, manageAuthz)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["rid"]
	key, info, err := a.svc.CreateResourceAccessKey(r.Context(), rl.ID, srv.ID, caller, id)
	if err != nil {
		return mapNotFound(err, "resource")
	}
	// The audit log records that a key was made, never the key.
	a.audit(r, rl.ID, "CREATE", evResource, authzPath(srv, "/resource/"+id+"/access-key"),
		accessKeyRep{Exists: true, CreatedTimestamp: info.CreatedAt})
	writeJSON(w, http.StatusOK, accessKeyRep{AccessKey: key, Exists: true, CreatedTimestamp: info.CreatedAt})
	return nil
}

func (a *API) resourceAccessKeyInfo(w http.ResponseWriter, r *http.Request) error {
	rl, srv, caller, err := a.authzTarget(r, viewAuthz)
	if err != nil {
		return err
	}
	info, err := a.svc.ResourceAccessKeyInfo(r.Context(), rl.ID, srv.ID, caller, mux.Vars(r)["rid"])
	if err != nil {
		return mapNotFound(err, "resource")
	}
	writeJSON(w, http.StatusOK, accessKeyRep{Exists: info.Exists, CreatedTimestamp: info.CreatedAt})
	return nil
}

// Scopes.

func toAuthzScopeRep(s store.AuthzScope) authzScopeRef { return realms.ToAuthzScopeRep(s) }

func (a *API) listAuthzScopes(w http.ResponseWriter, r *http.Request) error {
	rl, srv, _, p, err := a.authzList(r)
	if err != nil {
		return err
	}
	scopes, err := a.svc.ListScopes(r.Context(), rl.ID, srv.ID, r.URL.Query().Get("name"), p)
	if err != nil {
		return err
	}
	out := []authzScopeRef{}
	for _, s := range scopes {
		out = append(out, toAuthzScopeRep(s))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) searchAuthzScope(w http.ResponseWriter, r *http.Request) error {
	rl, srv, _, err := a.authzTarget(r, viewAuthz)
	if err != nil {
		return err
	}
	name := r.URL.Query().Get("name")
	scopes, err := a.svc.ListScopes(r.Context(), rl.ID, srv.ID, name, store.Page{Max: 1 << 30})
	if err != nil {
		return err
	}
	for _, s := range scopes {
		if s.Name == name {
			writeJSON(w, http.StatusOK, toAuthzScopeRep(s))
			return nil
		}
	}
	noContent(w)
	return nil
}

func (a *API) getAuthzScope(w http.ResponseWriter, r *http.Request) error {
	rl, srv, _, err := a.authzTarget(r, viewAuthz)
	if err != nil {
		return err
	}
	s, err := a.svc.Scope(r.Context(), rl.ID, srv.ID, mux.Vars(r)["sid"])
	if err != nil {
		return mapNotFound(err, "scope")
	}
	writeJSON(w, http.StatusOK, toAuthzScopeRep(s))
	return nil
}

func decodeAuthzScope(r *http.Request) (store.AuthzScope, error) {
	var rep authzScopeRef
	if err := decodeKnown(r, &rep); err != nil {
		return store.AuthzScope{}, err
	}
	return store.AuthzScope{ID: rep.ID, Name: rep.Name, DisplayName: rep.DisplayName, IconURI: rep.IconURI}, nil
}

func (a *API) createAuthzScope(w http.ResponseWriter, r *http.Request) error {
	rl, srv, caller, err := a.authzTarget(r, manageAuthz)
	if err != nil {
		return err
	}
	in, err := decodeAuthzScope(r)
	if err != nil {
		return err
	}
	if in.ID != "" {
		return badRequest("id is assigned by the server")
	}
	s, err := a.svc.CreateScope(r.Context(), rl.ID, srv.ID, caller, in)
	if err != nil {
		return err
	}
	a.audit(r, rl.ID, "CREATE", evScope, authzPath(srv, "/scope/"+s.ID), toAuthzScopeRep(s))
	writeJSON(w, http.StatusCreated, toAuthzScopeRep(s))
	return nil
}

func (a *API) updateAuthzScope(w http.ResponseWriter, r *http.Request) error {
	rl, srv, caller, err := a.authzTarget(r, manageAuthz)
	if err != nil {
		return err
	}
	in, err := decodeAuthzScope(r)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["sid"]
	if in.ID != "" && in.ID != id {
		return badRequest("id does not match the scope addressed")
	}
	s, err := a.svc.UpdateScope(r.Context(), rl.ID, srv.ID, caller, id, in)
	if err != nil {
		return mapNotFound(err, "scope")
	}
	return a.changed(w, r, rl.ID, "UPDATE", evScope, authzPath(srv, "/scope/"+id), toAuthzScopeRep(s))
}

func (a *API) deleteAuthzScope(w http.ResponseWriter, r *http.Request) error {
	rl, srv, caller, err := a.authzTarget(r, manageAuthz)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["sid"]
	if err := a.svc.DeleteScope(r.Context(), rl.ID, srv.ID, caller, id); err != nil {
		return mapNotFound(err, "scope")
	}
	return a.changed(w, r, rl.ID, "DELETE", evScope, authzPath(srv, "/scope/"+id), nil)
}

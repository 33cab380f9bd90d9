package admin

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/gatehouse/gatehouse/store"
)

// clientScopeRep is Keycloak's ClientScopeRepresentation.
type clientScopeRep struct {
	ID              *string           `json:"id,omitempty"`
	Name            *string           `json:"name,omitempty"`
	Description     *string           `json:"description,omitempty"`
	Protocol        *string           `json:"protocol,omitempty"`
	Attributes      map[string]string `json:"attributes,omitempty"`
	ProtocolMappers []mapperRep       `json:"protocolMappers,omitempty"`
}

func toClientScopeRep(cs store.ClientScope) clientScopeRep {
	rep := clientScopeRep{ID: ptr(cs.ID), Name: ptr(cs.Name), Protocol: ptr(cs.Protocol), Attributes: cs.Attributes}
	if cs.Description != "" {
		rep.Description = ptr(cs.Description)
	}
	if rep.Attributes == nil {
		rep.Attributes = map[string]string{}
	}
	for _, m := range cs.ProtocolMappers {
		rep.ProtocolMappers = append(rep.ProtocolMappers, toMapperRep(m))
	}
	return rep
}

// briefScopeRep is how Keycloak lists the scopes assigned to a realm or a
// client.
type briefScopeRep struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Protocol string `json:"protocol,omitempty"`
}

func briefScopes(list []store.ClientScope) []briefScopeRep {
	out := []briefScopeRep{}
	for _, cs := range list {
		out = append(out, briefScopeRep{ID: cs.ID, Name: cs.Name, Protocol: cs.Protocol})
	}
	return out
}

func (rep clientScopeRep) apply(cs *store.ClientScope) error {
	if rep.Name != nil {
		cs.Name = *rep.Name
	}
	if rep.Description != nil {
		cs.Description = *rep.Description
	}
	if rep.Protocol != nil {
		cs.Protocol = *rep.Protocol
	}
	if rep.Attributes != nil {
		cs.Attributes = rep.Attributes
	}
	if rep.ProtocolMappers != nil {
		ms, err := fromMapperReps(rep.ProtocolMappers)
		if err != nil {
			return err
		}
		cs.ProtocolMappers = ms
	}
	return nil
}

func (a *API) loadClientScope(r *http.Request, rl store.Realm) (store.ClientScope, error) {
	cs, err := a.svc.GetClientScope(r.Context(), rl.Name, mux.Vars(r)["scope"])
	return cs, clientScopeErr(err)
}

// clientScopeErr answers a missing client scope as Keycloak does.
func clientScopeErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound("client scope")
	}
	return err
}

func (a *API) listClientScopes(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealmAny(r, viewClients, viewRealm)
	if err != nil {
		return err
	}
	list, err := a.svc.ListClientScopes(r.Context(), rl.Name)
	if err != nil {
		return err
	}
	out := []clientScopeRep{}
	for _, cs := range list {
		out = append(out, toClientScopeRep(cs))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getClientScope(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealmAny(r, viewClients, viewRealm)
	if err != nil {
		return err
	}
	cs, err := a.loadClientScope(r, rl)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toClientScopeRep(cs))
	return nil
}

func (a *API) createClientScope(w http.ResponseWriter, r *http.Request) error {
	rl, rep, err := targetBody[clientScopeRep](a, r, manageClient, decodeKnown)
	if err != nil {
		return err
	}
	var cs store.ClientScope
	if rep.ID != nil {
		cs.ID = *rep.ID
	}
	if err := rep.apply(&cs); err != nil {
		return err
	}
	cs, err = a.svc.CreateClientScope(r.Context(), rl.Name, cs)
	if err != nil {
		return err
	}
	a.audit(r, rl.ID, "CREATE", "CLIENT_SCOPE", "client-scopes/"+cs.ID, toClientScopeRep(cs))
	created(w, r, cs.ID)
	return nil
}

func (a *API) updateClientScope(w http.ResponseWriter, r *http.Request) error {
	rl, rep, err := targetBody[clientScopeRep](a, r, manageClient, decodeKnown)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["scope"]
	if rep.ID != nil && *rep.ID != id {
		return badRequest("Cannot change the id of a client scope")
	}
	cs, err := a.svc.UpdateClientScope(r.Context(), rl.Name, id, func(cs *store.ClientScope) error { return rep.apply(cs) })
	if err != nil {
		return clientScopeErr(err)
	}
	return a.changed(w, r, rl.ID, "UPDATE", "CLIENT_SCOPE", "client-scopes/"+cs.ID, toClientScopeRep(cs))
}

func (a *API) deleteClientScope(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, manageClient)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["scope"]
	if err := a.svc.DeleteClientScope(r.Context(), rl.Name, id); err != nil {
		return clientScopeErr(err)
	}
	return a.changed(w, r, rl.ID, "DELETE", "CLIENT_SCOPE", "client-scopes/"+id, nil)
}

// realmDefaultScopes serves GET default-default-client-scopes and
// default-optional-client-scopes.
func (a *API) realmDefaultScopes(optional bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, err := a.targetRealmAny(r, viewRealm, viewClients)
		if err != nil {
			return err
		}
		list, err := a.svc.RealmDefaultScopes(r.Context(), rl.Name, optional)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, briefScopes(list))
		return nil
	}
}

func (a *API) setRealmDefaultScope(optional, add bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, err := a.targetRealm(r, manageRealm)
		if err != nil {
			return err
		}
		id := mux.Vars(r)["scope"]
		if err := a.svc.SetRealmDefaultScope(r.Context(), rl.Name, id, optional, add); err != nil {
			return clientScopeErr(err)
		}
		kind := "default-default-client-scopes/"
		if optional {
			kind = "default-optional-client-scopes/"
		}
		op := "CREATE"
		if !add {
			op = "DELETE"
		}
		a.audit(r, rl.ID, op, "CLIENT_SCOPE", kind+id, nil)
		noContent(w)
		return nil
	}
}

// clientScopes serves GET clients/{id}/default-client-scopes and
// optional-client-scopes.
func (a *API) clientScopes(optional bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, c, err := a.targetClient(r, viewClients)
		if err != nil {
			return err
		}
		list, err := a.svc.ClientScopesOfClient(r.Context(), rl.Name, c.ID, optional)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, briefScopes(list))
		return nil
	}
}

func (a *API) setClientScope(optional, add bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rl, c, err := a.targetManagedClient(r)
		if err != nil {
			return err
		}
		id := mux.Vars(r)["scope"]
		if err := a.svc.SetClientScope(r.Context(), rl.Name, c.ID, id, optional, add); err != nil {
			return clientScopeErr(err)
		}
		kind := "/default-client-scopes/"
		if optional {
			kind = "/optional-client-scopes/"
		}
		op := "UPDATE"
		if !add {
			op = "DELETE"
		}
		a.audit(r, rl.ID, op, "CLIENT", "clients/"+c.ID+kind+id, nil)
		noContent(w)
		return nil
	}
}

// clientScopeEdit is what a client representation sets through its
// defaultClientScopes, optionalClientScopes and protocolMappers.
type clientScopeEdit struct {
	def, opt *[]string
	mappers  *[]store.ProtocolMapper
}

// scopeEdit resolves a client representation's scope names (an unknown
// name is refused, not dropped) and mappers.
func (a *API) scopeEdit(r *http.Request, rl store.Realm, rep clientRep) (clientScopeEdit, error) {
	var e clientScopeEdit
	ids := func(names []string) (*[]string, error) {
		if names == nil {
			return nil, nil
		}
		out := []string{}
		for _, n := range names {
			cs, err := a.svc.ClientScopeByName(r.Context(), rl.ID, n)
			if errors.Is(err, store.ErrNotFound) {
				return nil, badRequest("Unknown client scope %s", n)
			}
			if err != nil {
				return nil, err
			}
			out = append(out, cs.ID)
		}
		return &out, nil
	}
	var err error
	if e.def, err = ids(rep.DefaultClientScopes); err != nil {
		return e, err
	}
	if e.opt, err = ids(rep.OptionalClientScopes); err != nil {
		return e, err
	}
	if rep.ProtocolMappers != nil {
		ms, err := fromMapperReps(rep.ProtocolMappers)
		if err != nil {
			return e, err
		}
		e.mappers = &ms
	}
	return e, nil
}

// apply sets the edit on c; lists not named keep their value (the realm's
// defaults for a new client).
func (e clientScopeEdit) apply(rl store.Realm, c *store.Client) {
	if e.def == nil && e.opt == nil {
		if e.mappers != nil {
			c.ProtocolMappers = *e.mappers
		}
		return
	}
	if !c.ScopesAssigned {
		c.ScopesAssigned = true
		c.DefaultScopeIDs, c.OptionalScopeIDs = rl.DefaultScopeIDs, rl.OptionalScopeIDs
	}
	if e.def != nil {
		c.DefaultScopeIDs = *e.def
	}
	if e.opt != nil {
		c.OptionalScopeIDs = *e.opt
	}
	if e.mappers != nil {
		c.ProtocolMappers = *e.mappers
	}
}

// withScopes adds the client's scope names and mappers to its
// representation.
func (a *API) withScopes(r *http.Request, rl store.Realm, c store.Client, rep *clientRep) error {
	def, opt, err := a.svc.ClientScopesOf(r.Context(), rl, c)
	if err != nil {
		return err
	}
	rep.DefaultClientScopes, rep.OptionalClientScopes = []string{}, []string{}
	for _, cs := range def {
		rep.DefaultClientScopes = append(rep.DefaultClientScopes, cs.Name)
	}
	for _, cs := range opt {
		rep.OptionalClientScopes = append(rep.OptionalClientScopes, cs.Name)
	}
	for _, m := range c.ProtocolMappers {
		rep.ProtocolMappers = append(rep.ProtocolMappers, toMapperRep(m))
	}
	return nil
}

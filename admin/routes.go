package admin

import (
	"net/http"

	"github.com/gorilla/mux"
)

func (a *API) routes(r *mux.Router) {
	r.Use(a.authenticate)
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	)
	r.HandleFunc("/backup", a.backup).Methods(get)
	r.HandleFunc("/serverinfo", a.serverInfo).Methods(get)
	r.HandleFunc("/realms", a.listRealms).Methods(get)
	r.HandleFunc("/realms", a.createRealm).Methods(post)
	rr := r.PathPrefix("/realms/{realm}").Subrouter()
	rr.HandleFunc("", a.getRealm).Methods(get)
	rr.HandleFunc("", a.updateRealm).Methods(put)
	rr.HandleFunc("", a.deleteRealm).Methods(del)
	rr.HandleFunc("/admin-events", a.adminEvents).Methods(get)
	rr.HandleFunc("/attack-detection/brute-force/users/{id}", a.bruteForceStatus).Methods(get)
	rr.HandleFunc("/attack-detection/brute-force/users/{id}", a.clearBruteForce).Methods(del)
	rr.HandleFunc("/attack-detection/brute-force/clients/{id}", a.clientBruteForceStatus).Methods(get)
	rr.HandleFunc("/attack-detection/brute-force/clients/{id}", a.clearClientBruteForce).Methods(del)
	rr.HandleFunc("/identity-provider/instances", a.listIDPs).Methods(get)
	rr.HandleFunc("/identity-provider/instances", a.createIDP).Methods(post)
	rr.HandleFunc("/identity-provider/instances/{alias}", a.getIDP).Methods(get)
	rr.HandleFunc("/identity-provider/instances/{alias}", a.updateIDP).Methods(put)
	rr.HandleFunc("/identity-provider/instances/{alias}", a.deleteIDP).Methods(del)

	r.HandleFunc("/gateway/topologies", a.listTopologies).Methods(get)
	r.HandleFunc("/gateway/topologies/{name}", a.getTopology).Methods(get)
	r.HandleFunc("/gateway/topologies/{name}", a.putTopology).Methods(put)
	r.HandleFunc("/gateway/topologies/{name}", a.deleteTopology).Methods(del)

	rr.HandleFunc("/clients", a.listClients).Methods(get)
	rr.HandleFunc("/clients", a.createClient).Methods(post)
	rr.HandleFunc("/clients/{id}", a.getClient).Methods(get)
	rr.HandleFunc("/clients/{id}", a.updateClient).Methods(put)
	rr.HandleFunc("/clients/{id}", a.deleteClient).Methods(del)
	rr.HandleFunc("/clients/{id}/client-secret", a.getClientSecret).Methods(get)
	rr.HandleFunc("/clients/{id}/client-secret", a.regenerateClientSecret).Methods(post)
	rr.HandleFunc("/clients/{id}/client-secret/rotated", a.getRotatedSecret).Methods(get)
	rr.HandleFunc("/clients/{id}/client-secret/rotated", a.deleteRotatedSecret).Methods(del)
	rr.HandleFunc("/clients/{id}/service-account-user", a.serviceAccountUser).Methods(get)
	rr.HandleFunc("/clients/{id}/roles", a.listRoles).Methods(get)
	rr.HandleFunc("/clients/{id}/roles", a.createRole).Methods(post)
	rr.HandleFunc("/clients/{id}/roles/{role}", a.getRole).Methods(get)
	rr.HandleFunc("/clients/{id}/roles/{role}", a.updateRole).Methods(put)
	rr.HandleFunc("/clients/{id}/roles/{role}", a.deleteRole).Methods(del)

	rr.HandleFunc("/users", a.listUsers).Methods(get)
	rr.HandleFunc("/users", a.createUser).Methods(post)
	rr.HandleFunc("/users/count", a.countUsers).Methods(get)
	rr.HandleFunc("/users/{id}", a.getUser).Methods(get)
	rr.HandleFunc("/users/{id}", a.updateUser).Methods(put)
	rr.HandleFunc("/users/{id}", a.deleteUser).Methods(del)
	rr.HandleFunc("/users/{id}/reset-password", a.resetPassword).Methods(put)
	rr.HandleFunc("/users/{id}/credentials", a.credentials).Methods(get)
	rr.HandleFunc("/users/{id}/credentials/{cid}", a.deleteCredential).Methods(del)
	rr.HandleFunc("/users/{id}/federated-identity", a.listFederatedIdentities).Methods(get)
	rr.HandleFunc("/users/{id}/federated-identity/{alias}", a.addFederatedIdentity).Methods(post)
	rr.HandleFunc("/users/{id}/federated-identity/{alias}", a.removeFederatedIdentity).Methods(del)
	rr.HandleFunc("/users/{id}/role-mappings", a.roleMappings).Methods(get)
	rr.HandleFunc("/users/{id}/role-mappings/realm", a.listMappings).Methods(get)
	rr.HandleFunc("/users/{id}/role-mappings/realm", a.addMappings).Methods(post)
	rr.HandleFunc("/users/{id}/role-mappings/realm", a.removeMappings).Methods(del)
	rr.HandleFunc("/users/{id}/role-mappings/clients/{client}", a.listMappings).Methods(get)
	rr.HandleFunc("/users/{id}/role-mappings/clients/{client}", a.addMappings).Methods(post)
	rr.HandleFunc("/users/{id}/role-mappings/clients/{client}", a.removeMappings).Methods(del)

	rr.HandleFunc("/roles", a.listRoles).Methods(get)
	rr.HandleFunc("/roles", a.createRole).Methods(post)
	rr.HandleFunc("/roles/{role}", a.getRole).Methods(get)
	rr.HandleFunc("/roles/{role}", a.updateRole).Methods(put)
	rr.HandleFunc("/roles/{role}", a.deleteRole).Methods(del)
	rr.HandleFunc("/roles-by-id/{role-id}", a.getRole).Methods(get)
	rr.HandleFunc("/roles-by-id/{role-id}", a.updateRole).Methods(put)
	rr.HandleFunc("/roles-by-id/{role-id}", a.deleteRole).Methods(del)

	a.clientScopeRoutes(rr)
}

// clientScopeRoutes are the client-scope, protocol-mapper and
// scope-mapping routes.
func (a *API) clientScopeRoutes(rr *mux.Router) {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	)
	rr.HandleFunc("/client-scopes", a.listClientScopes).Methods(get)
	rr.HandleFunc("/client-scopes", a.createClientScope).Methods(post)
	rr.HandleFunc("/client-scopes/{scope}", a.getClientScope).Methods(get)
	rr.HandleFunc("/client-scopes/{scope}", a.updateClientScope).Methods(put)
	rr.HandleFunc("/client-scopes/{scope}", a.deleteClientScope).Methods(del)
	for _, k := range []struct {
		path     string
		optional bool
	}{{"/default-default-client-scopes", false}, {"/default-optional-client-scopes", true}} {
		rr.HandleFunc(k.path, a.realmDefaultScopes(k.optional)).Methods(get)
		rr.HandleFunc(k.path+"/{scope}", a.setRealmDefaultScope(k.optional, true)).Methods(put)
		rr.HandleFunc(k.path+"/{scope}", a.setRealmDefaultScope(k.optional, false)).Methods(del)
	}
	for _, k := range []struct {
		path     string
		optional bool
	}{{"/clients/{id}/default-client-scopes", false}, {"/clients/{id}/optional-client-scopes", true}} {
		rr.HandleFunc(k.path, a.clientScopes(k.optional)).Methods(get)
		rr.HandleFunc(k.path+"/{scope}", a.setClientScope(k.optional, true)).Methods(put)
		rr.HandleFunc(k.path+"/{scope}", a.setClientScope(k.optional, false)).Methods(del)
	}
	for _, owner := range []string{"/clients/{id}", "/client-scopes/{scope}"} {
		pm := owner + "/protocol-mappers"
		rr.HandleFunc(pm+"/models", a.listMappers).Methods(get)
		rr.HandleFunc(pm+"/models", a.createMapper).Methods(post)
		rr.HandleFunc(pm+"/add-models", a.addModels).Methods(post)
		rr.HandleFunc(pm+"/protocol/{protocol}", a.listMappers).Methods(get)
		rr.HandleFunc(pm+"/models/{mapper}", a.getMapper).Methods(get)
		rr.HandleFunc(pm+"/models/{mapper}", a.updateMapper).Methods(put)
		rr.HandleFunc(pm+"/models/{mapper}", a.deleteMapper).Methods(del)
		sm := owner + "/scope-mappings"
		rr.HandleFunc(sm, a.allScopeMappings).Methods(get)
		for _, c := range []string{sm + "/realm", sm + "/clients/{client}"} {
			rr.HandleFunc(c, a.scopeMappingsView("")).Methods(get)
			rr.HandleFunc(c, a.changeScopeMappings(true)).Methods(post)
			rr.HandleFunc(c, a.changeScopeMappings(false)).Methods(del)
			rr.HandleFunc(c+"/available", a.scopeMappingsView("available")).Methods(get)
			rr.HandleFunc(c+"/composite", a.scopeMappingsView("composite")).Methods(get)
		}
	}
}

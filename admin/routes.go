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
	r.HandleFunc("/backup", a.handle(a.backup)).Methods(get)
	r.HandleFunc("/serverinfo", a.handle(a.serverInfo)).Methods(get)
	r.HandleFunc("/realms", a.handle(a.listRealms)).Methods(get)
	r.HandleFunc("/realms", a.handle(a.createRealm)).Methods(post)
	rr := r.PathPrefix("/realms/{realm}").Subrouter()
	rr.HandleFunc("", a.handle(a.getRealm)).Methods(get)
	rr.HandleFunc("", a.handle(a.updateRealm)).Methods(put)
	rr.HandleFunc("", a.handle(a.deleteRealm)).Methods(del)
	rr.HandleFunc("/admin-events", a.handle(a.adminEvents)).Methods(get)
	rr.HandleFunc("/admin-events", a.handle(a.clearAdminEvents)).Methods(del)
	rr.HandleFunc("/events", a.handle(a.loginEvents)).Methods(get)
	rr.HandleFunc("/events", a.handle(a.clearLoginEvents)).Methods(del)
	rr.HandleFunc("/events/config", a.handle(a.eventsConfig)).Methods(get)
	rr.HandleFunc("/events/config", a.handle(a.putEventsConfig)).Methods(put)
	rr.HandleFunc("/keys", a.handle(a.realmKeys)).Methods(get)
	rr.HandleFunc("/partial-export", a.handle(a.partialExport)).Methods(post)
	rr.HandleFunc("/partialImport", a.handle(a.partialImport)).Methods(post)
	rr.HandleFunc("/attack-detection/brute-force/users/{id}", a.handle(a.bruteForceStatus)).Methods(get)
	rr.HandleFunc("/attack-detection/brute-force/users/{id}", a.handle(a.clearBruteForce)).Methods(del)
	rr.HandleFunc("/attack-detection/brute-force/clients/{id}", a.handle(a.clientBruteForceStatus)).Methods(get)
	rr.HandleFunc("/attack-detection/brute-force/clients/{id}", a.handle(a.clearClientBruteForce)).Methods(del)
	rr.HandleFunc("/identity-provider/instances", a.handle(a.listIDPs)).Methods(get)
	rr.HandleFunc("/identity-provider/instances", a.handle(a.createIDP)).Methods(post)
	rr.HandleFunc("/identity-provider/instances/{alias}", a.handle(a.getIDP)).Methods(get)
	rr.HandleFunc("/identity-provider/instances/{alias}", a.handle(a.updateIDP)).Methods(put)
	rr.HandleFunc("/identity-provider/instances/{alias}", a.handle(a.deleteIDP)).Methods(del)

	r.HandleFunc("/gateway/topologies", a.handle(a.listTopologies)).Methods(get)
	r.HandleFunc("/gateway/topologies/{name}", a.handle(a.getTopology)).Methods(get)
	r.HandleFunc("/gateway/topologies/{name}", a.handle(a.putTopology)).Methods(put)
	r.HandleFunc("/gateway/topologies/{name}", a.handle(a.deleteTopology)).Methods(del)

	rr.HandleFunc("/clients", a.handle(a.listClients)).Methods(get)
	rr.HandleFunc("/clients", a.handle(a.createClient)).Methods(post)
	rr.HandleFunc("/clients/{id}", a.handle(a.getClient)).Methods(get)
	rr.HandleFunc("/clients/{id}", a.handle(a.updateClient)).Methods(put)
	rr.HandleFunc("/clients/{id}", a.handle(a.deleteClient)).Methods(del)
	rr.HandleFunc("/clients/{id}/client-secret", a.handle(a.getClientSecret)).Methods(get)
	rr.HandleFunc("/clients/{id}/client-secret", a.handle(a.regenerateClientSecret)).Methods(post)
	rr.HandleFunc("/clients/{id}/client-secret/rotated", a.handle(a.getRotatedSecret)).Methods(get)
	rr.HandleFunc("/clients/{id}/client-secret/rotated", a.handle(a.deleteRotatedSecret)).Methods(del)
	rr.HandleFunc("/clients/{id}/service-account-user", a.handle(a.serviceAccountUser)).Methods(get)
	rr.HandleFunc("/clients/{id}/roles", a.handle(a.listRoles)).Methods(get)
	rr.HandleFunc("/clients/{id}/roles", a.handle(a.createRole)).Methods(post)
	rr.HandleFunc("/clients/{id}/roles/{role}", a.handle(a.getRole)).Methods(get)
	rr.HandleFunc("/clients/{id}/roles/{role}", a.handle(a.updateRole)).Methods(put)
	rr.HandleFunc("/clients/{id}/roles/{role}", a.handle(a.deleteRole)).Methods(del)

	rr.HandleFunc("/users", a.handle(a.listUsers)).Methods(get)
	rr.HandleFunc("/users", a.handle(a.createUser)).Methods(post)
	rr.HandleFunc("/users/count", a.handle(a.countUsers)).Methods(get)
	rr.HandleFunc("/users/profile", a.handle(a.userProfile)).Methods(get)
	rr.HandleFunc("/users/{id}", a.handle(a.getUser)).Methods(get)
	rr.HandleFunc("/users/{id}", a.handle(a.updateUser)).Methods(put)
	rr.HandleFunc("/users/{id}", a.handle(a.deleteUser)).Methods(del)
	rr.HandleFunc("/users/{id}/reset-password", a.handle(a.resetPassword)).Methods(put)
	rr.HandleFunc("/users/{id}/credentials", a.handle(a.credentials)).Methods(get)
	rr.HandleFunc("/users/{id}/credentials/{cid}", a.handle(a.deleteCredential)).Methods(del)
	rr.HandleFunc("/users/{id}/federated-identity", a.handle(a.listFederatedIdentities)).Methods(get)
	rr.HandleFunc("/users/{id}/federated-identity/{alias}", a.handle(a.addFederatedIdentity)).Methods(post)
	rr.HandleFunc("/users/{id}/federated-identity/{alias}", a.handle(a.removeFederatedIdentity)).Methods(del)
	rr.HandleFunc("/users/{id}/groups", a.handle(a.userGroups)).Methods(get)
	rr.HandleFunc("/users/{id}/groups/count", a.handle(a.userGroupCount)).Methods(get)
	rr.HandleFunc("/users/{id}/groups/{group}", a.handle(a.joinGroup)).Methods(put)
	rr.HandleFunc("/users/{id}/groups/{group}", a.handle(a.leaveGroup)).Methods(del)

	rr.HandleFunc("/groups", a.handle(a.listGroups)).Methods(get)
	rr.HandleFunc("/groups", a.handle(a.createGroup)).Methods(post)
	rr.HandleFunc("/groups/count", a.handle(a.countGroups)).Methods(get)
	rr.HandleFunc("/groups/{group}", a.handle(a.getGroup)).Methods(get)
	rr.HandleFunc("/groups/{group}", a.handle(a.updateGroup)).Methods(put)
	rr.HandleFunc("/groups/{group}", a.handle(a.deleteGroup)).Methods(del)
	rr.HandleFunc("/groups/{group}/children", a.handle(a.listChildren)).Methods(get)
	rr.HandleFunc("/groups/{group}/children", a.handle(a.createGroup)).Methods(post)
	rr.HandleFunc("/groups/{group}/members", a.handle(a.groupMembers)).Methods(get)
	rr.HandleFunc("/group-by-path/{path:.+}", a.handle(a.groupByPath)).Methods(get)

	// Role mappings of users ({id}) and groups ({group}).
	for _, holder := range []string{"/users/{id}", "/groups/{group}"} {
		rm := holder + "/role-mappings"
		rr.HandleFunc(rm, a.handle(a.roleMappings)).Methods(get)
		for _, container := range []string{rm + "/realm", rm + "/clients/{client}"} {
			rr.HandleFunc(container, a.handle(a.listMappings)).Methods(get)
			rr.HandleFunc(container, a.handle(a.addMappings)).Methods(post)
			rr.HandleFunc(container, a.handle(a.removeMappings)).Methods(del)
			rr.HandleFunc(container+"/available", a.handle(a.availableMappings)).Methods(get)
			rr.HandleFunc(container+"/composite", a.handle(a.compositeMappings)).Methods(get)
		}
	}

	rr.HandleFunc("/roles", a.handle(a.listRoles)).Methods(get)
	rr.HandleFunc("/roles", a.handle(a.createRole)).Methods(post)
	rr.HandleFunc("/roles/{role}", a.handle(a.getRole)).Methods(get)
	rr.HandleFunc("/roles/{role}", a.handle(a.updateRole)).Methods(put)
	rr.HandleFunc("/roles/{role}", a.handle(a.deleteRole)).Methods(del)
	rr.HandleFunc("/roles-by-id/{role-id}", a.handle(a.getRole)).Methods(get)
	rr.HandleFunc("/roles-by-id/{role-id}", a.handle(a.updateRole)).Methods(put)
	rr.HandleFunc("/roles-by-id/{role-id}", a.handle(a.deleteRole)).Methods(del)

	// Composites and users of realm roles, client roles and roles by ID.
	for _, role := range []string{"/roles/{role}", "/clients/{id}/roles/{role}", "/roles-by-id/{role-id}"} {
		rr.HandleFunc(role+"/composites", a.handle(a.getComposites)).Methods(get)
		rr.HandleFunc(role+"/composites", a.handle(a.addComposites)).Methods(post)
		rr.HandleFunc(role+"/composites", a.handle(a.removeComposites)).Methods(del)
		rr.HandleFunc(role+"/composites/realm", a.handle(a.getComposites)).Methods(get)
		rr.HandleFunc(role+"/composites/clients/{client}", a.handle(a.getComposites)).Methods(get)
		if role != "/roles-by-id/{role-id}" {
			rr.HandleFunc(role+"/users", a.handle(a.roleUsers)).Methods(get)
			rr.HandleFunc(role+"/groups", a.handle(a.roleGroups)).Methods(get)
		}
	}
	a.keyRoutes(rr)
	a.clientScopeRoutes(rr)
	a.authzRoutes(rr)
}

// clientScopeRoutes are the client-scope, protocol-mapper and
// scope-mapping routes.
func (a *API) clientScopeRoutes(rr *mux.Router) {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	)
	rr.HandleFunc("/client-scopes", a.handle(a.listClientScopes)).Methods(get)
	rr.HandleFunc("/client-scopes", a.handle(a.createClientScope)).Methods(post)
	rr.HandleFunc("/client-scopes/{scope}", a.handle(a.getClientScope)).Methods(get)
	rr.HandleFunc("/client-scopes/{scope}", a.handle(a.updateClientScope)).Methods(put)
	rr.HandleFunc("/client-scopes/{scope}", a.handle(a.deleteClientScope)).Methods(del)
	for _, k := range []struct {
		path     string
		optional bool
	}{{"/default-default-client-scopes", false}, {"/default-optional-client-scopes", true}} {
		rr.HandleFunc(k.path, a.handle(a.realmDefaultScopes(k.optional))).Methods(get)
		rr.HandleFunc(k.path+"/{scope}", a.handle(a.setRealmDefaultScope(k.optional, true))).Methods(put)
		rr.HandleFunc(k.path+"/{scope}", a.handle(a.setRealmDefaultScope(k.optional, false))).Methods(del)
	}
	for _, k := range []struct {
		path     string
		optional bool
	}{{"/clients/{id}/default-client-scopes", false}, {"/clients/{id}/optional-client-scopes", true}} {
		rr.HandleFunc(k.path, a.handle(a.clientScopes(k.optional))).Methods(get)
		rr.HandleFunc(k.path+"/{scope}", a.handle(a.setClientScope(k.optional, true))).Methods(put)
		rr.HandleFunc(k.path+"/{scope}", a.handle(a.setClientScope(k.optional, false))).Methods(del)
	}
	for _, owner := range []string{"/clients/{id}", "/client-scopes/{scope}"} {
		pm := owner + "/protocol-mappers"
		rr.HandleFunc(pm+"/models", a.handle(a.listMappers)).Methods(get)
		rr.HandleFunc(pm+"/models", a.handle(a.createMapper)).Methods(post)
		rr.HandleFunc(pm+"/add-models", a.handle(a.addModels)).Methods(post)
		rr.HandleFunc(pm+"/protocol/{protocol}", a.handle(a.listMappers)).Methods(get)
		rr.HandleFunc(pm+"/models/{mapper}", a.handle(a.getMapper)).Methods(get)
		rr.HandleFunc(pm+"/models/{mapper}", a.handle(a.updateMapper)).Methods(put)
		rr.HandleFunc(pm+"/models/{mapper}", a.handle(a.deleteMapper)).Methods(del)
		sm := owner + "/scope-mappings"
		rr.HandleFunc(sm, a.handle(a.allScopeMappings)).Methods(get)
		for _, c := range []string{sm + "/realm", sm + "/clients/{client}"} {
			rr.HandleFunc(c, a.handle(a.scopeMappingsView(""))).Methods(get)
			rr.HandleFunc(c, a.handle(a.changeScopeMappings(true))).Methods(post)
			rr.HandleFunc(c, a.handle(a.changeScopeMappings(false))).Methods(del)
			rr.HandleFunc(c+"/available", a.handle(a.scopeMappingsView("available"))).Methods(get)
			rr.HandleFunc(c+"/composite", a.handle(a.scopeMappingsView("composite"))).Methods(get)
		}
	}

	rr.HandleFunc("/users/{id}/sessions", a.handle(a.userSessions)).Methods(get)
	rr.HandleFunc("/users/{id}/offline-sessions/{client}", a.handle(a.userOfflineSessions)).Methods(get)
	rr.HandleFunc("/users/{id}/logout", a.handle(a.logoutUser)).Methods(post)
	rr.HandleFunc("/clients/{id}/user-sessions", a.handle(a.clientSessions(false))).Methods(get)
	rr.HandleFunc("/clients/{id}/offline-sessions", a.handle(a.clientSessions(true))).Methods(get)
	rr.HandleFunc("/clients/{id}/session-count", a.handle(a.clientSessionCount(false))).Methods(get)
	rr.HandleFunc("/clients/{id}/offline-session-count", a.handle(a.clientSessionCount(true))).Methods(get)
	rr.HandleFunc("/client-session-stats", a.handle(a.clientSessionStats)).Methods(get)
	rr.HandleFunc("/logout-all", a.handle(a.logoutAll)).Methods(post)
	rr.HandleFunc("/push-revocation", a.handle(a.pushRevocation)).Methods(post)
	rr.HandleFunc("/sessions/{session}", a.handle(a.deleteSession)).Methods(del)
}

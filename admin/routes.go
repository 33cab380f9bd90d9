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
	rr.HandleFunc("/users/{id}/groups", a.userGroups).Methods(get)
	rr.HandleFunc("/users/{id}/groups/count", a.userGroupCount).Methods(get)
	rr.HandleFunc("/users/{id}/groups/{group}", a.joinGroup).Methods(put)
	rr.HandleFunc("/users/{id}/groups/{group}", a.leaveGroup).Methods(del)

	rr.HandleFunc("/groups", a.listGroups).Methods(get)
	rr.HandleFunc("/groups", a.createGroup).Methods(post)
	rr.HandleFunc("/groups/count", a.countGroups).Methods(get)
	rr.HandleFunc("/groups/{group}", a.getGroup).Methods(get)
	rr.HandleFunc("/groups/{group}", a.updateGroup).Methods(put)
	rr.HandleFunc("/groups/{group}", a.deleteGroup).Methods(del)
	rr.HandleFunc("/groups/{group}/children", a.listChildren).Methods(get)
	rr.HandleFunc("/groups/{group}/children", a.createGroup).Methods(post)
	rr.HandleFunc("/groups/{group}/members", a.groupMembers).Methods(get)
	rr.HandleFunc("/group-by-path/{path:.+}", a.groupByPath).Methods(get)

	// Role mappings of users ({id}) and groups ({group}).
	for _, holder := range []string{"/users/{id}", "/groups/{group}"} {
		rm := holder + "/role-mappings"
		rr.HandleFunc(rm, a.roleMappings).Methods(get)
		for _, container := range []string{rm + "/realm", rm + "/clients/{client}"} {
			rr.HandleFunc(container, a.listMappings).Methods(get)
			rr.HandleFunc(container, a.addMappings).Methods(post)
			rr.HandleFunc(container, a.removeMappings).Methods(del)
			rr.HandleFunc(container+"/available", a.availableMappings).Methods(get)
			rr.HandleFunc(container+"/composite", a.compositeMappings).Methods(get)
		}
	}

	rr.HandleFunc("/roles", a.listRoles).Methods(get)
	rr.HandleFunc("/roles", a.createRole).Methods(post)
	rr.HandleFunc("/roles/{role}", a.getRole).Methods(get)
	rr.HandleFunc("/roles/{role}", a.updateRole).Methods(put)
	rr.HandleFunc("/roles/{role}", a.deleteRole).Methods(del)
	rr.HandleFunc("/roles-by-id/{role-id}", a.getRole).Methods(get)
	rr.HandleFunc("/roles-by-id/{role-id}", a.updateRole).Methods(put)
	rr.HandleFunc("/roles-by-id/{role-id}", a.deleteRole).Methods(del)

	// Composites and users of realm roles, client roles and roles by ID.
	for _, role := range []string{"/roles/{role}", "/clients/{id}/roles/{role}", "/roles-by-id/{role-id}"} {
		rr.HandleFunc(role+"/composites", a.getComposites).Methods(get)
		rr.HandleFunc(role+"/composites", a.addComposites).Methods(post)
		rr.HandleFunc(role+"/composites", a.removeComposites).Methods(del)
		rr.HandleFunc(role+"/composites/realm", a.getComposites).Methods(get)
		rr.HandleFunc(role+"/composites/clients/{client}", a.getComposites).Methods(get)
		if role != "/roles-by-id/{role-id}" {
			rr.HandleFunc(role+"/users", a.roleUsers).Methods(get)
			rr.HandleFunc(role+"/groups", a.roleGroups).Methods(get)
		}
	}
}

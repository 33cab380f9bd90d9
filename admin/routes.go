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
	a.keyRoutes(rr)
}

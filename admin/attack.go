package admin

import (
	"net/http"

	"github.com/gatehouse/gatehouse/realms"
)

// bruteForceStatus is GET …/attack-detection/brute-force/users/{id}, in
// Keycloak's shape.
func (a *API) bruteForceStatus(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, viewUsers)
	if !ok {
		return
	}
	f, locked, err := a.svc.LoginFailure(r.Context(), rl.Name, realms.UserFailureKey(u.ID))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ip := f.LastIP
	if ip == "" {
		ip = "n/a"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"numFailures": f.NumFailures, "disabled": locked, "lastIPFailure": ip, "lastFailure": millis(f.LastFailure),
	})
}

// clearBruteForce is DELETE …/attack-detection/brute-force/users/{id}.
func (a *API) clearBruteForce(w http.ResponseWriter, r *http.Request) {
	rl, u, ok := a.targetUser(w, r, manageUsers)
	if !ok {
		return
	}
	if err := a.svc.ClearLoginFailure(r.Context(), rl.Name, realms.UserFailureKey(u.ID)); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.audit(r, rl.ID, "DELETE", "USER_LOGIN_FAILURE", "attack-detection/brute-force/users/"+u.ID, nil)
	noContent(w)
}

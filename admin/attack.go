package admin

import (
	"net/http"

	"github.com/gatehouse/gatehouse/realms"
)

// bruteForceStatus is GET …/attack-detection/brute-force/users/{id}, in
// Keycloak's shape.
func (a *API) bruteForceStatus(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetUser(r, viewUsers)
	if err != nil {
		return err
	}
	f, locked, err := a.svc.LoginFailure(r.Context(), rl.Name, realms.UserFailureKey(u.ID))
	if err != nil {
		return err
	}
	ip := f.LastIP
	if ip == "" {
		ip = "n/a"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"numFailures": f.NumFailures, "disabled": locked, "lastIPFailure": ip, "lastFailure": millis(f.LastFailure),
	})
	return nil
}

// clearBruteForce is DELETE …/attack-detection/brute-force/users/{id}.
func (a *API) clearBruteForce(w http.ResponseWriter, r *http.Request) error {
	rl, u, err := a.targetUser(r, manageUsers)
	if err != nil {
		return err
	}
	if err := a.svc.ClearLoginFailure(r.Context(), rl.Name, realms.UserFailureKey(u.ID)); err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "DELETE", "USER_LOGIN_FAILURE", "attack-detection/brute-force/users/"+u.ID, nil)
}

// clientBruteForceStatus is GET …/attack-detection/brute-force/clients/{id}
// (Gatehouse's own: Keycloak does not count wrong client secrets). Wrong
// secrets throttle the address they came from, so the answer lists each
// address; "disabled" says whether any of them is throttled now, never that
// the client itself is.
func (a *API) clientBruteForceStatus(w http.ResponseWriter, r *http.Request) error {
	rl, c, err := a.targetClient(r, viewClients)
	if err != nil {
		return err
	}
	fs, err := a.svc.ClientLoginFailures(r.Context(), rl.Name, c.ID)
	if err != nil {
		return err
	}
	total, anyLocked := 0, false
	var last realms.ClientFailure
	sources := make([]map[string]any, 0, len(fs))
	for _, f := range fs {
		total += f.NumFailures
		anyLocked = anyLocked || f.Locked
		if f.LastFailure.After(last.LastFailure) {
			last = f
		}
		sources = append(sources, map[string]any{
			"ipAddress": f.IP, "numFailures": f.NumFailures, "disabled": f.Locked,
			"lastFailure": millis(f.LastFailure), "lockedUntil": millis(f.NotBefore), "permanent": f.Permanent,
		})
	}
	ip := last.IP
	if ip == "" {
		ip = "n/a"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"numFailures": total, "disabled": anyLocked, "lastIPFailure": ip, "lastFailure": millis(last.LastFailure),
		"sources": sources,
	})
	return nil
}

// clearClientBruteForce is DELETE …/attack-detection/brute-force/clients/{id}:
// every address throttled for the client is let through again.
func (a *API) clearClientBruteForce(w http.ResponseWriter, r *http.Request) error {
	rl, c, err := a.targetClient(r, manageClient)
	if err != nil {
		return err
	}
	if err := a.svc.ClearClientLoginFailures(r.Context(), rl.Name, c.ID); err != nil {
		return err
	}
	return a.changed(w, r, rl.ID, "DELETE", "CLIENT", "attack-detection/brute-force/clients/"+c.ID, nil)
}

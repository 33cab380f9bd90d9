package admin

import (
	"net/http"

	"github.com/gatehouse/gatehouse/realms"
)

// SetVersion is the version GET /admin/serverinfo reports.
func (a *API) SetVersion(v string) { a.version = v }

// serverInfo is GET /admin/serverinfo: the part of Keycloak's server info
// Gatehouse can state truthfully (its version and clock, and the few
// providers it has). It has no themes or feature profile, so those are
// empty. Like the rest of the
// admin API it is for administrators: a caller without any admin right gets
// 403.
func (a *API) serverInfo(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r)
	if !c.masterAdmin && !c.createRealm && len(c.rights.Keys()) == 0 {
		return errForbidden
	}
	version := a.version
	if version == "" {
		version = "unknown"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"systemInfo": map[string]any{
			"version": version,
			// Keycloak's format (Java's Date.toString).
			"serverTime": a.svc.Now().Format("Mon Jan 02 15:04:05 MST 2006"),
		},
		"profileInfo": map[string]any{"name": "gatehouse", "disabledFeatures": []string{},
			"previewFeatures": []string{}, "experimentalFeatures": []string{}},
		"themes":    map[string]any{},
		"providers": serverProviders(),
	})
	return nil
}

// serverProviders lists, in Keycloak's SPI shape, the providers Gatehouse
// actually has where clients look them up: the one login protocol, the key
// providers GET /keys names, and the one event listener realms accept.
func serverProviders() map[string]any {
	spi := func(ids ...string) map[string]any {
		ps := map[string]any{}
		for _, id := range ids {
			ps[id] = map[string]any{"order": 0, "operationalInfo": map[string]any{}}
		}
		return map[string]any{"internal": false, "providers": ps}
	}
	return map[string]any{
		"login-protocol": spi("openid-connect"),
		"keys":           spi("rsa-generated", "ecdsa-generated", "eddsa-generated"),
		"eventsListener": spi(realms.EventListenerLogging),
	}
}
